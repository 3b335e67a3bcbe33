/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The evidence of a case as the case message lists it (include/alarmgw/evidence.h), read from the
 * evidence table that the evidence capture writes. The table is the capture's; this reads it:
 *
 *   evidence(case_id TEXT, n INTEGER, type TEXT, captured_at INTEGER, camera_time INTEGER,
 *            bytes INTEGER, sha256 TEXT, width INTEGER, height INTEGER, topic TEXT,
 *            status TEXT, reason TEXT)
 *
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

#endif
