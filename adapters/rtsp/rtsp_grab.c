/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One keyframe of a stream as a JPEG (see rtsp_grab.h). */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/frame.h>

#include "alarmgw/alert.h"
#include "alarmgw/metrics.h"
#include "rtsp_grab.h"
#include "rtsp_pool.h"
#include "rtsp_probe.h"
#include "rtsp_url.h"

/* The queue is short: a capture waiting behind many others would miss its deadline anyway. */
#define KEYFRAME_QUEUE 64
/* FFmpeg's mjpeg quantizer (2 best, 31 worst): the RTSP adapter's default for its evidence. */
#define KEYFRAME_QUALITY 5
/* Packets read before giving up on a keyframe (a GOP of 60 at 25 fps with audio fits). */
#define KEYFRAME_MAX_PACKETS 1500

struct agw_rtsp_grabber {
	struct agw_rtsp_pool *pool;
	void (*stopped)(void *arg);
	void *stopped_arg;
};

struct agw_rtsp_grab {
	struct agw_rtsp_work w; /* first: the pool hands it back */
	struct agw_rtsp_grabber *g;
	char *url;              /* with credentials: only libavformat sees it */
	int64_t timeout_ms;
	size_t max_bytes;
	bool tls_verify;
	char *ca_file;
	atomic_bool cancel;
	agw_rtsp_grab_fn done; /* NULL once cancelled */
	void *arg;
	/* the worker's result */
	int status;
	char reason[200];
	uint8_t *jpeg;
	size_t len;
	int width, height;
	int64_t taken_ms;
};

static void job_free(struct agw_rtsp_grab *k)
{
	agw_rtsp_url_free(k->url);
	free(k->ca_file);
	free(k->jpeg);
	free(k);
}

static void encode(struct agw_rtsp_grab *k, const struct AVFrame *frame)
{
	k->width = frame->width;
	k->height = frame->height;
	k->status = agw_rtsp_jpeg_encode(frame, KEYFRAME_QUALITY, &k->jpeg, &k->len);
	if (k->status < 0) {
		snprintf(k->reason, sizeof(k->reason), "keyframe %dx%d: JPEG encoding failed: %s", frame->width,
			 frame->height, strerror(-k->status));
	} else if (k->len > k->max_bytes) {
		snprintf(k->reason, sizeof(k->reason), "keyframe %dx%d: JPEG of %zu bytes over the limit of %zu",
			 frame->width, frame->height, k->len, k->max_bytes);
		k->status = -EMSGSIZE;
	}
}

static void keyframe_work(struct agw_rtsp_work *w)
{
	struct agw_rtsp_grab *k = (struct agw_rtsp_grab *)w;
	struct agw_rtsp_tls tls = {.verify = k->tls_verify, .ca_file = k->ca_file};
	struct agw_rtsp_probe_opts o = {
		.timeout_ms = k->timeout_ms, .io_timeout_ms = k->timeout_ms, .max_packets = KEYFRAME_MAX_PACKETS,
		.stop = agw_rtsp_pool_stop_flag(k->g->pool), .cancel = &k->cancel, .media_types = "video",
		.tls = &tls};
	struct agw_rtsp_probe p;
	k->status = agw_rtsp_probe_run(k->url, &o, &p);
	k->taken_ms = agw_now_ms();
	agw_rtsp_url_free(k->url);
	k->url = NULL;
	if (k->status == 0)
		encode(k, p.frame);
	else
		snprintf(k->reason, sizeof(k->reason), "keyframe: %s", p.reason);
	agw_rtsp_probe_clear(&p);
}

static void keyframe_done(struct agw_rtsp_work *w, bool ran)
{
	struct agw_rtsp_grab *k = (struct agw_rtsp_grab *)w;
	if (k->done) {
		struct agw_rtsp_grab_result r = {.status = k->status, .reason = k->reason, .jpeg = k->jpeg,
						      .len = k->len, .width = k->width, .height = k->height,
						      .taken_ms = k->taken_ms};
		if (!ran) {
			r.status = -ESHUTDOWN;
			r.reason = "keyframe: stopping";
		}
		agw_metric_add("agw_rtsp_grabs_total", r.status == 0 ? "result=\"picture\"" : "result=\"failed\"", 1);
		k->done(k->arg, &r);
	}
	job_free(k);
}

int agw_rtsp_grabber_new(uv_loop_t *loop, unsigned threads, struct agw_rtsp_grabber **ret)
{
	struct agw_rtsp_grabber *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	agw_rtsp_av_log_setup();
	int r = agw_rtsp_pool_new(loop, threads, KEYFRAME_QUEUE, &g->pool);
	if (r < 0) {
		free(g);
		return r;
	}
	*ret = g;
	return 0;
}

int agw_rtsp_grab_start(struct agw_rtsp_grabber *g, const struct agw_rtsp_grab_opts *o, agw_rtsp_grab_fn done,
			void *arg, struct agw_rtsp_grab **ret)
{
	struct agw_rtsp_grab *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->w.work = keyframe_work;
	k->w.done = keyframe_done;
	k->g = g;
	k->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 1;
	k->max_bytes = o->max_bytes;
	k->tls_verify = o->tls && o->tls->verify;
	k->done = done;
	k->arg = arg;
	atomic_init(&k->cancel, false);
	k->url = agw_rtsp_url_open(o->url, o->username, o->password);
	int rc = -ENOMEM;
	if (!k->url || (o->tls && o->tls->ca_file && !(k->ca_file = strdup(o->tls->ca_file))))
		goto fail;
	rc = agw_rtsp_pool_submit(g->pool, &k->w);
	if (rc < 0)
		goto fail;
	*ret = k;
	return 0;
fail:
	job_free(k);
	return rc;
}

void agw_rtsp_grab_cancel(struct agw_rtsp_grab *k)
{
	if (!k)
		return;
	k->done = NULL;
	atomic_store(&k->cancel, true);
}

static void pool_stopped(void *arg)
{
	struct agw_rtsp_grabber *g = arg;
	void (*stopped)(void *) = g->stopped;
	void *sarg = g->stopped_arg;
	free(g);
	if (stopped)
		stopped(sarg);
}

void agw_rtsp_grabber_stop(struct agw_rtsp_grabber *g, void (*stopped)(void *arg), void *arg)
{
	g->stopped = stopped;
	g->stopped_arg = arg;
	agw_rtsp_pool_stop(g->pool, pool_stopped, g);
}

void agw_rtsp_grabber_abandon(struct agw_rtsp_grabber *g)
{
	if (!g)
		return;
	agw_rtsp_pool_abandon(g->pool);
	free(g);
}
