/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The path of an alert through the core. Adapters emit alerts on the loop thread; the pipeline
 * queues them (bounded) and, once per loop turn, writes the whole batch in one sqlite transaction:
 * journal row, then the decider (rules → decision, case, outbox rows) for each alert. After the
 * commit it calls the committed hooks (the MQTT publisher drains the outbox from there).
 * A decision and its outbox row are therefore durable together or not at all. */
#ifndef ALARMGW_PIPELINE_H
#define ALARMGW_PIPELINE_H

#include <stdbool.h>
#include <uv.h>

#include "alarmgw/alert.h"
#include "store.h"

struct agw_pipeline;

/* Runs inside the batch transaction for one journaled alert. Writes its decision (and case and
 * outbox rows) through the store. Returns 0, or negative errno to roll the whole batch back
 * (the batch is then retried on the next turn, so only return an error for store failures). */
typedef int (*agw_decide_fn)(void *arg, struct agw_store *store, int64_t alert_seq, const struct agw_alert *alert);
/* Runs after a batch committed (or after agw_pipeline_notify_committed). */
typedef void (*agw_committed_fn)(void *arg);
/* Runs on every loop turn before the batch is written, with the time; for timers that are cheaper
 * in the batch (clear timeouts). May write through the store: it runs inside the transaction. */
typedef int (*agw_tick_fn)(void *arg, struct agw_store *store, int64_t now_ms);

int agw_pipeline_new(uv_loop_t *loop, struct agw_store *store, size_t queue_max, struct agw_pipeline **ret);
void agw_pipeline_free(struct agw_pipeline *p); /* flushes what is queued first */
void agw_pipeline_set_decider(struct agw_pipeline *p, agw_decide_fn fn, void *arg);
void agw_pipeline_set_tick(struct agw_pipeline *p, agw_tick_fn fn, void *arg, int64_t interval_ms);
int agw_pipeline_add_committed_hook(struct agw_pipeline *p, agw_committed_fn fn, void *arg);
/* Copies the alert into the queue. -ENOBUFS when the queue is full (counted). */
int agw_pipeline_submit(struct agw_pipeline *p, const struct agw_alert *alert);
/* Writes the queued batch now (also called by the loop). Returns the number of alerts written. */
int agw_pipeline_flush(struct agw_pipeline *p);
size_t agw_pipeline_queued(const struct agw_pipeline *p);
/* False while writes have been failing for longer than a few seconds (the watchdog stops). */
bool agw_pipeline_healthy(const struct agw_pipeline *p);
uint64_t agw_pipeline_written(const struct agw_pipeline *p);

#endif
