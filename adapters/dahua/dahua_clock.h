/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dahua device clocks. data.UTC is documented as epoch seconds, but many firmwares write the
 * camera's local wall clock into it (the real captures in tests/fixtures/dahua/ are 1 and 2 hours
 * ahead). `alarmgw normalize` reads it as written; the running adapter subtracts the offset an
 * integrator gives per device (option utc_offsets), and flags devices whose corrected time is
 * still off the gateway's clock by about a whole number of hours, which a zone, not a drifting
 * clock, explains. */
#ifndef AGW_DAHUA_CLOCK_H
#define AGW_DAHUA_CLOCK_H

#include <stddef.h>
#include <stdint.h>

struct agw_dahua_clocks;

/* "ID=OFFSET[, ID=OFFSET...]" (',' or ';'), ID a ledger camera id, OFFSET the zone the device's
 * data.UTC is written in, east of UTC: "+8h", "-90m", "+5.5h", "0" (at most 14 h). NULL or ""
 * gives an empty table. Returns 0 and *ret (free with agw_dahua_clocks_free), or -EINVAL with err
 * "utc_offsets: entry N (TEXT): what", -ENOMEM. */
int agw_dahua_clocks_parse(const char *text, struct agw_dahua_clocks **ret, char *err, size_t errlen);
void agw_dahua_clocks_free(struct agw_dahua_clocks *c);
/* An NVR channel row's events carry its device's clock: the row takes the device's offset unless
 * it has its own. Returns 0 or -ENOMEM. */
int agw_dahua_clocks_inherit(struct agw_dahua_clocks *c, const char *camera_id, const char *device_id);
/* The offset of a camera in ms (0 when it has none); c may be NULL. */
int64_t agw_dahua_clocks_offset_ms(const struct agw_dahua_clocks *c, const char *camera_id);

/* Whole hours the camera's time is off the gateway's when that is what the gap looks like (1 to 26
 * hours, within 5 minutes of a whole hour; positive: the camera is ahead), else 0. */
int agw_dahua_clock_hours_off(int64_t camera_ms, int64_t gateway_ms);

#endif
