/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text of one Dahua eventManager part as alerts. A part holds "Heartbeat", or one (rarely
 * several) `Code=...;action=...;index=N[;data={json}]` lines, the JSON possibly over many lines.
 * Pure: no I/O, no logging, no global state.
 *
 *   topic        Code as written
 *   kind         from the event table
 *   active       action Start -> true, Stop -> false, anything else (Pulse, State) -> none
 *   camera_time  data.UTC (epoch seconds; plus data.UTCMS milliseconds when present), else unknown
 *   source       channel = index + 1 (index is 0-based), when index is a number
 *   data         the other key=value pairs as written (action when it is neither Start, Stop nor
 *                Pulse; index when it is not a number), then data's members flattened as in
 *                include/alarmgw/vendor_json.h, without UTC/UTCMS when they made camera_time; data
 *                that is not a JSON object is kept whole as "data"
 *   payload      the event's text */
#ifndef AGW_DAHUA_EVENT_H
#define AGW_DAHUA_EVENT_H

#include <stddef.h>

#include "alarmgw/alert.h"
#include "alarmgw/vendor_table.h"

#define AGW_DAHUA_MAX_TEXT (256u << 10)
#define AGW_DAHUA_MAX_ITEMS 512

struct agw_dahua_part_info {
	unsigned heartbeats; /* "Heartbeat" lines */
	unsigned events;     /* alerts passed to fn */
};

/* Parses one part's text, calling fn for each event in order (the alert is cleared after fn).
 * Returns 0, fn's negative return, -EINVAL for text that is neither (err says what, with
 * "line N:" counted from the part's first line), -EMSGSIZE over AGW_DAHUA_MAX_TEXT, -ENOMEM.
 * Events before a bad one have been passed to fn. */
int agw_dahua_parse_part(const char *text, size_t len, const struct agw_vendor_table *table,
			 int (*fn)(void *arg, struct agw_alert *alert), void *arg, struct agw_dahua_part_info *info,
			 char *err, size_t errlen);

#endif
