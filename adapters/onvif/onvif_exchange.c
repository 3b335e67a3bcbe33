/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One SOAP request at a time per camera over its curl easy handle: building and starting it,
 * collecting the answer (bounded), and what the transport outcome (timeout, refused, HTTP status,
 * authentication) means for the camera before the SOAP answer is read. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/metrics.h"
#include "alarmgw/str.h"
#include "onvif_camera.h"

static enum cam_error transport_error(CURLcode code)
{
	switch (code) {
	case CURLE_OPERATION_TIMEDOUT: return ERR_TIMEOUT;
	case CURLE_COULDNT_CONNECT: return ERR_REFUSED;
	default: return ERR_NETWORK;
	}
}

/* No answer: refused, reset, timed out. */
static void transport_failed(struct cam *c, CURLcode code, int64_t now)
{
	enum cam_error e = transport_error(code);
	agw_onvif_cam_error(c, e, "%s: %s", agw_onvif_op_name(c->op), curl_easy_strerror(code));
	if (c->op == AGW_ONVIF_PULL_MESSAGES && code == CURLE_OPERATION_TIMEDOUT)
		agw_onvif_cam_pull_abandoned(c, now);
	agw_onvif_cam_set_offline(c, true, agw_onvif_error_names[e]);
	if (c->op == AGW_ONVIF_UNSUBSCRIBE) {
		agw_onvif_cam_handle_response(c, now);
	} else if (agw_onvif_cam_subscribed(c) && (c->op == AGW_ONVIF_PULL_MESSAGES || c->op == AGW_ONVIF_RENEW) &&
		   now < c->term_deadline_ms) {
		/* the subscription may outlive a network blip: try it again before recreating */
		agw_onvif_cam_after(c, agw_onvif_cam_backoff_ms(c), agw_onvif_cam_pull);
	} else {
		agw_onvif_cam_retry_later(c);
	}
}

/* An HTTP answer that is not a SOAP document to read (404, 401, 403, other statuses): handled
 * here (true), or left to the SOAP readers (false: 200, or 400/500 carrying a SOAP Fault). */
static bool status_handled(struct cam *c, long status, int64_t now)
{
	struct onvif_adapter *ad = c->ad;
	agw_onvif_cam_set_offline(c, false, NULL);
	if (status == 404 && c->op == AGW_ONVIF_RENEW && c->state == CAM_BOOTSTRAP) {
		agw_onvif_subscription_resume_failed(c, "HTTP 404");
		return true;
	}
	if (status == 404 && (c->op == AGW_ONVIF_PULL_MESSAGES || c->op == AGW_ONVIF_RENEW)) {
		agw_onvif_cam_error(c, ERR_NOT_FOUND, "%s: HTTP 404, the subscription is gone", agw_onvif_op_name(c->op));
		agw_onvif_cam_set_channel_lost(c, true, "subscription gone (404)");
		agw_onvif_cam_recreate(c, ERR_NOT_FOUND);
		return true;
	}
	if (status == 401 && ad->auth_mode != AUTH_WSSE && ad->auth_mode != AUTH_NONE && agw_onvif_cam_enable_digest(c)) {
		/* the camera wants HTTP Digest (instead of or on top of WS-Security): ask again */
		agw_log_info(COMPONENT, c->id, "camera asks for HTTP Digest authentication");
		agw_onvif_cam_send(c, c->op);
		return true;
	}
	if (status == 401 || status == 403) {
		agw_onvif_cam_error(c, ERR_AUTH, "%s: HTTP %ld, check the camera's credentials", agw_onvif_op_name(c->op), status);
		if (c->op == AGW_ONVIF_PULL_MESSAGES || c->op == AGW_ONVIF_RENEW)
			agw_onvif_cam_set_channel_lost(c, true, "not authorized");
		if (c->op == AGW_ONVIF_UNSUBSCRIBE)
			agw_onvif_cam_handle_response(c, now);
		else if (agw_onvif_cam_subscribed(c))
			agw_onvif_cam_recreate(c, ERR_AUTH);
		else
			agw_onvif_cam_retry_later(c);
		return true;
	}
	if ((status < 200 || status >= 300) && status != 400 && status != 500) {
		agw_onvif_cam_error(c, ERR_HTTP, "%s: HTTP %ld", agw_onvif_op_name(c->op), status);
		if (c->op == AGW_ONVIF_UNSUBSCRIBE)
			agw_onvif_cam_handle_response(c, now);
		else if (agw_onvif_cam_subscribed(c))
			agw_onvif_cam_recreate(c, ERR_HTTP);
		else
			agw_onvif_cam_retry_later(c);
		return true;
	}
	return false;
}

void agw_onvif_cam_done(struct agw_curl_req *req, CURLcode code)
{
	struct cam *c = (struct cam *)req;
	struct onvif_adapter *ad = c->ad;
	int64_t now = onvif_now_ms(ad);
	long status = 0;
	c->busy = false;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	if (c->state == CAM_CLOSED)
		return;
	if (!c->resp && (c->resp = calloc(1, 1)))
		c->resp_cap = 1; /* an empty answer reads as "" (the buffer comes with the first byte) */
	if (!c->resp)
		code = CURLE_OUT_OF_MEMORY; /* a transport failure: retried later */
	if (c->state == CAM_LEAVING) {
		/* the pull it waited for, or its Unsubscribe: then on with leaving (onvif_leave.c) */
		if (c->op == AGW_ONVIF_PULL_MESSAGES && ((code == CURLE_OK && status == 200) || c->resp_too_big)) {
			struct agw_onvif_pull_info info;
			char err[512];
			agw_onvif_cam_deliver(c, now, &info, err, sizeof(err));
		} else if (c->op == AGW_ONVIF_UNSUBSCRIBE) {
			free(c->sub_url);
			c->sub_url = NULL;
			free(c->sub_refs);
			c->sub_refs = NULL;
		}
		agw_onvif_cam_leave_next(c);
		return;
	}
	if (ad->stopping)
		return; /* every camera is leaving by then: not reached */
	if (c->resp_too_big) {
		/* the camera answered: it is online, but this answer is refused */
		agw_onvif_cam_set_offline(c, false, NULL);
		agw_onvif_cam_error(c, ERR_OVERSIZED, "%s: response over %lld bytes", agw_onvif_op_name(c->op),
			  (long long)ad->max_response_bytes);
		if (c->op == AGW_ONVIF_PULL_MESSAGES)
			agw_onvif_cam_handle_pull(c, now); /* what was received is read, the rest named */
		else if (c->op == AGW_ONVIF_UNSUBSCRIBE)
			agw_onvif_cam_handle_response(c, now);
		else
			agw_onvif_cam_retry_later(c);
		return;
	}
	if (code != CURLE_OK || status == 0) {
		transport_failed(c, code, now);
		return;
	}
	if (status_handled(c, status, now))
		return;
	/* 200, or 400/500 carrying a SOAP Fault */
	if (c->op == AGW_ONVIF_PULL_MESSAGES)
		agw_onvif_cam_handle_pull(c, now);
	else
		agw_onvif_cam_handle_response(c, now);
}

size_t agw_onvif_cam_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct cam *c = arg;
	size_t n = size * nmemb;
	size_t room = (size_t)c->ad->max_response_bytes - c->resp_len;
	bool too_big = n > room;
	if (too_big)
		n = room; /* the start of the answer is kept: its complete messages can be read */
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
	if (too_big) {
		c->resp_too_big = true;
		return 0; /* aborts the transfer */
	}
	return n;
}

static bool use_wsse(const struct cam *c, enum agw_onvif_op op)
{
	/* GetSystemDateAndTime is always sent without credentials: it is how the clock is learned */
	return c->username && *c->username && op != AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME && !c->no_wsse &&
	       (c->ad->auth_mode == AUTH_AUTO || c->ad->auth_mode == AUTH_WSSE);
}

void agw_onvif_cam_send(struct cam *c, enum agw_onvif_op op)
{
	struct onvif_adapter *ad = c->ad;
	const char *url = op <= AGW_ONVIF_GET_DEVICE_INFORMATION ? c->device_url
			  : op == AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION ? c->events_url
			  : c->sub_url;
	if (!url) {
		agw_onvif_cam_error(c, ERR_INTERNAL, "%s: no address to send to", agw_onvif_op_name(op));
		agw_onvif_cam_retry_later(c);
		return;
	}
	int64_t now = onvif_now_ms(ad);
	struct agw_onvif_request req = {
		.op = op,
		.to = url,
		.username = use_wsse(c, op) ? c->username : NULL,
		.password = c->password,
		.camera_now_ms = agw_now_ms() + c->offset_ms, /* the WS-Security Created time */
		.duration = op == AGW_ONVIF_PULL_MESSAGES ? ad->pull_duration : ad->term_duration,
		.message_limit = (int)ad->message_limit,
		.reference_params = c->sub_refs,
	};
	const char *action = NULL;
	char *body = NULL;
	int rc = agw_onvif_request_build(ad->soap, &req, &body, &action);
	if (rc < 0) {
		agw_onvif_cam_error(c, ERR_INTERNAL, "%s: cannot build the request: %s", agw_onvif_op_name(op), strerror(-rc));
		agw_onvif_cam_retry_later(c);
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
		agw_onvif_cam_error(c, ERR_INTERNAL, "out of memory");
		agw_onvif_cam_retry_later(c);
		return;
	}
	c->headers = h2;
	/* The answer buffer is allocated by the first byte of the answer: a camera waiting in its
	 * long-poll (most of them, most of the time) holds none, and one large answer does not
	 * stay with the camera for ever. */
	free(c->resp);
	c->resp = NULL;
	c->resp_cap = 0;
	c->resp_len = 0;
	c->resp_too_big = false;
	c->resp_cut = NULL;
	c->op = op;
	c->sent_ms = now;
	c->sent_wall_ms = agw_now_ms();
	int64_t timeout = ad->request_timeout_ms;
	if (op == AGW_ONVIF_PULL_MESSAGES)
		timeout += ad->pull_timeout_ms;
	else if (op == AGW_ONVIF_UNSUBSCRIBE && (ad->stopping || c->state == CAM_LEAVING))
		timeout = ad->unsubscribe_timeout_ms;
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)timeout);
	if (agw_curl_loop_start(onvif_cam_http(c), c->easy) < 0) {
		agw_onvif_cam_error(c, ERR_INTERNAL, "%s: cannot start the transfer", agw_onvif_op_name(op));
		agw_onvif_cam_retry_later(c);
		return;
	}
	c->busy = true;
}

/* curl negotiates Digest with an empty POST first; only cameras that asked for it (401) or are
 * configured digest-only get that round trip. */
bool agw_onvif_cam_enable_digest(struct cam *c)
{
	if (c->digest || !c->username || !*c->username)
		return false;
	c->digest = true;
	curl_easy_setopt(c->easy, CURLOPT_HTTPAUTH, CURLAUTH_DIGEST);
	curl_easy_setopt(c->easy, CURLOPT_USERNAME, c->username);
	curl_easy_setopt(c->easy, CURLOPT_PASSWORD, c->password ? c->password : "");
	return true;
}
