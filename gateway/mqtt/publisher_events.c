/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bridge from paho's threads to the loop: paho's callbacks only queue an event (under the
 * registry lock) and wake the loop; on the loop thread pub_async_cb hands each event to its
 * handler. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "alarmgw/str.h"
#include "alarmgw/metrics.h"
#include "feedback.h"
#include "publisher_internal.h"

pthread_mutex_t pub_reg_lock = PTHREAD_MUTEX_INITIALIZER;
struct agw_publisher *pub_registry[MAX_PUBLISHERS];

/* ---- paho threads: queue an event and wake the loop ---- */

static void post(uint64_t tag, struct event ev)
{
	ev.tag = tag;
	pthread_mutex_lock(&pub_reg_lock);
	struct agw_publisher *p = pub_registry[tag_slot(tag)];
	if (p && p->accepting) {
		if (p->n_ev == p->cap_ev) {
			size_t cap = p->cap_ev ? p->cap_ev * 2 : 256;
			struct event *v = realloc(p->ev, cap * sizeof(*v));
			if (!v)
				goto drop;
			p->ev = v;
			p->cap_ev = cap;
		}
		p->ev[p->n_ev++] = ev;
		if (ev.type == EV_MESSAGE)
			p->n_msg_queued++;
		uv_async_send(&p->async);
		pthread_mutex_unlock(&pub_reg_lock);
		return;
	}
drop:
	pthread_mutex_unlock(&pub_reg_lock);
	if (p)
		agw_metric_add("agw_mqtt_event_drops_total", NULL, 1);
	free(ev.text);
	free(ev.data);
}

void pub_on_connect_ok(void *ctx, MQTTAsync_successData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_CONNECTED, .flag = r ? r->alt.connect.sessionPresent : 0});
}

void pub_on_connect_ok5(void *ctx, MQTTAsync_successData5 *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_CONNECTED, .flag = r ? r->alt.connect.sessionPresent : 0});
}

void pub_on_connect_fail(void *ctx, MQTTAsync_failureData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_CONNECT_FAILED, .code = r ? r->code : MQTTASYNC_FAILURE,
					    .text = r ? agw_strdup_or_null(r->message) : NULL});
}

void pub_on_connect_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	/* A CONNACK refusal carries a reason code (>= 0x80); transport failures only a paho code. */
	int code = MQTTASYNC_FAILURE;
	if (r)
		code = r->reasonCode ? (int)r->reasonCode : r->code;
	post((uintptr_t)ctx, (struct event){.type = EV_CONNECT_FAILED, .code = code,
					    .text = r ? agw_strdup_or_null(r->message) : NULL});
}

void pub_on_sent(void *ctx, MQTTAsync_successData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_SENT});
}

void pub_on_sent5(void *ctx, MQTTAsync_successData5 *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_SENT});
}

void pub_on_send_fail(void *ctx, MQTTAsync_failureData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_SEND_FAILED, .code = r ? r->code : MQTTASYNC_FAILURE,
					    .text = r ? agw_strdup_or_null(r->message) : NULL});
}

void pub_on_send_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	int code = MQTTASYNC_FAILURE;
	if (r)
		code = r->reasonCode ? (int)r->reasonCode : r->code;
	post((uintptr_t)ctx, (struct event){.type = EV_SEND_FAILED, .code = code,
					    .text = r ? agw_strdup_or_null(r->message) : NULL});
}

void pub_on_subscribe_fail(void *ctx, MQTTAsync_failureData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_SUBSCRIBE_FAILED, .code = r ? r->code : MQTTASYNC_FAILURE});
}

void pub_on_subscribe_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_SUBSCRIBE_FAILED,
					    .code = r ? (r->reasonCode ? (int)r->reasonCode : r->code) : -1});
}

void pub_on_subscribed5(void *ctx, MQTTAsync_successData5 *r)
{
	/* MQTT 5 reports a refused subscription as a SUBACK reason code >= 0x80 on "success". */
	if (r && r->reasonCode >= 0x80)
		post((uintptr_t)ctx, (struct event){.type = EV_SUBSCRIBE_FAILED, .code = (int)r->reasonCode});
}

void pub_on_disconnected(void *ctx, MQTTAsync_successData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_DISCONNECTED});
}

void pub_on_disconnect_fail(void *ctx, MQTTAsync_failureData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_DISCONNECTED});
}

void pub_on_lost(void *ctx, char *cause)
{
	post((uintptr_t)ctx, (struct event){.type = EV_LOST, .text = agw_strdup_or_null(cause)});
}

int pub_on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	uint64_t tag = (uintptr_t)ctx;
	size_t len = (size_t)(m->payloadlen > 0 ? m->payloadlen : 0);
	/* A valid feedback is made durable here, in the feedback inbox, before paho is told the message
	 * was handled (return 1); when it cannot be written (the database is locked or failing, the
	 * publisher is going away) 0 leaves it with paho, which delivers it again. Malformed messages
	 * only need counting and logging: they go to the loop as events. */
	struct agw_feedback fb;
	const char *why;
	char detail[200];
	if (len <= AGW_FEEDBACK_MAX_BYTES && agw_feedback_parse(m->payload, len, &fb, &why, detail, sizeof(detail)) == 0) {
		pthread_mutex_lock(&pub_reg_lock);
		struct agw_publisher *p = pub_registry[tag_slot(tag)];
		int r = -EAGAIN;
		if (p && p->accepting && p->fb_db)
			r = pub_feedback_store(p, &fb);
		pthread_mutex_unlock(&pub_reg_lock);
		if (r == 0) {
			post(tag, (struct event){.type = EV_FEEDBACK_STORED});
			MQTTAsync_freeMessage(&m);
			MQTTAsync_free(topic);
			return 1;
		}
		if (r != -ENOENT)
			return 0; /* paho delivers it again */
		/* no inbox (a database without a file): handed to the loop as an event */
	}
	/* Back-pressure instead of loss: returning 0 makes paho deliver the message again later. */
	pthread_mutex_lock(&pub_reg_lock);
	struct agw_publisher *p = pub_registry[tag_slot(tag)];
	bool full = p && p->n_msg_queued >= FEEDBACK_QUEUE_MAX;
	pthread_mutex_unlock(&pub_reg_lock);
	if (full)
		return 0;
	struct event ev = {.type = EV_MESSAGE, .len = len};
	/* The size limit is enforced before copying: only the length of an oversized message travels. */
	if (ev.len <= AGW_FEEDBACK_MAX_BYTES) {
		ev.data = malloc(ev.len + 1);
		if (ev.data) {
			memcpy(ev.data, m->payload, ev.len);
			((char *)ev.data)[ev.len] = '\0';
		}
	}
	ev.text = topic_len > 0 ? strndup(topic, (size_t)topic_len) : strdup(topic);
	post(tag, ev);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

int pub_on_ssl_error(const char *str, size_t len, void *u)
{
	uint64_t tag = (uintptr_t)u;
	pthread_mutex_lock(&pub_reg_lock);
	struct agw_publisher *p = pub_registry[tag_slot(tag)];
	if (p) {
		size_t n = len < sizeof(p->ssl_error) - 1 ? len : sizeof(p->ssl_error) - 1;
		memcpy(p->ssl_error, str, n);
		while (n && (p->ssl_error[n - 1] == '\n' || p->ssl_error[n - 1] == '\r'))
			n--;
		p->ssl_error[n] = '\0';
	}
	pthread_mutex_unlock(&pub_reg_lock);
	return 0;
}

/* ---- loop thread ---- */

void pub_async_cb(uv_async_t *a)
{
	struct agw_publisher *p = a->data;
	pthread_mutex_lock(&pub_reg_lock);
	struct event *ev = p->ev;
	size_t n = p->n_ev;
	p->ev = NULL;
	p->n_ev = p->cap_ev = 0;
	p->n_msg_queued = 0;
	pthread_mutex_unlock(&pub_reg_lock);
	for (size_t i = 0; i < n; i++) {
		struct event *e = &ev[i];
		bool stale = tag_kind(e->tag) == TAG_CONTROL && tag_gen(e->tag) != p->conn;
		if (stale && e->type != EV_MESSAGE) {
			free(e->text);
			free(e->data);
			continue;
		}
		switch (e->type) {
		case EV_CONNECTED:
			pub_handle_connected(p, e);
			break;
		case EV_CONNECT_FAILED:
			pub_handle_connect_failed(p, e);
			break;
		case EV_LOST:
			pub_handle_lost(p, e);
			break;
		case EV_SENT:
			pub_handle_sent(p, e);
			break;
		case EV_SEND_FAILED:
			pub_handle_send_failed(p, e);
			break;
		case EV_MESSAGE:
			pub_handle_message(p, e);
			break;
		case EV_SUBSCRIBE_FAILED:
			agw_metric_add("agw_mqtt_subscribe_errors_total", NULL, 1);
			agw_log_err(COMP, NULL, "broker refused the feedback subscription %s: %s (code %d)",
				    p->feedback_topic, pub_reason_text(e->code), e->code);
			break;
		case EV_DISCONNECTED:
			if (p->stop == STOP_DISCONNECT)
				pub_stop_advance(p);
			break;
		case EV_FEEDBACK_STORED:
			p->fb_pending = true;
			break;
		}
		free(e->text);
		free(e->data);
	}
	free(ev);
	if (p->fb_pending)
		pub_apply_feedback(p);
	/* the publish metrics go to the table from the tick (each second) and at stop, not per wake-up */
	/* A commit per wake-up would cost more than the publishing itself: batch deletes here and let
	 * the tick take the rest. A crash before the delete only means a resend. */
	pub_flush_deletes(p, false, DELETE_BATCH);
	if (p->stop == STOP_NONE || p->stop == STOP_DRAIN)
		pub_fill_window(p);
	if (p->stop == STOP_DRAIN && p->n == 0)
		pub_stop_advance(p);
}
