/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The MQTT outbox in the store: push with a row limit, row states (pending, parked), counts, the
 * operator's list and retry. See outbox.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/alert.h"
#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "store.h"

static int step_done(struct agw_store *store, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		agw_log_err("store", NULL, "outbox write failed: %s", sqlite3_errmsg(agw_store_db(store)));
		agw_metric_add("agw_store_errors_total", "op=\"outbox\"", 1);
		return -EIO;
	}
	return 0;
}

static const char SQL_COUNTS[] = "SELECT state, n FROM outbox_rows";

int agw_outbox_counts(struct agw_store *store, struct agw_outbox_counts *ret)
{
	sqlite3_stmt *st = agw_store_stmt(store, SQL_COUNTS);
	if (!st)
		return -EIO;
	struct agw_outbox_counts c = {0};
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(st, 0);
		int64_t n = sqlite3_column_int64(st, 1);
		if (state && strcmp(state, "pending") == 0)
			c.pending = n;
		else if (state && strcmp(state, "parked") == 0)
			c.parked = n;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	*ret = c;
	return 0;
}

int64_t agw_store_outbox_count(struct agw_store *store)
{
	struct agw_outbox_counts c;
	int r = agw_outbox_counts(store, &c);
	return r < 0 ? r : c.pending + c.parked;
}

static const char SQL_PUSH[] =
	"INSERT INTO outbox(topic,payload,qos,retained,case_id,created_at,props) VALUES(?,?,?,?,?,?,?)";

int agw_store_outbox_push(struct agw_store *store, const char *topic, const void *payload, size_t len, int qos,
			  bool retained, const char *case_id, int64_t max_rows, int64_t *ret_seq)
{
	return agw_store_outbox_push_props(store, topic, payload, len, qos, retained, case_id, NULL, max_rows, ret_seq);
}

int agw_store_outbox_push_props(struct agw_store *store, const char *topic, const void *payload, size_t len, int qos,
				bool retained, const char *case_id, const char *props, int64_t max_rows,
				int64_t *ret_seq)
{
	if (max_rows > 0) {
		int64_t n = agw_store_outbox_count(store);
		if (n < 0)
			return (int)n;
		if (n >= max_rows)
			return -ENOSPC;
	}
	sqlite3_stmt *st = agw_store_stmt(store, SQL_PUSH);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, topic, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, payload, (int)len, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, qos);
	sqlite3_bind_int(st, 4, retained);
	if (case_id)
		sqlite3_bind_text(st, 5, case_id, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, agw_now_ms());
	if (props)
		sqlite3_bind_text(st, 7, props, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 7);
	int r = step_done(store, st);
	if (r < 0)
		return r;
	if (ret_seq)
		*ret_seq = sqlite3_last_insert_rowid(agw_store_db(store));
	return 0;
}

static const char SQL_PARK[] =
	"UPDATE outbox SET state = 'parked', reason = ?, parked_at = ? WHERE seq = ? AND state = 'pending'";

int agw_outbox_park(struct agw_store *store, int64_t seq, const char *reason, int64_t at_ms)
{
	sqlite3_stmt *st = agw_store_stmt(store, SQL_PARK);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, reason ? reason : "refused", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, at_ms);
	sqlite3_bind_int64(st, 3, seq);
	int r = step_done(store, st);
	if (r < 0)
		return r;
	return sqlite3_changes(agw_store_db(store)) ? 0 : -ENOENT;
}

static const char SQL_REQUEUE[] =
	"INSERT INTO outbox(topic,payload,qos,retained,case_id,created_at,props)"
	" SELECT topic,payload,qos,retained,case_id,created_at,props FROM outbox WHERE seq = ? AND state = 'parked'";
static const char SQL_DELETE_PARKED[] = "DELETE FROM outbox WHERE seq = ? AND state = 'parked'";

/* Inside a transaction: moves one parked row to the end as a pending row. */
static int requeue(struct agw_store *store, int64_t seq, int64_t *ret_seq)
{
	sqlite3_stmt *st = agw_store_stmt(store, SQL_REQUEUE);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, seq);
	int r = step_done(store, st);
	if (r < 0)
		return r;
	if (!sqlite3_changes(agw_store_db(store)))
		return -ENOENT;
	int64_t neu = sqlite3_last_insert_rowid(agw_store_db(store));
	st = agw_store_stmt(store, SQL_DELETE_PARKED);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, seq);
	if ((r = step_done(store, st)) < 0)
		return r;
	if (ret_seq)
		*ret_seq = neu;
	return 0;
}

int agw_outbox_retry(struct agw_store *store, int64_t seq, int64_t *ret_seq)
{
	int64_t neu = 0;
	int r = agw_store_begin(store);
	if (r < 0)
		return r;
	r = requeue(store, seq, &neu);
	if (r < 0) {
		agw_store_rollback(store);
		return r;
	}
	if ((r = agw_store_commit(store)) < 0) {
		agw_store_rollback(store);
		return r;
	}
	*ret_seq = neu;
	return 0;
}

static const char SQL_PARKED_SEQS[] = "SELECT seq FROM outbox WHERE state = 'parked' ORDER BY seq";

int64_t agw_outbox_retry_all(struct agw_store *store)
{
	int r = agw_store_begin(store);
	if (r < 0)
		return r;
	/* The seqs first: the inserts below must not be seen by the running select. */
	int64_t *seqs = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st = agw_store_stmt(store, SQL_PARKED_SEQS);
	int rc = SQLITE_ERROR;
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			int64_t *v = realloc(seqs, cap * sizeof(*v));
			if (!v) {
				r = -ENOMEM;
				break;
			}
			seqs = v;
		}
		seqs[n++] = sqlite3_column_int64(st, 0);
	}
	if (st)
		sqlite3_reset(st);
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = requeue(store, seqs[i], NULL);
	free(seqs);
	if (r == 0)
		r = agw_store_commit(store);
	if (r < 0) {
		agw_store_rollback(store);
		return r;
	}
	return (int64_t)n;
}

static const char SQL_LIST_ALL[] = "SELECT seq, topic, case_id, state, reason, created_at, parked_at, length(payload)"
				   " FROM outbox ORDER BY seq LIMIT ?";
static const char SQL_LIST_PARKED[] =
	"SELECT seq, topic, case_id, state, reason, created_at, parked_at, length(payload)"
	" FROM outbox WHERE state = 'parked' ORDER BY seq LIMIT ?";

static char *column_dup(sqlite3_stmt *st, int i, int *err)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	char *s = t ? strdup((const char *)t) : NULL;
	if (t && !s)
		*err = -ENOMEM;
	return s;
}

void agw_outbox_rows_free(struct agw_outbox_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].topic);
		free(rows[i].case_id);
		free(rows[i].state);
		free(rows[i].reason);
	}
	free(rows);
}

int agw_outbox_list(struct agw_store *store, bool parked_only, size_t limit, struct agw_outbox_row **ret_rows,
		    size_t *ret_n)
{
	sqlite3_stmt *st = agw_store_stmt(store, parked_only ? SQL_LIST_PARKED : SQL_LIST_ALL);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	struct agw_outbox_row *v = NULL;
	size_t n = 0, cap = 0;
	int rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			struct agw_outbox_row *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
		}
		struct agw_outbox_row *row = &v[n++];
		memset(row, 0, sizeof(*row));
		row->seq = sqlite3_column_int64(st, 0);
		row->topic = column_dup(st, 1, &r);
		row->case_id = column_dup(st, 2, &r);
		row->state = column_dup(st, 3, &r);
		row->reason = column_dup(st, 4, &r);
		row->created_at = sqlite3_column_int64(st, 5);
		row->parked_at = sqlite3_column_type(st, 6) == SQLITE_NULL ? AGW_TIME_UNKNOWN : sqlite3_column_int64(st, 6);
		row->bytes = sqlite3_column_int64(st, 7);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = -EIO;
	sqlite3_reset(st);
	if (r < 0) {
		agw_outbox_rows_free(v, n);
		return r;
	}
	*ret_rows = v;
	*ret_n = n;
	return (int)n;
}
