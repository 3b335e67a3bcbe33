/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One SOAP request at a time per camera over its curl easy handle: building and starting it,
 * collecting the answer (bounded), and what the transport outcome (timeout, refused, HTTP status,
 * authentication) means for the camera before the SOAP answer is read. And the camera's other
 * exchange, evidence pictures, on requests of their own (end of file). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/http_get.h"
#include "alarmgw/metrics.h"
#include "alarmgw/str.h"
#include "alarmgw/vendor_routes.h"
#include "onvif_camera.h"
#include "onvif_url.h"
#include "rtsp_grab.h"

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
			c->pull_doc_ok = false;
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

/* The request document into c->body. A PullMessages of the same subscription reuses the last
 * one with fresh WS-Security fields; any other request is serialized by gSOAP. */
static int cam_body(struct cam *c, const struct agw_onvif_request *req)
{
	const char *action;
	char *body = NULL;
	int rc;
	bool wsse = req->username && *req->username;
	if (req->op == AGW_ONVIF_PULL_MESSAGES && c->pull_doc_ok && c->body && c->pull_doc.wsse == wsse) {
		struct agw_onvif_wsse f;
		if (!c->pull_doc.wsse)
			return 0;
		if ((rc = agw_onvif_wsse_make(req->password, req->camera_now_ms, &f)) < 0)
			return rc;
		if (agw_onvif_pull_doc_refresh(c->body, &c->pull_doc, &f) == 0)
			return 0;
		/* Created changed length (a camera clock past year 9999 or before 1000): write it anew */
	}
	c->pull_doc_ok = false;
	if (req->op == AGW_ONVIF_PULL_MESSAGES && (rc = agw_onvif_pull_doc_build(c->ad->soap, req, &body, &c->pull_doc)) == 0)
		c->pull_doc_ok = true;
	else if ((rc = agw_onvif_request_build(c->ad->soap, req, &body, &action)) < 0)
		return rc;
	free(c->body);
	c->body = body;
	return 0;
}

/* The headers depend on the operation only (its SOAP action): kept while it repeats. */
static int cam_headers(struct cam *c, enum agw_onvif_op op)
{
	if (c->headers && c->headers_op == op)
		return 0;
	curl_slist_free_all(c->headers);
	c->headers = NULL;
	char ct[512];
	snprintf(ct, sizeof(ct), "Content-Type: application/soap+xml; charset=utf-8; action=\"%s\"",
		 agw_onvif_op_action(op));
	struct curl_slist *h = curl_slist_append(NULL, ct);
	struct curl_slist *h2 = h ? curl_slist_append(h, "Expect:") : NULL;
	if (!h2) {
		curl_slist_free_all(h);
		return -ENOMEM;
	}
	c->headers = h2;
	c->headers_op = op;
	return 0;
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
	int rc = cam_body(c, &req);
	if (rc < 0) {
		agw_onvif_cam_error(c, ERR_INTERNAL, "%s: cannot build the request: %s", agw_onvif_op_name(op), strerror(-rc));
		agw_onvif_cam_retry_later(c);
		return;
	}
	if (cam_headers(c, op) < 0) {
		agw_onvif_cam_error(c, ERR_INTERNAL, "out of memory");
		agw_onvif_cam_retry_later(c);
		return;
	}
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

/* ---- evidence pictures (the adapter's snapshot() hook) ----
 *
 * GetProfiles on the media service, GetSnapshotUri for the first profile, then an HTTP GET of that
 * URI with Digest. A camera without a snapshot URI (GetSnapshotUri refused, no or an empty Uri, or
 * the GET answered 404 or 501) gets GetStreamUri (RTP-Unicast over RTSP) and one keyframe of the
 * stream as a JPEG (adapters/rtsp/rtsp_grab.h, on a worker pool). The way that worked is kept on the camera,
 * so later pictures are one GET or one keyframe; a kept way that fails other than by a timeout is
 * forgotten and the next picture asks again. Each SOAP step is its own bounded request
 * (alarmgw/http_get.h) on the camera's curl loop, apart from the event pull (which it never
 * delays); the keyframe gets what is left of the snapshot's deadline. */

/* ---- SOAP on the media service, apart from the event pull ---- */

int agw_onvif_media_peer_init(struct onvif_media_peer *m, const struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	*m = (struct onvif_media_peer){.offset_ms = c->offset_ms, .digest = c->digest,
				       .wsse = c->username && *c->username && !c->no_wsse &&
					       (ad->auth_mode == AUTH_AUTO || ad->auth_mode == AUTH_WSSE)};
	if (agw_strdup_to(&m->camera_id, c->id) < 0 || agw_strdup_to(&m->username, c->username) < 0 ||
	    agw_strdup_to(&m->password, c->password) < 0 ||
	    agw_strdup_to(&m->media_url, c->media_url ? c->media_url : c->device_url) < 0) {
		agw_onvif_media_peer_clear(m);
		return -ENOMEM;
	}
	return 0;
}

void agw_onvif_media_peer_clear(struct onvif_media_peer *m)
{
	free(m->camera_id);
	free(m->username);
	free(m->password);
	free(m->media_url);
	memset(m, 0, sizeof(*m));
}

int agw_onvif_media_send(struct onvif_adapter *ad, struct agw_curl_loop *http, const struct onvif_media_peer *m,
			 enum agw_onvif_op op, const char *profile_token, int64_t timeout_ms, agw_http_get_fn done,
			 void *arg, struct agw_http_get **ret)
{
	struct agw_onvif_request req = {
		.op = op,
		.to = m->media_url,
		.username = m->wsse ? m->username : NULL,
		.password = m->password,
		.camera_now_ms = agw_now_ms() + m->offset_ms,
		.profile_token = profile_token,
	};
	char *body = NULL;
	const char *action = NULL;
	int rc = agw_onvif_request_build(ad->soap, &req, &body, &action);
	if (rc < 0)
		return rc;
	char ct[256];
	snprintf(ct, sizeof(ct), "application/soap+xml; charset=utf-8; action=\"%s\"", action);
	struct agw_http_get_opts o = {
		/* Digest on SOAP calls only once the camera asked for it (as the event pull learned):
		 * libcurl's Digest starts with an empty POST, which WS-Security cameras refuse */
		.url = m->media_url, .username = m->digest ? m->username : NULL, .password = m->password,
		.max_bytes = (size_t)ad->max_response_bytes, .timeout_ms = timeout_ms,
		.tls_verify = ad->tls_verify, .ca_file = ad->ca_file, .post_body = body, .content_type = ct};
	rc = agw_http_get_start(http, &o, done, arg, ret);
	free(body);
	return rc;
}

struct snap {
	struct agw_snapshot *s;
	struct onvif_adapter *ad;
	struct agw_curl_loop *http;
	char *camera_id, *username, *password, *media_url;
	int64_t offset_ms;
	int64_t started_ms;   /* monotonic: the keyframe gets what is left of the deadline */
	bool wsse, digest;
	bool want_stream;     /* the snapshot URI failed: GetProfiles leads to GetStreamUri */
	enum agw_onvif_op op; /* GET_PROFILES, GET_SNAPSHOT_URI, GET_STREAM_URI, or COUNT for the picture */
	char *token, *uri, *stream;
	char no_snapshot[200]; /* why the snapshot URI gave nothing, for the reason of a failed fallback */
	bool channel;          /* an NVR channel's profile: its URIs are not the device's to keep */
	struct agw_http_get *get;
	struct agw_rtsp_grab *kf;
};

static void snap_free(struct snap *p)
{
	free(p->camera_id);
	free(p->username);
	free(p->password);
	free(p->media_url);
	free(p->token);
	free(p->uri);
	free(p->stream);
	free(p);
}

static void finish(struct snap *p, const struct agw_picture *pic)
{
	struct agw_snapshot *s = p->s;
	s->adapter = NULL;
	s->done(s, pic);
	snap_free(p);
}

static void snap_fail(struct snap *p, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void snap_fail(struct snap *p, int status, const char *fmt, ...)
{
	char what[256], reason[480];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (p->no_snapshot[0])
		snprintf(reason, sizeof(reason), "%s; %s", p->no_snapshot, what);
	else
		snprintf(reason, sizeof(reason), "%s", what);
	struct agw_picture pic = {.status = status < 0 ? status : -EIO, .reason = reason,
				  .type = p->stream ? "keyframe" : "snapshot",
				  .source = p->stream ? p->stream : p->uri ? p->uri : p->media_url,
				  .camera_time_ms = AGW_TIME_UNKNOWN};
	finish(p, &pic);
}

static void on_answer(void *arg, int status, const char *reason, const void *body, size_t len, const char *ctype);

static int send_soap(struct snap *p)
{
	/* the snapshot's own copies (the camera may go meanwhile) */
	const struct onvif_media_peer m = {.camera_id = p->camera_id, .username = p->username, .password = p->password,
					   .media_url = p->media_url, .offset_ms = p->offset_ms, .wsse = p->wsse,
					   .digest = p->digest};
	return agw_onvif_media_send(p->ad, p->http, &m, p->op, p->token, p->s->timeout_ms, on_answer, p, &p->get);
}

static int get_picture(struct snap *p)
{
	p->op = AGW_ONVIF_OP__COUNT;
	struct agw_http_get_opts o = {
		.url = p->uri, .username = p->username, .password = p->password, .max_bytes = p->s->max_bytes,
		.timeout_ms = p->s->timeout_ms, .tls_verify = p->ad->tls_verify, .ca_file = p->ad->ca_file};
	return agw_http_get_start(p->http, &o, on_answer, p, &p->get);
}

static void on_keyframe(void *arg, const struct agw_rtsp_grab_result *r)
{
	struct snap *p = arg;
	p->kf = NULL;
	struct cam *c = agw_onvif_cam_find(p->ad, p->camera_id);
	if (r->status < 0) {
		/* a stream that timed out may answer next time; one that refused is asked for again */
		if (c && r->status != -ETIMEDOUT && c->stream_uri && strcmp(c->stream_uri, p->stream) == 0) {
			free(c->stream_uri);
			c->stream_uri = NULL;
		}
		snap_fail(p, r->status, "%s", r->reason);
		return;
	}
	if (c && !c->stream_uri && !p->channel)
		c->stream_uri = strdup(p->stream);
	struct agw_picture pic = {.type = "keyframe", .source = p->stream, .data = r->jpeg, .len = r->len,
				  .camera_time_ms = r->taken_ms + p->offset_ms};
	finish(p, &pic);
}

/* The stream's keyframe, within what is left of the snapshot's deadline. */
static int get_keyframe(struct snap *p)
{
	struct onvif_adapter *ad = p->ad;
	int64_t left = p->s->timeout_ms - (onvif_now_ms(ad) - p->started_ms);
	if (left <= 0)
		return -ETIMEDOUT;
	if (ad->stopping)
		return -ESHUTDOWN;
	/* the pool starts with the first camera that needs it: most sites never do */
	int r = ad->grabber ? 0 : agw_rtsp_grabber_new(ad->ctx->loop, (unsigned)ad->keyframe_threads, &ad->grabber);
	struct agw_rtsp_tls tls = {.verify = ad->tls_verify, .ca_file = ad->ca_file};
	struct agw_rtsp_grab_opts o = {.url = p->stream, .username = p->username, .password = p->password,
				       .timeout_ms = left, .max_bytes = p->s->max_bytes, .tls = &tls};
	return r < 0 ? r : agw_rtsp_grab_start(ad->grabber, &o, on_keyframe, p, &p->kf);
}

/* The snapshot URI gave nothing: the stream's keyframe instead (GetProfiles first when the
 * profile is not known yet, as with a kept snapshot URI that now answers 404). */
static int fall_back(struct snap *p, const char *why)
{
	snprintf(p->no_snapshot, sizeof(p->no_snapshot), "%s", why);
	struct cam *c = p->channel ? NULL : agw_onvif_cam_find(p->ad, p->camera_id);
	if (c && c->snap_uri) {
		free(c->snap_uri);
		c->snap_uri = NULL;
		if (p->ad->ctx->snapshot_learned)
			p->ad->ctx->snapshot_learned(p->ad->ctx, c->id, NULL);
	}
	agw_metric_add("agw_onvif_snapshot_fallbacks_total", NULL, 1);
	p->want_stream = true;
	p->op = p->token ? AGW_ONVIF_GET_STREAM_URI : AGW_ONVIF_GET_PROFILES;
	return send_soap(p);
}

static void picture_answer(struct snap *p, int status, const char *reason, const void *body, size_t len,
			   const char *ctype)
{
	if (status == -ENOENT || status == -EOPNOTSUPP) {
		char why[200];
		snprintf(why, sizeof(why), "snapshot %.120s: %s", p->uri, reason);
		int rc = fall_back(p, why);
		if (rc < 0)
			snap_fail(p, rc, "GetStreamUri: %s", strerror(-rc));
		return;
	}
	if (status < 0) {
		snap_fail(p, status, "snapshot %s: %s", p->uri, reason);
		return;
	}
	if (ctype && strncmp(ctype, "image/", 6) != 0) {
		snap_fail(p, -EPROTO, "snapshot %s: content type %.60s, not a picture", p->uri, ctype);
		return;
	}
	struct cam *c = agw_onvif_cam_find(p->ad, p->camera_id);
	if (c && !c->snap_uri && !p->channel && (c->snap_uri = strdup(p->uri)) && p->ad->ctx->snapshot_learned)
		p->ad->ctx->snapshot_learned(p->ad->ctx, c->id, c->snap_uri); /* for pictures during the stop */
	struct agw_picture pic = {.type = "snapshot", .source = p->uri, .data = body, .len = len,
				  .camera_time_ms = agw_now_ms() + p->offset_ms};
	finish(p, &pic);
}

/* The next step after a SOAP answer parsed; err is what to say when it returns an error. */
static int next_step(struct snap *p, struct agw_onvif_response *r, char *err, size_t errlen)
{
	struct cam *c = agw_onvif_cam_find(p->ad, p->camera_id);
	switch (p->op) {
	case AGW_ONVIF_GET_PROFILES:
		if (!r->profile_token) {
			snprintf(err, errlen, "no profile in the answer");
			return -ENOENT;
		}
		p->token = r->profile_token;
		r->profile_token = NULL;
		p->op = p->want_stream ? AGW_ONVIF_GET_STREAM_URI : AGW_ONVIF_GET_SNAPSHOT_URI;
		return send_soap(p);
	case AGW_ONVIF_GET_SNAPSHOT_URI:
		if (!r->uri || !*r->uri)
			return fall_back(p, "GetSnapshotUri: no URI in the answer");
		p->uri = c ? agw_onvif_rewrite_address(c->scheme, c->authority, c->host, r->uri) : strdup(r->uri);
		return p->uri ? get_picture(p) : -ENOMEM;
	case AGW_ONVIF_GET_STREAM_URI:
		p->stream = r->uri && *r->uri && c ? agw_onvif_stream_address(c->host, r->uri) : NULL;
		if (!p->stream) {
			snprintf(err, errlen, "no rtsp:// URI in the answer");
			return -ENOENT;
		}
		return get_keyframe(p);
	default:
		return -EINVAL;
	}
}

static void on_answer(void *arg, int status, const char *reason, const void *body, size_t len, const char *ctype)
{
	struct snap *p = arg;
	p->get = NULL;
	if (p->op == AGW_ONVIF_OP__COUNT) {
		picture_answer(p, status, reason, body, len, ctype);
		return;
	}
	/* a SOAP Fault comes with 400/500 and is worth reading for its reason */
	if (status < 0 && !(len > 0 && status == -EPROTO)) {
		snap_fail(p, status, "%s: %s", agw_onvif_op_name(p->op), reason);
		return;
	}
	struct agw_onvif_response r = {0};
	char err[256] = "";
	int rc = agw_onvif_response_parse(p->ad->soap, p->op, body, len, &r, err, sizeof(err));
	if (rc < 0 && p->op == AGW_ONVIF_GET_SNAPSHOT_URI) {
		/* the camera refuses GetSnapshotUri (ActionNotSupported and the like): its stream */
		char why[300];
		snprintf(why, sizeof(why), "GetSnapshotUri: %s", err);
		err[0] = '\0';
		rc = fall_back(p, why);
	} else if (rc == 0) {
		rc = next_step(p, &r, err, sizeof(err));
	}
	agw_onvif_response_clear(&r);
	/* named after the step that failed to start or answered nothing usable */
	const char *step = p->op == AGW_ONVIF_OP__COUNT ? "snapshot" : p->kf || p->stream ? "keyframe" : agw_onvif_op_name(p->op);
	if (rc < 0)
		snap_fail(p, rc, "%s: %s", step, rc == -ENOMEM ? "out of memory" : err[0] ? err : strerror(-rc));
}

static int snap_begin(struct snap *p, const struct cam *c)
{
	if (p->channel) { /* an NVR channel: the URI of its own profile */
		p->op = AGW_ONVIF_GET_SNAPSHOT_URI;
		return send_soap(p);
	}
	if (c->snap_uri) {
		int rc = agw_strdup_to(&p->uri, c->snap_uri);
		return rc < 0 ? rc : get_picture(p);
	}
	if (c->stream_uri) {
		int rc = agw_strdup_to(&p->stream, c->stream_uri);
		return rc < 0 ? rc : get_keyframe(p);
	}
	p->op = AGW_ONVIF_GET_PROFILES;
	return send_soap(p);
}

int agw_onvif_snapshot(void *priv, struct agw_snapshot *s)
{
	struct onvif_adapter *ad = priv;
	struct cam *c = agw_onvif_cam_find(ad, s->camera_id);
	int ch = s->channel;
	const char *dev = ad->routes && !c ? agw_vendor_routes_device_of(ad->routes, s->camera_id, &ch) : NULL;
	if (dev) /* an NVR's channel row: its picture comes from the device, of its channel */
		c = agw_onvif_cam_find(ad, dev);
	if (ad->stopping)
		return -ESHUTDOWN;
	if (!c)
		return -ENOTSUP;
	/* an NVR channel's main profile (its place in the device's list; onvif_sources.c) */
	const char *profile = agw_onvif_sources_profile(c, s->channel > 0 ? s->channel : ch);
	struct snap *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->s = s;
	p->ad = ad;
	p->http = onvif_cam_http(c);
	p->offset_ms = c->offset_ms;
	p->started_ms = onvif_now_ms(ad);
	p->digest = c->digest;
	p->wsse = c->username && *c->username && !c->no_wsse &&
		  (ad->auth_mode == AUTH_AUTO || ad->auth_mode == AUTH_WSSE);
	int rc = -ENOMEM;
	if (agw_strdup_to(&p->camera_id, c->id) < 0 || agw_strdup_to(&p->username, c->username) < 0 ||
	    agw_strdup_to(&p->password, c->password) < 0 ||
	    agw_strdup_to(&p->media_url, c->media_url ? c->media_url : c->device_url) < 0 ||
	    agw_strdup_to(&p->token, profile) < 0)
		goto fail;
	p->channel = profile != NULL;
	rc = snap_begin(p, c);
	if (rc < 0)
		goto fail;
	s->adapter = p;
	return 0;
fail:
	snap_free(p);
	return rc;
}

void agw_onvif_snapshot_cancel(void *priv, struct agw_snapshot *s)
{
	(void)priv;
	struct snap *p = s->adapter;
	if (!p)
		return;
	agw_http_get_cancel(p->get);
	agw_rtsp_grab_cancel(p->kf);
	snap_free(p);
	s->adapter = NULL;
}
