/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-device time zones. GB/T 28181 times (AlarmTime, the Date the platform gives a registering
 * device) carry no zone; most estates are on China Standard Time, but a device abroad, or one set
 * to UTC by its installer, writes another local time. The option `utc_offsets` names the
 * exceptions: "ID=OFFSET[, ID=OFFSET...]" with ID a device or channel (20 digits) and OFFSET
 * minutes east of UTC ("420") or "+07:00" / "-03:30" / "Z". */
#ifndef AGW_GB_ZONE_H
#define AGW_GB_ZONE_H

#include <stddef.h>

struct agw_gb_zones;

/* Parses the option text (NULL or "" gives an empty table). Returns 0 and *ret (free with
 * agw_gb_zones_free), or -EINVAL with err = "utc_offsets: entry N (TEXT): what", -ENOMEM. */
int agw_gb_zones_parse(const char *text, struct agw_gb_zones **ret, char *err, size_t errlen);
void agw_gb_zones_free(struct agw_gb_zones *z);
/* The offset of the first of ids (channel, then device; NULL entries skipped) that has one, else
 * dflt. z may be NULL. */
int agw_gb_zones_offset(const struct agw_gb_zones *z, const char *channel, const char *device, int dflt);

#endif
