/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The MQTT publisher (paho MQTTAsync): drains the sqlite outbox in seq order with a bounded
 * in-flight window and deletes a row only when its PUBACK arrived; resends what was not
 * acknowledged after a reconnect or a restart (at least once: consumers dedup by case id).
 * Also: retained gateway status (online, and offline as last will and on stop) and the case status
 * feedback subscription. Camera health is an outbox row like any other message
 * (gateway/mqtt/health_out.c), written where the health alert is journaled.
 *
 * Threads: every function here runs on the loop thread. paho calls back on its own threads; those
 * callbacks only queue an event and wake the loop (uv_async), so sqlite and all state are touched
 * on the loop thread only, with one exception: a valid feedback message is written to the feedback
 * inbox by paho's thread through its own connection, before paho is told it was handled. See docs/mqtt.md for the operator side (broker settings). */
#ifndef ALARMGW_PUBLISHER_H
#define ALARMGW_PUBLISHER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "store.h"

struct agw_publisher;

/* Copies what it needs from cfg (cfg may be freed afterwards); store must outlive the publisher.
 * Creates the paho client but does not connect. */
int agw_publisher_new(uv_loop_t *loop, const struct agw_config *cfg, struct agw_store *store,
		      struct agw_publisher **ret);
/* Starts connecting in the background (never blocks the loop); reconnects with backoff forever. */
int agw_publisher_start(struct agw_publisher *p);
/* An agw_committed_fn (gateway/pipeline.h): new outbox rows were committed; send what is new. */
void agw_publisher_kick(void *publisher);
/* Valid feedback messages go to fn on the loop thread, inside a transaction that also removes them
 * from the store's feedback inbox. status: "accepted", "dispatched", "closed". A valid message is
 * written to the inbox (committed) by paho's thread before paho is told it was handled; fn then
 * returns 0 when it is recorded or refused for good (an unknown case), or a negative errno when it
 * could not be recorded now (the store failed): the inbox row stays and is applied again later.
 * paho sends the protocol PUBACK before it hands a message over (paho-mqtt-c has no manual
 * acknowledgement); see docs/mqtt.md for what that leaves. */
/* by and note: who gave it and their note, "" when not given (gateway/mqtt/feedback.h). */
typedef int (*agw_feedback_fn)(void *arg, const char *case_id, const char *status, const char *by, const char *note);
void agw_publisher_set_feedback(struct agw_publisher *p, agw_feedback_fn fn, void *arg);
/* Called (with the same arg) once the transaction of an inbox row fn saw has ended: committed, or
 * rolled back (fn failed, or the delete or commit did), so that state kept beside the store (the
 * case engine) follows it. Optional. */
typedef void (*agw_feedback_done_fn)(void *arg, bool committed);
void agw_publisher_set_feedback_done(struct agw_publisher *p, agw_feedback_done_fn done);
/* A publisher built to replace old (a reload with new broker settings) takes over what the daemon
 * wired into old: the feedback callback. Call before agw_publisher_start(neu). */
void agw_publisher_take_over(struct agw_publisher *neu, const struct agw_publisher *old);
/* Stops promptly: waits at most 2 s for PUBACKs of what is in flight, publishes the retained
 * offline status (0.5 s for its PUBACK), disconnects (0.5 s), then calls done(arg) on the loop: at
 * most ~3 s even with a frozen broker. Rows not acknowledged stay in the outbox for the next start;
 * rows in the resend window are deleted only if the broker acknowledged the offline status.
 * Call agw_publisher_free after done. */
void agw_publisher_stop(struct agw_publisher *p, void (*done)(void *arg), void *arg);
/* NULL is a no-op. Without a finished stop the handles are closed here and the memory is released
 * by their close callbacks (the loop must run once more). */
void agw_publisher_free(struct agw_publisher *p);

/* How long an acknowledged row stays in the outbox before it is deleted. Every reconnect resends
 * the rows still in this window: a broker killed with SIGKILL loses messages it acknowledged but
 * had neither delivered nor saved (mosquitto saves on autosave_interval), and only the sender can
 * make up for that. 0 deletes on PUBACK. Rows in the window are deleted at a clean stop. */
#define AGW_MQTT_RESEND_WINDOW_MS 2000
void agw_publisher_set_resend_window(struct agw_publisher *p, int64_t ms);

/* For tests and the benchmark: rows acknowledged and deleted since start, and whether connected. */
long long agw_publisher_acked(const struct agw_publisher *p);
int agw_publisher_connected(const struct agw_publisher *p);

#endif
