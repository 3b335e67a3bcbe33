/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Alerts queue here between the adapters and the store. A uv_check handle writes the queue once per
 * loop turn in one transaction, so a burst of 1,000 alerts costs one commit, not 1,000; a uv_timer
 * runs the decider's tick. On a store failure the batch is rolled back and kept for the next turn. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "pipeline.h"

#define MAX_HOOKS 8
#define BATCH_MAX 5000 /* bounds one transaction's time so the loop stays responsive */

struct hook {
	agw_committed_fn fn;
	void *arg;
};

struct agw_pipeline {
	uv_loop_t *loop;
	struct agw_store *store;
	uv_check_t check;
	uv_timer_t tick_timer;
	uv_timer_t retry_timer;
	struct agw_alert *queue; /* ring buffer */
	size_t cap, head, count;
	agw_decide_fn decide;
	void *decide_arg;
	agw_tick_fn tick;
	void *tick_arg;
	struct hook hooks[MAX_HOOKS];
	size_t n_hooks;
	bool pending_tick;
	int64_t failing_since_ms; /* 0 while writes succeed */
	uint64_t written;         /* alerts journaled since start */
	int closing;
};

static void on_check(uv_check_t *h);
static void on_tick(uv_timer_t *t);
static void on_retry(uv_timer_t *t);

int agw_pipeline_new(uv_loop_t *loop, struct agw_store *store, size_t queue_max, struct agw_pipeline **ret)
{
	struct agw_pipeline *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cap = queue_max ? queue_max : 1;
	p->queue = calloc(p->cap, sizeof(*p->queue));
	if (!p->queue) {
		free(p);
		return -ENOMEM;
	}
	p->loop = loop;
	p->store = store;
	uv_check_init(loop, &p->check);
	uv_timer_init(loop, &p->tick_timer);
	uv_timer_init(loop, &p->retry_timer);
	p->check.data = p->tick_timer.data = p->retry_timer.data = p;
	uv_check_start(&p->check, on_check);
	/* The check handle alone must not keep the loop alive. */
	uv_unref((uv_handle_t *)&p->check);
	uv_unref((uv_handle_t *)&p->retry_timer);
	*ret = p;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct agw_pipeline *p = h->data;
	if (--p->closing == 0) {
		free(p->queue);
		free(p);
	}
}

void agw_pipeline_free(struct agw_pipeline *p)
{
	if (!p)
		return;
	agw_pipeline_flush(p);
	for (size_t i = 0; i < p->count; i++)
		agw_alert_clear(&p->queue[(p->head + i) % p->cap]);
	if (p->count)
		agw_log_err("core", NULL, "%zu alerts could not be written at shutdown", p->count);
	p->count = 0;
	p->closing = 3;
	uv_close((uv_handle_t *)&p->check, on_closed);
	uv_close((uv_handle_t *)&p->tick_timer, on_closed);
	uv_close((uv_handle_t *)&p->retry_timer, on_closed);
}

void agw_pipeline_set_decider(struct agw_pipeline *p, agw_decide_fn fn, void *arg)
{
	p->decide = fn;
	p->decide_arg = arg;
}

void agw_pipeline_set_tick(struct agw_pipeline *p, agw_tick_fn fn, void *arg, int64_t interval_ms)
{
	p->tick = fn;
	p->tick_arg = arg;
	uv_timer_stop(&p->tick_timer);
	if (fn && interval_ms > 0) {
		uv_timer_start(&p->tick_timer, on_tick, (uint64_t)interval_ms, (uint64_t)interval_ms);
		uv_unref((uv_handle_t *)&p->tick_timer);
	}
}

int agw_pipeline_add_committed_hook(struct agw_pipeline *p, agw_committed_fn fn, void *arg)
{
	if (p->n_hooks == MAX_HOOKS)
		return -ENOSPC;
	p->hooks[p->n_hooks++] = (struct hook){fn, arg};
	return 0;
}

int agw_pipeline_submit(struct agw_pipeline *p, const struct agw_alert *alert)
{
	if (p->count == p->cap) {
		agw_metric_add("agw_alerts_refused_total", "reason=\"queue_full\"", 1);
		return -ENOBUFS;
	}
	struct agw_alert *slot = &p->queue[(p->head + p->count) % p->cap];
	int r = agw_alert_copy(slot, alert);
	if (r < 0)
		return r;
	if (slot->gateway_time_ms == 0)
		slot->gateway_time_ms = agw_now_ms();
	p->count++;
	return 0;
}

size_t agw_pipeline_queued(const struct agw_pipeline *p)
{
	return p->count;
}

uint64_t agw_pipeline_written(const struct agw_pipeline *p)
{
	return p->written;
}

bool agw_pipeline_healthy(const struct agw_pipeline *p)
{
	return !p->failing_since_ms || agw_now_ms() - p->failing_since_ms < 10000;
}

static void run_hooks(struct agw_pipeline *p)
{
	for (size_t i = 0; i < p->n_hooks; i++)
		p->hooks[i].fn(p->hooks[i].arg);
}

int agw_pipeline_flush(struct agw_pipeline *p)
{
	bool tick = p->pending_tick && p->tick;
	if (p->count == 0 && !tick)
		return 0;
	size_t n = p->count < BATCH_MAX ? p->count : BATCH_MAX;
	int r = agw_store_begin(p->store);
	if (r < 0)
		goto fail;
	if (tick && (r = p->tick(p->tick_arg, p->store, agw_now_ms())) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct agw_alert *a = &p->queue[(p->head + i) % p->cap];
		int64_t seq = 0;
		if ((r = agw_store_journal_alert(p->store, a, &seq)) < 0)
			goto fail;
		if (p->decide && (r = p->decide(p->decide_arg, p->store, seq, a)) < 0)
			goto fail;
	}
	if ((r = agw_store_commit(p->store)) < 0)
		goto fail;
	p->pending_tick = false;
	p->failing_since_ms = 0;
	uv_timer_stop(&p->retry_timer); /* a pending slow retry is moot once a write succeeded */
	for (size_t i = 0; i < n; i++) {
		struct agw_alert *a = &p->queue[(p->head + i) % p->cap];
		char labels[64];
		snprintf(labels, sizeof(labels), "kind=\"%s\"", agw_alert_kind_name(a->kind));
		agw_metric_add("agw_alerts_total", labels, 1);
		agw_alert_clear(a);
	}
	p->head = (p->head + n) % p->cap;
	p->count -= n;
	p->written += n;
	run_hooks(p);
	return (int)n;
fail:
	agw_store_rollback(p->store);
	if (!p->failing_since_ms)
		p->failing_since_ms = agw_now_ms();
	agw_metric_add("agw_journal_failures_total", NULL, 1);
	agw_log_err("core", NULL, "writing %zu alerts failed (%s); retrying", n, strerror(-r));
	/* Keep the batch; try again shortly instead of spinning on every loop turn. */
	if (!uv_is_active((uv_handle_t *)&p->retry_timer))
		uv_timer_start(&p->retry_timer, on_retry, 500, 0);
	return r;
}

static void on_check(uv_check_t *h)
{
	struct agw_pipeline *p = h->data;
	if (uv_is_active((uv_handle_t *)&p->retry_timer))
		return;
	/* More than one batch queued: come back at once rather than waiting for I/O. After a failure
	 * flush has already armed the slower retry. */
	if (agw_pipeline_flush(p) >= 0 && p->count)
		uv_timer_start(&p->retry_timer, on_retry, 0, 0);
}

static void on_retry(uv_timer_t *t)
{
	struct agw_pipeline *p = t->data;
	if (agw_pipeline_flush(p) >= 0 && p->count)
		uv_timer_start(&p->retry_timer, on_retry, 0, 0);
}

static void on_tick(uv_timer_t *t)
{
	struct agw_pipeline *p = t->data;
	p->pending_tick = true;
	agw_pipeline_flush(p);
}
