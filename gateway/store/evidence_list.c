/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A case's evidence entries from the evidence table (see evidence_list.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/alert.h"
#include "evidence_list.h"

static const char SQL_HAS_TABLE[] = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'evidence'";
static const char SQL_LIST[] = "SELECT n, type, captured_gateway_time, captured_camera_time, bytes, sha256, width, height,"
			       " topic, status, reason, reused_case, reused_n FROM evidence WHERE case_id = ? ORDER BY n LIMIT ?";

static int col_str(sqlite3_stmt *st, int i, const char **dst)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	*dst = NULL;
	if (s && !(*dst = strdup(s)))
		return -ENOMEM;
	return 0;
}

static int64_t col_time(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? AGW_TIME_UNKNOWN : sqlite3_column_int64(st, i);
}

static void entry_clear(struct agw_evidence_entry *e)
{
	free((char *)e->type);
	free((char *)e->sha256);
	free((char *)e->topic);
	free((char *)e->status);
	free((char *)e->reason);
	free((char *)e->reused_case);
	free((char *)e->url);
}

static int read_entry(sqlite3_stmt *st, struct agw_evidence_entry *e)
{
	*e = (struct agw_evidence_entry){
		.n = sqlite3_column_int64(st, 0),
		.captured_at = col_time(st, 2),
		.camera_time = col_time(st, 3),
		.bytes = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 4),
		.width = sqlite3_column_int64(st, 6),
		.height = sqlite3_column_int64(st, 7),
		.reused_n = sqlite3_column_int64(st, 12),
	};
	if (col_str(st, 1, &e->type) < 0 || col_str(st, 5, &e->sha256) < 0 || col_str(st, 8, &e->topic) < 0 ||
	    col_str(st, 9, &e->status) < 0 || col_str(st, 10, &e->reason) < 0 || col_str(st, 11, &e->reused_case) < 0) {
		entry_clear(e);
		return -ENOMEM;
	}
	return 0;
}

static const char SQL_ANY[] = "SELECT 1 FROM evidence LIMIT 1";

/* One row of a one-column query: 1 when there is one, 0 when none, -EIO. */
static int has_row(struct agw_store *store, const char *sql)
{
	sqlite3_stmt *st = agw_store_stmt(store, sql);
	if (!st)
		return -EIO;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
}

int agw_evidence_any(struct agw_store *store)
{
	int r = has_row(store, SQL_HAS_TABLE);
	return r > 0 ? has_row(store, SQL_ANY) : r;
}

int agw_evidence_list(struct agw_store *store, const char *case_id, struct agw_evidence_list *ret)
{
	struct agw_evidence_list l = {0};
	int rc = has_row(store, SQL_HAS_TABLE);
	if (rc <= 0) {
		if (rc == 0)
			*ret = l; /* no capture has ever written one */
		return rc;
	}
	sqlite3_stmt *st = agw_store_stmt(store, SQL_LIST);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, AGW_EVIDENCE_LIST_MAX);
	int r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!l.v && !(l.v = calloc(AGW_EVIDENCE_LIST_MAX, sizeof(*l.v)))) {
			r = -ENOMEM;
			break;
		}
		if ((r = read_entry(st, &l.v[l.n])) < 0)
			break;
		l.n++;
	}
	sqlite3_reset(st);
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	if (r < 0) {
		agw_evidence_list_clear(&l);
		return r;
	}
	*ret = l;
	return 0;
}

void agw_evidence_list_clear(struct agw_evidence_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		entry_clear(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
