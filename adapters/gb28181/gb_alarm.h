/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An Alarm Notify (GB/T 28181 A.2.5/9.4) as a normalized alert. */
#ifndef AGW_GB_ALARM_H
#define AGW_GB_ALARM_H

#include <stddef.h>
#include <stdint.h>

#include "alarmgw/alert.h"
#include "gb_events.h"
#include "gb_manscdp.h"

/* AlarmTime has no zone in the standard; devices write local time, China Standard Time. */
#define AGW_GB_DEFAULT_UTC_OFFSET_MIN 480

/* Reads "2024-01-01T12:00:00" or "2024-01-01 12:00:00", with optional fractions and an optional
 * zone ("Z", "+08:00", "+0800"); without a zone the time is taken as UTC+offset_min. Returns 0 and
 * milliseconds since the epoch, or -EINVAL (also for years before 1971, like agw_time_parse_ms). */
int agw_gb_time_parse(const char *text, int offset_min, int64_t *ret_ms);

/* Fills a (initialized, empty) from an Alarm document: topic "AlarmMethod/AlarmType" as written
 * (the method alone without a type), kind from the table (t NULL: the default), active none,
 * camera_time from AlarmTime (AGW_TIME_UNKNOWN when missing or unreadable: the alarm is kept),
 * source channel = DeviceID, data = the alarm's fields as strings, event_id = SN, payload = the
 * UTF-8 document. Returns 0 or -ENOMEM (a is then cleared). */
int agw_gb_alarm_alert(const struct agw_gb_doc *d, const struct agw_gb_event_table *t, int offset_min,
		       const char *payload, struct agw_alert *a);

/* Per-device time zones. GB/T 28181 times (AlarmTime, the Date the platform gives a registering
 * device) carry no zone; most estates are on China Standard Time, but a device abroad, or one set
 * to UTC by its installer, writes another local time. The option `utc_offsets` names the
 * exceptions: "ID=OFFSET[, ID=OFFSET...]" with ID a device or channel (20 digits) and OFFSET
 * minutes east of UTC ("420") or "+07:00" / "-03:30" / "Z". */
struct agw_gb_zones;

/* Parses the option text (NULL or "" gives an empty table). Returns 0 and *ret (free with
 * agw_gb_zones_free), or -EINVAL with err = "utc_offsets: entry N (TEXT): what", -ENOMEM. */
int agw_gb_zones_parse(const char *text, struct agw_gb_zones **ret, char *err, size_t errlen);
void agw_gb_zones_free(struct agw_gb_zones *z);
/* The offset of the first of ids (channel, then device; NULL entries skipped) that has one, else
 * dflt. z may be NULL. */
int agw_gb_zones_offset(const struct agw_gb_zones *z, const char *channel, const char *device, int dflt);

#endif
