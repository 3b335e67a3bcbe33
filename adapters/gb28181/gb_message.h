/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One GB/T 28181 message, whole: a SIP request (or response) with its MANSCDP body, or a bare
 * MANSCDP body, read into SIP fields, UTF-8 text and a document. The entry point the SIP server and
 * `alarmgw normalize` share; bytes in, no state between calls (fuzzable). */
#ifndef AGW_GB_MESSAGE_H
#define AGW_GB_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "alarmgw/alert.h"
#include "gb_alarm.h"
#include "gb_events.h"
#include "gb_manscdp.h"
#include "gb_sip.h"
#include "gb_text.h"

struct agw_gb_message {
	struct agw_gb_sip_msg *sip; /* NULL for a bare body */
	bool has_doc;               /* a MANSCDP body was read into text and doc */
	struct agw_gb_text text;
	struct agw_gb_doc doc;
};

/* Parses buf: a bare body when it starts with '<' (after blanks and a byte order mark), else a SIP
 * message (sip_flags as for agw_gb_sip_parse). A SIP message has a document when it has a body
 * whose Content-Type has the subtype MANSCDP+xml or xml (or that has no Content-Type and starts with "<").
 * Returns 0 and fills *ret (agw_gb_message_clear), or a negative errno with err = "line N: what"
 * or "offset N: what", lines and offsets counted in buf even for errors inside a SIP body. */
int agw_gb_message_parse(const char *buf, size_t len, unsigned sip_flags, struct agw_gb_message *ret, char *err,
			 size_t errlen);
void agw_gb_message_clear(struct agw_gb_message *m);

/* Whether the document is an alarm notification (Notify with CmdType Alarm). */
bool agw_gb_message_is_alarm(const struct agw_gb_message *m);

/* What `alarmgw normalize --adapter gb28181` does with one input: parses it and calls fn with one
 * alert per alarm (see agw_gb_alarm_alert), AlarmTime read in the zone zones (may be NULL) gives
 * the channel (the Notify's DeviceID) or else the device (a SIP message's From user), else in
 * offset_min, as the SIP server does; Keepalive, Catalog, DeviceStatus, DeviceInfo, answers and
 * anything else without an alarm give 0. note (may be NULL) receives what the encoding fallback
 * said, "" when nothing. Returns the number of alerts, fn's negative return, or a negative errno
 * with err. */
int agw_gb_normalize(const char *buf, size_t len, const struct agw_gb_event_table *table, const struct agw_gb_zones *zones,
		     int offset_min, int (*fn)(void *arg, struct agw_alert *alert), void *arg, char *note, size_t notelen,
		     char *err, size_t errlen);

#endif
