/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small worker pool for blocking libavformat work, owned by the RTSP adapter (libuv's shared
 * threadpool is too small to lend long metadata sessions to). Fixed threads, a bounded queue,
 * results handed back to the loop thread through one uv_async_t. Stopping raises a flag the
 * jobs' interrupt callbacks watch, so it is prompt even with cameras that never answer. */
#ifndef AGW_RTSP_POOL_H
#define AGW_RTSP_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <uv.h>

struct agw_rtsp_pool;

/* Embedded in the caller's job. work runs on a worker thread (may be NULL for a message posted
 * from a worker); done runs on the loop thread afterwards, with ran false when the pool stopped
 * before the job started: done must free the job either way. */
struct agw_rtsp_work {
	void (*work)(struct agw_rtsp_work *w);
	void (*done)(struct agw_rtsp_work *w, bool ran);
	struct agw_rtsp_work *next;
};

int agw_rtsp_pool_new(uv_loop_t *loop, unsigned threads, unsigned queue_max, struct agw_rtsp_pool **ret_pool);
/* Queues a job. -EAGAIN when the queue is full, -ESHUTDOWN once stopping. Loop thread only. */
int agw_rtsp_pool_submit(struct agw_rtsp_pool *p, struct agw_rtsp_work *w);
/* From a worker: hands w to the loop thread, where w->done(w, true) runs. Never fails; callers
 * bound how much they post. */
void agw_rtsp_pool_post(struct agw_rtsp_pool *p, struct agw_rtsp_work *w);
/* Set once stop begins; jobs poll it (interrupt callbacks). */
const atomic_bool *agw_rtsp_pool_stop_flag(const struct agw_rtsp_pool *p);
/* Begins the stop: queued jobs get done(w, false), running ones are asked to stop. Once every
 * thread has ended and the handle is closed, stopped(arg) runs on the loop and the pool is freed. */
void agw_rtsp_pool_stop(struct agw_rtsp_pool *p, void (*stopped)(void *arg), void *arg);
/* For an owner being torn down while its pool has not finished stopping (the daemon's stop
 * deadline closed every handle of the loop, or a start failed): raises the stop flag, waits for
 * every thread to end (a job blocked where no interrupt reaches, such as name resolution, is
 * waited for: it still points into the owner's state), then hands back every job not delivered
 * with done(w, false) and frees the pool. The stopped callback of an earlier stop is not called.
 * Loop thread, with the loop not running; if something else closed the pool's handle, the loop
 * must have run since (so the close finished). NULL is a no-op. */
void agw_rtsp_pool_abandon(struct agw_rtsp_pool *p);

#endif
