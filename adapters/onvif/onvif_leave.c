/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How a camera leaves, whether it was removed from the ledger, changed by a reload or the gateway
 * stops: one path, "finish the pull, then leave". A PullMessages under way may already carry
 * events the camera counts as delivered, so it is let finish (within the stop deadline) and its
 * events are emitted; then the subscription is given back (Unsubscribe) or kept for the next start:
 * its reference and termination time go to the adapter's durable state, and the next start
 * resumes it (Renew on the stored reference), so the events the camera queued meanwhile are not
 * lost. A camera that no longer knows it gets a new subscription. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/metrics.h"
#include "onvif_camera.h"

#define STATE_KEY "subscription"

/* ---- the stored subscription: "<termination, wall ms>\n<address>\n<ReferenceParameters>" ---- */

static void subscription_store(struct cam *c)
{
	struct agw_adapter_ctx *ctx = c->ad->ctx;
	if (!ctx->state_put || !c->sub_url)
		return;
	int64_t left = c->term_deadline_ms - onvif_now_ms(c->ad);
	char *value = NULL;
	if (asprintf(&value, "%" PRId64 "\n%s\n%s", agw_now_ms() + left, c->sub_url, c->sub_refs ? c->sub_refs : "") < 0)
		return;
	int rc = ctx->state_put(ctx, c->id, STATE_KEY, value);
	if (rc < 0)
		agw_log_warn(COMPONENT, c->id, "cannot store the subscription for the next start: %s", strerror(-rc));
	free(value);
}

void agw_onvif_subscription_forget(struct cam *c)
{
	struct agw_adapter_ctx *ctx = c->ad->ctx;
	if (ctx->state_put)
		ctx->state_put(ctx, c->id, STATE_KEY, NULL);
}

void agw_onvif_subscription_saved(struct cam *c)
{
	subscription_store(c);
}

int agw_onvif_subscription_load(struct cam *c)
{
	struct agw_adapter_ctx *ctx = c->ad->ctx;
	char *value = NULL;
	if (!ctx->state_get || ctx->state_get(ctx, c->id, STATE_KEY, &value) < 0)
		return 0;
	int rc = 0;
	char *end = NULL;
	long long term = strtoll(value, &end, 10);
	char *addr = end && *end == '\n' ? end + 1 : NULL;
	char *nl = addr ? strchr(addr, '\n') : NULL;
	if (!nl || nl == addr || strncmp(addr, "http", 4) != 0) {
		agw_log_warn(COMPONENT, c->id, "stored subscription unreadable: ignored");
		agw_onvif_subscription_forget(c);
		goto out;
	}
	*nl = '\0';
	/* The stored termination time is the one of the last store (creation, or a graceful stop):
	 * Renews since then (not stored: one write per camera per renewal would load the loop) may
	 * have kept it alive, for example before a SIGKILL. So even a past time is tried: a Renew on
	 * the stored reference, and a new subscription when the camera no longer knows it. */
	int64_t left = (int64_t)term - agw_now_ms();
	if (left < 0)
		left = 0;
	rc = -ENOMEM;
	char *url = strdup(addr);
	char *refs = nl[1] ? strdup(nl + 1) : NULL;
	if (!url || (nl[1] && !refs)) {
		free(url);
		free(refs);
		goto out;
	}
	free(c->sub_url);
	free(c->sub_refs);
	c->sub_url = url;
	c->sub_refs = refs;
	c->pull_doc_ok = false;
	c->sub_resumable = true;
	c->term_deadline_ms = onvif_now_ms(c->ad) + left;
	rc = 1;
	agw_log_debug(COMPONENT, c->id, "stored subscription found (%lld s left): resuming it", (long long)(left / 1000));
out:
	free(value);
	return rc;
}

void agw_onvif_subscription_resumed(struct cam *c)
{
	c->sub_resumable = false;
	agw_metric_add("agw_onvif_subscriptions_resumed_total", NULL, 1);
	agw_log_info(COMPONENT, c->id, "subscription of the previous run resumed");
}

/* The camera does not know the stored subscription (any more): no Unsubscribe, a new one. */
void agw_onvif_subscription_resume_failed(struct cam *c, const char *why)
{
	c->sub_resumable = false;
	free(c->sub_url);
	c->sub_url = NULL;
	free(c->sub_refs);
	c->sub_refs = NULL;
	c->pull_doc_ok = false;
	agw_onvif_subscription_forget(c);
	agw_metric_add("agw_onvif_subscriptions_resume_failed_total", NULL, 1);
	agw_log_info(COMPONENT, c->id, "the camera no longer knows the stored subscription (%s): subscribing anew", why);
	agw_onvif_cam_send(c, c->have_services ? AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION : AGW_ONVIF_GET_SERVICES);
}

/* ---- leaving ---- */

/* After the pull: give the subscription back or keep it, then close. */
void agw_onvif_cam_leave_next(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	if (c->leave_unsubscribe && c->sub_url && !c->unsubscribe_sent) {
		c->unsubscribe_sent = true;
		agw_onvif_cam_send(c, AGW_ONVIF_UNSUBSCRIBE);
		if (c->busy)
			return; /* agw_onvif_cam_done comes back here */
	}
	if (c->leave_unsubscribe)
		agw_onvif_subscription_forget(c);
	else if (c->leave_keep && c->sub_url)
		subscription_store(c);
	if (c->n_held && !ad->refused)
		agw_onvif_resume(ad); /* what the core refused gets one more chance before it is lost */
	agw_onvif_list_del(&ad->retired, c);
	agw_onvif_cam_close(c);
}

void agw_onvif_cam_leave(struct cam *c, bool unsubscribe)
{
	struct onvif_adapter *ad = c->ad;
	if (c->state == CAM_LEAVING || c->state == CAM_CLOSED)
		return;
	bool pulling = c->busy && c->op == AGW_ONVIF_PULL_MESSAGES;
	c->leave_keep = agw_onvif_cam_subscribed(c) || (c->sub_resumable && c->sub_url);
	c->leave_unsubscribe = unsubscribe;
	uv_timer_stop(&c->timer);
	c->timer_fn = NULL;
	agw_onvif_cam_set_state(c, CAM_LEAVING);
	ad->leaving++;
	if (pulling)
		return; /* the answer may carry events the camera counts as delivered: agw_onvif_cam_done */
	if (c->busy) {
		/* anything else (Renew, a bootstrap step) is abandoned: it carries no events */
		agw_curl_loop_cancel(onvif_cam_http(c), c->easy);
		c->busy = false;
	}
	agw_onvif_cam_leave_next(c);
}
