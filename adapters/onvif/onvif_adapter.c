/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ONVIF adapter: PullPoint event subscriptions for thousands of cameras on one libuv loop.
 *
 * Per camera, one curl easy handle carries one request at a time (connections are reused):
 *   GetSystemDateAndTime (no credentials: the clock offset for WS-Security)
 *   -> GetServices (or GetCapabilities) -> events address, rewritten to the configured host
 *   -> GetDeviceInformation (vendor, model, firmware; optional)
 *   -> CreatePullPointSubscription (relative termination time)
 *   -> PullMessages long-poll loop, Renew before the termination time
 * A 404, ResourceUnknownFault, repeated faults or a failed Renew recreate the subscription with
 * exponential backoff and jitter: GetSystemDateAndTime, Unsubscribe of the old one (one-subscriber
 * cameras), CreatePullPointSubscription. A timeout, refused connection, broken answer or a single
 * fault retries the same subscription first (its queued events are not lost when the camera was
 * only unreachable); NotAuthorized re-learns the camera clock and goes on with it. At most
 * max_bootstraps cameras bootstrap at once, so 10,000 cameras do not all connect at once.
 * Cameras are spread over several curl multi handles (see struct onvif_adapter). */
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "alarmgw/adapter.h"
#include "alarmgw/alert.h"
#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "onvif_events.h"
#include "alarmgw/curl_loop.h"
#include "onvif_requests.h"
#include "onvif_url.h"

#define COMPONENT "onvif"
/* A fault on a live subscription is retried this many times before it is recreated (its queued
 * events would be lost); 404 and ResourceUnknownFault mean it is gone at once. */
#define FAULT_RETRIES 3
#define CAMERAS_PER_SHARD 128

enum auth_mode { AUTH_AUTO, AUTH_WSSE, AUTH_DIGEST, AUTH_NONE };

/* Why a camera is unhappy: counted every time, logged once per change. */
enum cam_error {
	ERR_NONE,
	ERR_TIMEOUT,
	ERR_REFUSED,
	ERR_NETWORK,
	ERR_OVERSIZED,
	ERR_MALFORMED,
	ERR_FAULT,
	ERR_AUTH,
	ERR_NOT_FOUND,
	ERR_HTTP,
	ERR_NO_SUBSCRIPTION,
	ERR_INTERNAL,
	ERR__COUNT,
};

static const char *const error_names[ERR__COUNT] = {
	[ERR_NONE] = "none",         [ERR_TIMEOUT] = "timeout",     [ERR_REFUSED] = "refused",
	[ERR_NETWORK] = "network",   [ERR_OVERSIZED] = "oversized", [ERR_MALFORMED] = "malformed",
	[ERR_FAULT] = "fault",       [ERR_AUTH] = "auth",           [ERR_NOT_FOUND] = "not_found",
	[ERR_HTTP] = "http",         [ERR_NO_SUBSCRIPTION] = "no_subscription", [ERR_INTERNAL] = "internal",
};

struct onvif_adapter;

struct cam {
	struct agw_curl_req req; /* first: the http layer hands it back */
	struct onvif_adapter *ad;
	struct cam *prev, *next;       /* every camera */
	struct cam *wait_next;         /* waiting for a bootstrap slot */
	bool waiting, in_slot;
	char *id, *username, *password;
	char *device_url, *scheme, *authority, *host;
	char *events_url, *sub_url;
	char *sub_refs;                /* the subscription's ReferenceParameters, echoed in headers */
	bool have_services;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	char *resp;
	size_t resp_len, resp_cap;
	bool resp_too_big;
	bool busy;
	enum agw_onvif_op op;
	int64_t sent_ms;
	uv_timer_t timer;
	void (*timer_fn)(struct cam *c);
	int64_t offset_ms;
	int64_t term_deadline_ms;      /* gateway clock */
	unsigned failures;
	bool offline, channel_lost, subscribed;
	bool digest;                   /* HTTP Digest enabled (after the camera asked for it) */
	bool no_wsse;                  /* the camera refuses WS-Security once Digest is on */
	bool recreate_after_unsubscribe;
	bool resync;                   /* GetSystemDateAndTime to go on with the same subscription */
	unsigned pull_faults;          /* consecutive faults on the live subscription */
	enum cam_error last_error;
	bool removed;                  /* freed once its timer is closed */
	bool retiring;                 /* removed from the ledger: its last Unsubscribe is running */
	size_t shard;                  /* index into the adapter's shards */
};

struct onvif_adapter {
	/* options */
	int64_t connect_timeout_ms;
	int64_t request_timeout_ms;
	int64_t pull_timeout_ms;
	int64_t message_limit;
	int64_t termination_ms;
	int64_t renew_margin_ms;
	int64_t backoff_min_ms;
	int64_t backoff_max_ms;
	int64_t max_response_bytes;
	int64_t max_bootstraps;
	int64_t unsubscribe_timeout_ms;
	int64_t pull_min_interval_ms;
	char *auth;
	char *topic_table;
	bool unsubscribe_on_stop;
	bool tls_verify;
	char *ca_file;
	/* state */
	struct agw_adapter_ctx *ctx;
	enum auth_mode auth_mode;
	/* cameras are spread over several curl multi handles: removing a finished transfer from a
	 * multi handle walks its whole connection cache, so caches are kept small */
	struct shard {
		struct agw_curl_loop *http;
		size_t n;
	} *shards;
	size_t n_shards;
	struct soap *soap;
	struct agw_onvif_topic_table *table;
	struct cam *cams;
	size_t n_cams;
	struct cam *retired;           /* removed cameras giving their subscription back */
	int64_t bootstrapping;
	struct cam *wait_head, *wait_tail;
	char pull_duration[32], term_duration[32];
	bool started, stopping, finishing;
	int unsub_pending;
	uv_timer_t stop_timer;
	int closing_handles;
};

static void cam_bootstrap(struct cam *c);
static void cam_send(struct cam *c, enum agw_onvif_op op);
static bool cam_enable_digest(struct cam *c);
static void cam_pull(struct cam *c);
static void cam_recreate(struct cam *c, enum cam_error why);
static void maybe_finish_stop(struct onvif_adapter *ad);
static void list_del(struct cam **head, struct cam *c);
static void cam_close(struct cam *c);

/* ---- small helpers ---- */

static struct agw_curl_loop *cam_http(const struct cam *c)
{
	return c->ad->shards[c->shard].http;
}

static void iso_duration(int64_t ms, char *buf, size_t len)
{
	if (ms % 1000)
		snprintf(buf, len, "PT%lld.%03lldS", (long long)(ms / 1000), (long long)(ms % 1000));
	else
		snprintf(buf, len, "PT%lldS", (long long)(ms / 1000));
}

static int64_t now_ms(struct onvif_adapter *ad)
{
	(void)ad;
	return agw_now_ms();
}

/* Counted always, logged when the reason changes (once per transition, not once per retry). */
static void cam_error(struct cam *c, enum cam_error e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cam_error(struct cam *c, enum cam_error e, const char *fmt, ...)
{
	char labels[64], msg[512];
	snprintf(labels, sizeof(labels), "reason=\"%s\"", error_names[e]);
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

static void cam_recovered(struct cam *c)
{
	if (c->last_error != ERR_NONE)
		agw_log_notice(COMPONENT, c->id, "events flowing again (after %s)", error_names[c->last_error]);
	c->last_error = ERR_NONE;
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
	c->ad->ctx->emit(c->ad->ctx, &a);
	/* everything was borrowed: nothing to clear */
}

static void set_offline(struct cam *c, bool offline, const char *reason)
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

static void set_channel_lost(struct cam *c, bool lost, const char *reason)
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

/* ---- bootstrap slots ---- */

static void slot_release(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	if (!c->in_slot)
		return;
	c->in_slot = false;
	ad->bootstrapping--;
	while (ad->wait_head && ad->bootstrapping < ad->max_bootstraps && !ad->stopping) {
		struct cam *n = ad->wait_head;
		ad->wait_head = n->wait_next;
		if (!ad->wait_head)
			ad->wait_tail = NULL;
		n->wait_next = NULL;
		n->waiting = false;
		n->in_slot = true;
		ad->bootstrapping++;
		cam_bootstrap(n);
	}
}

static void wait_remove(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	if (!c->waiting)
		return;
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
	c->waiting = false;
}

/* Takes a slot or queues the camera; the bootstrap starts when it has one. */
static void cam_begin(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	if (ad->stopping || c->removed)
		return;
	if (c->in_slot) {
		cam_bootstrap(c);
		return;
	}
	if (ad->bootstrapping < ad->max_bootstraps) {
		c->in_slot = true;
		ad->bootstrapping++;
		cam_bootstrap(c);
		return;
	}
	if (!c->waiting) {
		c->waiting = true;
		if (ad->wait_tail)
			ad->wait_tail->wait_next = c;
		else
			ad->wait_head = c;
		ad->wait_tail = c;
	}
}

/* ---- timers ---- */

static void timer_cb(uv_timer_t *t)
{
	struct cam *c = t->data;
	void (*fn)(struct cam *) = c->timer_fn;
	c->timer_fn = NULL;
	if (fn && !c->ad->stopping && !c->removed)
		fn(c);
}

static void cam_after(struct cam *c, int64_t ms, void (*fn)(struct cam *c))
{
	c->timer_fn = fn;
	uv_timer_start(&c->timer, timer_cb, (uint64_t)(ms > 0 ? ms : 0), 0);
}

/* Exponential backoff with jitter: a random delay in [d/2, d], d = min * 2^failures capped. */
static int64_t backoff_ms(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	int64_t d = ad->backoff_min_ms > 0 ? ad->backoff_min_ms : 1;
	for (unsigned i = 0; i < c->failures && d < ad->backoff_max_ms; i++)
		d *= 2;
	if (d > ad->backoff_max_ms)
		d = ad->backoff_max_ms;
	c->failures++;
	return d / 2 + (int64_t)((uint64_t)random() % (uint64_t)(d / 2 + 1));
}

/* ---- the state machine ---- */

static void cam_bootstrap(struct cam *c)
{
	c->subscribed = false;
	cam_send(c, AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME);
}

/* Something went wrong before or with the subscription: free the slot and start over later. */
static void cam_retry_later(struct cam *c)
{
	if (c->retiring)
		return; /* camera_remove closes it */
	slot_release(c);
	cam_after(c, backoff_ms(c), cam_begin);
}

static void cam_recreate(struct cam *c, enum cam_error why)
{
	(void)why;
	/* sub_url stays: the bootstrap unsubscribes it once the clock is known again, because a
	 * one-subscriber camera refuses a new subscription while the old one lives, and an
	 * Unsubscribe with a stale WS-Security time would be refused and leave an orphan */
	c->subscribed = false;
	c->resync = false;
	c->pull_faults = 0;
	cam_retry_later(c);
}

/* The camera refused our WS-Security time (clock reset, NTP jump): learn its clock again and go
 * on with the same subscription; its queued events are not lost. */
static void cam_resync(struct cam *c)
{
	c->resync = true;
	cam_send(c, AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME);
}

static void cam_pull(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	/* renew while the termination time is still ahead, with room for one more long-poll */
	if (now_ms(ad) + ad->pull_timeout_ms + ad->renew_margin_ms >= c->term_deadline_ms) {
		cam_send(c, AGW_ONVIF_RENEW);
		return;
	}
	cam_send(c, AGW_ONVIF_PULL_MESSAGES);
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
	c->term_deadline_ms = now_ms(ad) + rel;
}

/* Some cameras configured for HTTP Digest refuse a request that also carries a UsernameToken
 * (ter:NotAuthorized although the digest was right): drop WS-Security for them and ask again. */
static bool auth_fallback(struct cam *c, const char *err)
{
	if (!c->digest || c->no_wsse || c->ad->auth_mode != AUTH_AUTO || !strstr(err, "NotAuthorized"))
		return false;
	c->no_wsse = true;
	agw_log_info(COMPONENT, c->id, "camera refuses WS-Security next to HTTP Digest: using Digest alone");
	cam_send(c, c->op);
	return true;
}

struct pull_ctx {
	struct cam *c;
	int64_t gateway_ms;
	int events;
};

static int on_event(void *arg, struct agw_alert *a)
{
	struct pull_ctx *p = arg;
	struct cam *c = p->c;
	a->camera_id = c->id;
	a->adapter = (char *)COMPONENT;
	a->gateway_time_ms = p->gateway_ms;
	a->clock_offset_ms = c->offset_ms;
	c->ad->ctx->emit(c->ad->ctx, a);
	/* borrowed: the normalizer clears the rest */
	a->camera_id = NULL;
	a->adapter = NULL;
	p->events++;
	return 0;
}

/* Emits the events of a PullMessages answer; returns how many, or the normalizer's error. */
static int deliver(struct cam *c, int64_t now, struct agw_onvif_pull_info *info, char *err, size_t errlen)
{
	struct onvif_adapter *ad = c->ad;
	struct pull_ctx p = {.c = c, .gateway_ms = now};
	int rc = agw_onvif_normalize_soap(ad->soap, c->resp, c->resp_len, ad->table, on_event, &p, info, err, errlen);
	if (rc >= 0)
		agw_metric_add("agw_onvif_events_total", NULL, p.events);
	return rc;
}

static void handle_pull(struct cam *c, int64_t now)
{
	struct onvif_adapter *ad = c->ad;
	struct agw_onvif_pull_info info;
	char err[512] = "";
	int rc = deliver(c, now, &info, err, sizeof(err));
	if (rc == -EPROTO && auth_fallback(c, err))
		return;
	if (rc == -EPROTO) {
		bool gone = strstr(err, "ResourceUnknown") != NULL;
		if (!gone && ++c->pull_faults <= FAULT_RETRIES) {
			cam_error(c, ERR_FAULT, "PullMessages %s: retrying the subscription", err);
			if (strstr(err, "NotAuthorized"))
				cam_resync(c);
			else
				cam_after(c, backoff_ms(c), cam_pull);
			return;
		}
		cam_error(c, ERR_FAULT, "PullMessages %s: recreating the subscription", err);
		set_channel_lost(c, true, gone ? "subscription unknown to the camera" : "PullMessages faults");
		cam_recreate(c, ERR_FAULT);
		return;
	}
	if (rc < 0) {
		/* a broken answer: the subscription may well be alive, pull again after a pause */
		cam_error(c, rc == -EMSGSIZE ? ERR_OVERSIZED : ERR_MALFORMED, "PullMessages response: %s", err);
		cam_after(c, backoff_ms(c), cam_pull);
		return;
	}
	c->failures = 0;
	c->pull_faults = 0;
	cam_recovered(c);
	set_channel_lost(c, false, NULL);
	/* the camera clock may jump (reset, NTP): follow it so WS-Security stays valid */
	int64_t cur;
	if (info.current_time[0] && agw_time_parse_ms(info.current_time, &cur) == 0) {
		int64_t off = cur - now;
		if (off - c->offset_ms > 5000 || c->offset_ms - off > 5000)
			c->offset_ms = off;
	}
	/* a camera that answers an empty pull at once (no long-poll support) must not spin the loop */
	if (rc == 0 && now - c->sent_ms < ad->pull_min_interval_ms)
		cam_after(c, ad->pull_min_interval_ms - (now - c->sent_ms), cam_pull);
	else
		cam_pull(c);
}

static void handle_response(struct cam *c, int64_t now)
{
	struct onvif_adapter *ad = c->ad;
	struct agw_onvif_response r;
	char err[512] = "";
	enum agw_onvif_op op = c->op;
	int rc = agw_onvif_response_parse(ad->soap, op, c->resp, c->resp_len, &r, err, sizeof(err));
	if (op == AGW_ONVIF_UNSUBSCRIBE) {
		/* whatever the answer, the old subscription is given up */
		if (rc == 0)
			agw_onvif_response_clear(&r);
		free(c->sub_url);
		c->sub_url = NULL;
		free(c->sub_refs);
		c->sub_refs = NULL;
		if (ad->stopping) {
			ad->unsub_pending--;
			maybe_finish_stop(ad);
		} else if (c->recreate_after_unsubscribe) {
			c->recreate_after_unsubscribe = false;
			cam_send(c, c->have_services ? AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION : AGW_ONVIF_GET_SERVICES);
		}
		return;
	}
	if (rc == -EPROTO && auth_fallback(c, err)) {
		return;
	}
	if (rc < 0) {
		enum cam_error e = rc == -EPROTO ? ERR_FAULT : rc == -EMSGSIZE ? ERR_OVERSIZED
							      : rc == -ENOENT ? ERR_NO_SUBSCRIPTION : ERR_MALFORMED;
		cam_error(c, e, "%s: %s", agw_onvif_op_name(op), err);
		switch (op) {
		case AGW_ONVIF_GET_SERVICES:
			cam_send(c, AGW_ONVIF_GET_CAPABILITIES);
			return;
		case AGW_ONVIF_GET_CAPABILITIES:
			/* many cameras serve every service on the device address */
			free(c->events_url);
			c->events_url = strdup(c->device_url);
			c->have_services = true;
			cam_send(c, AGW_ONVIF_GET_DEVICE_INFORMATION);
			return;
		case AGW_ONVIF_GET_DEVICE_INFORMATION:
			cam_send(c, AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION);
			return;
		case AGW_ONVIF_RENEW:
			if (e == ERR_FAULT && strstr(err, "NotAuthorized") && ++c->pull_faults <= FAULT_RETRIES) {
				cam_resync(c);
				return;
			}
			set_channel_lost(c, true, "Renew failed");
			cam_recreate(c, e);
			return;
		case AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION:
			set_channel_lost(c, true, "CreatePullPointSubscription failed");
			cam_retry_later(c);
			return;
		default:
			cam_retry_later(c);
			return;
		}
	}
	switch (op) {
	case AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME:
		if (r.camera_time_ms != AGW_TIME_UNKNOWN)
			c->offset_ms = r.camera_time_ms - (c->sent_ms + now) / 2;
		if (c->resync && c->subscribed) {
			c->resync = false;
			cam_pull(c);
		} else if (c->sub_url) {
			/* the old subscription first (see cam_recreate) */
			c->recreate_after_unsubscribe = true;
			cam_send(c, AGW_ONVIF_UNSUBSCRIBE);
		} else {
			cam_send(c, c->have_services ? AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION : AGW_ONVIF_GET_SERVICES);
		}
		break;
	case AGW_ONVIF_GET_SERVICES:
	case AGW_ONVIF_GET_CAPABILITIES: {
		char *events = agw_onvif_rewrite_address(c->scheme, c->authority, c->host, r.events_xaddr);
		if (!events && op == AGW_ONVIF_GET_SERVICES) {
			cam_send(c, AGW_ONVIF_GET_CAPABILITIES);
			break;
		}
		free(c->events_url);
		c->events_url = events ? events : strdup(c->device_url);
		c->have_services = true;
		cam_send(c, AGW_ONVIF_GET_DEVICE_INFORMATION);
		break;
	}
	case AGW_ONVIF_GET_DEVICE_INFORMATION:
		agw_log_info(COMPONENT, c->id, "%s %s, firmware %s", r.manufacturer ? r.manufacturer : "?",
			     r.model ? r.model : "?", r.firmware ? r.firmware : "?");
		cam_send(c, AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION);
		break;
	case AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION: {
		char *sub = agw_onvif_rewrite_address(c->scheme, c->authority, c->host, r.subscription_address);
		if (!sub) {
			cam_error(c, ERR_NO_SUBSCRIPTION, "CreatePullPointSubscription: unusable address");
			cam_retry_later(c);
			break;
		}
		free(c->sub_url);
		c->sub_url = sub;
		free(c->sub_refs);
		c->sub_refs = r.reference_params;
		r.reference_params = NULL;
		c->subscribed = true;
		set_deadline(c, &r);
		agw_metric_add("agw_onvif_subscriptions_total", NULL, 1);
		agw_log_debug(COMPONENT, c->id, "subscribed");
		slot_release(c);
		cam_send(c, AGW_ONVIF_PULL_MESSAGES);
		break;
	}
	case AGW_ONVIF_RENEW:
		set_deadline(c, &r);
		cam_send(c, AGW_ONVIF_PULL_MESSAGES);
		break;
	default:
		cam_retry_later(c);
		break;
	}
	agw_onvif_response_clear(&r);
}

static enum cam_error transport_error(CURLcode code)
{
	switch (code) {
	case CURLE_OPERATION_TIMEDOUT: return ERR_TIMEOUT;
	case CURLE_COULDNT_CONNECT: return ERR_REFUSED;
	default: return ERR_NETWORK;
	}
}

static void cam_done(struct agw_curl_req *req, CURLcode code)
{
	struct cam *c = (struct cam *)req;
	struct onvif_adapter *ad = c->ad;
	int64_t now = now_ms(ad);
	long status = 0;
	c->busy = false;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	if (c->removed)
		return;
	if (c->retiring) {
		if (c->op == AGW_ONVIF_PULL_MESSAGES) {
			struct agw_onvif_pull_info info;
			char err[512];
			if (code == CURLE_OK && status == 200 && !c->resp_too_big)
				deliver(c, now, &info, err, sizeof(err));
			cam_send(c, AGW_ONVIF_UNSUBSCRIBE);
			if (c->busy)
				return;
		}
		list_del(&ad->retired, c);
		cam_close(c);
		return;
	}
	if (ad->stopping) {
		if (c->op == AGW_ONVIF_UNSUBSCRIBE) {
			ad->unsub_pending--;
			maybe_finish_stop(ad);
		}
		return;
	}
	if (c->resp_too_big) {
		/* the camera answered: it is online, but this answer is refused */
		set_offline(c, false, NULL);
		cam_error(c, ERR_OVERSIZED, "%s: response over %lld bytes", agw_onvif_op_name(c->op),
			  (long long)ad->max_response_bytes);
		if (c->op == AGW_ONVIF_PULL_MESSAGES)
			cam_after(c, backoff_ms(c), cam_pull);
		else if (c->op == AGW_ONVIF_UNSUBSCRIBE)
			handle_response(c, now);
		else
			cam_retry_later(c);
		return;
	}
	if (code != CURLE_OK || status == 0) {
		enum cam_error e = transport_error(code);
		cam_error(c, e, "%s: %s", agw_onvif_op_name(c->op), curl_easy_strerror(code));
		set_offline(c, true, error_names[e]);
		if (c->op == AGW_ONVIF_UNSUBSCRIBE) {
			handle_response(c, now);
		} else if (c->subscribed && (c->op == AGW_ONVIF_PULL_MESSAGES || c->op == AGW_ONVIF_RENEW) &&
			   now < c->term_deadline_ms) {
			/* the subscription may outlive a network blip: try it again before recreating */
			cam_after(c, backoff_ms(c), cam_pull);
		} else {
			c->subscribed = false;
			cam_retry_later(c);
		}
		return;
	}
	set_offline(c, false, NULL);
	if (status == 404 && (c->op == AGW_ONVIF_PULL_MESSAGES || c->op == AGW_ONVIF_RENEW)) {
		cam_error(c, ERR_NOT_FOUND, "%s: HTTP 404, the subscription is gone", agw_onvif_op_name(c->op));
		set_channel_lost(c, true, "subscription gone (404)");
		cam_recreate(c, ERR_NOT_FOUND);
		return;
	}
	if (status == 401 && ad->auth_mode != AUTH_WSSE && ad->auth_mode != AUTH_NONE && cam_enable_digest(c)) {
		/* the camera wants HTTP Digest (instead of or on top of WS-Security): ask again */
		agw_log_info(COMPONENT, c->id, "camera asks for HTTP Digest authentication");
		cam_send(c, c->op);
		return;
	}
	if (status == 401 || status == 403) {
		cam_error(c, ERR_AUTH, "%s: HTTP %ld, check the camera's credentials", agw_onvif_op_name(c->op), status);
		if (c->op == AGW_ONVIF_PULL_MESSAGES || c->op == AGW_ONVIF_RENEW)
			set_channel_lost(c, true, "not authorized");
		if (c->op == AGW_ONVIF_UNSUBSCRIBE)
			handle_response(c, now);
		else if (c->subscribed)
			cam_recreate(c, ERR_AUTH);
		else
			cam_retry_later(c);
		return;
	}
	if ((status < 200 || status >= 300) && status != 400 && status != 500) {
		cam_error(c, ERR_HTTP, "%s: HTTP %ld", agw_onvif_op_name(c->op), status);
		if (c->op == AGW_ONVIF_UNSUBSCRIBE)
			handle_response(c, now);
		else if (c->subscribed)
			cam_recreate(c, ERR_HTTP);
		else
			cam_retry_later(c);
		return;
	}
	/* 200, or 400/500 carrying a SOAP Fault */
	if (c->op == AGW_ONVIF_PULL_MESSAGES)
		handle_pull(c, now);
	else
		handle_response(c, now);
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct cam *c = arg;
	size_t n = size * nmemb;
	if (c->resp_len + n > (size_t)c->ad->max_response_bytes) {
		c->resp_too_big = true;
		return 0; /* aborts the transfer */
	}
	if (c->resp_len + n + 1 > c->resp_cap) {
		size_t cap = c->resp_cap ? c->resp_cap : 4096;
		while (cap < c->resp_len + n + 1)
			cap *= 2;
		char *p = realloc(c->resp, cap);
		if (!p)
			return 0;
		c->resp = p;
		c->resp_cap = cap;
	}
	memcpy(c->resp + c->resp_len, data, n);
	c->resp_len += n;
	c->resp[c->resp_len] = '\0';
	return n;
}

static bool use_wsse(const struct cam *c, enum agw_onvif_op op)
{
	/* GetSystemDateAndTime is always sent without credentials: it is how the clock is learned */
	return c->username && *c->username && op != AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME && !c->no_wsse &&
	       (c->ad->auth_mode == AUTH_AUTO || c->ad->auth_mode == AUTH_WSSE);
}

static void cam_send(struct cam *c, enum agw_onvif_op op)
{
	struct onvif_adapter *ad = c->ad;
	const char *url = op <= AGW_ONVIF_GET_DEVICE_INFORMATION ? c->device_url
			  : op == AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION ? c->events_url
			  : c->sub_url;
	if (!url) {
		cam_error(c, ERR_INTERNAL, "%s: no address to send to", agw_onvif_op_name(op));
		cam_retry_later(c);
		return;
	}
	int64_t now = now_ms(ad);
	struct agw_onvif_request req = {
		.op = op,
		.to = url,
		.username = use_wsse(c, op) ? c->username : NULL,
		.password = c->password,
		.camera_now_ms = now + c->offset_ms,
		.duration = op == AGW_ONVIF_PULL_MESSAGES ? ad->pull_duration : ad->term_duration,
		.message_limit = (int)ad->message_limit,
		.reference_params = c->sub_refs,
	};
	const char *action = NULL;
	char *body = NULL;
	int rc = agw_onvif_request_build(ad->soap, &req, &body, &action);
	if (rc < 0) {
		cam_error(c, ERR_INTERNAL, "%s: cannot build the request: %s", agw_onvif_op_name(op), strerror(-rc));
		cam_retry_later(c);
		return;
	}
	free(c->body);
	c->body = body;
	curl_slist_free_all(c->headers);
	c->headers = NULL;
	char ct[512];
	snprintf(ct, sizeof(ct), "Content-Type: application/soap+xml; charset=utf-8; action=\"%s\"", action);
	c->headers = curl_slist_append(c->headers, ct);
	struct curl_slist *h2 = c->headers ? curl_slist_append(c->headers, "Expect:") : NULL;
	if (!h2) {
		cam_error(c, ERR_INTERNAL, "out of memory");
		cam_retry_later(c);
		return;
	}
	c->headers = h2;
	c->resp_len = 0;
	c->resp_too_big = false;
	c->op = op;
	c->sent_ms = now;
	int64_t timeout = ad->request_timeout_ms;
	if (op == AGW_ONVIF_PULL_MESSAGES)
		timeout += ad->pull_timeout_ms;
	else if (op == AGW_ONVIF_UNSUBSCRIBE && (ad->stopping || c->retiring))
		timeout = ad->unsubscribe_timeout_ms;
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)timeout);
	if (agw_curl_loop_start(cam_http(c), c->easy) < 0) {
		cam_error(c, ERR_INTERNAL, "%s: cannot start the transfer", agw_onvif_op_name(op));
		cam_retry_later(c);
		return;
	}
	c->busy = true;
}

/* ---- cameras ---- */

static void cam_free(struct cam *c)
{
	if (c->easy)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	free(c->body);
	free(c->resp);
	free(c->id);
	free(c->username);
	free(c->password);
	free(c->device_url);
	free(c->scheme);
	free(c->authority);
	free(c->host);
	free(c->events_url);
	free(c->sub_url);
	free(c->sub_refs);
	free(c);
}

static void cam_timer_closed(uv_handle_t *h)
{
	struct cam *c = h->data;
	struct onvif_adapter *ad = c->ad;
	cam_free(c);
	ad->closing_handles--;
	maybe_finish_stop(ad);
}

/* curl negotiates Digest with an empty POST first; only cameras that asked for it (401) or are
 * configured digest-only get that round trip. */
static bool cam_enable_digest(struct cam *c)
{
	if (c->digest || !c->username || !*c->username)
		return false;
	c->digest = true;
	curl_easy_setopt(c->easy, CURLOPT_HTTPAUTH, CURLAUTH_DIGEST);
	curl_easy_setopt(c->easy, CURLOPT_USERNAME, c->username);
	curl_easy_setopt(c->easy, CURLOPT_PASSWORD, c->password ? c->password : "");
	return true;
}

static int cam_new(struct onvif_adapter *ad, const struct agw_camera *camera, struct cam **ret)
{
	struct cam *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ad = ad;
	c->req.done = cam_done;
	int rc = -ENOMEM;
	if (!(c->id = strdup(camera->id)))
		goto fail;
	if (camera->username && !(c->username = strdup(camera->username)))
		goto fail;
	if (camera->password && !(c->password = strdup(camera->password)))
		goto fail;
	rc = agw_onvif_device_url(camera->address ? camera->address : "", &c->device_url);
	if (rc < 0)
		goto fail;
	rc = agw_onvif_url_split(c->device_url, &c->scheme, &c->authority, &c->host, NULL);
	if (rc < 0)
		goto fail;
	rc = -ENOMEM;
	if (!(c->easy = curl_easy_init()))
		goto fail;
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, (char *)&c->req);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	/* answers are a few KB: a smaller receive buffer than curl's 16 KB saves ~10 KB per camera */
	curl_easy_setopt(c->easy, CURLOPT_BUFFERSIZE, 4096L);
	curl_easy_setopt(c->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)ad->connect_timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (!ad->tls_verify) {
		/* cameras with self-signed certificates, by the operator's explicit choice */
		curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (ad->ca_file && *ad->ca_file)
		curl_easy_setopt(c->easy, CURLOPT_CAINFO, ad->ca_file);
	if (ad->auth_mode == AUTH_DIGEST)
		cam_enable_digest(c);
	uv_timer_init(ad->ctx->loop, &c->timer);
	c->timer.data = c;
	*ret = c;
	return 0;
fail:
	cam_free(c);
	return rc;
}

static struct cam *cam_find(struct onvif_adapter *ad, const char *id)
{
	for (struct cam *c = ad->cams; c; c = c->next)
		if (!strcmp(c->id, id))
			return c;
	return NULL;
}

static void list_del(struct cam **head, struct cam *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void list_add(struct cam **head, struct cam *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

static void cam_unlink(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	list_del(&ad->cams, c);
	ad->n_cams--;
	agw_metric_set("agw_onvif_cameras", NULL, (int64_t)ad->n_cams);
}

/* Cancels what the camera is doing and closes its timer; it is freed in the close callback. */
static void cam_close(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	if (c->busy) {
		agw_curl_loop_cancel(cam_http(c), c->easy);
		c->busy = false;
	}
	wait_remove(c);
	slot_release(c);
	if (c->offline)
		agw_metric_add("agw_onvif_cameras_offline", NULL, -1);
	if (c->channel_lost)
		agw_metric_add("agw_onvif_event_channels_lost", NULL, -1);
	c->removed = true;
	c->ad->shards[c->shard].n--;
	uv_timer_stop(&c->timer);
	ad->closing_handles++;
	uv_close((uv_handle_t *)&c->timer, cam_timer_closed);
}

/* A shard with room, created when all are full. */
static int shard_pick(struct onvif_adapter *ad, size_t *ret)
{
	for (size_t i = 0; i < ad->n_shards; i++) {
		if (ad->shards[i].n < CAMERAS_PER_SHARD) {
			*ret = i;
			return 0;
		}
	}
	struct shard *v = realloc(ad->shards, (ad->n_shards + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ad->shards = v;
	struct agw_curl_loop *h;
	int rc = agw_curl_loop_new(ad->ctx->loop, &h);
	if (rc < 0)
		return rc;
	/* one kept-alive connection per camera, and room for reconnects */
	agw_curl_loop_set_max_connections(h, CAMERAS_PER_SHARD + CAMERAS_PER_SHARD / 4);
	v[ad->n_shards].http = h;
	v[ad->n_shards].n = 0;
	*ret = ad->n_shards++;
	return 0;
}

static int onvif_camera_add(void *priv, const struct agw_camera *camera)
{
	struct onvif_adapter *ad = priv;
	if (ad->stopping)
		return -ECANCELED;
	if (cam_find(ad, camera->id))
		return -EEXIST;
	struct cam *c;
	size_t shard;
	int rc = shard_pick(ad, &shard);
	if (rc == 0)
		rc = cam_new(ad, camera, &c);
	if (rc < 0) {
		char safe[512];
		agw_log_err(COMPONENT, camera->id, "unusable camera address %s: %s",
			    agw_url_redact(camera->address ? camera->address : "", safe, sizeof(safe)), strerror(-rc));
		return rc;
	}
	c->shard = shard;
	ad->shards[shard].n++;
	list_add(&ad->cams, c);
	ad->n_cams++;
	agw_metric_set("agw_onvif_cameras", NULL, (int64_t)ad->n_cams);
	if (ad->started)
		cam_begin(c);
	return 0;
}

static void onvif_camera_remove(void *priv, const char *camera_id)
{
	struct onvif_adapter *ad = priv;
	struct cam *c = cam_find(ad, camera_id);
	if (!c)
		return;
	cam_unlink(c);
	if (!c->sub_url || ad->stopping) {
		cam_close(c);
		return;
	}
	/* give the subscription back, or a one-subscriber camera refuses whoever comes next; the
	 * camera is out of the list already (it may be added again at once under the same id) */
	uv_timer_stop(&c->timer);
	wait_remove(c);
	slot_release(c);
	c->retiring = true;
	list_add(&ad->retired, c);
	/* a long-poll under way may already carry events the camera counts as delivered: let it
	 * finish (cam_done journals them), then unsubscribe */
	if (c->busy && c->op == AGW_ONVIF_PULL_MESSAGES)
		return;
	if (c->busy) {
		agw_curl_loop_cancel(cam_http(c), c->easy);
		c->busy = false;
	}
	cam_send(c, AGW_ONVIF_UNSUBSCRIBE);
	if (!c->busy) {
		list_del(&ad->retired, c);
		cam_close(c);
	}
}

/* ---- lifecycle ---- */

static int onvif_init(void *priv, struct agw_adapter_ctx *ctx)
{
	struct onvif_adapter *ad = priv;
	ad->ctx = ctx;
	const char *auth = ad->auth ? ad->auth : "auto";
	if (!strcmp(auth, "auto") || !strcmp(auth, "both"))
		ad->auth_mode = AUTH_AUTO;
	else if (!strcmp(auth, "wsse"))
		ad->auth_mode = AUTH_WSSE;
	else if (!strcmp(auth, "digest"))
		ad->auth_mode = AUTH_DIGEST;
	else if (!strcmp(auth, "none"))
		ad->auth_mode = AUTH_NONE;
	else {
		agw_log_err(COMPONENT, NULL, "auth must be auto, both, wsse, digest or none, not \"%s\"", auth);
		return -EINVAL;
	}
	if (ad->backoff_max_ms < ad->backoff_min_ms)
		ad->backoff_max_ms = ad->backoff_min_ms;
	if (ad->renew_margin_ms + ad->pull_timeout_ms >= ad->termination_ms) {
		agw_log_err(COMPONENT, NULL, "termination_time must be longer than pull_timeout + renew_margin");
		return -EINVAL;
	}
	iso_duration(ad->pull_timeout_ms, ad->pull_duration, sizeof(ad->pull_duration));
	iso_duration(ad->termination_ms, ad->term_duration, sizeof(ad->term_duration));
	if (ad->topic_table && *ad->topic_table) {
		char err[512];
		int rc = agw_onvif_topic_table_load(ad->topic_table, &ad->table, err, sizeof(err));
		if (rc < 0) {
			agw_log_err(COMPONENT, NULL, "topic table: %s", err);
			return rc;
		}
	}
	srandom((unsigned)agw_now_ms() ^ (unsigned)getpid()); /* backoff jitter differs per process */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	if (!(ad->soap = agw_onvif_soap_new())) {
		agw_onvif_topic_table_free(ad->table);
		ad->table = NULL;
		return -ENOMEM;
	}
	uv_timer_init(ctx->loop, &ad->stop_timer);
	ad->stop_timer.data = ad;
	return 0;
}

static int onvif_start(void *priv)
{
	struct onvif_adapter *ad = priv;
	ad->started = true;
	for (struct cam *c = ad->cams; c; c = c->next)
		cam_begin(c);
	return 0;
}

static void http_closed(void *arg)
{
	struct onvif_adapter *ad = arg;
	ad->closing_handles--;
	maybe_finish_stop(ad);
}

static void stop_timer_closed(uv_handle_t *h)
{
	struct onvif_adapter *ad = h->data;
	ad->closing_handles--;
	maybe_finish_stop(ad);
}

/* Second half of stop: cancel everything, close every handle; stopped() when all are closed. */
static void finish_stop(struct onvif_adapter *ad)
{
	if (ad->finishing)
		return;
	ad->finishing = true;
	agw_log_info(COMPONENT, NULL, "closing %zu cameras and %zu connection pools", ad->n_cams, ad->n_shards);
	while (ad->cams) {
		struct cam *c = ad->cams;
		cam_unlink(c);
		cam_close(c);
	}
	while (ad->retired) {
		struct cam *c = ad->retired;
		list_del(&ad->retired, c);
		cam_close(c);
	}
	ad->closing_handles += 1; /* the stop timer */
	uv_timer_stop(&ad->stop_timer);
	uv_close((uv_handle_t *)&ad->stop_timer, stop_timer_closed);
	ad->closing_handles += (int)ad->n_shards;
	for (size_t i = 0; i < ad->n_shards; i++) {
		agw_curl_loop_close(ad->shards[i].http, http_closed, ad);
		ad->shards[i].http = NULL;
	}
}

static void maybe_finish_stop(struct onvif_adapter *ad)
{
	if (!ad->stopping)
		return;
	if (!ad->finishing) {
		if (ad->unsub_pending <= 0)
			finish_stop(ad);
		return;
	}
	if (ad->closing_handles == 0)
		ad->ctx->stopped(ad->ctx);
}

static void stop_timeout(uv_timer_t *t)
{
	struct onvif_adapter *ad = t->data;
	if (ad->unsub_pending > 0)
		agw_log_info(COMPONENT, NULL, "%d cameras did not confirm Unsubscribe in time", ad->unsub_pending);
	ad->unsub_pending = 0;
	finish_stop(ad);
}

static void onvif_stop(void *priv)
{
	struct onvif_adapter *ad = priv;
	if (ad->stopping)
		return;
	ad->stopping = true;
	ad->wait_head = ad->wait_tail = NULL;
	for (struct cam *c = ad->cams; c; c = c->next) {
		c->waiting = false;
		c->wait_next = NULL;
		uv_timer_stop(&c->timer);
		if (c->busy) {
			agw_curl_loop_cancel(cam_http(c), c->easy);
			c->busy = false;
		}
		/* the gateway owns the camera's subscription: give it back so it is not left to expire */
		if (ad->unsubscribe_on_stop && c->sub_url) {
			cam_send(c, AGW_ONVIF_UNSUBSCRIBE);
			if (c->busy)
				ad->unsub_pending++;
		}
	}
	agw_log_info(COMPONENT, NULL, "stopping: %zu cameras, %d Unsubscribe sent", ad->n_cams, ad->unsub_pending);
	if (ad->unsub_pending > 0)
		uv_timer_start(&ad->stop_timer, stop_timeout, (uint64_t)ad->unsubscribe_timeout_ms + 200, 0);
	maybe_finish_stop(ad);
}

static void onvif_uninit(void *priv)
{
	struct onvif_adapter *ad = priv;
	/* normally empty: stop() closed every camera */
	while (ad->cams) {
		struct cam *c = ad->cams;
		cam_unlink(c);
		cam_free(c);
	}
	while (ad->retired) {
		struct cam *c = ad->retired;
		list_del(&ad->retired, c);
		cam_free(c);
	}
	agw_onvif_soap_free(ad->soap);
	ad->soap = NULL;
	agw_onvif_topic_table_free(ad->table);
	ad->table = NULL;
	free(ad->shards); /* their multi handles were closed by stop() */
	ad->shards = NULL;
	ad->n_shards = 0;
}

#define OPT(field) offsetof(struct onvif_adapter, field)

static const struct agw_option onvif_options[] = {
	{"connect_timeout", AGW_OPT_DURATION, OPT(connect_timeout_ms), "5s", 100, 120000, false,
	 "TCP connect timeout per request"},
	{"request_timeout", AGW_OPT_DURATION, OPT(request_timeout_ms), "10s", 100, 300000, false,
	 "time a camera has to answer a request (added to pull_timeout for PullMessages)"},
	{"pull_timeout", AGW_OPT_DURATION, OPT(pull_timeout_ms), "10s", 1000, 600000, false,
	 "PullMessages long-poll timeout sent to the camera"},
	{"message_limit", AGW_OPT_INT, OPT(message_limit), "100", 1, 10000, false,
	 "most messages one PullMessages may return"},
	{"termination_time", AGW_OPT_DURATION, OPT(termination_ms), "60s", 10000, 86400000, false,
	 "relative subscription lifetime asked for (CreatePullPointSubscription, Renew)"},
	{"renew_margin", AGW_OPT_DURATION, OPT(renew_margin_ms), "15s", 1000, 3600000, false,
	 "renew when the subscription has less than this (plus one pull) left"},
	{"backoff_min", AGW_OPT_DURATION, OPT(backoff_min_ms), "1s", 10, 3600000, false,
	 "first retry delay after a failure (doubles each time, with jitter)"},
	{"backoff_max", AGW_OPT_DURATION, OPT(backoff_max_ms), "60s", 10, 86400000, false, "longest retry delay"},
	{"max_response_bytes", AGW_OPT_INT, OPT(max_response_bytes), "1048576", 4096, 16777216, false,
	 "larger camera answers are refused (counted, logged, retried)"},
	{"max_bootstraps", AGW_OPT_INT, OPT(max_bootstraps), "64", 1, 100000, false,
	 "cameras bootstrapping (time, services, subscription) at the same time"},
	{"unsubscribe_on_stop", AGW_OPT_BOOL, OPT(unsubscribe_on_stop), "true", 0, 0, false,
	 "send Unsubscribe to every camera when the gateway stops"},
	{"unsubscribe_timeout", AGW_OPT_DURATION, OPT(unsubscribe_timeout_ms), "2s", 100, 4000, false,
	 "how long stopping waits for the Unsubscribe answers"},
	{"pull_min_interval", AGW_OPT_DURATION, OPT(pull_min_interval_ms), "500ms", 0, 60000, false,
	 "least time between two empty pulls (cameras that ignore the long-poll timeout)"},
	{"auth", AGW_OPT_STRING, OPT(auth), "auto", 0, 0, false,
	 "auto (WS-Security, plus HTTP Digest when challenged), wsse, digest, or none"},
	{"tls_verify", AGW_OPT_BOOL, OPT(tls_verify), "true", 0, 0, false,
	 "verify https cameras' certificates (false accepts self-signed ones)"},
	{"ca_file", AGW_OPT_PATH, OPT(ca_file), NULL, 0, 0, false, "CA bundle for https cameras"},
	{"topic_table", AGW_OPT_PATH, OPT(topic_table), NULL, 0, 0, false,
	 "file of extra topic-to-kind lines (syntax: share/alarmgw/onvif-topics.conf)"},
	{NULL, 0, 0, NULL, 0, 0, false, NULL},
};

/* An ONVIF ledger address: host[:port] or an http(s) URL of the device service. */
static const char *onvif_check_address(const char *address)
{
	if (strstr(address, "://") && strncasecmp(address, "http://", 7) != 0 && strncasecmp(address, "https://", 8) != 0)
		return "an onvif camera needs host[:port] or an http:// or https:// URL";
	return NULL;
}

static int load_table(const struct onvif_adapter *opts, struct agw_onvif_topic_table **ret, char *err, size_t errlen)
{
	*ret = NULL;
	if (!opts->topic_table || !*opts->topic_table)
		return 0;
	return agw_onvif_topic_table_load(opts->topic_table, ret, err, errlen);
}

static int onvif_check(const void *priv, char *err, size_t errlen)
{
	struct agw_onvif_topic_table *t = NULL;
	int r = load_table(priv, &t, err, errlen); /* the loader's message names the file and line */
	agw_onvif_topic_table_free(t);
	return r;
}

static int onvif_normalize_document(const void *priv, const char *buf, size_t len,
				    int (*fn)(void *arg, struct agw_alert *alert), void *arg, char *err, size_t errlen)
{
	struct agw_onvif_topic_table *t = NULL;
	int r = load_table(priv, &t, err, errlen);
	if (r >= 0)
		r = agw_onvif_normalize(buf, len, t, fn, arg, err, errlen);
	agw_onvif_topic_table_free(t);
	return r;
}

const struct agw_adapter agw_adapter_onvif = {
	.name = "onvif",
	.description = "ONVIF cameras: PullPoint event subscriptions (gSOAP bindings on libcurl multi)",
	.protocol = "onvif",
	.priv_size = sizeof(struct onvif_adapter),
	.options = onvif_options,
	.init = onvif_init,
	.start = onvif_start,
	.stop = onvif_stop,
	.uninit = onvif_uninit,
	.camera_add = onvif_camera_add,
	.camera_remove = onvif_camera_remove,
	.check_address = onvif_check_address,
	.table_option = "topic_table",
	.check = onvif_check,
	.normalize = onvif_normalize_document,
};
