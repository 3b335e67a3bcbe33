/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The evidence of a case as the case message lists it (include/alarmgw/evidence.h), read from the
 * evidence table that the evidence capture writes. The table is the capture's; this reads it:
 *
 *   evidence(case_id, n, type, captured_gateway_time, captured_camera_time, bytes, sha256, width,
 *            height, topic, status, reason)   -- the columns read, looked up by case_id ordered by n
 *
 * (the evidence branch's table; its other columns, path, source, requested_at, ..., are not read).
 * A database without that table (no capture yet) has no evidence: empty, not an error. */
#ifndef AGW_EVIDENCE_LIST_H
#define AGW_EVIDENCE_LIST_H

#include <stddef.h>

#include "alarmgw/evidence.h"
#include "store.h"

#define AGW_EVIDENCE_LIST_MAX 64 /* entries per case message */

struct agw_evidence_list {
	struct agw_evidence_entry *v;
	size_t n;
};

/* The case's entries ordered by n (at most AGW_EVIDENCE_LIST_MAX). 0, -EIO or -ENOMEM; *ret is
 * untouched on failure. */
int agw_evidence_list(struct agw_store *store, const char *case_id, struct agw_evidence_list *ret);
void agw_evidence_list_clear(struct agw_evidence_list *l);
/* 1 when the store holds any evidence row, 0 when none (or no evidence table yet), -EIO. */
int agw_evidence_any(struct agw_store *store);

#endif
