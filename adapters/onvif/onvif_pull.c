/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PullMessages answers: their NotificationMessages become alerts handed to the core, and what
 * the answer says of the camera's clock keeps WS-Security valid. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/metrics.h"
#include "onvif_camera.h"

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
int agw_onvif_cam_deliver(struct cam *c, int64_t now, struct agw_onvif_pull_info *info, char *err, size_t errlen)
{
	struct onvif_adapter *ad = c->ad;
	struct pull_ctx p = {.c = c, .gateway_ms = now};
	int rc = agw_onvif_normalize_soap(ad->soap, c->resp, c->resp_len, ad->table, on_event, &p, info, err, errlen);
	if (rc >= 0)
		agw_metric_add("agw_onvif_events_total", NULL, p.events);
	return rc;
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
		/* a broken answer: the subscription may well be alive, pull again after a pause */
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
		int64_t off = cur - now;
		if (off - c->offset_ms > 5000 || c->offset_ms - off > 5000)
			c->offset_ms = off;
	}
	/* a camera that answers an empty pull at once (no long-poll support) must not spin the loop */
	if (rc == 0 && now - c->sent_ms < ad->pull_min_interval_ms)
		agw_onvif_cam_after(c, ad->pull_min_interval_ms - (now - c->sent_ms), agw_onvif_cam_pull);
	else
		agw_onvif_cam_pull(c);
}
