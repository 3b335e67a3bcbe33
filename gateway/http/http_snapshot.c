/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Status snapshots for the server: read on the worker pool on a read-only connection of their
 * own (WAL lets them read while the loop writes); requests arriving during a read wait for it
 * and share its snapshot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/alert.h"
#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "http_internal.h"

#define STATUS_CACHE_MS 1000 /* scrapes and page loads within a second share one snapshot */
#define STATUS_WAIT_MS 30000 /* longest a request waits for a snapshot */

struct agw_http_job {
	uv_work_t work;
	struct agw_http *http;
	char *db_path;
	struct agw_status *status;
	int ret;
	char err[256];
};

static void collect_work(uv_work_t *work)
{
	struct agw_http_job *job = work->data;
	sqlite3 *db = NULL;
	/* A connection per snapshot: opening costs far less than the queries, and a worker thread
	 * never shares a connection with another. */
	int rc = sqlite3_open_v2(job->db_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(job->err, sizeof(job->err), "cannot open %s: %s", job->db_path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		job->ret = -EIO;
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	job->ret = agw_status_collect(db, job->http->tracker, AGW_STATUS_RECENT_DEFAULT, agw_now_ms(), &job->status,
				      job->err, sizeof(job->err));
out:
	sqlite3_close(db);
}

static void broker_seen(const char *name, const char *labels, int64_t value, void *arg)
{
	if (strcmp(name, "agw_mqtt_connected") == 0 && (!labels || !*labels)) {
		struct agw_http *h = arg;
		h->broker_seen = true;
		h->broker_connected = value > 0;
	}
}

/* The publisher says whether it is connected (agw_mqtt_connected) but not since when: the
 * first snapshot that sees it down starts the count. */
static void broker_track(struct agw_http *h, int64_t now_ms)
{
	bool was_up = !h->broker_seen || h->broker_connected;
	h->broker_seen = false;
	agw_metrics_foreach(broker_seen, h);
	if (h->broker_seen && !h->broker_connected && was_up)
		h->broker_down_ms = now_ms;
	else if (!h->broker_seen || h->broker_connected)
		h->broker_down_ms = AGW_TIME_UNKNOWN;
}

static void collect_finished(struct agw_http *h, int ret, struct agw_status *status, const char *err)
{
	h->last_collect_ret = ret;
	if (ret < 0) {
		agw_metric_add("agw_http_errors_total", "reason=\"status\"", 1);
		agw_log_warn(AGW_HTTP_COMPONENT, NULL, "cannot read the status from the store: %s", err);
	} else {
		agw_status_free(h->cached);
		h->cached = status;
		h->snapshot_no++;
	}
	h->cached_at = uv_now(h->loop);
	h->cache_valid = true;
	broker_track(h, status ? status->generated_ms : agw_now_ms());
	/* Every request that waited gets this snapshot (or the failure). */
	for (struct agw_http_conn *c = h->conns, *next; c; c = next) {
		next = c->next;
		if (c->state == CONN_WAITING)
			agw_http_respond(c);
	}
	agw_http_sse_notify(h);
}

static void collect_after(uv_work_t *work, int status)
{
	struct agw_http_job *job = work->data;
	struct agw_http *h = job->http;
	h->job = NULL;
	if (status < 0 && job->ret >= 0) {
		job->ret = status;
		snprintf(job->err, sizeof(job->err), "%s", uv_strerror(status));
	}
	if (h->stopping)
		agw_status_free(job->status);
	else
		collect_finished(h, job->ret, job->status, job->err);
	free(job->db_path);
	free(job);
	agw_http_maybe_done(h);
}

void agw_http_collect_start(struct agw_http *h)
{
	if (h->job || h->stopping)
		return;
	const char *path = sqlite3_db_filename(agw_store_db(h->store), "main");
	if (!path || !*path) {
		/* An in-memory store has no file to open a second connection on: read it here. */
		struct agw_status *st = NULL;
		char err[256] = "";
		int r = agw_status_collect(agw_store_db(h->store), h->tracker, AGW_STATUS_RECENT_DEFAULT, agw_now_ms(),
					   &st, err, sizeof(err));
		collect_finished(h, r, st, err);
		return;
	}
	struct agw_http_job *job = calloc(1, sizeof(*job));
	if (!job || !(job->db_path = strdup(path))) {
		free(job);
		collect_finished(h, -ENOMEM, NULL, "out of memory");
		return;
	}
	job->http = h;
	job->work.data = job;
	int r = uv_queue_work(h->loop, &job->work, collect_work, collect_after);
	if (r < 0) {
		free(job->db_path);
		free(job);
		collect_finished(h, r, NULL, uv_strerror(r));
		return;
	}
	h->job = job;
}

static void on_wait_timeout(uv_timer_t *timer)
{
	struct agw_http_conn *c = timer->data;
	agw_http_refuse(c, 503, "status_timeout", "the status snapshot took too long", "");
}

bool agw_http_cache_fresh(struct agw_http *h)
{
	return h->cache_valid && uv_now(h->loop) - h->cached_at < STATUS_CACHE_MS;
}

void agw_http_snapshot_wait(struct agw_http_conn *c)
{
	c->state = CONN_WAITING;
	uv_timer_start(&c->timer, on_wait_timeout, STATUS_WAIT_MS, 0);
	agw_http_collect_start(c->http);
}

void agw_http_collect_cancel(struct agw_http *h)
{
	if (h->job)
		uv_cancel((uv_req_t *)&h->job->work);
}
