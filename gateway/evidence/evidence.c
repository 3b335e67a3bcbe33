/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The evidence scheduler (evidence.h): staged with the decision, queued after its commit, started
 * within the limits, checked and written on the worker pool, finished in the store. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "alarmgw/str.h"
#include "evidence.h"
#include "evidence_cam.h"
#include "evidence_internal.h"
#include "evidence_jpeg.h"
#include "evidence_links.h"
#include "evidence_sched.h"
#include "topic.h"

#define TAG "evidence"
/* How many queued captures one pump looks at for a camera that is free: bounds the loop's work
 * when one camera floods the queue. */
#define PUMP_SCAN 4096
#define HELD_BYTES_MAX (256u << 20)
#define HELD_MATCH_MS 2000

static void list_add(struct list *l, struct job *j)
{
	j->prev = l->tail;
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	l->n++;
}

static void list_del(struct list *l, struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		l->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		l->tail = j->prev;
	j->prev = j->next = NULL;
	l->n--;
}

static int64_t now_mono(struct agw_evidence *ev)
{
	return (int64_t)uv_now(ev->loop);
}

static void job_free(struct job *j)
{
	free(j->case_id);
	free(j->camera_id);
	free(j->adapter);
	free(j->type);
	free(j->source);
	free(j->jpeg);
	free(j->reused_case);
	free(j->reuse_path);
	free(j->url);
	free(j);
}

static void timer_closed(uv_handle_t *h)
{
	job_free(h->data);
}

/* Frees a job that is in no list. */
static void job_release(struct job *j)
{
	if (j->timer_open) {
		j->timer.data = j;
		uv_close((uv_handle_t *)&j->timer, timer_closed);
	} else {
		job_free(j);
	}
}

static void pump(struct agw_evidence *ev);
static void write_result(struct job *j);
static void drain_check(struct agw_evidence *ev, bool deadline);

static void job_fail(struct job *j, const char *status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void job_fail(struct job *j, const char *status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->reason, sizeof(j->reason), fmt, ap);
	va_end(ap);
	j->status = status;
	char labels[64];
	snprintf(labels, sizeof(labels), "status=\"%s\"", status);
	agw_metric_add("agw_evidence_total", labels, 1);
	write_result(j);
}

/* ---- finishing: the row and its outbox row ---- */

static void finish_done(struct agw_evidence *ev)
{
	if (ev->hooks.committed)
		ev->hooks.committed(ev->hooks.arg);
}

static int write_one(struct job *j)
{
	struct agw_evidence *ev = j->ev;
	struct evidence_result r = {
		.case_id = j->case_id, .n = j->n, .camera_id = j->camera_id, .status = j->status,
		.reason = j->reason[0] ? j->reason : NULL, .type = j->type, .source = j->source,
		.camera_time = j->camera_time, .gateway_time = j->gateway_time, .bytes = (int64_t)j->len,
		.width = j->width, .height = j->height, .path = j->path[0] ? j->path : NULL, .jpeg = j->jpeg,
		.topic = j->topic, .reused_case = j->reused_case, .reused_n = j->reused_n,
	};
	memcpy(r.sha256, j->sha256, sizeof(r.sha256));
	if (ev->links && !j->url && strcmp(j->status, "stored") == 0) /* signed as it is published */
		j->url = agw_evidence_links_make(ev->links, j->case_id, j->n, agw_now_ms(), &j->url_expires);
	r.url = j->url;
	r.url_expires = j->url_expires;
	int rc = evidence_db_finish(ev->store, &r, ev->outbox_max_rows);
	if (rc == 0 && strcmp(j->status, "stored") == 0)
		ev->file_bytes += (int64_t)j->len;
	return rc;
}

static void on_retry(uv_timer_t *t);

/* Writes now, or keeps the job for the retry timer while the store fails (in order). */
static void write_result(struct job *j)
{
	struct agw_evidence *ev = j->ev;
	j->state = JOB_WRITING;
	if (ev->closing) { /* one try: a row left pending is marked failed at the next start */
		write_one(j);
		job_release(j);
		return;
	}
	if (ev->writing.n == 0 && write_one(j) == 0) {
		finish_done(ev);
		job_release(j);
		return;
	}
	list_add(&ev->writing, j);
	/* the store just refused (or older jobs still wait): try again in a second, in order */
	if (!uv_is_active((uv_handle_t *)&ev->retry))
		uv_timer_start(&ev->retry, on_retry, 1000, 0);
}

static void on_retry(uv_timer_t *t)
{
	struct agw_evidence *ev = t->data;
	bool any = false;
	while (ev->writing.head) {
		struct job *j = ev->writing.head;
		if (write_one(j) < 0) {
			uv_timer_start(&ev->retry, on_retry, 1000, 0);
			break;
		}
		any = true;
		list_del(&ev->writing, j);
		job_release(j);
	}
	if (any)
		finish_done(ev);
	drain_check(ev, false);
}

/* ---- the worker: check, hash, write the file ---- */

static int check_and_hash(struct job *j)
{
	char err[160];
	int rc = agw_jpeg_size(j->jpeg, j->len, &j->width, &j->height, err, sizeof(err));
	if (rc < 0) {
		snprintf(j->reason, sizeof(j->reason), "not a usable JPEG: %s", err);
		return rc;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (!EVP_Digest(j->jpeg, j->len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
		snprintf(j->reason, sizeof(j->reason), "SHA-256 failed");
		return -EIO;
	}
	for (unsigned i = 0; i < 32; i++)
		snprintf(j->sha256 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int write_file(struct job *j)
{
	struct agw_evidence *ev = j->ev;
	char full[1024], tmp[1100];
	struct statvfs vfs;
	if (statvfs(ev->state_dir, &vfs) == 0) {
		int64_t avail = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
		if (avail - (int64_t)j->len < ev->cfg.min_free_bytes) {
			snprintf(j->reason, sizeof(j->reason), "disk: %lld bytes free on the state volume, %lld kept free",
				 (long long)avail, (long long)ev->cfg.min_free_bytes);
			return -ENOSPC;
		}
	}
	if (evidence_file_name(j->case_id, j->n, j->gateway_time, j->path, sizeof(j->path)) < 0) {
		snprintf(j->reason, sizeof(j->reason), "case id too long for a file name");
		return -ENAMETOOLONG;
	}
	snprintf(full, sizeof(full), "%s/%s", ev->state_dir, EVIDENCE_DIR);
	mkdir(full, 0750);
	snprintf(full, sizeof(full), "%s/%s/%.10s", ev->state_dir, EVIDENCE_DIR, j->path);
	mkdir(full, 0750);
	snprintf(full, sizeof(full), "%s/%s/%s", ev->state_dir, EVIDENCE_DIR, j->path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", full);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	int rc = fd < 0 ? -errno : 0;
	for (size_t o = 0; rc == 0 && o < j->len;) {
		ssize_t w = write(fd, (char *)j->jpeg + o, j->len - o);
		if (w < 0 && errno != EINTR)
			rc = -errno;
		else if (w > 0)
			o += (size_t)w;
	}
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, full) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		snprintf(j->reason, sizeof(j->reason), "cannot write %.120s: %s", j->path, strerror(-rc));
		j->path[0] = '\0';
	} else {
		char rel[sizeof(j->path)];
		int w = snprintf(rel, sizeof(rel), "%s/%.480s", EVIDENCE_DIR, j->path);
		memcpy(j->path, rel, (size_t)w + 1);
	}
	return rc;
}

/* A reused picture: the earlier case's file, read whole (it was checked against max_bytes). */
static int read_reused(struct job *j)
{
	char full[1100];
	snprintf(full, sizeof(full), "%s/%s", j->ev->state_dir, j->reuse_path);
	FILE *f = fopen(full, "rb");
	long len = -1;
	if (f && fseek(f, 0, SEEK_END) == 0)
		len = ftell(f);
	int rc = -EIO;
	if (len > 0 && len <= j->ev->cfg.max_bytes && fseek(f, 0, SEEK_SET) == 0 && (j->jpeg = malloc((size_t)len)) &&
	    fread(j->jpeg, 1, (size_t)len, f) == (size_t)len) {
		j->len = (size_t)len;
		rc = 0;
	} else {
		snprintf(j->reason, sizeof(j->reason), "reused picture %lld of case %.60s: cannot read its file: %.60s",
			 (long long)j->reused_n, j->reused_case, f && len > 0 ? "short read" : strerror(errno));
	}
	if (f)
		fclose(f);
	return rc;
}

static void work_run(uv_work_t *w)
{
	struct job *j = w->data;
	if (j->reuse_path && read_reused(j) < 0) {
		j->status = "failed";
		return;
	}
	j->status = check_and_hash(j) == 0 && write_file(j) == 0 ? "stored" : "failed";
}

/* The camera's latest stored picture, for its next case within min_interval. */
static void remember_stored(struct agw_evidence *ev, struct job *j, struct evidence_cam *c)
{
	struct evidence_last l = {.case_id = j->reused_case ? j->reused_case : j->case_id,
				  .n = j->reused_case ? j->reused_n : j->n, .path = j->path, .type = j->type,
				  .source = j->source, .at = j->got_at, .gateway_time = j->gateway_time,
				  .camera_time = j->camera_time};
	if (j->reused_case && c->last)
		l.at = c->last->at; /* a reuse does not make the picture younger */
	(void)evidence_cam_set_last(c, &l); /* out of memory: the next case takes its own */
}

static void work_after(uv_work_t *w, int status)
{
	struct job *j = w->data;
	struct agw_evidence *ev = j->ev;
	ev->works--;
	struct evidence_cam *c = evidence_cam_get(&ev->cams, j->camera_id);
	if (c)
		c->storing--;
	if (status == UV_ECANCELED)
		j->status = "failed", snprintf(j->reason, sizeof(j->reason), "gateway stopping");
	char labels[64];
	snprintf(labels, sizeof(labels), "status=\"%s\"", j->status);
	agw_metric_add("agw_evidence_total", labels, 1);
	if (strcmp(j->status, "stored") == 0)
		agw_metric_add("agw_evidence_bytes_total", NULL, (int64_t)j->len);
	else
		agw_log_warn(TAG, j->camera_id, "case %s picture %lld not kept: %s", j->case_id, (long long)j->n,
			     j->reason);
	if (c && strcmp(j->status, "stored") == 0)
		remember_stored(ev, j, c);
	write_result(j);
	if (ev->closing && ev->works == 0 && ev->handles == 0 && ev->closed)
		ev->closed(ev->closed_arg);
	pump(ev); /* the camera's next case may reuse this picture */
}

static void queue_work(struct job *j);
static int job_topic(struct job *j);

/* Takes the picture (copied) and hands the job to the worker pool. */
static void job_got_picture(struct job *j, const struct agw_picture *p)
{
	struct agw_evidence *ev = j->ev;
	j->gateway_time = agw_now_ms();
	j->got_at = now_mono(ev);
	j->camera_time = p->camera_time_ms;
	if (agw_strdup_to(&j->type, p->type) < 0 || agw_strdup_to(&j->source, p->source) < 0) {
		job_fail(j, "failed", "out of memory");
		return;
	}
	if (p->len > (size_t)ev->cfg.max_bytes) {
		job_fail(j, "failed", "picture of %zu bytes is over evidence.max_bytes (%lld)", p->len,
			 (long long)ev->cfg.max_bytes);
		return;
	}
	j->jpeg = malloc(p->len ? p->len : 1);
	if (!j->jpeg) {
		job_fail(j, "failed", "out of memory");
		return;
	}
	memcpy(j->jpeg, p->data, p->len);
	j->len = p->len;
	if (job_topic(j) < 0)
		return;
	queue_work(j);
}

/* Hands the job to the worker pool; the camera's next case waits until it is stored. */
static void queue_work(struct job *j)
{
	struct agw_evidence *ev = j->ev;
	struct evidence_cam *c = evidence_cam_get(&ev->cams, j->camera_id);
	j->state = JOB_WORKING;
	j->work.data = j;
	ev->works++;
	if (!c || uv_queue_work(ev->loop, &j->work, work_run, work_after) < 0) {
		ev->works--;
		job_fail(j, "failed", c ? "worker pool refused the job" : "out of memory");
		return;
	}
	c->storing++;
}

static int job_topic(struct job *j)
{
	struct agw_evidence *ev = j->ev;
	struct agw_topic_vars vars = {.prefix = ev->prefix, .gateway = ev->gateway, .case_id = j->case_id};
	char num[24];
	snprintf(num, sizeof(num), "%lld", (long long)j->n);
	vars.n = num;
	if (agw_topic_expand(ev->topic_tmpl, &vars, j->topic, sizeof(j->topic)) < 0) {
		job_fail(j, "failed", "evidence topic template does not expand");
		return -EINVAL;
	}
	return 0;
}

/* The camera's latest stored picture, younger than min_interval: this case gets it too (a flood
 * within the rate limit still shows each case the scene), read back from its file on the worker
 * pool. The entry names the case it was taken for and keeps its capture times. */
static bool reuse_last(struct agw_evidence *ev, struct evidence_cam *c, struct job *j, int64_t now)
{
	struct evidence_last *l = c->last;
	if (!l || now - l->at >= ev->cfg.min_interval_ms)
		return false;
	if (agw_strdup_to(&j->reused_case, l->case_id) < 0 || agw_strdup_to(&j->reuse_path, l->path) < 0 ||
	    agw_strdup_to(&j->type, l->type) < 0 || agw_strdup_to(&j->source, l->source) < 0) {
		job_fail(j, "failed", "out of memory");
		return true;
	}
	j->reused_n = l->n;
	j->gateway_time = l->gateway_time;
	j->camera_time = l->camera_time;
	agw_metric_add("agw_evidence_reused_total", NULL, 1);
	if (job_topic(j) == 0)
		queue_work(j);
	return true;
}

/* ---- running captures ---- */

static void capture_end(struct job *j)
{
	struct agw_evidence *ev = j->ev;
	list_del(&ev->running, j);
	uv_timer_stop(&j->timer);
	struct evidence_cam *c = evidence_cam_get(&ev->cams, j->camera_id);
	if (c)
		c->busy = false;
}

static void on_snapshot(struct agw_snapshot *s, const struct agw_picture *p)
{
	struct job *j = s->core;
	struct agw_evidence *ev = j->ev;
	capture_end(j);
	if (p->status < 0) {
		if (!j->source) /* where it failed, when the adapter says */
			(void)agw_strdup_to(&j->source, p->source);
		job_fail(j, "failed", "%s", p->reason ? p->reason : strerror(-p->status));
	} else {
		job_got_picture(j, p);
	}
	pump(ev);
}

static void on_timeout(uv_timer_t *t)
{
	struct job *j = t->data;
	struct agw_evidence *ev = j->ev;
	if (ev->hooks.cancel)
		ev->hooks.cancel(ev->hooks.arg, j->adapter, &j->snap);
	capture_end(j);
	agw_metric_add("agw_evidence_timeouts_total", NULL, 1);
	/* its own deadline: a reload may have changed the setting since it started */
	job_fail(j, "failed", "timeout: no picture within %lld ms", (long long)j->snap.timeout_ms);
	pump(ev);
}

/* Whether the camera holds a picture for this job's alert: recent, and not from well before the
 * alert (the picture comes right before its event: an older one belongs to an earlier event). */
static bool held_fits(const struct agw_evidence *ev, const struct evidence_cam *c, const struct job *j, int64_t now)
{
	return c->pic && now - c->pic_at <= ev->cfg.hold_ms && c->pic_wall >= j->gateway_time - HELD_MATCH_MS;
}

/* A held picture of this camera that fits, used at once. */
static bool use_held(struct agw_evidence *ev, struct evidence_cam *c, struct job *j, int64_t now)
{
	if (!held_fits(ev, c, j, now))
		return false;
	struct agw_picture p = {.type = c->pic_type, .source = c->pic_source, .data = c->pic, .len = c->pic_len,
				.camera_time_ms = c->pic_camera_time};
	job_got_picture(j, &p);
	/* one event's picture is one case's evidence: the next case needs a new one */
	evidence_cam_drop_picture(&ev->cams, c);
	return true;
}

static void start_one(struct agw_evidence *ev, struct job *j, struct evidence_cam *c, int64_t now)
{
	list_del(&ev->queued, j);
	if (use_held(ev, c, j, now))
		return;
	if (c->last_start && now - c->last_start < ev->cfg.min_interval_ms) {
		agw_metric_add("agw_evidence_rate_limited_total", NULL, 1);
		if (reuse_last(ev, c, j, now))
			return;
		job_fail(j, "skipped", "rate limit: this camera's last capture started %lld ms before (evidence.min_interval %lld ms) and gave no picture to reuse",
			 (long long)(now - c->last_start), (long long)ev->cfg.min_interval_ms);
		return;
	}
	j->snap = (struct agw_snapshot){.camera_id = j->camera_id, .channel = j->channel,
					.max_bytes = (size_t)ev->cfg.max_bytes,
					.timeout_ms = ev->cfg.timeout_ms, .done = on_snapshot, .core = j};
	c->busy = true;
	c->last_start = now;
	j->state = JOB_RUNNING;
	list_add(&ev->running, j);
	if (!j->timer_open) {
		uv_timer_init(ev->loop, &j->timer);
		j->timer_open = true;
	}
	j->timer.data = j;
	uv_timer_start(&j->timer, on_timeout, (uint64_t)ev->cfg.timeout_ms, 0);
	int rc = ev->hooks.start ? ev->hooks.start(ev->hooks.arg, j->adapter, &j->snap) : -ENOTSUP;
	if (rc < 0 && j->state == JOB_RUNNING) { /* not started (done was not called) */
		capture_end(j);
		c->last_start = 0;
		if (rc == -ENOTSUP)
			job_fail(j, "failed", "no picture: the %s adapter has no snapshot for this camera, its event brought none"
				 " and its ledger row has no snapshot_url",
				 j->adapter ? j->adapter : "camera's");
		else if (rc == -ESHUTDOWN)
			job_fail(j, "failed", "no picture: the %s adapter is stopping", j->adapter);
		else
			job_fail(j, "failed", "capture not started: %s", strerror(-rc));
	}
}

/* agw_evidence_drain: once nothing waits, runs or is being written, the stop goes on. */
static void drain_check(struct agw_evidence *ev, bool deadline)
{
	if (!ev->drained)
		return;
	size_t left = ev->queued.n + ev->running.n + ev->writing.n + (size_t)ev->works;
	if (left && !deadline)
		return;
	if (left)
		agw_log_warn(TAG, NULL, "stop: %zu pictures still being taken after %lld ms; the stop goes on without them", left,
			     (long long)ev->drain_ms);
	void (*cb)(void *) = ev->drained;
	ev->drained = NULL;
	uv_timer_stop(&ev->drain);
	cb(ev->drained_arg);
}

static void on_drain_deadline(uv_timer_t *t)
{
	drain_check(t->data, true);
}

int agw_evidence_drain(struct agw_evidence *ev, int64_t max_ms, void (*drained)(void *arg), void *arg)
{
	if (ev->closing || ev->drained || ev->queued.n + ev->running.n + ev->writing.n + (size_t)ev->works == 0)
		return 0;
	ev->drained = drained;
	ev->drained_arg = arg;
	ev->drain_ms = max_ms;
	uv_timer_start(&ev->drain, on_drain_deadline, (uint64_t)max_ms, 0);
	return 1;
}

static void pump(struct agw_evidence *ev)
{
	if (ev->closing)
		return;
	int64_t now = now_mono(ev);
	size_t scanned = 0;
	for (struct job *j = ev->queued.head, *next; j && scanned < PUMP_SCAN; j = next, scanned++) {
		next = j->next;
		struct evidence_cam *c = evidence_cam_get(&ev->cams, j->camera_id);
		if (!c) {
			list_del(&ev->queued, j);
			job_fail(j, "failed", "out of memory");
			continue;
		}
		if (c->busy || c->storing)
			continue; /* one capture per camera at a time; the next may reuse what it stores */
		/* a held picture and a refusal by rate limit need no slot */
		bool needs_slot = !held_fits(ev, c, j, now) &&
				  !(c->last_start && now - c->last_start < ev->cfg.min_interval_ms);
		if (needs_slot && ev->running.n >= (size_t)ev->cfg.max_concurrent)
			continue;
		start_one(ev, j, c, now);
	}
	agw_metric_set("agw_evidence_queued", NULL, (int64_t)ev->queued.n);
	agw_metric_set("agw_evidence_running", NULL, (int64_t)ev->running.n);
	drain_check(ev, false);
}

/* ---- the decider's side ---- */

int agw_evidence_stage(struct agw_evidence *ev, struct agw_store *store, const char *case_id, int64_t alert_seq,
		       const struct agw_alert *alert)
{
	int64_t n;
	int rc = evidence_db_stage(store, case_id, alert->camera_id, alert_seq, alert->gateway_time_ms,
				   ev->cfg.max_per_case, &n);
	if (rc == -EEXIST)
		return 0; /* the case has its pictures */
	if (rc < 0)
		return rc;
	struct job *j = calloc(1, sizeof(*j));
	if (!j || !(j->case_id = strdup(case_id)) || !(j->camera_id = strdup(alert->camera_id)) ||
	    agw_strdup_to(&j->adapter, alert->adapter) < 0) {
		if (j)
			job_free(j);
		return -ENOMEM;
	}
	j->ev = ev;
	j->n = n;
	const char *ch = agw_items_get(&alert->source, "channel");
	j->channel = ch && strspn(ch, "0123456789") == strlen(ch) && strlen(ch) <= 4 ? atoi(ch) : 0;
	j->camera_time = AGW_TIME_UNKNOWN;
	j->gateway_time = alert->gateway_time_ms;
	list_add(&ev->staged, j);
	return 0;
}

void agw_evidence_txn(struct agw_evidence *ev, bool committed)
{
	while (ev->staged.head) {
		struct job *j = ev->staged.head;
		list_del(&ev->staged, j);
		if (!committed) {
			job_free(j);
		} else if (ev->queued.n >= (size_t)ev->cfg.queue_max) {
			job_fail(j, "failed", "capture queue full (evidence.queue_max %lld)", (long long)ev->cfg.queue_max);
		} else {
			j->state = JOB_QUEUED;
			list_add(&ev->queued, j);
		}
	}
	pump(ev);
}

int agw_evidence_offer(struct agw_evidence *ev, const char *camera_id, const struct agw_picture *p)
{
	if (p->len > (size_t)ev->cfg.max_bytes)
		return -EMSGSIZE;
	struct evidence_cam *c = evidence_cam_get(&ev->cams, camera_id);
	if (!c)
		return -ENOMEM;
	evidence_cam_drop_picture(&ev->cams, c);
	if (ev->cams.held_bytes + p->len > HELD_BYTES_MAX)
		return -ENOBUFS;
	c->pic = malloc(p->len ? p->len : 1);
	if (!c->pic || agw_strdup_to(&c->pic_type, p->type ? p->type : "event_picture") < 0 ||
	    agw_strdup_to(&c->pic_source, p->source) < 0) {
		free(c->pic);
		free(c->pic_type);
		free(c->pic_source);
		c->pic = NULL;
		c->pic_type = c->pic_source = NULL;
		return -ENOMEM;
	}
	memcpy(c->pic, p->data, p->len);
	c->pic_len = p->len;
	c->pic_at = now_mono(ev);
	c->pic_wall = agw_now_ms();
	c->pic_camera_time = p->camera_time_ms;
	ev->cams.held_bytes += p->len;
	/* a capture may be waiting for this very picture (the case came first) */
	pump(ev);
	return 0;
}

int agw_evidence_learn(struct agw_evidence *ev, const char *camera_id, const char *url)
{
	struct evidence_cam *c = evidence_cam_get(&ev->cams, camera_id);
	if (!c)
		return -ENOMEM;
	/* adapters report the URL again on every (re)subscription: the old copy goes */
	char *copy = NULL;
	if (url && !(copy = strdup(url)))
		return -ENOMEM;
	free(c->learned_url);
	c->learned_url = copy;
	return 0;
}

const char *agw_evidence_learned(struct agw_evidence *ev, const char *camera_id)
{
	struct evidence_cam *c = evidence_cam_get(&ev->cams, camera_id);
	return c ? c->learned_url : NULL;
}

void agw_evidence_adapter_stopping(struct agw_evidence *ev, const char *adapter)
{
	for (struct job *j = ev->running.head, *next; j; j = next) {
		next = j->next;
		if (!j->adapter || strcmp(j->adapter, adapter) != 0 || !j->snap.core_target)
			continue; /* core_target NULL: a ledger snapshot_url, which needs no adapter */
		if (ev->hooks.cancel)
			ev->hooks.cancel(ev->hooks.arg, j->adapter, &j->snap);
		capture_end(j);
		job_fail(j, "failed", "adapter stopped during the capture");
	}
}

/* ---- life ---- */

int agw_evidence_new(uv_loop_t *loop, struct agw_store *store, const struct agw_config *cfg,
		     const struct agw_evidence_hooks *hooks, struct agw_evidence **ret)
{
	struct agw_evidence *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->loop = loop;
	ev->store = store;
	ev->cfg = cfg->evidence;
	ev->cfg.topic = NULL;
	ev->hooks = *hooks;
	ev->outbox_max_rows = cfg->mqtt.outbox_max_rows;
	int rc = -ENOMEM;
	if (agw_strdup_to(&ev->state_dir, cfg->state_dir) < 0 || agw_strdup_to(&ev->prefix, cfg->mqtt.topic_prefix) < 0 ||
	    agw_strdup_to(&ev->gateway, cfg->gateway_id) < 0 ||
	    agw_strdup_to(&ev->topic_tmpl, cfg->evidence.topic ? cfg->evidence.topic : "{prefix}/evidence/{case}/{n}") < 0)
		goto fail;
	char why[200];
	if ((rc = agw_evidence_links_new(cfg, &ev->links, why, sizeof(why))) < 0) {
		agw_log_err(TAG, NULL, "evidence.url_base: %s", why);
		goto fail;
	}
	int n = evidence_db_recover(store);
	if (n > 0)
		agw_log_notice(TAG, NULL, "%d pictures were still being taken at the last stop: marked failed", n);
	ev->file_bytes = evidence_db_file_bytes(store);
	if (ev->file_bytes < 0)
		ev->file_bytes = 0;
	uv_timer_init(loop, &ev->retry);
	uv_timer_init(loop, &ev->prune);
	uv_timer_init(loop, &ev->drain);
	ev->retry.data = ev->prune.data = ev->drain.data = ev;
	uv_timer_start(&ev->prune, evidence_prune_tick, 1000, (uint64_t)ev->cfg.prune_interval_ms);
	*ret = ev;
	return 0;
fail:
	free(ev->state_dir);
	free(ev->prefix);
	free(ev->gateway);
	free(ev->topic_tmpl);
	free(ev);
	return rc;
}

int agw_evidence_reconfigure(struct agw_evidence *ev, const struct agw_config *cfg)
{
	char *topic = NULL;
	/* the links stay as they started: the status server checks them with the key it read then */
	if (agw_strdup_to(&topic, cfg->evidence.topic ? cfg->evidence.topic : "{prefix}/evidence/{case}/{n}") < 0)
		return -ENOMEM;
	/* The prefix and the gateway id belong to [mqtt] and [gateway]; state_dir is fixed for the
	 * process (the files and the journal live there). */
	free(ev->topic_tmpl);
	ev->topic_tmpl = topic;
	int64_t old_interval = ev->cfg.prune_interval_ms;
	ev->cfg = cfg->evidence;
	ev->cfg.topic = NULL;
	ev->outbox_max_rows = cfg->mqtt.outbox_max_rows;
	if (ev->closing)
		return 0;
	/* Jobs keep their place: a queue over the new queue_max is not cut (what it holds was
	 * promised a capture), new captures fail "queue full" until it is under; running captures
	 * keep the deadline and size they started with; more slots start waiting ones at once. */
	if (old_interval != ev->cfg.prune_interval_ms)
		uv_timer_start(&ev->prune, evidence_prune_tick, (uint64_t)ev->cfg.prune_interval_ms,
			       (uint64_t)ev->cfg.prune_interval_ms);
	pump(ev);
	return 0;
}

static void handle_closed(uv_handle_t *h)
{
	struct agw_evidence *ev = h->data;
	if (--ev->handles == 0 && ev->works == 0 && ev->closed)
		ev->closed(ev->closed_arg);
}

void agw_evidence_close(struct agw_evidence *ev, void (*closed)(void *arg), void *arg)
{
	ev->closing = true;
	ev->closed = closed;
	ev->closed_arg = arg;
	/* What runs is cancelled; its row stays pending and the next start marks it failed. */
	struct list *lists[] = {&ev->staged, &ev->queued, &ev->running, &ev->writing};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		while (lists[i]->head) {
			struct job *j = lists[i]->head;
			list_del(lists[i], j);
			if (j->state == JOB_RUNNING && ev->hooks.cancel)
				ev->hooks.cancel(ev->hooks.arg, j->adapter, &j->snap);
			if (j->state == JOB_WRITING)
				write_one(j); /* last try: the picture is on disk */
			job_release(j);
		}
	ev->drained = NULL;
	ev->handles = 3;
	uv_close((uv_handle_t *)&ev->retry, handle_closed);
	uv_close((uv_handle_t *)&ev->prune, handle_closed);
	uv_close((uv_handle_t *)&ev->drain, handle_closed);
}

/* Called once closed: the daemon frees after its loop ran the close callbacks. */
void agw_evidence_free(struct agw_evidence *ev)
{
	if (!ev)
		return;
	evidence_cams_free(&ev->cams);
	agw_evidence_links_free(ev->links);
	free(ev->state_dir);
	free(ev->prefix);
	free(ev->gateway);
	free(ev->topic_tmpl);
	free(ev);
}
