/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One keyframe of an RTSP stream as a JPEG, for evidence pictures of cameras that have no snapshot
 * of their own (the ONVIF adapter's cameras without a snapshot URI): an RTSP session, the first
 * keyframe decoded, a JPEG encoded, on a small worker pool of the caller (rtsp_pool.h) with an
 * interrupt callback on the deadline, the pool's stop flag and the capture's own cancel flag. The
 * loop never blocks. */
#ifndef AGW_RTSP_GRAB_H
#define AGW_RTSP_GRAB_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "rtsp_tls.h"

struct agw_rtsp_grabber;
struct agw_rtsp_grab;

struct agw_rtsp_grab_opts {
	const char *url;             /* rtsp:// or rtsps://, without credentials */
	const char *username, *password; /* put in for libavformat only; NULL: none */
	int64_t timeout_ms;          /* the whole capture */
	size_t max_bytes;            /* a longer JPEG fails with -EMSGSIZE */
	const struct agw_rtsp_tls *tls; /* rtsps:// certificate checks (copied); NULL: none */
};

/* What a capture gives: status 0 with the JPEG (valid during the call) and its size in pixels, or
 * a negative errno and reason (no URL in it). */
struct agw_rtsp_grab_result {
	int status;
	const char *reason;
	const void *jpeg;
	size_t len;
	int width, height;
	int64_t taken_ms; /* wall clock when the keyframe arrived */
};

typedef void (*agw_rtsp_grab_fn)(void *arg, const struct agw_rtsp_grab_result *r);

int agw_rtsp_grabber_new(uv_loop_t *loop, unsigned threads, struct agw_rtsp_grabber **ret);
/* done runs once on the loop, unless cancelled first. Returns 0, -EAGAIN when the queue is full,
 * -ESHUTDOWN when stopping, -ENOMEM. */
int agw_rtsp_grab_start(struct agw_rtsp_grabber *g, const struct agw_rtsp_grab_opts *o, agw_rtsp_grab_fn done,
			void *arg, struct agw_rtsp_grab **ret);
/* done is not called after; a running decode is interrupted and its job freed when it returns. */
void agw_rtsp_grab_cancel(struct agw_rtsp_grab *k);
/* Interrupts what runs; stopped(arg) on the loop once the threads ended; then g is freed. */
void agw_rtsp_grabber_stop(struct agw_rtsp_grabber *g, void (*stopped)(void *arg), void *arg);
/* For an owner torn down before its stop finished (see agw_rtsp_pool_abandon). NULL is a no-op. */
void agw_rtsp_grabber_abandon(struct agw_rtsp_grabber *g);

#endif
