/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Alerts queue here between the adapters and the store. A uv_check handle writes the queue in one
 * transaction at the end of a loop turn, so a burst of 1,000 alerts costs one commit, not 1,000; with
 * a commit window (agw_pipeline_set_commit) it waits until the oldest queued alert is that old or the
 * batch has that many alerts, so the alerts of many turns share a commit too; a uv_timer runs the
 * decider's tick. On a store failure the batch is rolled back (the decider's state too,
 * through its transaction hook) and kept for a retry from a timer; meanwhile submit refuses, so the
 * adapters keep the rest at the cameras (pipeline.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "pipeline.h"

#define MAX_HOOKS 8
#define BATCH_MAX 5000       /* bounds one transaction's time so the loop stays responsive */
#define RETRY_MIN_MS 50      /* first retry after a failed write; doubles up to RETRY_MAX_MS */
#define RETRY_MAX_MS 1000
#define WAITS_FLUSH_MS 1000      /* the commit wait histogram is added to the metrics at most this often */
#define UNHEALTHY_AFTER_MS 10000 /* /healthz turns 503 after writes failed this long */

struct hook {
	agw_committed_fn fn;
	void *arg;
};

struct slot {
	struct agw_alert a;
	int64_t mono_ms; /* arrival on the monotonic clock */
	size_t bytes;
	void (*done)(void *arg, int status);
	void *done_arg;
};

struct agw_pipeline {
	uv_loop_t *loop;
	struct agw_store *store;
	uv_check_t check;
	uv_timer_t tick_timer;
	uv_timer_t retry_timer;
	uv_timer_t batch_timer; /* the end of the commit window of the oldest queued alert */
	struct slot *queue; /* ring buffer */
	size_t cap, head, count;
	size_t bytes, max_bytes;
	int64_t window_ms;   /* commit window: 0 commits every loop turn */
	size_t commit_max;   /* ... or as soon as this many alerts are queued */
	int64_t waits[AGW_LAT_BUCKETS]; /* arrival to commit, added to agw_commit_wait_ms now and then */
	int64_t waits_flushed;
	agw_decide_fn decide;
	void *decide_arg;
	agw_txn_fn txn;
	agw_tick_fn tick;
	void *tick_arg;
	agw_room_fn room;
	void *room_arg;
	agw_clock_fn wall, mono;
	void *clock_arg;
	struct hook hooks[MAX_HOOKS];
	size_t n_hooks;
	bool pending_tick;
	bool refusing;          /* a submit was refused: call room once there is room again */
	bool failing;           /* the last write failed */
	int64_t failing_since;  /* monotonic ms, valid while failing */
	uint64_t retry_ms;
	uint64_t written;       /* alerts journaled since start */
	int64_t stop_wait_ms;
	bool closed;
	int closing;
};

static void on_check(uv_check_t *h);
static void on_tick(uv_timer_t *t);
static void on_retry(uv_timer_t *t);

static int64_t wall_now(const struct agw_pipeline *p)
{
	return p->wall ? p->wall(p->clock_arg) : agw_now_ms();
}

static int64_t mono_now(const struct agw_pipeline *p)
{
	return p->mono ? p->mono(p->clock_arg) : (int64_t)(uv_hrtime() / 1000000);
}

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
	p->retry_ms = RETRY_MIN_MS;
	p->commit_max = BATCH_MAX;
	uv_check_init(loop, &p->check);
	uv_timer_init(loop, &p->tick_timer);
	uv_timer_init(loop, &p->retry_timer);
	uv_timer_init(loop, &p->batch_timer);
	p->check.data = p->tick_timer.data = p->retry_timer.data = p->batch_timer.data = p;
	uv_check_start(&p->check, on_check);
	/* The check handle alone must not keep the loop alive. */
	uv_unref((uv_handle_t *)&p->check);
	uv_unref((uv_handle_t *)&p->retry_timer);
	uv_unref((uv_handle_t *)&p->batch_timer);
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
	p->closed = true; /* submit answers -ESHUTDOWN from here on */
	/* Every batch, not only the first: a stop keeps what the adapters handed over. While the store
	 * fails (a lock held by another process, a full disk being cleaned) it waits up to
	 * stop_wait_ms, on the real monotonic clock: the process is stopping, blocking is fine. */
	uint64_t give_up = uv_hrtime() + (uint64_t)p->stop_wait_ms * 1000000;
	bool said = false;
	while (p->count || (p->pending_tick && p->tick)) {
		int r = agw_pipeline_flush(p);
		if (r > 0 || (r == 0 && !p->count))
			continue;
		if (r == 0 || uv_hrtime() >= give_up)
			break;
		if (!said) {
			agw_log_warn("core", NULL, "stopping: waiting up to %lld ms for the store to write %zu queued alerts",
				     (long long)p->stop_wait_ms, p->count);
			said = true;
		}
		uv_sleep(RETRY_MIN_MS);
	}
	size_t lost = p->count;
	for (size_t i = 0; i < p->count; i++) {
		struct slot *s = &p->queue[(p->head + i) % p->cap];
		if (s->done)
			s->done(s->done_arg, -ESHUTDOWN);
		agw_alert_clear(&s->a);
	}
	if (lost) {
		agw_metric_add("agw_alerts_lost_total", "reason=\"store_failing_at_stop\"", (int64_t)lost);
		agw_log_err("core", NULL, "%zu alerts could not be written at shutdown (the store is failing)", lost);
	}
	p->count = 0;
	p->closing = 4;
	uv_close((uv_handle_t *)&p->check, on_closed);
	uv_close((uv_handle_t *)&p->tick_timer, on_closed);
	uv_close((uv_handle_t *)&p->retry_timer, on_closed);
	uv_close((uv_handle_t *)&p->batch_timer, on_closed);
}

void agw_pipeline_set_stop_wait(struct agw_pipeline *p, int64_t ms)
{
	p->stop_wait_ms = ms;
}

void agw_pipeline_set_max_bytes(struct agw_pipeline *p, size_t max_bytes)
{
	p->max_bytes = max_bytes;
}

void agw_pipeline_set_commit(struct agw_pipeline *p, int64_t window_ms, size_t max_alerts)
{
	p->window_ms = window_ms > 0 ? window_ms : 0;
	p->commit_max = max_alerts && max_alerts < BATCH_MAX ? max_alerts : BATCH_MAX;
}

void agw_pipeline_set_decider(struct agw_pipeline *p, agw_decide_fn fn, void *arg)
{
	p->decide = fn;
	p->decide_arg = arg;
}

void agw_pipeline_set_decider_txn(struct agw_pipeline *p, agw_txn_fn fn)
{
	p->txn = fn;
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

void agw_pipeline_set_room(struct agw_pipeline *p, agw_room_fn fn, void *arg)
{
	p->room = fn;
	p->room_arg = arg;
}

void agw_pipeline_set_clock(struct agw_pipeline *p, agw_clock_fn wall, agw_clock_fn mono, void *arg)
{
	p->wall = wall;
	p->mono = mono;
	p->clock_arg = arg;
}

int agw_pipeline_add_committed_hook(struct agw_pipeline *p, agw_committed_fn fn, void *arg)
{
	if (p->n_hooks == MAX_HOOKS)
		return -ENOSPC;
	p->hooks[p->n_hooks++] = (struct hook){fn, arg};
	return 0;
}

static size_t str_bytes(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static size_t items_bytes(const struct agw_items *it)
{
	size_t n = it->n * sizeof(*it->v);
	for (size_t i = 0; i < it->n; i++)
		n += str_bytes(it->v[i].name) + str_bytes(it->v[i].value);
	return n;
}

/* What a queued copy of the alert holds in memory. */
static size_t alert_bytes(const struct agw_alert *a)
{
	return sizeof(struct slot) + str_bytes(a->camera_id) + str_bytes(a->adapter) + str_bytes(a->topic) +
	       str_bytes(a->event_id) + str_bytes(a->payload) + items_bytes(&a->source) + items_bytes(&a->key) +
	       items_bytes(&a->data);
}

static int refuse(struct agw_pipeline *p, const char *reason)
{
	char labels[48];
	snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
	agw_metric_add("agw_alerts_refused_total", labels, 1);
	p->refusing = true;
	return -EAGAIN;
}

int agw_pipeline_submit_durable(struct agw_pipeline *p, const struct agw_alert *alert,
				void (*done)(void *arg, int status), void *arg)
{
	if (p->closed)
		return -ESHUTDOWN;
	if (p->failing)
		return refuse(p, "store_failing");
	if (p->count == p->cap)
		return refuse(p, "queue_full");
	size_t bytes = alert_bytes(alert);
	/* An alert larger than the whole bound still goes in alone, or it could never go in. */
	if (p->max_bytes && p->count && p->bytes + bytes > p->max_bytes)
		return refuse(p, "queue_bytes");
	struct slot *slot = &p->queue[(p->head + p->count) % p->cap];
	int r = agw_alert_copy(&slot->a, alert);
	if (r < 0)
		return r;
	if (slot->a.gateway_time_ms == 0)
		slot->a.gateway_time_ms = wall_now(p);
	slot->mono_ms = mono_now(p);
	slot->bytes = bytes;
	slot->done = done;
	slot->done_arg = arg;
	p->count++;
	p->bytes += bytes;
	return 0;
}

int agw_pipeline_submit(struct agw_pipeline *p, const struct agw_alert *alert)
{
	return agw_pipeline_submit_durable(p, alert, NULL, NULL);
}

size_t agw_pipeline_queued(const struct agw_pipeline *p)
{
	return p->count;
}

size_t agw_pipeline_queued_bytes(const struct agw_pipeline *p)
{
	return p->bytes;
}

uint64_t agw_pipeline_written(const struct agw_pipeline *p)
{
	return p->written;
}

bool agw_pipeline_store_ok(const struct agw_pipeline *p, int64_t *ret_failing_ms)
{
	if (ret_failing_ms)
		*ret_failing_ms = p->failing ? mono_now(p) - p->failing_since : 0;
	return !p->failing;
}

bool agw_pipeline_healthy(const struct agw_pipeline *p)
{
	int64_t ms;
	return agw_pipeline_store_ok(p, &ms) || ms < UNHEALTHY_AFTER_MS;
}

static void run_hooks(struct agw_pipeline *p)
{
	for (size_t i = 0; i < p->n_hooks; i++)
		p->hooks[i].fn(p->hooks[i].arg);
}

/* Hysteresis: refused adapters resume once the queue is back under half of both bounds. */
static void maybe_room(struct agw_pipeline *p)
{
	if (!p->refusing || p->failing || p->closed || p->count > p->cap / 2 ||
	    (p->max_bytes && p->bytes > p->max_bytes / 2))
		return;
	p->refusing = false;
	if (p->room)
		p->room(p->room_arg);
}

static void write_worked(struct agw_pipeline *p)
{
	if (p->failing) {
		agw_log_notice("core", NULL, "journal writes work again after %lld ms",
			       (long long)(mono_now(p) - p->failing_since));
		p->failing = false;
		agw_metric_set("agw_store_failing", NULL, 0);
		agw_metric_set("agw_store_failing_seconds", NULL, 0);
	}
	p->retry_ms = RETRY_MIN_MS;
	uv_timer_stop(&p->retry_timer); /* a pending slow retry is moot once a write succeeded */
	uv_timer_stop(&p->batch_timer); /* the next turn arms it again for what is still queued */
}

/* The first n queued alerts are committed: counted (agw_alerts_total by kind, one update per kind
 * and batch rather than per alert; their wait for the commit) and freed. Their slots stay taken
 * until their acknowledgements have run (agw_pipeline_flush). */
static void batch_written(struct agw_pipeline *p, size_t n)
{
	int64_t per_kind[AGW_KIND__COUNT] = {0}, committed = mono_now(p);
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &p->queue[(p->head + i) % p->cap];
		if ((unsigned)s->a.kind < AGW_KIND__COUNT)
			per_kind[s->a.kind]++;
		p->waits[agw_lat_bucket(committed - s->mono_ms)]++;
		agw_alert_clear(&s->a);
		p->bytes -= s->bytes;
	}
	for (int k = 0; k < AGW_KIND__COUNT; k++) {
		if (!per_kind[k])
			continue;
		char labels[64];
		snprintf(labels, sizeof(labels), "kind=\"%s\"", agw_alert_kind_name((enum agw_alert_kind)k));
		agw_metric_add("agw_alerts_total", labels, per_kind[k]);
	}
	if (committed - p->waits_flushed >= WAITS_FLUSH_MS) {
		agw_metric_lat_flush("agw_commit_wait_ms", p->waits);
		p->waits_flushed = committed;
	}
}

static void txn_event(struct agw_pipeline *p, enum agw_txn_phase phase)
{
	if (p->txn && p->decide_arg)
		p->txn(p->decide_arg, p->store, phase);
}

int agw_pipeline_flush(struct agw_pipeline *p)
{
	bool tick = p->pending_tick && p->tick;
	if (p->count == 0 && !tick)
		return 0;
	size_t n = p->count < BATCH_MAX ? p->count : BATCH_MAX;
	bool in_txn = false;
	int r = agw_store_begin(p->store);
	if (r < 0)
		goto fail;
	in_txn = true;
	txn_event(p, AGW_TXN_BEGIN);
	if (tick && (r = p->tick(p->tick_arg, p->store, wall_now(p), mono_now(p))) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &p->queue[(p->head + i) % p->cap];
		int64_t seq = 0;
		if ((r = agw_store_journal_alert(p->store, &s->a, &seq)) < 0)
			goto fail;
		if (p->decide && (r = p->decide(p->decide_arg, p->store, seq, &s->a, s->mono_ms)) < 0)
			goto fail;
	}
	if (p->txn && p->decide_arg && (r = p->txn(p->decide_arg, p->store, AGW_TXN_PRECOMMIT)) < 0)
		goto fail;
	if ((r = agw_store_commit(p->store)) < 0)
		goto fail;
	txn_event(p, AGW_TXN_COMMITTED);
	p->pending_tick = false;
	write_worked(p);
	batch_written(p, n);
	/* Acknowledgements while the batch still occupies its slots: a done() may submit again, and
	 * its alert must land after the queue, not in a slot whose done() is still to be called (the
	 * queue may then look full for a moment: -EAGAIN, and resume() follows below). */
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &p->queue[(p->head + i) % p->cap];
		void (*done)(void *, int) = s->done;
		s->done = NULL;
		if (done)
			done(s->done_arg, 0);
	}
	p->head = (p->head + n) % p->cap;
	p->count -= n;
	p->written += n;
	agw_metric_set("agw_queue_alerts", NULL, (int64_t)p->count);
	agw_metric_set("agw_queue_bytes", NULL, (int64_t)p->bytes);
	run_hooks(p);
	maybe_room(p);
	return (int)n;
fail:
	agw_store_rollback(p->store);
	if (in_txn)
		txn_event(p, AGW_TXN_ROLLED_BACK);
	if (!p->failing) {
		p->failing = true;
		p->failing_since = mono_now(p);
		agw_metric_set("agw_store_failing", NULL, 1);
		agw_log_err("core", NULL, "writing %zu alerts failed (%s); keeping them and retrying", n, strerror(-r));
	}
	agw_metric_add("agw_journal_failures_total", NULL, 1);
	agw_metric_set("agw_store_failing_seconds", NULL, (mono_now(p) - p->failing_since) / 1000);
	agw_metric_set("agw_queue_alerts", NULL, (int64_t)p->count);
	agw_metric_set("agw_queue_bytes", NULL, (int64_t)p->bytes);
	uv_timer_stop(&p->batch_timer); /* the retry timer decides when to try again */
	/* Keep the batch; try again from a timer instead of spinning on every loop turn (a lock held
	 * by another process is waited for here, never inside sqlite on the loop thread). */
	if (!p->closed && !uv_is_active((uv_handle_t *)&p->retry_timer)) {
		uv_timer_start(&p->retry_timer, on_retry, p->retry_ms, 0);
		p->retry_ms = p->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : p->retry_ms * 2;
	}
	return r;
}

/* Whether the queue is to be written at the end of this turn: without a commit window always;
 * with one, once the oldest alert has waited the window, the batch is full, the tick is due, or
 * the pipeline is closing. Otherwise the batch timer comes back when the window ends (the
 * timer measures it, whatever the pipeline's clock; it writes as the retry timer does). */
static bool commit_due(struct agw_pipeline *p)
{
	if (!p->window_ms || !p->count || p->closed || (p->pending_tick && p->tick) || p->count >= p->commit_max)
		return true;
	int64_t age = mono_now(p) - p->queue[p->head].mono_ms;
	if (age >= p->window_ms)
		return true;
	if (!uv_is_active((uv_handle_t *)&p->batch_timer))
		uv_timer_start(&p->batch_timer, on_retry, (uint64_t)(p->window_ms - (age > 0 ? age : 0)), 0);
	return false;
}

static void on_check(uv_check_t *h)
{
	struct agw_pipeline *p = h->data;
	if (uv_is_active((uv_handle_t *)&p->retry_timer) || !commit_due(p))
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

void agw_pipeline_tick_now(struct agw_pipeline *p)
{
	p->pending_tick = true;
}

static void on_tick(uv_timer_t *t)
{
	struct agw_pipeline *p = t->data;
	p->pending_tick = true;
	if (!uv_is_active((uv_handle_t *)&p->retry_timer))
		agw_pipeline_flush(p);
}
