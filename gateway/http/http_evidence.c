/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Serving evidence pictures: the look-up (http_evidence_lookup.c) and the file read run on the
 * worker pool, on a read-only connection of their own like the snapshots, so a slow disk never
 * holds the loop. At most EVIDENCE_JOBS_MAX at once; more get 503 with Retry-After. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alarmgw/metrics.h"
#include "http_evidence.h"
#include "http_internal.h"

/* A browser asks for up to 6 pictures at once per server; a few pages together fit. Each holds
 * at most one picture (evidence.max_bytes) in memory. */
#define EVIDENCE_JOBS_MAX 16
#define EVIDENCE_WAIT_MS 10000
/* A picture never changes once stored (a pruned one is gone, not replaced): the browser may keep
 * it, but only for this user (the route is behind the token) and no shared cache may. */
#define EVIDENCE_CACHE "private, max-age=86400, immutable"

struct agw_http_evidence_job {
	uv_work_t work;
	struct agw_http *http;
	struct agw_http_conn *conn; /* NULL once the connection closed */
	char *db_path;
	char case_id[AGW_HTTP_EVIDENCE_ID_MAX + 1];
	int64_t n;
	struct agw_http_evidence ev;
	char *data;
	size_t len;
	int code;                   /* 200, 404, 500 */
	char err[400];
};

/* The file the row names, read whole; 0 or a code with err. */
static int read_picture(struct agw_http_evidence_job *j, const char *state_dir)
{
	char full[1024];
	if (snprintf(full, sizeof(full), "%s/%s", state_dir, j->ev.path) >= (int)sizeof(full)) {
		snprintf(j->err, sizeof(j->err), "picture %lld of case %s: path too long", (long long)j->n, j->case_id);
		return 500;
	}
	int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(j->err, sizeof(j->err), "picture %lld of case %s: its file is gone from the state directory (%s)",
			 (long long)j->n, j->case_id, fd < 0 ? strerror(errno) : "not a file");
		if (fd >= 0)
			close(fd);
		return 404;
	}
	int code = 500;
	if (st.st_size > AGW_HTTP_EVIDENCE_MAX_BYTES || (j->ev.bytes >= 0 && st.st_size != j->ev.bytes)) {
		snprintf(j->err, sizeof(j->err), "picture %lld of case %s: the file has %lld bytes, the store says %lld",
			 (long long)j->n, j->case_id, (long long)st.st_size, (long long)j->ev.bytes);
		goto out;
	}
	j->data = malloc(st.st_size ? (size_t)st.st_size : 1);
	size_t got = 0;
	while (j->data && got < (size_t)st.st_size) {
		ssize_t r = read(fd, j->data + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (!j->data || got != (size_t)st.st_size) {
		snprintf(j->err, sizeof(j->err), "picture %lld of case %s: %s", (long long)j->n, j->case_id,
			 j->data ? "short read" : "out of memory");
		goto out;
	}
	j->len = got;
	code = 200;
out:
	close(fd);
	return code;
}

static void evidence_work(uv_work_t *work)
{
	struct agw_http_evidence_job *j = work->data;
	sqlite3 *db = NULL;
	int rc = j->db_path ? sqlite3_open_v2(j->db_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) : SQLITE_OK;
	if (rc != SQLITE_OK) {
		snprintf(j->err, sizeof(j->err), "cannot open the store: %s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		j->code = 500;
		goto out;
	}
	if (db)
		sqlite3_busy_timeout(db, 5000);
	int r = agw_http_evidence_lookup(db ? db : agw_store_db(j->http->store), j->case_id, j->n, &j->ev, j->err,
					 sizeof(j->err));
	j->code = r == -ENOENT ? 404 : r < 0 ? 500 : read_picture(j, j->http->state_dir);
out:
	sqlite3_close(db);
}

static void job_free(struct agw_http_evidence_job *j)
{
	free(j->db_path);
	free(j->data);
	free(j);
}

static void evidence_after(uv_work_t *work, int status)
{
	struct agw_http_evidence_job *j = work->data;
	struct agw_http *h = j->http;
	struct agw_http_conn *c = j->conn;
	h->n_evidence--;
	if (c && c->state == CONN_EVIDENCE) {
		c->evidence = NULL;
		if (status < 0) {
			agw_http_refuse(c, 503, "evidence", "the server is stopping", "");
		} else if (j->code == 200) {
			char extra[128] = "";
			if (j->ev.sha256[0])
				snprintf(extra, sizeof(extra), "ETag: \"%s\"\r\n", j->ev.sha256);
			agw_metric_add("agw_http_evidence_served_total", NULL, 1);
			c->cache = EVIDENCE_CACHE;
			agw_http_send(c, 200, "image/jpeg", extra, j->data, j->len);
			j->data = NULL;
		} else {
			agw_http_refuse(c, j->code, j->code == 404 ? "evidence_not_found" : "evidence", j->err, "");
		}
	} else if (c) {
		c->evidence = NULL; /* it timed out and was answered */
	}
	job_free(j);
	agw_http_maybe_done(h);
}

static void on_evidence_timeout(uv_timer_t *timer)
{
	agw_http_refuse(timer->data, 503, "evidence_timeout", "the picture took too long to read", "");
}

void agw_http_evidence_start(struct agw_http_conn *c, const struct agw_http_request *req)
{
	struct agw_http *h = c->http;
	struct agw_http_evidence_job *j = calloc(1, sizeof(*j));
	const char *why = "out of memory";
	if (!j) {
		agw_http_send_text(c, 500, "out of memory\n", "");
		return;
	}
	if (agw_http_evidence_parse(req->path, req->path_len, j->case_id, sizeof(j->case_id), &j->n, &why) < 0) {
		agw_http_refuse(c, 400, "bad_evidence_url", why, "");
		goto fail;
	}
	if (!h->state_dir) {
		agw_http_refuse(c, 404, "evidence_not_found", "this server has no state directory: no pictures", "");
		goto fail;
	}
	if (h->n_evidence >= EVIDENCE_JOBS_MAX) {
		agw_http_refuse(c, 503, "busy", "too many pictures asked at once; try again", "Retry-After: 1\r\n");
		goto fail;
	}
	const char *path = sqlite3_db_filename(agw_store_db(h->store), "main");
	j->http = h;
	j->conn = c;
	j->work.data = j;
	if (path && *path && !(j->db_path = strdup(path))) {
		agw_http_send_text(c, 500, "out of memory\n", "");
		goto fail;
	}
	c->state = CONN_EVIDENCE;
	c->evidence = j;
	h->n_evidence++;
	uv_timer_start(&c->timer, on_evidence_timeout, EVIDENCE_WAIT_MS, 0);
	if (!j->db_path) {
		/* An in-memory store (tests) has no file for a second connection: read it here. */
		evidence_work(&j->work);
		evidence_after(&j->work, 0);
	} else if (uv_queue_work(h->loop, &j->work, evidence_work, evidence_after) < 0) {
		evidence_after(&j->work, UV_ECANCELED);
	}
	return;
fail:
	job_free(j);
}

void agw_http_evidence_gone(struct agw_http_conn *c)
{
	if (c->evidence)
		c->evidence->conn = NULL;
}
