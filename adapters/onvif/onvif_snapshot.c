/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Evidence pictures of ONVIF cameras (the adapter's snapshot() hook): GetProfiles on the media
 * service, GetSnapshotUri for the first profile, then an HTTP GET of that URI with Digest. The
 * URI is kept on the camera, so later pictures are one GET. Each step is its own bounded request
 * on the camera's curl loop, apart from the event pull (which it never delays). A camera whose
 * media service answers no snapshot URI gives no picture and says so (the RTSP keyframe path
 * through GetStreamUri is not wired here: docs/case-message.md "Evidence"). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/http_get.h"
#include "alarmgw/str.h"
#include "onvif_camera.h"
#include "onvif_url.h"

struct snap {
	struct agw_snapshot *s;
	struct onvif_adapter *ad;
	struct agw_curl_loop *http;
	char *camera_id, *username, *password, *media_url;
	int64_t offset_ms;
	bool wsse, digest;
	enum agw_onvif_op op; /* GET_PROFILES, GET_SNAPSHOT_URI, or COUNT for the picture */
	char *token, *uri;
	struct agw_http_get *get;
};

static void snap_free(struct snap *p)
{
	free(p->camera_id);
	free(p->username);
	free(p->password);
	free(p->media_url);
	free(p->token);
	free(p->uri);
	free(p);
}

static void snap_fail(struct snap *p, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void snap_fail(struct snap *p, int status, const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	struct agw_snapshot *s = p->s;
	struct agw_picture pic = {.status = status < 0 ? status : -EIO, .reason = reason, .type = "snapshot",
				  .source = p->uri ? p->uri : p->media_url, .camera_time_ms = AGW_TIME_UNKNOWN};
	s->adapter = NULL;
	s->done(s, &pic);
	snap_free(p);
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

/* The snapshot URI learned: kept on the camera (if it is still there) for the next pictures. */
static void keep_uri(struct snap *p)
{
	struct cam *c = agw_onvif_cam_find(p->ad, p->camera_id);
	if (c && !c->snap_uri)
		c->snap_uri = strdup(p->uri);
}

static void on_answer(void *arg, int status, const char *reason, const void *body, size_t len, const char *ctype)
{
	struct snap *p = arg;
	p->get = NULL;
	if (p->op == AGW_ONVIF_OP__COUNT) {
		if (status < 0) {
			snap_fail(p, status, "snapshot %s: %s", p->uri, reason);
			return;
		}
		if (ctype && strncmp(ctype, "image/", 6) != 0) {
			snap_fail(p, -EPROTO, "snapshot %s: content type %.60s, not a picture", p->uri, ctype);
			return;
		}
		struct agw_snapshot *s = p->s;
		struct agw_picture pic = {.type = "snapshot", .source = p->uri, .data = body, .len = len,
					  .camera_time_ms = agw_now_ms() + p->offset_ms};
		keep_uri(p);
		s->adapter = NULL;
		struct snap *dead = p;
		s->done(s, &pic);
		snap_free(dead);
		return;
	}
	/* a SOAP Fault comes with 400/500 and is worth reading for its reason */
	if (status < 0 && !(len > 0 && status == -EPROTO)) {
		snap_fail(p, status, "%s: %s", agw_onvif_op_name(p->op), reason);
		return;
	}
	struct agw_onvif_response r = {0};
	char err[256];
	int rc = agw_onvif_response_parse(p->ad->soap, p->op, body, len, &r, err, sizeof(err));
	if (rc == 0 && p->op == AGW_ONVIF_GET_PROFILES && r.profile_token) {
		p->token = r.profile_token;
		r.profile_token = NULL;
		p->op = AGW_ONVIF_GET_SNAPSHOT_URI;
		rc = send_soap(p);
	} else if (rc == 0 && p->op == AGW_ONVIF_GET_SNAPSHOT_URI && r.uri) {
		struct cam *c = agw_onvif_cam_find(p->ad, p->camera_id);
		p->uri = c ? agw_onvif_rewrite_address(c->scheme, c->authority, c->host, r.uri) : strdup(r.uri);
		rc = p->uri ? get_picture(p) : -EINVAL;
	} else if (rc == 0) {
		rc = -ENOENT;
		snprintf(err, sizeof(err), "no %s in the answer", p->op == AGW_ONVIF_GET_PROFILES ? "profile" : "snapshot URI");
	}
	agw_onvif_response_clear(&r);
	if (rc < 0)
		snap_fail(p, rc, "%s: %s", agw_onvif_op_name(p->op), rc == -ENOMEM ? "out of memory" : err);
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
	p->digest = c->digest;
	p->wsse = c->username && *c->username && !c->no_wsse &&
		  (ad->auth_mode == AUTH_AUTO || ad->auth_mode == AUTH_WSSE);
	int rc = -ENOMEM;
	if (agw_strdup_to(&p->camera_id, c->id) < 0 || agw_strdup_to(&p->username, c->username) < 0 ||
	    agw_strdup_to(&p->password, c->password) < 0 ||
	    agw_strdup_to(&p->media_url, c->media_url ? c->media_url : c->device_url) < 0 ||
	    agw_strdup_to(&p->uri, c->snap_uri) < 0)
		goto fail;
	if (p->uri) {
		rc = get_picture(p);
	} else {
		p->op = AGW_ONVIF_GET_PROFILES;
		rc = send_soap(p);
	}
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
	snap_free(p);
	s->adapter = NULL;
}
