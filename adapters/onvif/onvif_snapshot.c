/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Evidence pictures of ONVIF cameras (the adapter's snapshot() hook).
 *
 * GetProfiles on the media service, GetSnapshotUri for the first profile, then an HTTP GET of that
 * URI with Digest. A camera without a snapshot URI (GetSnapshotUri refused, no or an empty Uri, or
 * the GET answered 404 or 501) gets GetStreamUri (RTP-Unicast over RTSP) and one keyframe of the
 * stream as a JPEG (onvif_keyframe.c, on a worker pool). The way that worked is kept on the camera,
 * so later pictures are one GET or one keyframe; a kept way that fails other than by a timeout is
 * forgotten and the next picture asks again. Each SOAP step is its own bounded request
 * (alarmgw/http_get.h) on the camera's curl loop, apart from the event pull (which it never
 * delays); the keyframe gets what is left of the snapshot's deadline. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/http_get.h"
#include "alarmgw/metrics.h"
#include "alarmgw/str.h"
#include "onvif_camera.h"
#include "onvif_keyframe.h"
#include "onvif_url.h"

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
	struct agw_http_get *get;
	struct agw_onvif_keyframe *kf;
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
	struct agw_onvif_request req = {
		.op = p->op,
		.to = p->media_url,
		.username = p->wsse ? p->username : NULL,
		.password = p->password,
		.camera_now_ms = agw_now_ms() + p->offset_ms,
		.profile_token = p->token,
	};
	char *body = NULL;
	const char *action = NULL;
	int rc = agw_onvif_request_build(p->ad->soap, &req, &body, &action);
	if (rc < 0)
		return rc;
	char ct[256];
	snprintf(ct, sizeof(ct), "application/soap+xml; charset=utf-8; action=\"%s\"", action);
	struct agw_http_get_opts o = {
		/* Digest on SOAP calls only once the camera asked for it (as the event pull learned):
		 * libcurl's Digest starts with an empty POST, which WS-Security cameras refuse */
		.url = p->media_url, .username = p->digest ? p->username : NULL, .password = p->password,
		.max_bytes = (size_t)p->ad->max_response_bytes, .timeout_ms = p->s->timeout_ms,
		.tls_verify = p->ad->tls_verify, .ca_file = p->ad->ca_file, .post_body = body, .content_type = ct};
	rc = agw_http_get_start(p->http, &o, on_answer, p, &p->get);
	free(body);
	return rc;
}

static int get_picture(struct snap *p)
{
	p->op = AGW_ONVIF_OP__COUNT;
	struct agw_http_get_opts o = {
		.url = p->uri, .username = p->username, .password = p->password, .max_bytes = p->s->max_bytes,
		.timeout_ms = p->s->timeout_ms, .tls_verify = p->ad->tls_verify, .ca_file = p->ad->ca_file};
	return agw_http_get_start(p->http, &o, on_answer, p, &p->get);
}

static void on_keyframe(void *arg, const struct agw_onvif_keyframe_result *r)
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
	if (c && !c->stream_uri)
		c->stream_uri = strdup(p->stream);
	struct agw_picture pic = {.type = "keyframe", .source = p->stream, .data = r->jpeg, .len = r->len,
				  .camera_time_ms = r->taken_ms + p->offset_ms};
	finish(p, &pic);
}

/* The stream's keyframe, within what is left of the snapshot's deadline. */
static int get_keyframe(struct snap *p)
{
	int64_t left = p->s->timeout_ms - (onvif_now_ms(p->ad) - p->started_ms);
	if (left <= 0)
		return -ETIMEDOUT;
	return agw_onvif_keyframe_start(p->ad, p->stream, p->username, p->password, left, p->s->max_bytes, on_keyframe,
					p, &p->kf);
}

/* The snapshot URI gave nothing: the stream's keyframe instead (GetProfiles first when the
 * profile is not known yet, as with a kept snapshot URI that now answers 404). */
static int fall_back(struct snap *p, const char *why)
{
	snprintf(p->no_snapshot, sizeof(p->no_snapshot), "%s", why);
	struct cam *c = agw_onvif_cam_find(p->ad, p->camera_id);
	if (c && c->snap_uri) {
		free(c->snap_uri);
		c->snap_uri = NULL;
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
	if (c && !c->snap_uri)
		c->snap_uri = strdup(p->uri);
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
	if (ad->stopping)
		return -ESHUTDOWN;
	if (!c)
		return -ENOTSUP;
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
	    agw_strdup_to(&p->media_url, c->media_url ? c->media_url : c->device_url) < 0)
		goto fail;
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
	agw_onvif_keyframe_cancel(p->kf);
	snap_free(p);
	s->adapter = NULL;
}
