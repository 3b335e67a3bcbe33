/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The RTSP adapter: patrols plain RTSP cameras (connect, first keyframe, diagnose, disconnect) and
 * watches the ONVIF metadata track of the streams that have one. Scheduling, camera state and
 * alerts live on the loop thread; everything libavformat does runs on the adapter's own worker
 * pool (rtsp_pool.h), interruptible by a deadline and the stop flag. docs/rtsp.md has the options,
 * the alerts and the evidence files. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libavutil/frame.h>

#include "alarmgw/adapter.h"
#include "alarmgw/backoff.h"
#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "rtsp_diag.h"
#include "rtsp_evidence.h"
#include "rtsp_pool.h"
#include "rtsp_probe.h"
#include "rtsp_url.h"
#ifdef AGW_RTSP_HAVE_ONVIF_NORMALIZE
#include "onvif_normalize.h"
#endif

#define TICK_MS 100
#define WATCH_BACKOFF_MIN_MS 2000
#define WATCH_BACKOFF_MAX_MS 60000
#define MAX_PENDING_ALERTS 4096 /* metadata alerts waiting for the loop; past it they are dropped */
#define EVIDENCE_MAX_FILES 200000
#define LOG_TAG "rtsp"

struct rtsp_cam;
struct watch_job;

struct rtsp {
	/* options */
	int64_t interval_ms, jitter_ms, concurrency, timeout_ms, io_timeout_ms, max_packets;
	double black_luma, covered_stddev, covered_edge;
	int64_t frozen_tolerance, frozen_count;
	bool metadata;
	int64_t metadata_sessions, metadata_idle_ms, metadata_max_doc;
	bool evidence;
	int64_t evidence_quality, evidence_max_age_ms, evidence_max_bytes, evidence_prune_ms;
	bool tls_verify;
	char *ca_file;
	/* state */
	struct agw_rtsp_tls tls; /* read by the workers; set in init */
	struct agw_adapter_ctx *ctx;
	struct agw_rtsp_pool *pool;
	uv_timer_t *tick; /* on the heap: uninit may have to close it after a failed start, and the
			   * core frees this struct before the loop runs the close */
	bool tick_open, started, stopping;
	int pending_closes;
	struct rtsp_cam *cams;
	int64_t patrols_running, watches_running;
	bool prune_running;
	int64_t next_prune_ms;
	atomic_int pending_alerts;
	struct agw_rtsp_thresholds th;
};

struct rtsp_cam {
	struct rtsp *r;
	char *id, *address, *username, *password;
	struct agw_rtsp_diag diag; /* touched only by the one patrol job in flight */
	int64_t next_ms;
	bool busy, removed, has_meta;
	bool opened;             /* a patrol got a picture this run (reported as subscribed) */
	struct watch_job *watch;
	int64_t watch_next_ms;
	unsigned watch_failures; /* metadata sessions in a row that delivered nothing */
	struct rtsp_cam *next;
};

#define OPT(field) offsetof(struct rtsp, field)
static const struct agw_option rtsp_options[] = {
	{"interval", AGW_OPT_DURATION, OPT(interval_ms), "60s", 100, 86400000, false, "time between patrols of a camera"},
	{"jitter", AGW_OPT_DURATION, OPT(jitter_ms), "10s", 0, 3600000, false,
	 "random extra delay added to each patrol (spreads the load)"},
	{"concurrency", AGW_OPT_INT, OPT(concurrency), "4", 1, 256, false, "patrols running at the same time"},
	{"timeout", AGW_OPT_DURATION, OPT(timeout_ms), "10s", 100, 600000, false,
	 "deadline of one patrol (connect to decoded keyframe)"},
	{"io_timeout", AGW_OPT_DURATION, OPT(io_timeout_ms), "5s", 100, 600000, false, "socket inactivity timeout"},
	{"max_packets", AGW_OPT_INT, OPT(max_packets), "1500", 10, 1000000, false,
	 "packets read waiting for a keyframe before giving up (video_loss)"},
	{"black_luma", AGW_OPT_DOUBLE, OPT(black_luma), "28", 0, 255, false, "mean luma below this is a black picture"},
	{"covered_stddev", AGW_OPT_DOUBLE, OPT(covered_stddev), "6", 0, 255, false,
	 "luma standard deviation below this is a featureless (covered) picture"},
	{"covered_edge", AGW_OPT_DOUBLE, OPT(covered_edge), "0.8", 0, 255, false,
	 "edge energy below this is a featureless (covered, blurred) picture"},
	{"frozen_tolerance", AGW_OPT_INT, OPT(frozen_tolerance), "3", 0, 255, false,
	 "fingerprints differing by at most this (luma, per cell) are the same image"},
	{"frozen_count", AGW_OPT_INT, OPT(frozen_count), "3", 2, 1000, false,
	 "identical patrols in a row that make a frozen picture"},
	{"metadata", AGW_OPT_BOOL, OPT(metadata), "true", 0, 0, false,
	 "watch the ONVIF metadata track of streams that have one"},
	{"metadata_sessions", AGW_OPT_INT, OPT(metadata_sessions), "8", 0, 256, false,
	 "metadata sessions open at the same time (each holds a worker thread)"},
	{"metadata_idle_timeout", AGW_OPT_DURATION, OPT(metadata_idle_ms), "120s", 1000, 86400000, false,
	 "a metadata session with no packet for this long is reopened"},
	{"metadata_max_doc", AGW_OPT_INT, OPT(metadata_max_doc), "262144", 1024, 16777216, false,
	 "largest metadata document accepted, bytes"},
	{"evidence", AGW_OPT_BOOL, OPT(evidence), "true", 0, 0, false,
	 "keep the diagnosed keyframe as a JPEG under <state_dir>/evidence/"},
	{"evidence_quality", AGW_OPT_INT, OPT(evidence_quality), "5", 2, 31, false, "JPEG quantizer (2 best, 31 worst)"},
	{"evidence_max_age", AGW_OPT_DURATION, OPT(evidence_max_age_ms), "168h", 0, 0, false,
	 "evidence files older than this are removed (0: keep)"},
	{"evidence_max_bytes", AGW_OPT_INT, OPT(evidence_max_bytes), "1073741824", 0, 0, false,
	 "total size of the evidence files; the oldest go first (0: no limit)"},
	{"evidence_prune_interval", AGW_OPT_DURATION, OPT(evidence_prune_ms), "10m", 1000, 86400000, false,
	 "how often the evidence directory is pruned"},
	{"tls_verify", AGW_OPT_BOOL, OPT(tls_verify), "true", 0, 0, false,
	 "rtsps:// cameras must present a certificate valid for their address (false: not authenticated)"},
	{"ca_file", AGW_OPT_PATH, OPT(ca_file), NULL, 0, 0, false, "CA bundle for rtsps:// cameras (default: the system's)"},
	{NULL, 0, 0, NULL, 0, 0, false, NULL},
};
#undef OPT

static int64_t now_ms(void)
{
	return agw_rtsp_mono_ms();
}

/* Patrols spread over the jitter window: the project's one random source (alarmgw/backoff.h). */
static int64_t jitter(struct rtsp *r)
{
	return r->jitter_ms > 0 ? (int64_t)(agw_random_u64() % (uint64_t)(r->jitter_ms + 1)) : 0;
}

/* ---- cameras ---- */

static void cam_free(struct rtsp_cam *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->address);
	free(c->username);
	if (c->password) {
		volatile char *p = c->password;
		while (*p)
			*p++ = '\0';
	}
	free(c->password);
	free(c);
}

static void cam_unlink(struct rtsp *r, struct rtsp_cam *c)
{
	for (struct rtsp_cam **pp = &r->cams; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
}

/* Frees a removed camera once no job refers to it. */
static void cam_release(struct rtsp_cam *c)
{
	if (c->removed && !c->busy && !c->watch) {
		cam_unlink(c->r, c);
		cam_free(c);
	}
}

static struct rtsp_cam *cam_find(struct rtsp *r, const char *id)
{
	for (struct rtsp_cam *c = r->cams; c; c = c->next)
		if (!c->removed && strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

/* ---- alerts ---- */

static enum agw_alert_kind cond_kind(enum agw_rtsp_cond c)
{
	switch (c) {
	case AGW_RTSP_COND_VIDEO_LOSS: return AGW_KIND_VIDEO_LOSS;
	case AGW_RTSP_COND_BLACK: return AGW_KIND_TAMPER;
	case AGW_RTSP_COND_COVERED: return AGW_KIND_TAMPER;
	case AGW_RTSP_COND_FROZEN: return AGW_KIND_DEVICE_HEALTH;
	default: return AGW_KIND_OTHER;
	}
}

struct patrol_job {
	struct agw_rtsp_work w;
	struct rtsp *r;
	struct rtsp_cam *cam;
	char *url;
	char *cam_id;           /* copy for the worker's log lines */
	char *state_dir;        /* copy: the core may replace ctx->state_dir on reload */
	struct agw_rtsp_thresholds th;
	struct agw_rtsp_probe_opts popts;
	bool evidence;
	int quality;
	/* results */
	int err;
	char reason[160];
	bool have_pic, has_data;
	struct agw_rtsp_picture pic;
	int width, height;
	struct agw_rtsp_change changes[AGW_RTSP_COND__COUNT];
	int n_changes;
	char *evidence_rel;
	int64_t when_ms;
};

/* -ENOMEM or 0, so several can be or'ed together. */
static int add_item(struct agw_items *items, const char *name, const char *value)
{
	return agw_items_add(items, name, value) < 0 ? -ENOMEM : 0;
}

static int emit_change(struct rtsp *r, const struct patrol_job *j, const struct agw_rtsp_change *ch)
{
	struct agw_alert a;
	agw_alert_init(&a);
	char num[32], topic[64];
	const char *cond = agw_rtsp_cond_name(ch->cond);
	snprintf(topic, sizeof(topic), "rtsp/patrol/%s", cond);
	a.camera_id = strdup(j->cam_id);
	a.adapter = strdup(LOG_TAG);
	a.topic = strdup(topic);
	a.kind = cond_kind(ch->cond);
	a.active = ch->active ? AGW_ACTIVE_TRUE : AGW_ACTIVE_FALSE;
	a.operation = AGW_OP_CHANGED;
	a.camera_time_ms = AGW_TIME_UNKNOWN;
	a.gateway_time_ms = j->when_ms;
	int e = (!a.camera_id || !a.adapter || !a.topic) ? -ENOMEM : 0;
	struct agw_items *d = &a.data;
	if (e == 0)
		e = add_item(d, "Condition", cond) | add_item(d, "State", ch->active ? "true" : "false");
	if (e == 0 && !j->have_pic)
		e = add_item(d, "Reason", j->reason);
	if (e == 0 && j->have_pic) {
		snprintf(num, sizeof(num), "%.1f", j->pic.mean);
		e |= add_item(d, "MeanLuma", num);
		snprintf(num, sizeof(num), "%.1f", j->pic.stddev);
		e |= add_item(d, "StdDev", num);
		snprintf(num, sizeof(num), "%.2f", j->pic.edge);
		e |= add_item(d, "Edge", num);
		snprintf(num, sizeof(num), "%dx%d", j->width, j->height);
		e |= add_item(d, "Resolution", num);
	}
	if (e == 0 && j->evidence_rel) {
		e = add_item(d, "Evidence", j->evidence_rel);
		/* The case message lists its alerts' event ids as evidence: with the picture's path as the
		 * id (unique: camera, time, condition) the case points at the picture. */
		a.event_id = strdup(j->evidence_rel);
		if (!a.event_id)
			e = -ENOMEM;
	}
	if (e == 0)
		e = r->ctx->emit(r->ctx, &a);
	if (e < 0) {
		agw_metric_add("agw_rtsp_alerts_refused_total", NULL, 1);
		agw_log_warn(LOG_TAG, j->cam_id, "%s %s alert not taken: %s", cond, ch->active ? "raise" : "clear",
			     strerror(-e));
	}
	agw_alert_clear(&a);
	return e;
}

/* ---- patrol ---- */

static void patrol_work(struct agw_rtsp_work *w)
{
	struct patrol_job *j = (struct patrol_job *)w;
	struct agw_rtsp_probe p;
	j->when_ms = agw_now_ms();
	j->err = agw_rtsp_probe_run(j->url, &j->popts, &p);
	j->has_data = p.has_data_stream;
	agw_rtsp_url_free(j->url);
	j->url = NULL;
	if (j->err == -ECANCELED) {
		/* Stopping or the camera is gone: that is not a video loss. */
		agw_rtsp_probe_clear(&p);
		return;
	}
	if (j->err == 0) {
		const uint8_t *plane;
		int stride;
		uint8_t *owned = NULL;
		int step = p.frame->width >= 640 ? p.frame->width / 320 : 1;
		int e = agw_rtsp_frame_luma(p.frame, &plane, &stride, &owned);
		if (e == 0)
			e = agw_rtsp_picture_measure(plane, stride, p.frame->width, p.frame->height, step, &j->pic);
		agw_rtsp_frame_luma_free(owned);
		if (e < 0) {
			j->err = e;
			snprintf(j->reason, sizeof(j->reason), "picture %dx%d not measurable", p.frame->width,
				 p.frame->height);
		} else {
			j->have_pic = true;
			j->width = p.frame->width;
			j->height = p.frame->height;
		}
	} else {
		snprintf(j->reason, sizeof(j->reason), "%s", p.reason);
	}
	j->n_changes = agw_rtsp_diag_update(&j->cam->diag, &j->th, j->have_pic ? &j->pic : NULL, j->changes);
	if (j->have_pic && j->n_changes > 0 && j->evidence) {
		const char *tag = "ok";
		for (int i = 0; i < j->n_changes; i++)
			if (j->changes[i].active)
				tag = agw_rtsp_cond_name(j->changes[i].cond);
		uint8_t *jpeg = NULL;
		size_t len = 0;
		int e = agw_rtsp_jpeg_encode(p.frame, j->quality, &jpeg, &len);
		if (e == 0)
			e = agw_rtsp_evidence_write(j->state_dir, j->cam_id, tag, j->when_ms, jpeg, len, &j->evidence_rel);
		free(jpeg);
		if (e < 0) {
			agw_metric_add("agw_rtsp_evidence_errors_total", NULL, 1);
			agw_log_warn(LOG_TAG, j->cam_id, "evidence picture not kept: %s", strerror(-e));
		}
	}
	agw_rtsp_probe_clear(&p);
}

static void log_change(const struct patrol_job *j, const struct agw_rtsp_change *ch)
{
	const char *cond = agw_rtsp_cond_name(ch->cond);
	if (!j->have_pic)
		agw_log_notice(LOG_TAG, j->cam_id, "%s %s: %s", cond, ch->active ? "raised" : "cleared", j->reason);
	else
		agw_log_notice(LOG_TAG, j->cam_id, "%s %s (mean luma %.1f, stddev %.1f, edge %.2f)%s%s", cond,
			       ch->active ? "raised" : "cleared", j->pic.mean, j->pic.stddev, j->pic.edge,
			       j->evidence_rel ? ", evidence " : "", j->evidence_rel ? j->evidence_rel : "");
}

static void patrol_done(struct agw_rtsp_work *w, bool ran)
{
	struct patrol_job *j = (struct patrol_job *)w;
	struct rtsp *r = j->r;
	struct rtsp_cam *c = j->cam;
	r->patrols_running--;
	c->busy = false;
	if (ran && j->err != -ECANCELED && !c->removed) {
		agw_metric_add("agw_rtsp_patrols_total", j->have_pic ? "result=\"picture\"" : "result=\"no_video\"", 1);
		if (j->have_pic)
			agw_log_debug(LOG_TAG, j->cam_id, "patrol: %dx%d, mean luma %.1f, stddev %.1f, edge %.2f", j->width,
				      j->height, j->pic.mean, j->pic.stddev, j->pic.edge);
		if (j->have_pic && !c->opened && r->ctx->subscribed) {
			c->opened = true;
			r->ctx->subscribed(r->ctx, c->id);
		}
		if (!j->have_pic) {
			/* Counted and logged once per transition (log_change); repeats only at debug. */
			agw_metric_add("agw_rtsp_patrol_errors_total", NULL, 1);
			agw_log_debug(LOG_TAG, j->cam_id, "patrol without picture: %s", j->reason);
		}
		for (int i = 0; i < j->n_changes; i++) {
			log_change(j, &j->changes[i]);
			/* Not taken (the core's queue is full): forget the transition, so the next
			 * patrol finds it again and the alert is not lost. No job holds the state now. */
			if (emit_change(r, j, &j->changes[i]) < 0)
				c->diag.active[j->changes[i].cond] = !j->changes[i].active;
		}
		if (j->has_data && !c->has_meta && r->metadata)
			agw_log_info(LOG_TAG, j->cam_id, "stream has a metadata track: watching it");
		c->has_meta = c->has_meta || j->has_data;
	}
	c->next_ms = now_ms() + r->interval_ms + jitter(r);
	agw_rtsp_url_free(j->url);
	free(j->cam_id);
	free(j->state_dir);
	free(j->evidence_rel);
	free(j);
	cam_release(c);
}

static int patrol_start(struct rtsp *r, struct rtsp_cam *c)
{
	struct patrol_job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->w.work = patrol_work;
	j->w.done = patrol_done;
	j->r = r;
	j->cam = c;
	j->url = agw_rtsp_url_open(c->address, c->username, c->password);
	j->cam_id = strdup(c->id);
	j->state_dir = r->ctx->state_dir ? strdup(r->ctx->state_dir) : NULL;
	j->th = r->th;
	j->popts = (struct agw_rtsp_probe_opts){
		.timeout_ms = r->timeout_ms,
		.io_timeout_ms = r->io_timeout_ms,
		.max_packets = (int)r->max_packets,
		.stop = agw_rtsp_pool_stop_flag(r->pool),
		/* While a metadata session holds the data track, the patrol sets up the video only. */
		.media_types = c->watch ? "video" : "video+data",
		.tls = &r->tls,
	};
	j->evidence = r->evidence && j->state_dir;
	j->quality = (int)r->evidence_quality;
	int e = (!j->url || !j->cam_id || (r->ctx->state_dir && !j->state_dir)) ? -ENOMEM
										: agw_rtsp_pool_submit(r->pool, &j->w);
	if (e < 0) {
		agw_rtsp_url_free(j->url);
		free(j->cam_id);
		free(j->state_dir);
		free(j);
		return e;
	}
	c->busy = true;
	r->patrols_running++;
	return 0;
}

/* ---- metadata watch ---- */

struct watch_job {
	struct agw_rtsp_work w;
	struct rtsp *r;
	struct rtsp_cam *cam;
	char *url, *cam_id;
	struct agw_rtsp_watch_opts opts;
	atomic_bool cancel;
	int err;
	struct agw_rtsp_watch_stats stats;
	uint64_t alerts, bad_docs;
};

/* An alert from a metadata document, travelling from the worker to the loop. */
struct alert_msg {
	struct agw_rtsp_work w;
	struct rtsp *r;
	struct agw_alert alert;
};

static void alert_msg_done(struct agw_rtsp_work *w, bool ran)
{
	struct alert_msg *m = (struct alert_msg *)w;
	atomic_fetch_sub(&m->r->pending_alerts, 1);
	if (ran && !m->r->stopping) {
		int e = m->r->ctx->emit(m->r->ctx, &m->alert);
		if (e < 0)
			agw_metric_add("agw_rtsp_alerts_refused_total", NULL, 1);
	}
	agw_alert_clear(&m->alert);
	free(m);
}

#ifdef AGW_RTSP_HAVE_ONVIF_NORMALIZE
static int watch_alert(void *arg, struct agw_alert *alert)
{
	struct watch_job *j = arg;
	if (atomic_load(&j->r->pending_alerts) >= MAX_PENDING_ALERTS) {
		agw_metric_add("agw_rtsp_alerts_dropped_total", "reason=\"backlog\"", 1);
		return 0;
	}
	struct alert_msg *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	agw_alert_init(&m->alert);
	if (agw_alert_copy(&m->alert, alert) < 0) {
		agw_alert_clear(&m->alert);
		free(m);
		return -ENOMEM;
	}
	free(m->alert.camera_id);
	free(m->alert.adapter);
	m->alert.camera_id = strdup(j->cam_id);
	m->alert.adapter = strdup(LOG_TAG);
	m->alert.gateway_time_ms = agw_now_ms();
	if (!m->alert.camera_id || !m->alert.adapter) {
		agw_alert_clear(&m->alert);
		free(m);
		return -ENOMEM;
	}
	m->r = j->r;
	m->w.done = alert_msg_done;
	atomic_fetch_add(&j->r->pending_alerts, 1);
	j->alerts++;
	agw_rtsp_pool_post(j->r->pool, &m->w);
	return 0;
}
#endif

static int watch_doc(void *arg, const char *doc, size_t len)
{
	struct watch_job *j = arg;
#ifdef AGW_RTSP_HAVE_ONVIF_NORMALIZE
	char err[256];
	int n = agw_onvif_normalize(doc, len, agw_onvif_topic_table_default(), watch_alert, j, err, sizeof(err));
	if (n == -ENOMEM)
		return n;
	if (n < 0) {
		/* A bad document is counted and skipped; the first one of a session is logged. */
		agw_metric_add("agw_parse_errors_total", "adapter=\"rtsp\",reason=\"metadata\"", 1);
		if (j->bad_docs++ == 0)
			agw_log_warn(LOG_TAG, j->cam_id, "metadata document rejected: %s", err);
	}
#else
	(void)doc;
	(void)len;
	if (j->bad_docs++ == 0)
		agw_log_warn(LOG_TAG, j->cam_id, "metadata documents received but this build has no ONVIF normalizer");
#endif
	return 0;
}

static void watch_work(struct agw_rtsp_work *w)
{
	struct watch_job *j = (struct watch_job *)w;
	j->err = agw_rtsp_watch_run(j->url, &j->opts, watch_doc, j, &j->stats);
	agw_rtsp_url_free(j->url);
	j->url = NULL;
}

static void watch_done(struct agw_rtsp_work *w, bool ran)
{
	struct watch_job *j = (struct watch_job *)w;
	struct rtsp *r = j->r;
	struct rtsp_cam *c = j->cam;
	r->watches_running--;
	c->watch = NULL;
	if (ran && !c->removed && !r->stopping) {
		if (j->stats.dropped)
			agw_metric_add("agw_parse_errors_total", "adapter=\"rtsp\",reason=\"metadata_incomplete\"",
				       (int64_t)j->stats.dropped);
		/* A session that delivered documents was healthy: start again soon. Otherwise the
		 * project's one backoff (doubling, with jitter, so cameras do not retry in step). */
		if (j->stats.docs > 0)
			c->watch_failures = 0;
		c->watch_next_ms = now_ms() + agw_backoff_ms(c->watch_failures, WATCH_BACKOFF_MIN_MS, WATCH_BACKOFF_MAX_MS);
		if (j->stats.docs == 0 && c->watch_failures < 32)
			c->watch_failures++;
		if (j->err == -ENODATA && j->stats.docs == 0)
			c->has_meta = false; /* the next patrol tells again */
		agw_log_info(LOG_TAG, j->cam_id, "metadata session ended after %llu documents, %llu alerts: %s",
			     (unsigned long long)j->stats.docs, (unsigned long long)j->alerts, j->stats.reason);
	}
	agw_rtsp_url_free(j->url);
	free(j->cam_id);
	free(j);
	cam_release(c);
}

static int watch_start(struct rtsp *r, struct rtsp_cam *c)
{
	struct watch_job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->w.work = watch_work;
	j->w.done = watch_done;
	j->r = r;
	j->cam = c;
	atomic_init(&j->cancel, false);
	j->url = agw_rtsp_url_open(c->address, c->username, c->password);
	j->cam_id = strdup(c->id);
	j->opts = (struct agw_rtsp_watch_opts){
		.open_timeout_ms = r->timeout_ms,
		.io_timeout_ms = r->io_timeout_ms,
		.idle_timeout_ms = r->metadata_idle_ms,
		.max_doc = (size_t)r->metadata_max_doc,
		.stop = agw_rtsp_pool_stop_flag(r->pool),
		.cancel = &j->cancel,
		.tls = &r->tls,
	};
	int e = (!j->url || !j->cam_id) ? -ENOMEM : agw_rtsp_pool_submit(r->pool, &j->w);
	if (e < 0) {
		agw_rtsp_url_free(j->url);
		free(j->cam_id);
		free(j);
		return e;
	}
	c->watch = j;
	r->watches_running++;
	return 0;
}

/* ---- evidence pruning ---- */

struct prune_job {
	struct agw_rtsp_work w;
	struct rtsp *r;
	char *state_dir; /* copy: the core may replace ctx->state_dir on reload */
	int err;
	struct agw_rtsp_prune_stats stats;
};

static void prune_work(struct agw_rtsp_work *w)
{
	struct prune_job *j = (struct prune_job *)w;
	struct rtsp *r = j->r;
	j->err = agw_rtsp_evidence_prune(j->state_dir, agw_now_ms(), r->evidence_max_age_ms,
					 (uint64_t)r->evidence_max_bytes, EVIDENCE_MAX_FILES, &j->stats);
}

static void prune_done(struct agw_rtsp_work *w, bool ran)
{
	struct prune_job *j = (struct prune_job *)w;
	struct rtsp *r = j->r;
	r->prune_running = false;
	r->patrols_running--;
	if (ran && j->err < 0)
		agw_log_warn(LOG_TAG, NULL, "evidence pruning failed: %s", strerror(-j->err));
	else if (ran && j->stats.removed)
		agw_log_info(LOG_TAG, NULL, "evidence pruned: %zu of %zu files removed (%llu bytes)", j->stats.removed,
			     j->stats.files, (unsigned long long)j->stats.removed_bytes);
	if (ran && j->err == 0)
		agw_metric_set("agw_rtsp_evidence_bytes", NULL, (int64_t)(j->stats.bytes - j->stats.removed_bytes));
	free(j->state_dir);
	free(j);
}

static void prune_start(struct rtsp *r)
{
	struct prune_job *j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->w.work = prune_work;
	j->w.done = prune_done;
	j->r = r;
	j->state_dir = strdup(r->ctx->state_dir);
	if (!j->state_dir || agw_rtsp_pool_submit(r->pool, &j->w) < 0) {
		free(j->state_dir);
		free(j);
		return;
	}
	r->prune_running = true;
	r->patrols_running++; /* it takes a patrol's place while it runs */
}

/* ---- schedule ---- */

static void on_tick(uv_timer_t *t)
{
	struct rtsp *r = t->data;
	if (r->stopping)
		return;
	int64_t now = now_ms();
	if (r->evidence && r->ctx->state_dir && !r->prune_running && now >= r->next_prune_ms &&
	    r->patrols_running < r->concurrency) {
		prune_start(r);
		r->next_prune_ms = now + r->evidence_prune_ms;
	}
	for (struct rtsp_cam *c = r->cams; c; c = c->next) {
		if (c->removed)
			continue;
		if (!c->busy && now >= c->next_ms && r->patrols_running < r->concurrency) {
			int e = patrol_start(r, c);
			if (e < 0 && e != -EAGAIN)
				agw_log_warn(LOG_TAG, c->id, "patrol not started: %s", strerror(-e));
		}
		if (r->metadata && c->has_meta && !c->watch && now >= c->watch_next_ms &&
		    r->watches_running < r->metadata_sessions)
			watch_start(r, c);
	}
}

/* ---- lifecycle ---- */

static int rtsp_init(void *priv, struct agw_adapter_ctx *ctx)
{
	struct rtsp *r = priv;
	r->ctx = ctx;
	r->th = (struct agw_rtsp_thresholds){
		.black_luma = r->black_luma,
		.covered_stddev = r->covered_stddev,
		.covered_edge = r->covered_edge,
		.frozen_tolerance = (int)r->frozen_tolerance,
		.frozen_count = (int)r->frozen_count,
	};
	atomic_init(&r->pending_alerts, 0);
	agw_rtsp_av_log_setup();
	r->tls = (struct agw_rtsp_tls){.verify = r->tls_verify, .ca_file = r->ca_file};
	if (!r->tls_verify)
		agw_log_warn(LOG_TAG, NULL, "tls_verify = false: rtsps:// cameras are encrypted but not authenticated");
	unsigned threads = (unsigned)(r->concurrency + (r->metadata ? r->metadata_sessions : 0));
	int e = agw_rtsp_pool_new(ctx->loop, threads, threads * 2, &r->pool);
	if (e < 0) {
		agw_log_err(LOG_TAG, NULL, "cannot start %u worker threads: %s", threads, strerror(-e));
		return e;
	}
	r->tick = malloc(sizeof(*r->tick));
	if (!r->tick) {
		agw_rtsp_pool_abandon(r->pool);
		r->pool = NULL;
		return -ENOMEM;
	}
	uv_timer_init(ctx->loop, r->tick);
	r->tick->data = r;
	r->tick_open = true;
	return 0;
}

static int rtsp_start(void *priv)
{
	struct rtsp *r = priv;
	r->started = true;
	agw_log_info(LOG_TAG, NULL, "patrolling every %lld ms (+0..%lld ms jitter), %lld at a time",
		     (long long)r->interval_ms, (long long)r->jitter_ms, (long long)r->concurrency);
	return uv_timer_start(r->tick, on_tick, TICK_MS, TICK_MS);
}

static void closed_one(struct rtsp *r)
{
	if (--r->pending_closes == 0)
		r->ctx->stopped(r->ctx);
}

static void on_tick_closed(uv_handle_t *h)
{
	struct rtsp *r = h->data;
	free(h);
	if (r)
		closed_one(r);
}

static void on_pool_stopped(void *arg)
{
	struct rtsp *r = arg;
	r->pool = NULL;
	closed_one(r);
}

static void rtsp_stop(void *priv)
{
	struct rtsp *r = priv;
	if (r->stopping)
		return;
	r->stopping = true;
	r->pending_closes = 1; /* held until both below are started */
	if (r->tick_open) {
		r->pending_closes++;
		r->tick_open = false;
		uv_close((uv_handle_t *)r->tick, on_tick_closed);
		r->tick = NULL;
	}
	if (r->pool) {
		r->pending_closes++;
		agw_rtsp_pool_stop(r->pool, on_pool_stopped, r);
	}
	closed_one(r);
}

static void rtsp_uninit(void *priv)
{
	struct rtsp *r = priv;
	/* Not stopped, or the stop did not finish (the core's deadline closed the loop's handles):
	 * nothing may be left that points into r once the core frees it. */
	if (r->tick_open) {
		r->tick_open = false;
		if (uv_is_closing((uv_handle_t *)r->tick)) {
			free(r->tick); /* closed by the core's walk, and the loop has run since */
		} else {
			r->tick->data = NULL;
			uv_close((uv_handle_t *)r->tick, on_tick_closed);
		}
		r->tick = NULL;
	}
	if (r->pool) {
		agw_log_warn(LOG_TAG, NULL, "workers still running at exit: waiting for them to end");
		agw_rtsp_pool_abandon(r->pool);
		r->pool = NULL;
	}
	struct rtsp_cam *c = r->cams;
	while (c) {
		struct rtsp_cam *next = c->next;
		cam_free(c);
		c = next;
	}
	r->cams = NULL;
}

static int rtsp_camera_add(void *priv, const struct agw_camera *camera)
{
	struct rtsp *r = priv;
	char safe[512];
	if (!camera->id || !camera->address || !*camera->address) {
		agw_log_warn(LOG_TAG, camera->id, "camera without an address: ignored");
		return -EINVAL;
	}
	const char *scheme_end = strstr(camera->address, "://");
	if (scheme_end && strncmp(camera->address, "rtsp://", 7) != 0 && strncmp(camera->address, "rtsps://", 8) != 0) {
		agw_log_warn(LOG_TAG, camera->id, "address %s is not an rtsp:// URL: ignored",
			     agw_url_redact(camera->address, safe, sizeof(safe)));
		return -EINVAL;
	}
	if (cam_find(r, camera->id))
		return -EEXIST;
	struct rtsp_cam *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->r = r;
	c->id = strdup(camera->id);
	c->address = strdup(camera->address);
	c->username = camera->username ? strdup(camera->username) : NULL;
	c->password = camera->password ? strdup(camera->password) : NULL;
	if (!c->id || !c->address || (camera->username && !c->username) || (camera->password && !c->password)) {
		cam_free(c);
		return -ENOMEM;
	}
	/* The first patrol comes within the jitter window, so a restart does not hit every camera at once. */
	c->next_ms = now_ms() + jitter(r);
	c->next = r->cams;
	r->cams = c;
	agw_log_debug(LOG_TAG, c->id, "camera added: %s", agw_url_redact(c->address, safe, sizeof(safe)));
	return 0;
}

static void rtsp_camera_remove(void *priv, const char *camera_id)
{
	struct rtsp *r = priv;
	struct rtsp_cam *c = cam_find(r, camera_id);
	if (!c)
		return;
	c->removed = true;
	if (c->watch)
		atomic_store(&c->watch->cancel, true);
	cam_release(c);
}

static const char *rtsp_check_address(const char *address)
{
	if (strncasecmp(address, "rtsp://", 7) != 0 && strncasecmp(address, "rtsps://", 8) != 0)
		return "an rtsp camera needs an rtsp:// or rtsps:// URL";
	return NULL;
}

const struct agw_adapter agw_adapter_rtsp = {
	.name = "rtsp",
	.description = "RTSP cameras (libavformat): patrols for video loss, black, frozen and covered pictures; "
		       "the ONVIF metadata track",
	.protocol = "rtsp",
	.subscribes = true,
	.priv_size = sizeof(struct rtsp),
	.options = rtsp_options,
	.init = rtsp_init,
	.start = rtsp_start,
	.stop = rtsp_stop,
	.uninit = rtsp_uninit,
	.camera_add = rtsp_camera_add,
	.camera_remove = rtsp_camera_remove,
	.check_address = rtsp_check_address,
};
