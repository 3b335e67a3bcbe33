/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stopping: drain what is in flight, publish the retained offline status, disconnect, close the
 * handles; each step bounded so that all of stop takes at most ~3 s. */
#include <pthread.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "publisher_internal.h"

static void handle_closed(uv_handle_t *h)
{
	struct agw_publisher *p = h->data;
	if (--p->open_handles > 0)
		return;
	p->stop = STOP_DONE;
	/* done may free the publisher: touch nothing after it */
	if (p->free_pending) {
		agw_publisher_free(p);
		return;
	}
	if (p->done)
		p->done(p->done_arg);
}

void pub_close_handles(struct agw_publisher *p)
{
	pthread_mutex_lock(&pub_reg_lock);
	p->accepting = false;
	pthread_mutex_unlock(&pub_reg_lock);
	uv_close((uv_handle_t *)&p->async, handle_closed);
	uv_close((uv_handle_t *)&p->retry_timer, handle_closed);
	uv_close((uv_handle_t *)&p->tick_timer, handle_closed);
	uv_close((uv_handle_t *)&p->stop_timer, handle_closed);
}

static void stop_timer_cb(uv_timer_t *t)
{
	struct agw_publisher *p = t->data;
	if (p->stop == STOP_DRAIN && p->n)
		agw_log_warn(COMP, NULL, "stopping with %zu messages unacknowledged after %d ms; they and any "
			     "unsent rows stay in the outbox for the next start", p->n, STOP_DRAIN_MS);
	pub_stop_advance(p);
}

/* Moves the stop sequence one step: drain -> offline status -> disconnect -> close. */
void pub_stop_advance(struct agw_publisher *p)
{
	uv_timer_stop(&p->stop_timer);
	if (!p->connected && p->stop < STOP_CLOSING) {
		/* Without a broker to confirm it is alive, rows in their resend window stay for the next
		 * start (resent then). */
		p->stop = STOP_CLOSING;
		pub_flush_metrics(p);
		pub_flush_deletes(p, false, 0);
		pub_update_depth(p);
		pub_close_handles(p);
		return;
	}
	switch (p->stop) {
	case STOP_NONE:
		p->stop = STOP_DRAIN;
		pub_fill_window(p); /* pending rows too, not only those in flight */
		if (p->n) {
			uv_timer_start(&p->stop_timer, stop_timer_cb, STOP_DRAIN_MS, 0);
			return;
		}
		/* fall through */
	case STOP_DRAIN:
		p->stop = STOP_OFFLINE;
		pub_publish_status(p, "offline");
		uv_timer_start(&p->stop_timer, stop_timer_cb, STOP_STEP_MS, 0);
		return;
	case STOP_OFFLINE: {
		p->stop = STOP_DISCONNECT;
		MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
		d.timeout = STOP_STEP_MS / 2;
		d.onSuccess = pub_on_disconnected;
		d.onFailure = pub_on_disconnect_fail;
		d.context = tag_ptr(ctl_tag(p));
		if (MQTTAsync_disconnect(p->client, &d) == MQTTASYNC_SUCCESS) {
			uv_timer_start(&p->stop_timer, stop_timer_cb, STOP_STEP_MS, 0);
			return;
		}
	}
		/* fall through */
	case STOP_DISCONNECT:
		p->connected = false;
		agw_metric_set("agw_mqtt_connected", NULL, 0);
		p->stop = STOP_CLOSING;
		/* When the broker acknowledged the offline status it was alive and working after the rows
		 * in the resend window: they need no resend. Otherwise (frozen, gone) they stay. */
		pub_flush_metrics(p);
		pub_flush_deletes(p, p->offline_acked, 0);
		pub_update_depth(p);
		pub_close_handles(p);
		return;
	case STOP_CLOSING:
	case STOP_DONE:
		return;
	}
}

void agw_publisher_stop(struct agw_publisher *p, void (*done)(void *arg), void *arg)
{
	p->done = done;
	p->done_arg = arg;
	if (!p->started || p->stop != STOP_NONE) {
		if (!p->started && done)
			done(arg);
		return;
	}
	uv_timer_stop(&p->retry_timer);
	uv_timer_stop(&p->tick_timer);
	pub_stop_advance(p);
}
