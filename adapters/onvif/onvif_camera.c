/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ONVIF camera's state machine: bootstrap slots, retries with backoff, the subscription's
 * life (create, pull, renew, resync, recreate) and the health alerts (camera_offline,
 * event_channel_lost), once per transition. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/metrics.h"
#include "onvif_camera.h"
#include "alarmgw/backoff.h"
#include "onvif_url.h"

static void cam_bootstrap(struct cam *c);

const char *const agw_onvif_error_names[ERR__COUNT] = {
	[ERR_NONE] = "none",         [ERR_TIMEOUT] = "timeout",     [ERR_REFUSED] = "refused",
	[ERR_NETWORK] = "network",   [ERR_OVERSIZED] = "oversized", [ERR_MALFORMED] = "malformed",
	[ERR_FAULT] = "fault",       [ERR_AUTH] = "auth",           [ERR_NOT_FOUND] = "not_found",
	[ERR_HTTP] = "http",         [ERR_NO_SUBSCRIPTION] = "no_subscription", [ERR_INTERNAL] = "internal",
};

/* Counted always, logged when the reason changes (once per transition, not once per retry). */
void agw_onvif_cam_error(struct cam *c, enum cam_error e, const char *fmt, ...)
{
	char labels[64], msg[512];
	snprintf(labels, sizeof(labels), "reason=\"%s\"", agw_onvif_error_names[e]);
	agw_metric_add("agw_onvif_errors_total", labels, 1);
	if (c->last_error == e)
		return;
	c->last_error = e;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	agw_log_warn(COMPONENT, c->id, "%s", msg);
}

void agw_onvif_cam_recovered(struct cam *c)
{
	if (c->last_error != ERR_NONE)
		agw_log_notice(COMPONENT, c->id, "events flowing again (after %s)", agw_onvif_error_names[c->last_error]);
	c->last_error = ERR_NONE;
}

void agw_onvif_cam_report_subscribed(struct cam *c)
{
	struct agw_adapter_ctx *ctx = c->ad->ctx;
	if (ctx->subscribed)
		ctx->subscribed(ctx, c->id);
}

/* Health alerts: ordinary alerts with active true/false, once per transition. */
static void emit_health(struct cam *c, enum agw_alert_kind kind, bool active, const char *reason)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = c->id;
	a.adapter = (char *)COMPONENT;
	a.kind = kind;
	a.active = active ? AGW_ACTIVE_TRUE : AGW_ACTIVE_FALSE;
	a.operation = AGW_OP_CHANGED;
	a.camera_time_ms = AGW_TIME_UNKNOWN;
	a.gateway_time_ms = agw_now_ms();
	a.clock_offset_ms = c->offset_ms;
	a.topic = (char *)(kind == AGW_KIND_CAMERA_OFFLINE ? "alarmgw:CameraOffline" : "alarmgw:EventChannelLost");
	struct agw_item item = {.name = (char *)"reason", .value = (char *)reason};
	a.data.v = &item;
	a.data.n = reason ? 1 : 0;
	agw_onvif_cam_emit(c, &a); /* kept and retried when the core refuses: never lost */
	/* everything was borrowed: nothing to clear */
}

void agw_onvif_cam_set_offline(struct cam *c, bool offline, const char *reason)
{
	if (c->offline == offline)
		return;
	c->offline = offline;
	agw_metric_add("agw_onvif_cameras_offline", NULL, offline ? 1 : -1);
	if (offline)
		agw_log_warn(COMPONENT, c->id, "camera offline: %s", reason);
	else
		agw_log_notice(COMPONENT, c->id, "camera back online");
	emit_health(c, AGW_KIND_CAMERA_OFFLINE, offline, reason);
}

void agw_onvif_cam_set_channel_lost(struct cam *c, bool lost, const char *reason)
{
	if (c->channel_lost == lost)
		return;
	c->channel_lost = lost;
	agw_metric_add("agw_onvif_event_channels_lost", NULL, lost ? 1 : -1);
	if (lost)
		agw_log_warn(COMPONENT, c->id, "event channel lost: %s", reason);
	else
		agw_log_notice(COMPONENT, c->id, "event channel restored");
	emit_health(c, AGW_KIND_EVENT_CHANNEL_LOST, lost, reason);
}

/* ---- states ---- */

static const char *const state_names[CAM__STATE_COUNT] = {
	[CAM_IDLE] = "idle",       [CAM_WAITING] = "waiting", [CAM_BOOTSTRAP] = "bootstrap",
	[CAM_BACKOFF] = "backoff", [CAM_PULLING] = "pulling", [CAM_RESYNC] = "resync",
	[CAM_HELD] = "held",       [CAM_LEAVING] = "leaving", [CAM_CLOSED] = "closed",
};

#define TO(s) (1u << (s))
/* The transitions: from a state (row) to the states it may go to. Staying is always allowed. */
static const unsigned transitions[CAM__STATE_COUNT] = {
	[CAM_IDLE] = TO(CAM_WAITING) | TO(CAM_BOOTSTRAP) | TO(CAM_LEAVING) | TO(CAM_CLOSED),
	[CAM_WAITING] = TO(CAM_BOOTSTRAP) | TO(CAM_LEAVING) | TO(CAM_CLOSED),
	[CAM_BOOTSTRAP] = TO(CAM_PULLING) | TO(CAM_BACKOFF) | TO(CAM_LEAVING) | TO(CAM_CLOSED),
	[CAM_BACKOFF] = TO(CAM_WAITING) | TO(CAM_BOOTSTRAP) | TO(CAM_LEAVING) | TO(CAM_CLOSED),
	[CAM_PULLING] = TO(CAM_RESYNC) | TO(CAM_HELD) | TO(CAM_BACKOFF) | TO(CAM_LEAVING) | TO(CAM_CLOSED),
	[CAM_RESYNC] = TO(CAM_PULLING) | TO(CAM_BACKOFF) | TO(CAM_LEAVING) | TO(CAM_CLOSED),
	[CAM_HELD] = TO(CAM_PULLING) | TO(CAM_BACKOFF) | TO(CAM_LEAVING) | TO(CAM_CLOSED),
	[CAM_LEAVING] = TO(CAM_CLOSED),
	[CAM_CLOSED] = 0,
};

const char *agw_onvif_state_name(enum cam_state s)
{
	return s < CAM__STATE_COUNT ? state_names[s] : "?";
}

static void wait_push(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	c->wait_next = NULL;
	if (ad->wait_tail)
		ad->wait_tail->wait_next = c;
	else
		ad->wait_head = c;
	ad->wait_tail = c;
}

static void wait_remove(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	struct cam **pp = &ad->wait_head, *prev = NULL;
	while (*pp && *pp != c) {
		prev = *pp;
		pp = &(*pp)->wait_next;
	}
	if (*pp)
		*pp = c->wait_next;
	if (ad->wait_tail == c)
		ad->wait_tail = prev;
	c->wait_next = NULL;
}

/* A slot came free: the cameras waiting longest bootstrap next. */
static void slots_admit(struct onvif_adapter *ad)
{
	while (ad->wait_head && ad->bootstrapping < ad->max_bootstraps && !ad->stopping) {
		struct cam *n = ad->wait_head;
		agw_onvif_cam_set_state(n, CAM_BOOTSTRAP);
		cam_bootstrap(n);
	}
}

void agw_onvif_cam_set_state(struct cam *c, enum cam_state to)
{
	enum cam_state from = c->state;
	if (from == to)
		return;
	if (!(transitions[from] & TO(to))) {
		/* a bug, not the camera's doing: counted and logged, and the change is made anyway so
		 * that the camera's resources are still accounted for */
		agw_metric_add("agw_onvif_errors_total", "reason=\"internal\"", 1);
		agw_log_err(COMPONENT, c->id, "unexpected state change %s -> %s", state_names[from], state_names[to]);
	}
	c->state = to;
	if (from == CAM_WAITING)
		wait_remove(c);
	if (to == CAM_WAITING)
		wait_push(c);
	if (to == CAM_BOOTSTRAP)
		c->ad->bootstrapping++;
	if (from == CAM_BOOTSTRAP) {
		c->ad->bootstrapping--;
		slots_admit(c->ad);
	}
}

/* Takes a slot or queues the camera; the bootstrap starts when it has one. */
void agw_onvif_cam_begin(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	if (ad->stopping || c->state == CAM_LEAVING || c->state == CAM_CLOSED || c->state == CAM_WAITING)
		return;
	if (c->state == CAM_BOOTSTRAP || ad->bootstrapping < ad->max_bootstraps) {
		agw_onvif_cam_set_state(c, CAM_BOOTSTRAP);
		cam_bootstrap(c);
		return;
	}
	agw_onvif_cam_set_state(c, CAM_WAITING);
}

/* ---- timers ---- */

static void timer_cb(uv_timer_t *t)
{
	struct cam *c = t->data;
	void (*fn)(struct cam *) = c->timer_fn;
	c->timer_fn = NULL;
	if (fn && !c->ad->stopping && c->state != CAM_LEAVING && c->state != CAM_CLOSED)
		fn(c);
}

void agw_onvif_cam_after(struct cam *c, int64_t ms, void (*fn)(struct cam *c))
{
	c->timer_fn = fn;
	uv_timer_start(&c->timer, timer_cb, (uint64_t)(ms > 0 ? ms : 0), 0);
}

/* The project's backoff with jitter (alarmgw/backoff.h), one step further per failure. */
int64_t agw_onvif_cam_backoff_ms(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	return agw_backoff_ms(c->failures++, ad->backoff_min_ms, ad->backoff_max_ms);
}

/* ---- the state machine ---- */

/* In CAM_BOOTSTRAP: the clock first (WS-Security needs it). */
static void cam_bootstrap(struct cam *c)
{
	agw_onvif_cam_send(c, AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME);
}

/* Something went wrong before or with the subscription: free the slot and start over later. */
void agw_onvif_cam_retry_later(struct cam *c)
{
	if (c->state == CAM_LEAVING || c->state == CAM_CLOSED)
		return; /* leaving: the leave path closes it */
	agw_onvif_cam_set_state(c, CAM_BACKOFF);
	agw_onvif_cam_after(c, agw_onvif_cam_backoff_ms(c), agw_onvif_cam_begin);
}

void agw_onvif_cam_recreate(struct cam *c, enum cam_error why)
{
	(void)why;
	/* sub_url stays: the bootstrap unsubscribes it once the clock is known again, because a
	 * one-subscriber camera refuses a new subscription while the old one lives, and an
	 * Unsubscribe with a stale WS-Security time would be refused and leave an orphan */
	c->pull_faults = 0;
	agw_onvif_cam_retry_later(c);
}

/* The camera refused our WS-Security time (clock reset, NTP jump): learn its clock again and go
 * on with the same subscription; its queued events are not lost. */
void agw_onvif_cam_resync(struct cam *c)
{
	agw_onvif_cam_set_state(c, CAM_RESYNC);
	agw_onvif_cam_send(c, AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME);
}

/* PullMessages now, unless the core refuses events (back-pressure): then the camera keeps them
 * and this one waits, renewing its subscription when due, until resume(). */
static void cam_pull_now(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	if (agw_onvif_sources_check(c))
		return; /* an NVR's first pull waits for its channels (onvif_sources.c) */
	if (!agw_onvif_cam_may_pull(c)) {
		int64_t due = c->term_deadline_ms - ad->pull_timeout_ms - ad->renew_margin_ms - onvif_now_ms(ad);
		/* at least one long-poll apart, for firmware that grants less time than asked */
		agw_onvif_cam_after(c, due > ad->pull_timeout_ms ? due : ad->pull_timeout_ms, agw_onvif_cam_pull);
		return;
	}
	agw_onvif_cam_send(c, AGW_ONVIF_PULL_MESSAGES);
}

void agw_onvif_cam_pull(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	/* renew while the termination time is still ahead, with room for one more long-poll */
	if (onvif_now_ms(ad) + ad->pull_timeout_ms + ad->renew_margin_ms >= c->term_deadline_ms) {
		agw_onvif_cam_send(c, AGW_ONVIF_RENEW);
		return;
	}
	cam_pull_now(c);
}

static void set_deadline(struct cam *c, const struct agw_onvif_response *r)
{
	struct onvif_adapter *ad = c->ad;
	int64_t rel = ad->termination_ms;
	if (r->termination_ms != AGW_TIME_UNKNOWN && r->camera_time_ms != AGW_TIME_UNKNOWN &&
	    r->termination_ms > r->camera_time_ms)
		rel = r->termination_ms - r->camera_time_ms;
	/* firmware that misreads duration units: never trust more than asked for */
	if (rel > ad->termination_ms)
		rel = ad->termination_ms;
	c->term_deadline_ms = onvif_now_ms(ad) + rel;
}

/* Some cameras configured for HTTP Digest refuse a request that also carries a UsernameToken
 * (ter:NotAuthorized although the digest was right): drop WS-Security for them and ask again. */
bool agw_onvif_cam_auth_fallback(struct cam *c, const char *err)
{
	if (!c->digest || c->no_wsse || c->ad->auth_mode != AUTH_AUTO || !strstr(err, "NotAuthorized"))
		return false;
	c->no_wsse = true;
	c->pull_doc_ok = false;
	agw_log_info(COMPONENT, c->id, "camera refuses WS-Security next to HTTP Digest: using Digest alone");
	agw_onvif_cam_send(c, c->op);
	return true;
}

/* Whatever the answer, the old subscription is given up. */
static void unsubscribed(struct cam *c, int rc, struct agw_onvif_response *r)
{
	if (rc == 0)
		agw_onvif_response_clear(r);
	free(c->sub_url);
	c->sub_url = NULL;
	free(c->sub_refs);
	c->sub_refs = NULL;
	c->pull_doc_ok = false;
	if (c->state == CAM_BOOTSTRAP) {
		/* the old subscription given back: now the new one */
		agw_onvif_subscription_forget(c);
		agw_onvif_cam_send(c, c->have_services ? AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION : AGW_ONVIF_GET_SERVICES);
	}
}

/* A request of the bootstrap or a Renew failed (fault, broken answer, missing part). */
static void request_failed(struct cam *c, enum agw_onvif_op op, int rc, const char *err)
{
	enum cam_error e = rc == -EPROTO ? ERR_FAULT : rc == -EMSGSIZE ? ERR_OVERSIZED
						      : rc == -ENOENT ? ERR_NO_SUBSCRIPTION : ERR_MALFORMED;
	agw_onvif_cam_error(c, e, "%s: %s", agw_onvif_op_name(op), err);
	switch (op) {
	case AGW_ONVIF_GET_SERVICES:
		agw_onvif_cam_send(c, AGW_ONVIF_GET_CAPABILITIES);
		return;
	case AGW_ONVIF_GET_CAPABILITIES:
		/* many cameras serve every service on the device address */
		free(c->events_url);
		c->events_url = strdup(c->device_url);
		c->have_services = true;
		agw_onvif_cam_send(c, AGW_ONVIF_GET_DEVICE_INFORMATION);
		return;
	case AGW_ONVIF_GET_DEVICE_INFORMATION:
		agw_onvif_cam_send(c, AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION);
		return;
	case AGW_ONVIF_RENEW:
		if (c->state == CAM_BOOTSTRAP) {
			/* the stored subscription of the previous run */
			agw_onvif_subscription_resume_failed(c, err);
			return;
		}
		if (e == ERR_FAULT && strstr(err, "NotAuthorized") && ++c->pull_faults <= FAULT_RETRIES) {
			agw_onvif_cam_resync(c);
			return;
		}
		agw_onvif_cam_set_channel_lost(c, true, "Renew failed");
		agw_onvif_cam_recreate(c, e);
		return;
	case AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION:
		agw_onvif_cam_set_channel_lost(c, true, "CreatePullPointSubscription failed");
		agw_onvif_cam_retry_later(c);
		return;
	default:
		agw_onvif_cam_retry_later(c);
		return;
	}
}

/* A good answer to a request of the bootstrap or a Renew: the next step. */
static void request_done(struct cam *c, enum agw_onvif_op op, struct agw_onvif_response *r)
{
	switch (op) {
	case AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME:
		if (r->camera_time_ms != AGW_TIME_UNKNOWN)
			c->offset_ms = r->camera_time_ms - (c->sent_wall_ms + agw_now_ms()) / 2;
		if (c->state == CAM_RESYNC) {
			agw_onvif_cam_set_state(c, CAM_PULLING);
			agw_onvif_cam_pull(c);
		} else if (c->sub_url && c->sub_resumable) {
			/* the subscription the previous run kept: the camera may hold events for it */
			agw_onvif_cam_send(c, AGW_ONVIF_RENEW);
		} else if (c->sub_url) {
			/* the old subscription first (see agw_onvif_cam_recreate) */
			agw_onvif_cam_send(c, AGW_ONVIF_UNSUBSCRIBE);
		} else {
			agw_onvif_cam_send(c, c->have_services ? AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION : AGW_ONVIF_GET_SERVICES);
		}
		break;
	case AGW_ONVIF_GET_SERVICES:
	case AGW_ONVIF_GET_CAPABILITIES: {
		char *events = agw_onvif_rewrite_address(c->scheme, c->authority, c->host, r->events_xaddr);
		if (!events && op == AGW_ONVIF_GET_SERVICES) {
			agw_onvif_cam_send(c, AGW_ONVIF_GET_CAPABILITIES);
			break;
		}
		free(c->events_url);
		c->events_url = events ? events : strdup(c->device_url);
		free(c->media_url); /* for evidence pictures (onvif_exchange.c) */
		c->media_url = r->media_xaddr ? agw_onvif_rewrite_address(c->scheme, c->authority, c->host, r->media_xaddr)
					      : NULL;
		c->have_services = true;
		agw_onvif_cam_send(c, AGW_ONVIF_GET_DEVICE_INFORMATION);
		break;
	}
	case AGW_ONVIF_GET_DEVICE_INFORMATION:
		agw_log_info(COMPONENT, c->id, "%s %s, firmware %s", r->manufacturer ? r->manufacturer : "?",
			     r->model ? r->model : "?", r->firmware ? r->firmware : "?");
		agw_onvif_cam_send(c, AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION);
		break;
	case AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION: {
		char *sub = agw_onvif_rewrite_address(c->scheme, c->authority, c->host, r->subscription_address);
		if (!sub) {
			agw_onvif_cam_error(c, ERR_NO_SUBSCRIPTION, "CreatePullPointSubscription: unusable address");
			agw_onvif_cam_retry_later(c);
			break;
		}
		free(c->sub_url);
		c->sub_url = sub;
		free(c->sub_refs);
		c->sub_refs = r->reference_params;
		r->reference_params = NULL;
		c->pull_doc_ok = false;
		set_deadline(c, r);
		agw_metric_add("agw_onvif_subscriptions_total", NULL, 1);
		agw_log_debug(COMPONENT, c->id, "subscribed");
		agw_onvif_subscription_saved(c); /* resumed by the next start, even after a crash */
		agw_onvif_cam_report_subscribed(c);
		c->sources_fresh = false;        /* a reboot may have changed an NVR's channels */
		agw_onvif_cam_set_state(c, CAM_PULLING); /* frees the bootstrap slot */
		cam_pull_now(c);
		break;
	}
	case AGW_ONVIF_RENEW:
		set_deadline(c, r);
		if (c->state == CAM_BOOTSTRAP) {
			agw_onvif_subscription_resumed(c);
			agw_onvif_cam_report_subscribed(c);
			agw_onvif_cam_set_state(c, CAM_PULLING); /* frees the bootstrap slot */
		}
		cam_pull_now(c);
		break;
	default:
		agw_onvif_cam_retry_later(c);
		break;
	}
}

void agw_onvif_cam_handle_response(struct cam *c, int64_t now)
{
	struct onvif_adapter *ad = c->ad;
	struct agw_onvif_response r;
	char err[512] = "";
	enum agw_onvif_op op = c->op;
	(void)now;
	int rc = agw_onvif_response_parse(ad->soap, op, c->resp, c->resp_len, &r, err, sizeof(err));
	if (op == AGW_ONVIF_UNSUBSCRIBE) {
		unsubscribed(c, rc, &r);
		return;
	}
	if (rc == -EPROTO && agw_onvif_cam_auth_fallback(c, err))
		return;
	if (rc < 0) {
		request_failed(c, op, rc, err);
		return;
	}
	request_done(c, op, &r);
	agw_onvif_response_clear(&r);
}
