/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Case status feedback from the governance platform: one JSON object per MQTT message,
 * {"case_id": "...", "status": "accepted|dispatched|on_site|resolved|closed|rejected|reopened",
 *  "by": "grid worker or operator id" (optional), "note": "free text" (optional)}
 * (docs/case-message.md, "Lifecycle"). Pure parsing, no I/O, so every
 * malformed shape is unit-tested; the publisher counts and logs the rejects. */
#ifndef ALARMGW_FEEDBACK_H
#define ALARMGW_FEEDBACK_H

#include <stddef.h>

#include "alarmgw/limits.h"

#define AGW_FEEDBACK_MAX_BYTES 65536 /* larger messages are refused before parsing */

struct agw_feedback {
	char case_id[AGW_CASE_ID_SIZE];
	const char *status; /* static string: one of the statuses above */
	char by[AGW_FEEDBACK_BY_MAX + 1];     /* "" when not given */
	char note[AGW_FEEDBACK_NOTE_MAX + 1]; /* "" when not given */
};

/* Parses one message. On success fills *ret and returns 0. On failure returns -EMSGSIZE (too
 * large) or -EINVAL, sets *ret_reason to a short metric label ("too_large", "json", "not_object",
 * "case_id", "status", "by", "note") and writes a one-line human reason into detail. */
int agw_feedback_parse(const void *payload, size_t len, struct agw_feedback *ret, const char **ret_reason,
		       char *detail, size_t detail_len);

#endif
