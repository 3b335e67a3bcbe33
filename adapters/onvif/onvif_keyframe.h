/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Evidence pictures of ONVIF cameras that have no snapshot URI: one keyframe of the camera's RTSP
 * stream (GetStreamUri), decoded and encoded as a JPEG by the RTSP adapter's media code
 * (adapters/rtsp/rtsp_probe.h) on a small worker pool of the ONVIF adapter, started on the first
 * such camera. The loop never blocks; the capture is bounded by the snapshot's deadline and size. */
#ifndef AGW_ONVIF_KEYFRAME_H
#define AGW_ONVIF_KEYFRAME_H

#include <stddef.h>
#include <stdint.h>

struct onvif_adapter;
struct agw_onvif_keyframe;

/* What a capture gives: status 0 with the JPEG (valid during the call) and its size in pixels, or
 * a negative errno and reason (no URL in it). */
struct agw_onvif_keyframe_result {
	int status;
	const char *reason;
	const void *jpeg;
	size_t len;
	int width, height;
	int64_t taken_ms; /* wall clock when the keyframe arrived */
};

typedef void (*agw_onvif_keyframe_fn)(void *arg, const struct agw_onvif_keyframe_result *r);

/* Starts a capture of url (rtsp:// or rtsps://, without credentials; username and password are
 * put in for libavformat only). done runs once on the loop, unless cancelled first. Returns 0,
 * -EAGAIN when the pool's queue is full, -ESHUTDOWN when stopping, -ENOMEM. */
int agw_onvif_keyframe_start(struct onvif_adapter *ad, const char *url, const char *username, const char *password,
			     int64_t timeout_ms, size_t max_bytes, agw_onvif_keyframe_fn done, void *arg,
			     struct agw_onvif_keyframe **ret);
/* done is not called after; a running decode is interrupted and its job freed when it returns. */
void agw_onvif_keyframe_cancel(struct agw_onvif_keyframe *k);

/* The adapter stops: the pool's jobs are interrupted; *closing is incremented and the adapter's
 * agw_onvif_maybe_finish_stop runs once the pool is gone. No-op without a pool. */
void agw_onvif_keyframe_stop(struct onvif_adapter *ad);
/* uninit: a pool the stop did not finish (stop deadline) is abandoned. */
void agw_onvif_keyframe_free(struct onvif_adapter *ad);

#endif
