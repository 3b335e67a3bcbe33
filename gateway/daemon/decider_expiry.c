/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Expiry from the store. Two kinds of case end as "expired" here, through the same path as every
 * end (an END decision journaled, the cases row closed, the end message in the outbox, all in the
 * tick's transaction), and journal retention deletes them later like any closed case:
 * - a case whose rule's expire_after has passed (cases.expire_at);
 * - a case nobody answers: not ended, with no alert, feedback or escalation for
 *   gateway.case_retention (default 30 days).
 *
 * Neither is kept in the engine's memory for it: the engine holds the incidents still taking
 * alerts and the cases with a supervision deadline (agw_engine_set_store_expiry), so holding every
 * open case for a 30-day deadline would put every case of a month in memory. Each tick asks the
 * cases table (indexes cases_expire_at and cases_idle) for the oldest few that are due, reads each
 * one into the engine detached, ends it there, and it leaves the engine again. A crash before the
 * commit ends nothing; after it the row is closed and never selected again, so each end message
 * is written to the outbox exactly once. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "decider_internal.h"

/* Cases ended per tick (one a second): bounds the work a tick adds to its commit; a backlog of a
 * million old cases after an upgrade drains in under three hours. */
#define EXPIRY_BATCH 100

/* A row the engine cannot take back (a corrupt or foreign row): closed in the store alone, so it
 * neither stays open for ever nor comes back at the head of every batch. */
static int close_row(struct agw_store *store, const char *id, int64_t now_ms, const char *reason)
{
	sqlite3_stmt *st = agw_store_stmt(store, "UPDATE cases SET status = 'closed', closed_at = ?1, updated_at = ?1"
						 " WHERE id = ?2");
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	agw_metric_add("agw_case_expiry_errors_total", NULL, 1);
	agw_log_warn(LOG_COMP, NULL, "case %s: its row cannot be read back; closed in the store without a message", id);
	return agw_store_decision_add(store, 0, "end", NULL, reason, id, now_ms);
}

/* The ids of up to EXPIRY_BATCH open cases found by sql (bound to t), oldest first. */
static int select_due(struct agw_store *store, const char *sql, int64_t t, char (*ids)[AGW_CASE_ID_SIZE],
		      size_t *ret_n)
{
	sqlite3_stmt *st = agw_store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, t);
	sqlite3_bind_int(st, 2, EXPIRY_BATCH);
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		if (id && strlen(id) < AGW_CASE_ID_SIZE)
			snprintf(ids[n++], AGW_CASE_ID_SIZE, "%s", id);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	*ret_n = n;
	return 0;
}

static const char *fmt_days(int64_t ms, char *buf, size_t len)
{
	if (ms % 86400000 == 0)
		snprintf(buf, len, "%" PRId64 "d", ms / 86400000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%" PRId64 "s", ms / 1000);
	else
		snprintf(buf, len, "%" PRId64 "ms", ms);
	return buf;
}

/* Ends the cases of ids (reason NULL: their rule's expire_after), each read back detached when
 * the engine does not hold it. Returns how many ended, or a store error. */
static int expire_ids(struct agw_decider *d, struct agw_store *store, char (*ids)[AGW_CASE_ID_SIZE], size_t n,
		      int64_t now_ms, const char *reason)
{
	struct decider_emit_ctx ctx = {d, store};
	int ended = 0, r;
	for (size_t i = 0; i < n; i++) {
		r = agw_engine_expire(d->engine, ids[i], now_ms, reason, decider_emit, &ctx);
		if (r == -ENOENT) {
			r = decider_case_load(d, store, ids[i]);
			if (r == 0)
				r = agw_engine_expire(d->engine, ids[i], now_ms, reason, decider_emit, &ctx);
			else if (r != -ENOMEM && r != -EIO)
				r = close_row(store, ids[i], now_ms, reason ? reason : "expired: its rule's expire_after");
		}
		if (r < 0)
			return r; /* the store failed: the batch rolls back, the engine with it */
		ended += r > 0;
	}
	return ended; /* counted with the decisions: agw_decisions_total{action="end"} */
}

int decider_expire_idle(struct agw_decider *d, struct agw_store *store, int64_t now_ms)
{
	char ids[EXPIRY_BATCH][AGW_CASE_ID_SIZE], reason[160], dur[32];
	size_t n = 0;
	/* their rule's expire_after passed (index cases_expire_at) */
	int r = select_due(store, "SELECT id FROM cases WHERE expire_at IS NOT NULL AND expire_at <= ? AND"
				  " status NOT IN ('closed', 'rejected') ORDER BY expire_at LIMIT ?",
			   now_ms, ids, &n);
	int ended = r < 0 || n == 0 ? r : expire_ids(d, store, ids, n, now_ms, NULL);
	if (ended < 0 || d->case_retention_ms <= 0)
		return ended;
	/* no activity for case_retention (index cases_idle) */
	r = select_due(store, "SELECT id FROM cases WHERE status NOT IN ('closed', 'rejected') AND updated_at < ?"
			      " ORDER BY updated_at LIMIT ?",
		       now_ms - d->case_retention_ms, ids, &n);
	if (r < 0 || n == 0)
		return r < 0 ? r : ended;
	snprintf(reason, sizeof(reason), "expired: no alert, feedback or escalation for %s (gateway.case_retention)",
		 fmt_days(d->case_retention_ms, dur, sizeof(dur)));
	r = expire_ids(d, store, ids, n, now_ms, reason);
	return r < 0 ? r : ended + r;
}
