/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PullMessages answers: their NotificationMessages become alerts handed to the core; what could
 * not be read of a broken or oversized answer is named in an events_lost alert (its events left
 * the camera: they are read or reported, never dropped silently); what the core refuses is kept
 * on the camera, in order, and the camera stops pulling until the core calls resume(). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/metrics.h"
#include "onvif_camera.h"
#include "onvif_events.h"

/* ---- back-pressure: the camera's held alerts and the adapter's held queue ---- */

static void held_queue_push(struct cam *c, bool front)
{
	struct onvif_adapter *ad = c->ad;
	if (c->in_held_queue)
		return;
	c->in_held_queue = true;
	c->held_next = NULL;
	if (front) {
		c->held_next = ad->held_head;
		ad->held_head = c;
		if (!ad->held_tail)
			ad->held_tail = c;
	} else if (ad->held_tail) {
		ad->held_tail->held_next = c;
		ad->held_tail = c;
	} else {
		ad->held_head = ad->held_tail = c;
	}
}

static void held_queue_remove(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	if (!c->in_held_queue)
		return;
	struct cam **pp = &ad->held_head, *prev = NULL;
	while (*pp && *pp != c) {
		prev = *pp;
		pp = &(*pp)->held_next;
	}
	if (*pp)
		*pp = c->held_next;
	if (ad->held_tail == c)
		ad->held_tail = prev;
	c->held_next = NULL;
	c->in_held_queue = false;
}

static int held_push(struct cam *c, const struct agw_alert *a)
{
	if (c->n_held == c->cap_held) {
		size_t cap = c->cap_held ? c->cap_held * 2 : 8;
		struct agw_alert *v = realloc(c->held, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		c->held = v;
		c->cap_held = cap;
	}
	struct agw_alert *slot = &c->held[c->n_held];
	agw_alert_init(slot);
	int rc = agw_alert_copy(slot, a);
	if (rc < 0) {
		agw_alert_clear(slot);
		return rc;
	}
	c->n_held++;
	agw_metric_add("agw_onvif_alerts_held", NULL, 1);
	return 0;
}

int agw_onvif_cam_emit(struct cam *c, const struct agw_alert *a)
{
	struct onvif_adapter *ad = c->ad;
	if (c->n_held == 0 && !ad->refused) {
		int rc = ad->ctx->emit(ad->ctx, a);
		if (rc == 0)
			return 0;
		if (rc != -EAGAIN) {
			/* the core is stopping for good, or the alert is unusable: nothing to wait for */
			agw_metric_add("agw_onvif_alerts_refused_total", NULL, 1);
			agw_log_err(COMPONENT, c->id, "the core refused a %s alert: %s", agw_alert_kind_name(a->kind),
				    strerror(-rc));
			return rc;
		}
		if (!ad->refused)
			agw_log_info(COMPONENT, c->id, "the core is full: holding events, no new PullMessages until it resumes");
		ad->refused = true;
	}
	int rc = held_push(c, a);
	if (rc < 0) {
		agw_metric_add("agw_onvif_alerts_refused_total", NULL, 1);
		agw_log_err(COMPONENT, c->id, "a %s alert refused by the core could not be kept: %s",
			    agw_alert_kind_name(a->kind), strerror(-rc));
		return rc;
	}
	held_queue_push(c, false);
	return 0;
}

/* Emits what the camera held, oldest first. 0 when all went, -EAGAIN when the core refused again
 * (the camera goes back to the head of the held queue). */
static int held_flush(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	size_t done = 0;
	int rc = 0;
	while (done < c->n_held) {
		rc = ad->ctx->emit(ad->ctx, &c->held[done]);
		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			agw_metric_add("agw_onvif_alerts_refused_total", NULL, 1);
			agw_log_err(COMPONENT, c->id, "the core refused a held %s alert: %s",
				    agw_alert_kind_name(c->held[done].kind), strerror(-rc));
		}
		agw_alert_clear(&c->held[done]);
		done++;
	}
	if (done > 0) { /* with nothing held, held may be NULL: no memmove from it */
		memmove(c->held, c->held + done, (c->n_held - done) * sizeof(*c->held));
		c->n_held -= done;
	}
	agw_metric_add("agw_onvif_alerts_held", NULL, -(int64_t)done);
	if (rc == -EAGAIN) {
		ad->refused = true;
		held_queue_push(c, true);
		return -EAGAIN;
	}
	return 0;
}

bool agw_onvif_cam_may_pull(struct cam *c)
{
	if (c->ad->refused || c->n_held > 0) {
		if (c->state == CAM_PULLING)
			agw_onvif_cam_set_state(c, CAM_HELD);
		held_queue_push(c, false);
		return false;
	}
	if (c->state == CAM_HELD)
		agw_onvif_cam_set_state(c, CAM_PULLING);
	return true;
}

size_t agw_onvif_cam_held_drop(struct cam *c)
{
	size_t n = c->n_held;
	held_queue_remove(c);
	for (size_t i = 0; i < n; i++)
		agw_alert_clear(&c->held[i]);
	free(c->held);
	c->held = NULL;
	c->n_held = c->cap_held = 0;
	if (n) {
		agw_metric_add("agw_onvif_alerts_held", NULL, -(int64_t)n);
		agw_metric_add("agw_onvif_alerts_refused_total", NULL, (int64_t)n);
		agw_log_err(COMPONENT, c->id, "%zu alerts the core refused are lost: the camera closed before it resumed", n);
	}
	return n;
}

/* The core has room again: the held alerts go first, camera by camera in the order they were
 * refused, then those cameras pull again. Stops as soon as the core refuses again. */
void agw_onvif_resume(struct onvif_adapter *ad)
{
	ad->refused = false;
	while (ad->held_head && !ad->refused) {
		struct cam *c = ad->held_head;
		held_queue_remove(c);
		if (held_flush(c) < 0)
			break;
		if (c->state == CAM_HELD && !c->busy && !ad->stopping) {
			uv_timer_stop(&c->timer); /* its Renew timer: the pull below renews when due */
			c->timer_fn = NULL;
			agw_onvif_cam_pull(c);
		}
	}
}

/* ---- answers ---- */

struct pull_ctx {
	struct cam *c;
	int64_t gateway_ms;
	int events;
};

static int on_event(void *arg, struct agw_alert *a)
{
	struct pull_ctx *p = arg;
	struct cam *c = p->c;
	a->adapter = (char *)COMPONENT;
	a->gateway_time_ms = p->gateway_ms;
	a->camera_id = (char *)agw_onvif_route(c, a); /* an NVR's channel row, or the camera */
	a->clock_offset_ms = c->offset_ms;
	int rc = agw_onvif_cam_emit(c, a);
	/* borrowed: the normalizer clears the rest */
	a->camera_id = NULL;
	a->adapter = NULL;
	if (rc == -ENOMEM)
		return rc;
	p->events++;
	return 0;
}

/* Names what could not be read of an answer: one events_lost alert per answer. */
static void report_lost(struct cam *c, int64_t now, const char *reason, const char *error,
			const struct agw_onvif_salvage *s)
{
	struct onvif_adapter *ad = c->ad;
	char bytes[32], received[32], read[16], unreadable[16], limit[32], offset[32];
	struct agw_item items[8];
	size_t n = 0;
	items[n++] = (struct agw_item){.name = (char *)"reason", .value = (char *)reason};
	items[n++] = (struct agw_item){.name = (char *)"error", .value = (char *)error};
	curl_off_t total = -1;
	if (c->resp_cut)
		total = -1; /* never known */
	else if (c->resp_too_big)
		curl_easy_getinfo(c->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &total);
	else
		total = (curl_off_t)c->resp_len;
	if (total >= 0) {
		snprintf(bytes, sizeof(bytes), "%lld", (long long)total);
		items[n++] = (struct agw_item){.name = (char *)"bytes", .value = bytes};
	}
	snprintf(received, sizeof(received), "%zu", c->resp_len);
	items[n++] = (struct agw_item){.name = (char *)"bytes_received", .value = received};
	snprintf(read, sizeof(read), "%d", s->read);
	items[n++] = (struct agw_item){.name = (char *)"messages_read", .value = read};
	/* a lower bound: messages after a cut cannot be counted */
	if (c->resp_cut && c->resp_len == 0)
		snprintf(unreadable, sizeof(unreadable), "unknown");
	else
		snprintf(unreadable, sizeof(unreadable), "%d", s->unreadable);
	items[n++] = (struct agw_item){.name = (char *)"messages_unreadable", .value = unreadable};
	snprintf(offset, sizeof(offset), "%zu", s->first_bad);
	items[n++] = (struct agw_item){.name = (char *)"unread_from_offset", .value = offset};
	if (c->resp_too_big) {
		snprintf(limit, sizeof(limit), "%lld", (long long)ad->max_response_bytes);
		items[n++] = (struct agw_item){.name = (char *)"max_response_bytes", .value = limit};
	}
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = c->id;
	a.adapter = (char *)COMPONENT;
	a.kind = AGW_KIND_EVENTS_LOST;
	a.active = AGW_ACTIVE_NONE;
	a.operation = AGW_OP_CHANGED;
	a.camera_time_ms = AGW_TIME_UNKNOWN;
	a.gateway_time_ms = agw_now_ms();
	(void)now;
	a.clock_offset_ms = c->offset_ms;
	a.topic = (char *)"alarmgw:EventsLost";
	a.data.v = items;
	a.data.n = n;
	char labels[64];
	snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
	agw_metric_add("agw_onvif_answers_unreadable_total", labels, 1);
	agw_metric_add("agw_onvif_events_lost_total", labels, s->unreadable);
	agw_log_warn(COMPONENT, c->id,
		     "PullMessages answer %s (%s): %d messages read, %d unreadable from offset %zu of %zu bytes received: "
		     "events_lost raised", reason, error, s->read, s->unreadable, s->first_bad, c->resp_len);
	agw_onvif_cam_emit(c, &a); /* everything was borrowed: nothing to clear */
}

int agw_onvif_cam_deliver(struct cam *c, int64_t now, struct agw_onvif_pull_info *info, char *err, size_t errlen)
{
	struct onvif_adapter *ad = c->ad;
	struct pull_ctx p = {.c = c, .gateway_ms = agw_now_ms()};
	int rc = -EMSGSIZE;
	memset(info, 0, sizeof(*info));
	if (c->resp_cut) {
		snprintf(err, errlen, "answer cut short (%s) after %zu bytes", c->resp_cut, c->resp_len);
	} else if (c->resp_too_big) {
		snprintf(err, errlen, "answer over max_response_bytes (%lld)", (long long)ad->max_response_bytes);
	} else {
		rc = agw_onvif_normalize_soap(ad->soap, c->resp, c->resp_len, ad->table, on_event, &p, info, err, errlen);
		if (rc >= 0 || (rc != -EINVAL && rc != -EMSGSIZE)) {
			if (rc >= 0)
				agw_metric_add("agw_onvif_events_total", NULL, p.events);
			return rc;
		}
	}
	/* Not readable whole: its events left the camera all the same. Every message that can be read
	 * on its own is kept, and the rest is named. */
	struct agw_onvif_salvage s;
	int n = agw_onvif_salvage(ad->soap, c->resp, c->resp_len, ad->table, p.events, on_event, &p, &s);
	if (n < 0)
		return n;
	agw_metric_add("agw_onvif_events_total", NULL, p.events);
	const char *reason = c->resp_cut ? c->resp_cut : c->resp_too_big || rc == -EMSGSIZE ? "oversized" : "malformed";
	if (c->resp_cut || c->resp_too_big || !s.complete || s.unreadable > 0)
		report_lost(c, now, reason, err, &s);
	else
		agw_log_warn(COMPONENT, c->id, "PullMessages answer %s (%s): all %d messages read one by one", reason, err,
			     s.read);
	return rc; /* the answer was broken all the same (the caller counts and backs off) */
}

void agw_onvif_cam_pull_abandoned(struct cam *c, int64_t now)
{
	long sent = 0;
	curl_easy_getinfo(c->easy, CURLINFO_REQUEST_SIZE, &sent);
	if (sent <= 0 && c->resp_len == 0)
		return; /* never connected: the camera never had the request */
	agw_metric_add("agw_onvif_pulls_abandoned_total", NULL, 1);
	if (c->offline && c->resp_len == 0)
		return; /* the same outage: named once, when it began */
	struct agw_onvif_pull_info info;
	char err[256];
	c->resp_cut = "pull_timeout";
	agw_onvif_cam_deliver(c, now, &info, err, sizeof(err));
	c->resp_cut = NULL;
}

void agw_onvif_cam_handle_pull(struct cam *c, int64_t now)
{
	struct onvif_adapter *ad = c->ad;
	struct agw_onvif_pull_info info;
	char err[512] = "";
	int rc = agw_onvif_cam_deliver(c, now, &info, err, sizeof(err));
	if (rc == -EPROTO && agw_onvif_cam_auth_fallback(c, err))
		return;
	if (rc == -EPROTO) {
		bool gone = strstr(err, "ResourceUnknown") != NULL;
		if (!gone && ++c->pull_faults <= FAULT_RETRIES) {
			agw_onvif_cam_error(c, ERR_FAULT, "PullMessages %s: retrying the subscription", err);
			if (strstr(err, "NotAuthorized"))
				agw_onvif_cam_resync(c);
			else
				agw_onvif_cam_after(c, agw_onvif_cam_backoff_ms(c), agw_onvif_cam_pull);
			return;
		}
		agw_onvif_cam_error(c, ERR_FAULT, "PullMessages %s: recreating the subscription", err);
		agw_onvif_cam_set_channel_lost(c, true, gone ? "subscription unknown to the camera" : "PullMessages faults");
		agw_onvif_cam_recreate(c, ERR_FAULT);
		return;
	}
	if (rc < 0) {
		/* a broken answer (what could be read of it is delivered): the subscription may well be
		 * alive, pull again after a pause */
		agw_onvif_cam_error(c, rc == -EMSGSIZE ? ERR_OVERSIZED : ERR_MALFORMED, "PullMessages response: %s", err);
		agw_onvif_cam_after(c, agw_onvif_cam_backoff_ms(c), agw_onvif_cam_pull);
		return;
	}
	c->failures = 0;
	c->pull_faults = 0;
	agw_onvif_cam_recovered(c);
	agw_onvif_cam_set_channel_lost(c, false, NULL);
	/* the camera clock may jump (reset, NTP): follow it so WS-Security stays valid */
	int64_t cur;
	if (info.current_time[0] && agw_time_parse_ms(info.current_time, &cur) == 0) {
		int64_t wall = agw_now_ms();
		int64_t off = cur - wall;
		if (off - c->offset_ms > 5000 || c->offset_ms - off > 5000)
			c->offset_ms = off;
	}
	/* a camera that answers an empty pull at once (no long-poll support) must not spin the loop */
	if (rc == 0 && now - c->sent_ms < ad->pull_min_interval_ms)
		agw_onvif_cam_after(c, ad->pull_min_interval_ms - (now - c->sent_ms), agw_onvif_cam_pull);
	else
		agw_onvif_cam_pull(c);
}
