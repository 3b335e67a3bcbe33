/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "retention.h"

/* Each statement looks only at the oldest `batch` rows (rowid order, which is arrival order), so a
 * call costs O(batch log n) even on a journal of a hundred million rows, and the loop that calls
 * it stays responsive. */
static const char SQL_ALERTS_BY_AGE[] =
	"DELETE FROM alerts WHERE seq IN (SELECT seq FROM (SELECT seq, gateway_time FROM alerts ORDER BY seq "
	"LIMIT ?2) WHERE gateway_time < ?1)";
static const char SQL_ALERTS_BY_COUNT[] =
	"DELETE FROM alerts WHERE seq IN (SELECT seq FROM alerts WHERE seq <= (SELECT max(seq) FROM alerts) - ?1 "
	"ORDER BY seq LIMIT ?2)";
/* Decisions of an alert go with the alert. Those of no alert (timers, feedback, escalations) are
 * the history of their case and go with it (trigger cases_decisions_delete, schema step 9). */
static const char SQL_DECISIONS[] =
	"DELETE FROM decisions WHERE seq IN (SELECT seq FROM (SELECT seq, alert_seq FROM decisions WHERE alert_seq IS "
	"NOT NULL ORDER BY seq LIMIT ?1) WHERE alert_seq < (SELECT coalesce(min(seq), 9223372036854775807) FROM alerts))";
static const char SQL_CASES[] =
	"DELETE FROM cases WHERE id IN (SELECT id FROM cases WHERE status IN ('closed', 'rejected') AND closed_at < ?1 LIMIT ?2)";

static int64_t run(struct agw_store *store, const char *sql, int64_t a, int64_t b, int nargs)
{
	sqlite3_stmt *st = agw_store_stmt(store, sql);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, a);
	if (nargs > 1)
		sqlite3_bind_int64(st, 2, b);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	return sqlite3_changes(agw_store_db(store));
}

int64_t agw_retention_prune(struct agw_store *store, const struct agw_retention *policy, int64_t now_ms)
{
	if (policy->max_age_ms <= 0 && policy->max_rows <= 0)
		return 0;
	int64_t batch = policy->batch > 0 ? policy->batch : 5000, total = 0, n;
	int r = agw_store_begin(store);
	if (r < 0)
		return r;
	if (policy->max_age_ms > 0) {
		if ((n = run(store, SQL_ALERTS_BY_AGE, now_ms - policy->max_age_ms, batch, 2)) < 0)
			goto fail;
		total += n;
		if ((n = run(store, SQL_CASES, now_ms - policy->max_age_ms, batch, 2)) < 0)
			goto fail;
		total += n;
	}
	if (policy->max_rows > 0) {
		if ((n = run(store, SQL_ALERTS_BY_COUNT, policy->max_rows, batch, 2)) < 0)
			goto fail;
		total += n;
	}
	/* decisions of alerts that are gone */
	if ((n = run(store, SQL_DECISIONS, batch, 0, 1)) < 0)
		goto fail;
	total += n;
	if ((r = agw_store_commit(store)) < 0)
		goto fail_r;
	if (total)
		agw_metric_add("agw_retention_deleted_total", NULL, total);
	return total;
fail:
	r = (int)n;
fail_r:
	agw_store_rollback(store);
	agw_log_err("store", NULL, "journal retention failed: %s", sqlite3_errmsg(agw_store_db(store)));
	return r;
}
