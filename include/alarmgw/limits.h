/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sizes that more than one module must agree on. */
#ifndef ALARMGW_LIMITS_H
#define ALARMGW_LIMITS_H

/* A case id with its NUL: "agw-" + 16 hex digits today; room for a cluster-wide prefix. Feedback
 * naming a longer id cannot name one of our cases and is refused as such. */
#define AGW_CASE_ID_SIZE 40

/* Feedback's "by" (the operator or grid worker id) and "note" (free text), in bytes of UTF-8
 * without the NUL: bounded so that a case, its journal row and its message stay small. */
#define AGW_FEEDBACK_BY_MAX 64
#define AGW_FEEDBACK_NOTE_MAX 500

#endif
