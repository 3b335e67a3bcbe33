/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The path of an alert through the core. Adapters emit alerts on the loop thread; the pipeline
 * queues them (bounded by count and bytes) and, once per loop turn, writes the whole batch in one
 * sqlite transaction (or, with a commit window, the alerts of a few ms: agw_pipeline_set_commit):
 * journal row, then the decider (rules → decision, case, outbox rows) for each alert. After the commit it calls the committed hooks (the MQTT publisher drains the outbox from
 * there) and the durable acknowledgements. A decision and its outbox row are therefore durable
 * together or not at all, and the decider's in-memory state follows (agw_txn_fn).
 *
 * Back-pressure: submit refuses with -EAGAIN while the queue is full (count or bytes) or the store
 * is failing; once the queue has drained below half of both bounds and a write has succeeded, the
 * room hook is called once (the daemon then calls the refused adapters' resume()). The half-way
 * mark is the hysteresis that keeps a busy adapter from flapping between refused and resumed.
 *
 * Clocks: durations (the store's failing time, retry delays) are measured on the loop's monotonic
 * clock; the wall clock only stamps alerts (gateway_time, which leaves the process). Both can be
 * replaced for tests (agw_pipeline_set_clock). */
#ifndef ALARMGW_PIPELINE_H
#define ALARMGW_PIPELINE_H

#include <stdbool.h>
#include <uv.h>

#include "alarmgw/alert.h"
#include "store.h"

struct agw_pipeline;

/* Runs inside the batch transaction for one journaled alert. Writes its decision (and case and
 * outbox rows) through the store. mono_ms is the alert's arrival on the monotonic clock (for
 * windows and timeouts; its gateway_time_ms is the wall clock). Returns 0, or negative errno to
 * roll the whole batch back (the batch is then retried, so only return an error for store
 * failures). */
typedef int (*agw_decide_fn)(void *arg, struct agw_store *store, int64_t alert_seq, const struct agw_alert *alert,
			     int64_t mono_ms);
/* Runs after a batch committed (or after agw_pipeline_notify_committed). */
typedef void (*agw_committed_fn)(void *arg);
/* Runs on every loop turn before the batch is written, with the wall and monotonic times; for timers
 * that are cheaper in the batch (clear timeouts). May write through the store: it runs inside the
 * transaction. */
typedef int (*agw_tick_fn)(void *arg, struct agw_store *store, int64_t now_ms, int64_t mono_ms);

/* The transaction around a batch, for a decider whose state must follow the store: BEGIN after
 * the sqlite BEGIN, PRECOMMIT just before COMMIT (may write; an error rolls back), then COMMITTED
 * or ROLLED_BACK. Called with the decider's arg. */
enum agw_txn_phase {
	AGW_TXN_BEGIN,
	AGW_TXN_PRECOMMIT,
	AGW_TXN_COMMITTED,
	AGW_TXN_ROLLED_BACK,
};
typedef int (*agw_txn_fn)(void *arg, struct agw_store *store, enum agw_txn_phase phase);

/* Called on the loop when the pipeline can take alerts again after refusing one. */
typedef void (*agw_room_fn)(void *arg);

/* Clocks for tests: wall (ms since the epoch) and monotonic (ms). NULL: the real ones. */
typedef int64_t (*agw_clock_fn)(void *arg);

int agw_pipeline_new(uv_loop_t *loop, struct agw_store *store, size_t queue_max, struct agw_pipeline **ret);
/* Writes what is queued (every batch, until a write fails), then frees. Alerts that could not be
 * written are counted, logged, and their durable acknowledgements called with -ESHUTDOWN. */
void agw_pipeline_free(struct agw_pipeline *p);
void agw_pipeline_set_max_bytes(struct agw_pipeline *p, size_t max_bytes); /* 0: unbounded */
/* How long agw_pipeline_free keeps retrying (blocking: the process is stopping) while the store
 * fails, before it gives up on what is queued. Default 0. */
void agw_pipeline_set_stop_wait(struct agw_pipeline *p, int64_t ms);
/* Commit by time and size: the queue is written once its oldest alert has waited window_ms, or
 * max_alerts are queued (0: the largest batch), whichever comes first; never before its commit is
 * anything acknowledged or published. Default 0 ms: every loop turn writes what it queued. */
void agw_pipeline_set_commit(struct agw_pipeline *p, int64_t window_ms, size_t max_alerts);
void agw_pipeline_set_decider(struct agw_pipeline *p, agw_decide_fn fn, void *arg);
/* The transaction hook, called with the decider's arg (so a reload that swaps the decider keeps it). */
void agw_pipeline_set_decider_txn(struct agw_pipeline *p, agw_txn_fn fn);
void agw_pipeline_set_tick(struct agw_pipeline *p, agw_tick_fn fn, void *arg, int64_t interval_ms);
void agw_pipeline_set_room(struct agw_pipeline *p, agw_room_fn fn, void *arg);
void agw_pipeline_set_clock(struct agw_pipeline *p, agw_clock_fn wall, agw_clock_fn mono, void *arg);
int agw_pipeline_add_committed_hook(struct agw_pipeline *p, agw_committed_fn fn, void *arg);
/* Copies the alert into the queue. -EAGAIN when the queue is full by count or bytes or the store
 * is failing (counted by reason in agw_alerts_refused_total): back-pressure, see above. */
int agw_pipeline_submit(struct agw_pipeline *p, const struct agw_alert *alert);
/* Like submit; done(arg, 0) is called after the commit that journals the alert, or
 * done(arg, -ESHUTDOWN) when the pipeline is freed with the alert unwritten. */
int agw_pipeline_submit_durable(struct agw_pipeline *p, const struct agw_alert *alert,
				void (*done)(void *arg, int status), void *arg);
/* Makes the next flush run the tick (as its timer does). */
void agw_pipeline_tick_now(struct agw_pipeline *p);
/* Writes the queued batch now (also called by the loop). Returns the number of alerts written. */
int agw_pipeline_flush(struct agw_pipeline *p);
size_t agw_pipeline_queued(const struct agw_pipeline *p);
size_t agw_pipeline_queued_bytes(const struct agw_pipeline *p);
/* False while journal writes are failing (the last attempt failed). *ret_ms, when not NULL, gets
 * for how long (monotonic). The loop is alive either way: this is reported, not a reason to die. */
bool agw_pipeline_store_ok(const struct agw_pipeline *p, int64_t *ret_failing_ms);
/* False while writes have been failing for longer than a few seconds (/healthz). */
bool agw_pipeline_healthy(const struct agw_pipeline *p);
uint64_t agw_pipeline_written(const struct agw_pipeline *p);

#endif
