/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The case status feedback subscription: subscribing on connect, and checking each feedback message
 * before it goes to the callback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "feedback.h"
#include "publisher_internal.h"

void pub_subscribe_feedback(struct agw_publisher *p)
{
	if (!p->feedback_topic[0])
		return;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	ro.context = tag_ptr(ctl_tag(p));
	if (p->version == 5) {
		ro.onSuccess5 = pub_on_subscribed5;
		ro.onFailure5 = pub_on_subscribe_fail5;
	} else {
		ro.onFailure = pub_on_subscribe_fail;
	}
	int rc = MQTTAsync_subscribe(p->client, p->feedback_topic, 1, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		agw_log_err(COMP, NULL, "cannot subscribe to %s: %s", p->feedback_topic, MQTTAsync_strerror(rc));
}

void pub_handle_message(struct agw_publisher *p, struct event *e)
{
	struct agw_feedback fb;
	const char *reason = "too_large";
	char detail[200];
	int r;
	if (e->len > AGW_FEEDBACK_MAX_BYTES || !e->data) {
		r = -EMSGSIZE;
		snprintf(detail, sizeof(detail), "message of %zu bytes exceeds the %d byte limit", e->len,
			 AGW_FEEDBACK_MAX_BYTES);
	} else {
		r = agw_feedback_parse(e->data, e->len, &fb, &reason, detail, sizeof(detail));
	}
	if (r < 0) {
		char labels[64];
		snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
		agw_metric_add("agw_feedback_errors_total", labels, 1);
		/* At most 10 lines per minute: a misbehaving platform must not flood the journal. */
		int64_t now = agw_now_ms();
		if (now - p->fb_log_window_ms > 60000) {
			p->fb_log_window_ms = now;
			p->fb_logged = 0;
		}
		if (p->fb_logged++ < 10)
			agw_log_warn(COMP, NULL, "malformed feedback on %.200s ignored: %s", e->text ? e->text : "?",
				     detail);
		return;
	}
	/* only without an inbox (a database without a file): applied once, not kept */
	char labels[64];
	snprintf(labels, sizeof(labels), "status=\"%s\"", fb.status);
	agw_metric_add("agw_feedback_total", labels, 1);
	agw_log_debug(COMP, NULL, "feedback: case %s %s", fb.case_id, fb.status);
	if (p->fb_fn)
		p->fb_fn(p->fb_arg, fb.case_id, fb.status, fb.by, fb.note);
}

static const char SQL_INBOX_INSERT[] =
	"INSERT INTO feedback_inbox(case_id, status, received_at, by_whom, note) VALUES(?,?,?,?,?)";

int pub_feedback_open(struct agw_publisher *p)
{
	const char *path = sqlite3_db_filename(agw_store_db(p->store), "main");
	if (!path || !*path)
		return 0; /* an in-memory store: feedback goes to the loop directly */
	/* FULLMUTEX: paho's thread writes with it, the loop thread opens and closes it */
	if (sqlite3_open_v2(path, &p->fb_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(p->fb_db, FEEDBACK_BUSY_MS) != SQLITE_OK ||
	    sqlite3_prepare_v2(p->fb_db, SQL_INBOX_INSERT, -1, &p->fb_insert, NULL) != SQLITE_OK) {
		agw_log_err(COMP, NULL, "cannot open the feedback inbox in %s: %s", path,
			    p->fb_db ? sqlite3_errmsg(p->fb_db) : "out of memory");
		pub_feedback_close(p);
		return -EIO;
	}
	return 0;
}

void pub_feedback_close(struct agw_publisher *p)
{
	sqlite3_finalize(p->fb_insert);
	sqlite3_close(p->fb_db);
	p->fb_insert = NULL;
	p->fb_db = NULL;
}

int pub_feedback_store(struct agw_publisher *p, const struct agw_feedback *fb)
{
	if (!p->fb_insert)
		return -ENOENT;
	sqlite3_reset(p->fb_insert);
	sqlite3_bind_text(p->fb_insert, 1, fb->case_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(p->fb_insert, 2, fb->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(p->fb_insert, 3, agw_now_ms());
	if (fb->by[0])
		sqlite3_bind_text(p->fb_insert, 4, fb->by, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(p->fb_insert, 4);
	if (fb->note[0])
		sqlite3_bind_text(p->fb_insert, 5, fb->note, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(p->fb_insert, 5);
	int rc = sqlite3_step(p->fb_insert);
	sqlite3_reset(p->fb_insert);
	return rc == SQLITE_DONE ? 0 : -EIO; /* autocommit: durable (WAL) when it returns */
}

static const char SQL_INBOX_READ[] =
	"SELECT seq, case_id, status, by_whom, note FROM feedback_inbox ORDER BY seq LIMIT ?";
static const char SQL_INBOX_DELETE[] = "DELETE FROM feedback_inbox WHERE seq = ?";

/* One inbox row: its case updated and the row deleted in one transaction, or neither. */
struct inbox_row {
	int64_t seq;
	char case_id[AGW_CASE_ID_SIZE];
	char status[16];
	char by[AGW_FEEDBACK_BY_MAX + 1];
	char note[AGW_FEEDBACK_NOTE_MAX + 1];
};

static int apply_one(struct agw_publisher *p, const struct inbox_row *row)
{
	int64_t seq = row->seq;
	const char *case_id = row->case_id, *status = row->status;
	if (agw_store_begin(p->store) < 0)
		return -EIO;
	int r = p->fb_fn(p->fb_arg, case_id, status, row->by, row->note);
	sqlite3_stmt *st = r < 0 ? NULL : agw_store_stmt(p->store, SQL_INBOX_DELETE);
	if (st) {
		sqlite3_bind_int64(st, 1, seq);
		r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
		sqlite3_reset(st);
	} else if (r == 0) {
		r = -EIO;
	}
	if (r == 0)
		r = agw_store_commit(p->store);
	if (r < 0)
		agw_store_rollback(p->store);
	if (p->fb_done)
		p->fb_done(p->fb_arg, r == 0);
	if (r < 0)
		return r;
	char labels[64];
	snprintf(labels, sizeof(labels), "status=\"%s\"", status);
	agw_metric_add("agw_feedback_total", labels, 1);
	agw_log_debug(COMP, NULL, "feedback: case %s %s", case_id, status);
	return 0;
}

void pub_apply_feedback(struct agw_publisher *p)
{
	p->fb_pending = false;
	if (!p->fb_fn)
		return; /* nobody to apply them yet: the rows wait in the inbox */
	sqlite3_stmt *st = agw_store_stmt(p->store, SQL_INBOX_READ);
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, FEEDBACK_BATCH);
	struct inbox_row *rows = malloc(FEEDBACK_BATCH * sizeof(*rows));
	size_t n = 0;
	while (rows && n < FEEDBACK_BATCH && sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 1), *status = (const char *)sqlite3_column_text(st, 2);
		const char *by = (const char *)sqlite3_column_text(st, 3), *note = (const char *)sqlite3_column_text(st, 4);
		rows[n].seq = sqlite3_column_int64(st, 0);
		snprintf(rows[n].case_id, sizeof(rows[n].case_id), "%s", id ? id : "");
		snprintf(rows[n].status, sizeof(rows[n].status), "%s", status ? status : "");
		snprintf(rows[n].by, sizeof(rows[n].by), "%s", by ? by : "");
		snprintf(rows[n].note, sizeof(rows[n].note), "%s", note ? note : "");
		n++;
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++) {
		if (apply_one(p, &rows[i]) < 0) {
			/* the store failed: the rows stay in the inbox for the next tick */
			agw_metric_add("agw_feedback_retries_total", NULL, 1);
			break;
		}
	}
	if (n == FEEDBACK_BATCH)
		p->fb_pending = true; /* more after these */
	free(rows);
}

void agw_publisher_set_feedback(struct agw_publisher *p, agw_feedback_fn fn, void *arg)
{
	p->fb_fn = fn;
	p->fb_arg = arg;
}

void agw_publisher_set_feedback_done(struct agw_publisher *p, agw_feedback_done_fn done)
{
	p->fb_done = done;
}

void agw_publisher_take_over(struct agw_publisher *neu, const struct agw_publisher *old)
{
	if (!neu || !old)
		return;
	neu->fb_fn = old->fb_fn;
	neu->fb_done = old->fb_done;
	neu->fb_arg = old->fb_arg;
}
