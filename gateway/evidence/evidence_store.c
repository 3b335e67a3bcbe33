/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The evidence table (store_schema.c) and its outbox rows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alarmgw/alert.h"
#include "alarmgw/log.h"
#include "evidence_internal.h"
#include "outbox.h"

static int step(struct agw_store *store, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		agw_log_err("evidence", NULL, "store write failed: %s", sqlite3_errmsg(agw_store_db(store)));
		return -EIO;
	}
	return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_time(sqlite3_stmt *st, int i, int64_t t)
{
	if (t == AGW_TIME_UNKNOWN)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, t);
}

int evidence_db_stage(struct agw_store *store, const char *case_id, const char *camera_id, int64_t alert_seq,
		      int64_t requested_at, int64_t max, int64_t *ret_n)
{
	sqlite3_stmt *st = agw_store_stmt(store, "SELECT coalesce(max(n), 0) FROM evidence WHERE case_id = ?");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) + 1 : -1;
	sqlite3_reset(st);
	if (n < 0)
		return -EIO;
	if (n > max)
		return -EEXIST;
	st = agw_store_stmt(store, "INSERT INTO evidence(case_id, n, camera_id, alert_seq, status, requested_at)"
				   " VALUES(?, ?, ?, ?, 'pending', ?)");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, n);
	sqlite3_bind_text(st, 3, camera_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, alert_seq);
	sqlite3_bind_int64(st, 5, requested_at);
	int r = step(store, st);
	if (r < 0)
		return r;
	*ret_n = n;
	return 0;
}

int evidence_db_recover(struct agw_store *store)
{
	sqlite3_stmt *st = agw_store_stmt(store, "UPDATE evidence SET status = 'failed',"
						 " reason = 'gateway stopped before the capture finished'"
						 " WHERE status = 'pending'");
	if (!st)
		return -EIO;
	int r = step(store, st);
	return r < 0 ? r : sqlite3_changes(agw_store_db(store));
}

static char *props_json(const struct evidence_result *r)
{
	char cam[32] = "", gw[32] = "", num[24], w[16], h[16], bytes[24], reused[300] = "", exp[32] = "";
	if (r->camera_time != AGW_TIME_UNKNOWN)
		agw_time_format_ms(r->camera_time, cam, sizeof(cam));
	agw_time_format_ms(r->gateway_time, gw, sizeof(gw));
	snprintf(num, sizeof(num), "%lld", (long long)r->n);
	snprintf(w, sizeof(w), "%u", r->width);
	snprintf(h, sizeof(h), "%u", r->height);
	snprintf(bytes, sizeof(bytes), "%lld", (long long)r->bytes);
	if (r->reused_case)
		snprintf(reused, sizeof(reused), "%s/%lld", r->reused_case, (long long)r->reused_n);
	if (r->url)
		agw_time_format_ms(r->url_expires, exp, sizeof(exp));
	/* User properties are ordered name/value pairs: an array keeps the order for the consumer. */
	json_t *user = json_pack("[[ss][ss][ss][ss][ss][ss][ss][ss][ss][ss][ss][ss][ss][ss]]", "case_id", r->case_id,
				 "n", num, "camera_id", r->camera_id, "type", r->type ? r->type : "", "source",
				 r->source ? r->source : "", "sha256", r->sha256, "width", w, "height", h, "bytes",
				 bytes, "captured_camera_time", cam, "captured_gateway_time", gw, "reused_from", reused,
				 "url", r->url ? r->url : "", "url_expires", exp);
	json_t *o = json_pack("{s:s, s:o}", "content_type", "image/jpeg", "user", user);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

static const char SQL_FINISH[] =
	"UPDATE evidence SET status = ?, reason = ?, type = ?, source = ?, captured_camera_time = ?,"
	" captured_gateway_time = ?, bytes = ?, sha256 = ?, width = ?, height = ?, topic = ?, path = ?,"
	" stored_at = ?, reused_case = ?, reused_n = ? WHERE case_id = ? AND n = ?";

static int write_row(struct agw_store *store, const struct evidence_result *r, const char *status,
		     const char *reason)
{
	sqlite3_stmt *st = agw_store_stmt(store, SQL_FINISH);
	if (!st)
		return -EIO;
	bool stored = strcmp(status, "stored") == 0;
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	bind_text_or_null(st, 2, reason);
	bind_text_or_null(st, 3, r->type);
	bind_text_or_null(st, 4, r->source);
	bind_time(st, 5, r->camera_time);
	bind_time(st, 6, r->gateway_time);
	if (stored) {
		sqlite3_bind_int64(st, 7, r->bytes);
		sqlite3_bind_text(st, 8, r->sha256, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 9, (int)r->width);
		sqlite3_bind_int(st, 10, (int)r->height);
	} else {
		for (int i = 7; i <= 10; i++)
			sqlite3_bind_null(st, i);
	}
	bind_text_or_null(st, 11, stored ? r->topic : NULL);
	bind_text_or_null(st, 12, stored ? r->path : NULL);
	sqlite3_bind_int64(st, 13, agw_now_ms());
	bind_text_or_null(st, 14, r->reused_case);
	if (r->reused_case)
		sqlite3_bind_int64(st, 15, r->reused_n);
	else
		sqlite3_bind_null(st, 15);
	sqlite3_bind_text(st, 16, r->case_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 17, r->n);
	return step(store, st);
}

int evidence_db_finish(struct agw_store *store, const struct evidence_result *r, int64_t outbox_max_rows)
{
	bool stored = strcmp(r->status, "stored") == 0;
	char *props = stored ? props_json(r) : NULL;
	int rc = -ENOMEM;
	if (stored && !props)
		goto out;
	rc = agw_store_begin(store);
	if (rc < 0)
		goto out;
	if (stored) {
		rc = agw_store_outbox_push_props(store, r->topic, r->jpeg, (size_t)r->bytes, 1, false, r->case_id, props,
						 outbox_max_rows, NULL);
		if (rc == -ENOSPC) /* the picture is on disk and in the table; it just cannot be sent */
			rc = write_row(store, r, "failed", "outbox full: picture kept, not published");
		else if (rc == 0)
			rc = write_row(store, r, "stored", NULL);
	} else {
		rc = write_row(store, r, r->status, r->reason);
	}
	rc = rc < 0 ? rc : agw_store_commit(store);
	if (rc < 0)
		agw_store_rollback(store);
out:
	free(props);
	return rc;
}

int64_t evidence_db_file_bytes(struct agw_store *store)
{
	sqlite3_stmt *st = agw_store_stmt(store, "SELECT coalesce(sum(bytes), 0) FROM evidence WHERE path IS NOT NULL");
	if (!st)
		return -EIO;
	int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -EIO;
	sqlite3_reset(st);
	return v;
}

int evidence_db_prune(struct agw_store *store, int64_t older_than, int64_t total, int64_t keep_bytes, size_t max,
		      struct evidence_prune_row **ret_rows, size_t *ret_n)
{
	struct evidence_prune_row *rows = calloc(max ? max : 1, sizeof(*rows));
	size_t n = 0;
	int rc = rows ? agw_store_begin(store) : -ENOMEM;
	if (rc < 0)
		goto fail;
	sqlite3_stmt *sel = agw_store_stmt(store, "SELECT case_id, n, path, bytes, stored_at FROM evidence"
						  " WHERE path IS NOT NULL ORDER BY stored_at LIMIT ?");
	sqlite3_stmt *upd = agw_store_stmt(store, "UPDATE evidence SET status = 'pruned', path = NULL"
						  " WHERE case_id = ? AND n = ?");
	rc = -EIO;
	if (!sel || !upd)
		goto rollback;
	sqlite3_bind_int64(sel, 1, (int64_t)max);
	while (n < max && sqlite3_step(sel) == SQLITE_ROW) {
		int64_t bytes = sqlite3_column_int64(sel, 3), at = sqlite3_column_int64(sel, 4);
		if (!(at < older_than) && !(keep_bytes >= 0 && total > keep_bytes))
			break; /* oldest first: the rest are younger and fit */
		const char *path = (const char *)sqlite3_column_text(sel, 2);
		rows[n].path = strdup(path ? path : "");
		rows[n].bytes = bytes;
		sqlite3_bind_text(upd, 1, (const char *)sqlite3_column_text(sel, 0), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(upd, 2, sqlite3_column_int64(sel, 1));
		n++;
		total -= bytes;
		if (!rows[n - 1].path || step(store, upd) < 0) {
			sqlite3_reset(sel);
			goto rollback;
		}
	}
	sqlite3_reset(sel);
	rc = agw_store_commit(store);
	if (rc < 0)
		goto rollback;
	*ret_rows = rows;
	*ret_n = n;
	return 0;
rollback:
	agw_store_rollback(store);
fail:
	for (size_t i = 0; i < n; i++)
		free(rows[i].path);
	free(rows);
	return rc < 0 ? rc : -EIO;
}

int evidence_file_name(const char *case_id, int64_t n, int64_t when_ms, char *buf, size_t len)
{
	time_t t = (time_t)(when_ms / 1000);
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	size_t o = strftime(buf, len, "%Y-%m-%d/", &tm);
	if (o == 0)
		return -ENAMETOOLONG;
	/* '%' is escaped too, so different ids never meet in one name; a leading '.' or '-' too (no
	 * hidden file, no option-looking name) */
	for (const unsigned char *p = (const unsigned char *)case_id; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			     *p == '_' || ((*p == '-' || *p == '.') && p != (const unsigned char *)case_id);
		int w = plain ? snprintf(buf + o, len - o, "%c", *p) : snprintf(buf + o, len - o, "%%%02X", *p);
		if (w < 0 || (size_t)w >= len - o)
			return -ENAMETOOLONG;
		o += (size_t)w;
	}
	int w = snprintf(buf + o, len - o, "-%lld.jpg", (long long)n);
	return w < 0 || (size_t)w >= len - o ? -ENAMETOOLONG : 0;
}
