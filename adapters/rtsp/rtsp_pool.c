/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "rtsp_pool.h"

struct agw_rtsp_pool {
	uv_loop_t *loop;
	uv_async_t async;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct agw_rtsp_work *queue_head, *queue_tail; /* waiting for a thread */
	struct agw_rtsp_work *done_head, *done_tail;   /* waiting for the loop */
	unsigned queued, queue_max;
	unsigned n_threads, n_exited;
	pthread_t *threads;
	atomic_bool stop;
	bool stopping; /* loop side */
	void (*stopped)(void *arg);
	void *stopped_arg;
};

static void push_done(struct agw_rtsp_pool *p, struct agw_rtsp_work *w)
{
	w->next = NULL;
	if (p->done_tail)
		p->done_tail->next = w;
	else
		p->done_head = w;
	p->done_tail = w;
}

static void *worker_main(void *arg)
{
	struct agw_rtsp_pool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->queue_head && !atomic_load(&p->stop))
			pthread_cond_wait(&p->cond, &p->lock);
		if (atomic_load(&p->stop))
			break;
		struct agw_rtsp_work *w = p->queue_head;
		p->queue_head = w->next;
		if (!p->queue_head)
			p->queue_tail = NULL;
		p->queued--;
		pthread_mutex_unlock(&p->lock);
		w->work(w);
		pthread_mutex_lock(&p->lock);
		push_done(p, w);
		uv_async_send(&p->async);
	}
	p->n_exited++;
	pthread_mutex_unlock(&p->lock);
	uv_async_send(&p->async);
	return NULL;
}

static void pool_free(struct agw_rtsp_pool *p)
{
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->threads);
	free(p);
}

static void on_closed(uv_handle_t *h)
{
	struct agw_rtsp_pool *p = h->data;
	void (*stopped)(void *) = p->stopped;
	void *arg = p->stopped_arg;
	pool_free(p);
	if (stopped)
		stopped(arg);
}

static void on_async(uv_async_t *a)
{
	struct agw_rtsp_pool *p = a->data;
	pthread_mutex_lock(&p->lock);
	struct agw_rtsp_work *done = p->done_head;
	p->done_head = p->done_tail = NULL;
	bool all_exited = p->stopping && p->n_exited == p->n_threads;
	pthread_mutex_unlock(&p->lock);
	while (done) {
		struct agw_rtsp_work *next = done->next;
		done->done(done, true);
		done = next;
	}
	if (all_exited && !uv_is_closing((uv_handle_t *)&p->async)) {
		for (unsigned i = 0; i < p->n_threads; i++)
			pthread_join(p->threads[i], NULL);
		/* Posts that raced with the last thread's exit were drained above. */
		uv_close((uv_handle_t *)&p->async, on_closed);
	}
}

int agw_rtsp_pool_new(uv_loop_t *loop, unsigned threads, unsigned queue_max, struct agw_rtsp_pool **ret_pool)
{
	if (!threads || !queue_max)
		return -EINVAL;
	struct agw_rtsp_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->threads = calloc(threads, sizeof(*p->threads));
	if (!p->threads) {
		free(p);
		return -ENOMEM;
	}
	p->loop = loop;
	p->queue_max = queue_max;
	atomic_init(&p->stop, false);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	int r = uv_async_init(loop, &p->async, on_async);
	if (r < 0) {
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->cond);
		free(p->threads);
		free(p);
		return r;
	}
	p->async.data = p;
	for (unsigned i = 0; i < threads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0)
			break;
		p->n_threads++;
	}
	if (!p->n_threads) {
		/* no thread at all: close the handle and report; nothing else was started */
		p->stopping = true;
		uv_close((uv_handle_t *)&p->async, on_closed);
		return -EAGAIN;
	}
	*ret_pool = p;
	return 0;
}

int agw_rtsp_pool_submit(struct agw_rtsp_pool *p, struct agw_rtsp_work *w)
{
	if (p->stopping)
		return -ESHUTDOWN;
	pthread_mutex_lock(&p->lock);
	if (p->queued >= p->queue_max) {
		pthread_mutex_unlock(&p->lock);
		return -EAGAIN;
	}
	w->next = NULL;
	if (p->queue_tail)
		p->queue_tail->next = w;
	else
		p->queue_head = w;
	p->queue_tail = w;
	p->queued++;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void agw_rtsp_pool_post(struct agw_rtsp_pool *p, struct agw_rtsp_work *w)
{
	pthread_mutex_lock(&p->lock);
	push_done(p, w);
	pthread_mutex_unlock(&p->lock);
	uv_async_send(&p->async);
}

const atomic_bool *agw_rtsp_pool_stop_flag(const struct agw_rtsp_pool *p)
{
	return &p->stop;
}

void agw_rtsp_pool_stop(struct agw_rtsp_pool *p, void (*stopped)(void *arg), void *arg)
{
	if (p->stopping)
		return;
	p->stopping = true;
	p->stopped = stopped;
	p->stopped_arg = arg;
	pthread_mutex_lock(&p->lock);
	atomic_store(&p->stop, true);
	struct agw_rtsp_work *q = p->queue_head;
	p->queue_head = p->queue_tail = NULL;
	p->queued = 0;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	while (q) {
		struct agw_rtsp_work *next = q->next;
		q->done(q, false);
		q = next;
	}
	uv_async_send(&p->async); /* in case every thread had already exited */
}

/* Hands back every job of list with done(w, false). */
static void drop_all(struct agw_rtsp_work *w)
{
	while (w) {
		struct agw_rtsp_work *next = w->next;
		w->done(w, false);
		w = next;
	}
}

void agw_rtsp_pool_abandon(struct agw_rtsp_pool *p)
{
	if (!p)
		return;
	p->stopping = true;
	p->stopped = NULL; /* whoever waited for the stop is gone */
	pthread_mutex_lock(&p->lock);
	atomic_store(&p->stop, true);
	struct agw_rtsp_work *queued = p->queue_head;
	p->queue_head = p->queue_tail = NULL;
	p->queued = 0;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	/* The point of it all: a job stuck where no interrupt reaches (getaddrinfo) still holds
	 * pointers into its owner's state; the owner frees that state only after this returns. */
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	p->n_threads = p->n_exited = 0;
	drop_all(queued);
	drop_all(p->done_head);
	p->done_head = p->done_tail = NULL;
	if (uv_is_closing((uv_handle_t *)&p->async))
		pool_free(p); /* closed by someone else (a uv_walk at the deadline), loop run since */
	else
		uv_close((uv_handle_t *)&p->async, on_closed);
}
