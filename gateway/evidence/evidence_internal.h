/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the evidence files share: a capture's result and the store's SQL. Private to gateway/evidence/. */
#ifndef AGW_EVIDENCE_INTERNAL_H
#define AGW_EVIDENCE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define EVIDENCE_DIR "evidence-cases"

/* One row's outcome, as written by evidence_db_finish. */
struct evidence_result {
	const char *case_id;
	int64_t n;
	const char *camera_id;
	const char *status;        /* "stored", "failed", "skipped" */
	const char *reason;        /* failed/skipped: why */
	const char *type, *source;
	int64_t camera_time, gateway_time; /* AGW_TIME_UNKNOWN when unknown */
	int64_t bytes;
	char sha256[65];
	unsigned width, height;
	const char *path;          /* relative to the state directory */
	const void *jpeg;          /* stored: the outbox payload */
	const char *topic;         /* stored: the outbox topic */
	const char *reused_case;   /* the earlier case whose picture this is, NULL: taken for this one */
	int64_t reused_n;
	const char *url;           /* the signed link (evidence.url_base), NULL: none */
	int64_t url_expires;       /* wall ms */
};

/* Inside the caller's transaction: the next n of the case, or -EEXIST when it has max rows. */
int evidence_db_stage(struct agw_store *store, const char *case_id, const char *camera_id, int64_t alert_seq,
		      int64_t requested_at, int64_t max, int64_t *ret_n);
/* Autocommit: pending rows of a previous run become failed. Returns how many. */
int evidence_db_recover(struct agw_store *store);
/* One transaction: the row, and for a stored picture its outbox row (payload the JPEG, MQTT 5
 * properties with the metadata). -ENOSPC when the outbox is full (the row is then failed). */
int evidence_db_finish(struct agw_store *store, const struct evidence_result *r, int64_t outbox_max_rows);
/* Bytes of the files kept (rows with a path). */
int64_t evidence_db_file_bytes(struct agw_store *store);

struct evidence_prune_row {
	char *path;
	int64_t bytes;
};
/* One transaction: takes up to max rows with a file, oldest first, that are older than
 * older_than (wall ms; INT64_MIN: none by age) or while the total is over keep_bytes (<0: no
 * limit), marks them pruned and hands their paths back (freed by the caller). */
int evidence_db_prune(struct agw_store *store, int64_t older_than, int64_t total, int64_t keep_bytes, size_t max,
		      struct evidence_prune_row **ret_rows, size_t *ret_n);

/* "2026-12-03/<case, percent-encoded>-<n>.jpg": injective, no '/' from the case id. */
int evidence_file_name(const char *case_id, int64_t n, int64_t when_ms, char *buf, size_t len);

#endif
