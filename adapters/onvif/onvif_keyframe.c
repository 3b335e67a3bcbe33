/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One keyframe of an ONVIF camera's stream as its evidence picture (see onvif_keyframe.h). The
 * blocking half (RTSP session, decode, JPEG encode) runs on the adapter's keyframe pool with an
 * interrupt callback on the deadline, the pool's stop flag and the capture's own cancel flag. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/frame.h>

#include "alarmgw/metrics.h"
#include "onvif_camera.h"
#include "onvif_keyframe.h"
#include "rtsp_pool.h"
#include "rtsp_probe.h"
#include "rtsp_url.h"

/* The queue is short: a capture waiting behind many others would miss its deadline anyway. */
#define KEYFRAME_QUEUE 64
/* FFmpeg's mjpeg quantizer (2 best, 31 worst): the RTSP adapter's default for its evidence. */
#define KEYFRAME_QUALITY 5
/* Packets read before giving up on a keyframe (a GOP of 60 at 25 fps with audio fits). */
#define KEYFRAME_MAX_PACKETS 1500

struct agw_onvif_keyframe {
	struct agw_rtsp_work w; /* first: the pool hands it back */
	struct onvif_adapter *ad;
	char *url;              /* with credentials: only libavformat sees it */
	int64_t timeout_ms;
	size_t max_bytes;
	bool tls_verify;
	char *ca_file;
	atomic_bool cancel;
	agw_onvif_keyframe_fn done; /* NULL once cancelled */
	void *arg;
	/* the worker's result */
	int status;
	char reason[200];
	uint8_t *jpeg;
	size_t len;
	int width, height;
	int64_t taken_ms;
};

static void job_free(struct agw_onvif_keyframe *k)
{
	agw_rtsp_url_free(k->url);
	free(k->ca_file);
	free(k->jpeg);
	free(k);
}

static void encode(struct agw_onvif_keyframe *k, const struct AVFrame *frame)
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
	struct agw_onvif_keyframe *k = (struct agw_onvif_keyframe *)w;
	struct agw_rtsp_tls tls = {.verify = k->tls_verify, .ca_file = k->ca_file};
	struct agw_rtsp_probe_opts o = {
		.timeout_ms = k->timeout_ms, .io_timeout_ms = k->timeout_ms, .max_packets = KEYFRAME_MAX_PACKETS,
		.stop = agw_rtsp_pool_stop_flag(k->ad->kf_pool), .cancel = &k->cancel, .media_types = "video",
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
	struct agw_onvif_keyframe *k = (struct agw_onvif_keyframe *)w;
	if (k->done) {
		struct agw_onvif_keyframe_result r = {.status = k->status, .reason = k->reason, .jpeg = k->jpeg,
						      .len = k->len, .width = k->width, .height = k->height,
						      .taken_ms = k->taken_ms};
		if (!ran) {
			r.status = -ESHUTDOWN;
			r.reason = "keyframe: the adapter is stopping";
		}
		agw_metric_add("agw_onvif_keyframes_total", r.status == 0 ? "result=\"picture\"" : "result=\"failed\"", 1);
		k->done(k->arg, &r);
	}
	job_free(k);
}

static int pool_get(struct onvif_adapter *ad)
{
	if (ad->kf_pool)
		return 0;
	agw_rtsp_av_log_setup();
	return agw_rtsp_pool_new(ad->ctx->loop, (unsigned)ad->keyframe_threads, KEYFRAME_QUEUE, &ad->kf_pool);
}

int agw_onvif_keyframe_start(struct onvif_adapter *ad, const char *url, const char *username, const char *password,
			     int64_t timeout_ms, size_t max_bytes, agw_onvif_keyframe_fn done, void *arg,
			     struct agw_onvif_keyframe **ret)
{
	if (ad->stopping)
		return -ESHUTDOWN;
	int rc = pool_get(ad);
	if (rc < 0)
		return rc;
	struct agw_onvif_keyframe *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->w.work = keyframe_work;
	k->w.done = keyframe_done;
	k->ad = ad;
	k->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	k->max_bytes = max_bytes;
	k->tls_verify = ad->tls_verify;
	k->done = done;
	k->arg = arg;
	atomic_init(&k->cancel, false);
	k->url = agw_rtsp_url_open(url, username, password);
	rc = -ENOMEM;
	if (!k->url || (ad->ca_file && !(k->ca_file = strdup(ad->ca_file))))
		goto fail;
	rc = agw_rtsp_pool_submit(ad->kf_pool, &k->w);
	if (rc < 0)
		goto fail;
	*ret = k;
	return 0;
fail:
	job_free(k);
	return rc;
}

void agw_onvif_keyframe_cancel(struct agw_onvif_keyframe *k)
{
	if (!k)
		return;
	k->done = NULL;
	atomic_store(&k->cancel, true);
}

static void pool_stopped(void *arg)
{
	struct onvif_adapter *ad = arg;
	ad->kf_pool = NULL;
	ad->closing_handles--;
	agw_onvif_maybe_finish_stop(ad);
}

void agw_onvif_keyframe_stop(struct onvif_adapter *ad)
{
	if (!ad->kf_pool || ad->kf_pool_stopping)
		return;
	ad->kf_pool_stopping = true;
	ad->closing_handles++;
	agw_rtsp_pool_stop(ad->kf_pool, pool_stopped, ad);
}

void agw_onvif_keyframe_free(struct onvif_adapter *ad)
{
	agw_rtsp_pool_abandon(ad->kf_pool);
	ad->kf_pool = NULL;
}
