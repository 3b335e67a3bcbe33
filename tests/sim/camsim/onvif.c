/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A camera's ONVIF endpoint: authentication, operation dispatch, answer shaping by misbehaviour. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "camsim.h"
#include "digest.h"
#include "soap.h"
#include "wsse.h"

#define SOAP_CONTENT_TYPE "application/soap+xml; charset=utf-8"
#define DEFAULT_LIFETIME 60.0
#define MAX_LIFETIME 86400.0
#define MAX_PULL_TIMEOUT 600.0
#define MAX_MESSAGE_LIMIT 1000

/* Operations by bit, for the "unsupported" misbehaviour. */
static const char *const op_names[] = {
	"GetSystemDateAndTime", "GetDeviceInformation", "GetCapabilities", "GetServices", "GetProfiles",
	"GetStreamUri", "GetSnapshotUri", "GetEventProperties", "CreatePullPointSubscription", "PullMessages",
	"Renew", "Unsubscribe", "GetVideoSources",
};

int camsim_onvif_ops_parse(const char *list, uint32_t *ret_mask)
{
	uint32_t mask = 0;
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i = 0;
		for (; i < sizeof(op_names) / sizeof(op_names[0]); i++)
			if (strlen(op_names[i]) == n && strncmp(op_names[i], p, n) == 0)
				break;
		if (i == sizeof(op_names) / sizeof(op_names[0]))
			return -EINVAL;
		mask |= 1u << i;
		p += n;
		if (*p == ',')
			p++;
	}
	*ret_mask = mask;
	return 0;
}

static bool op_unsupported(const struct camsim_camera *cam, const char *op)
{
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (strcmp(op_names[i], op) == 0)
			return cam->mb.unsupported & (1u << i);
	return false;
}

struct call {
	struct camsim_camera *cam;
	struct camsim_http_conn *conn;
	const struct camsim_http_request *http;
	struct camsim_soap_request soap;
};

/* Cuts a well-formed answer so that no parser can accept it. */
static void make_malformed(struct camsim_buf *b)
{
	size_t keep = b->len * 2 / 3;
	b->len = keep;
	if (b->data)
		b->data[keep] = '\0';
	camsim_buf_puts(b, "<tt:Broken attr=\"unterminated></env:Body>");
}

/* Pads the answer to at least bytes with a comment inside the Body: well-formed but huge. */
static void make_oversized(struct camsim_buf *b, size_t bytes)
{
	const char *tail = b->data ? strstr(b->data, "</env:Body>") : NULL;
	if (!tail)
		return;
	size_t head = (size_t)(tail - b->data);
	struct camsim_buf o = {0};
	camsim_buf_append(&o, b->data, head);
	camsim_buf_puts(&o, "<!-- ");
	if (bytes > b->len)
		camsim_buf_fill(&o, 'x', bytes - b->len);
	camsim_buf_puts(&o, " -->");
	camsim_buf_puts(&o, tail);
	camsim_buf_free(b);
	*b = o;
}

bool camsim_onvif_next_misbehaves(const struct camsim_camera *cam)
{
	return cam->mb.faults || cam->mb.malformed || cam->mb.oversized;
}

const char *const camsim_answer_names[CAMSIM_ANSWER__COUNT] = {
	[CAMSIM_ANSWER_OK] = "ok",
	[CAMSIM_ANSWER_FAULT] = "fault",
	[CAMSIM_ANSWER_MALFORMED] = "malformed",
	[CAMSIM_ANSWER_OVERSIZED] = "oversized",
};

enum camsim_answer camsim_onvif_shape(struct camsim_camera *cam, struct camsim_buf *b, const char *relates_to,
				      int *status)
{
	struct camsim_misbehaviour *mb = &cam->mb;
	camsim_tpl_restyle(b, &camsim_dialects[mb->dialect]);
	if (mb->faults > 0) {
		mb->faults--;
		camsim_buf_free(b);
		camsim_tpl_fault(b, relates_to, "env:Receiver", "ter:Action", "Simulated failure", NULL);
		camsim_tpl_restyle(b, &camsim_dialects[mb->dialect]);
		*status = 500;
		return CAMSIM_ANSWER_FAULT;
	}
	if (mb->malformed > 0) {
		mb->malformed--;
		make_malformed(b);
		return CAMSIM_ANSWER_MALFORMED;
	}
	if (mb->oversized > 0) {
		mb->oversized--;
		make_oversized(b, mb->oversized_bytes);
		return CAMSIM_ANSWER_OVERSIZED;
	}
	return CAMSIM_ANSWER_OK;
}

void camsim_onvif_send_tracked(struct camsim_camera *cam, struct camsim_http_conn *c, int status, struct camsim_buf *b,
			       unsigned delay_ms, void (*done)(void *arg, int status), void *arg)
{
	size_t len = 0;
	char *body = camsim_buf_steal(b, &len);
	if (!body) {
		camsim_http_respond_text(c, 500, "out of memory\n");
		if (done)
			done(arg, UV_ENOMEM);
		return;
	}
	(void)cam;
	camsim_http_respond_tracked(c, status, SOAP_CONTENT_TYPE, NULL, body, len, delay_ms, done, arg);
}

void camsim_onvif_send(struct camsim_camera *cam, struct camsim_http_conn *c, int status, struct camsim_buf *b,
		       const char *relates_to, unsigned delay_ms)
{
	camsim_onvif_shape(cam, b, relates_to, &status);
	camsim_onvif_send_tracked(cam, c, status, b, delay_ms, NULL, NULL);
}

static void send_fault(struct call *k, int status, const char *code, const char *subcode, const char *reason,
		       const char *detail)
{
	struct camsim_buf b = {0};
	camsim_tpl_fault(&b, k->soap.message_id, code, subcode, reason, detail);
	camsim_onvif_send(k->cam, k->conn, status, &b, k->soap.message_id, k->cam->mb.slow_ms);
}

static void not_authorized(struct call *k, const char *why)
{
	agw_log_debug("camsim", k->cam->id, "not authorized: %s", why);
	send_fault(k, 400, "env:Sender", "ter:NotAuthorized", "Sender not Authorized", NULL);
}

static void challenge(struct call *k, bool stale)
{
	char header[512];
	camsim_digest_challenge(k->cam->sim->secret, (int64_t)camsim_wall_now(), stale, header, sizeof(header));
	char *body = strdup("Unauthorized\n");
	camsim_http_respond(k->conn, 401, "text/plain", header, body, body ? strlen(body) : 0, 0);
}

static bool needs_digest(const struct camsim_camera *cam)
{
	enum camsim_auth auth = cam->sim->opt.auth;
	return auth == CAMSIM_AUTH_DIGEST || auth == CAMSIM_AUTH_BOTH || cam->mb.digest_only;
}

/* HTTP Digest, when the camera wants it: 0 when the caller may go on; otherwise the 401 has been sent. */
static int digest_verified(struct call *k)
{
	const struct camsim_options *opt = &k->cam->sim->opt;
	{
		struct camsim_digest_auth a;
		if (!k->http->authorization[0] || camsim_digest_parse(k->http->authorization, &a) < 0) {
			challenge(k, false);
			return -EACCES;
		}
		/* The answer must be for this very request target (RFC 7616 section 3.4.6). */
		char target[sizeof(k->http->path) + sizeof(k->http->query) + 1];
		snprintf(target, sizeof(target), "%s%s%s", k->http->path, k->http->query[0] ? "?" : "",
			 k->http->query);
		int r = strcmp(a.uri, target) == 0 ? camsim_digest_verify(&a, k->cam->sim->secret,
									   (int64_t)camsim_wall_now(), k->http->method,
									   opt->common.user, opt->common.password)
						   : -EACCES;
		if (r < 0) {
			challenge(k, r == -ESTALE);
			return -EACCES;
		}
	}
	return 0;
}

static int check_digest(struct call *k)
{
	return needs_digest(k->cam) ? digest_verified(k) : 0;
}

/* WS-Security, when the camera wants it (or refuses it): 0, or the fault has been sent. */
static int check_wsse(struct call *k)
{
	const struct camsim_options *opt = &k->cam->sim->opt;
	const struct camsim_misbehaviour *mb = &k->cam->mb;
	bool need_wsse = (opt->auth == CAMSIM_AUTH_WSSE || opt->auth == CAMSIM_AUTH_BOTH) && !mb->digest_only;
	struct camsim_wsse_token t;
	int have = camsim_wsse_extract(k->soap.header, &t);
	if (mb->digest_only && have != -ENOENT) {
		not_authorized(k, "WS-Security is not accepted by this camera");
		return -EACCES;
	}
	if (!need_wsse)
		return 0;
	if (have < 0) {
		not_authorized(k, have == -ENOENT ? "no UsernameToken" : "incomplete UsernameToken");
		return -EACCES;
	}
	int r = camsim_wsse_verify(&t, opt->common.user, opt->common.password, camsim_camera_now(k->cam));
	if (r < 0) {
		not_authorized(k, r == -ETIME ? "Created too far from the camera clock" : "wrong credentials");
		return -EACCES;
	}
	return 0;
}

static void send_buf(struct call *k, struct camsim_buf *b)
{
	camsim_onvif_send(k->cam, k->conn, 200, b, k->soap.message_id, k->cam->mb.slow_ms);
}

/* Lifetime from a relative (xs:duration) or absolute (camera clock) time; 0 or -EINVAL. */
static int parse_lifetime(struct call *k, const char *text, double *ret)
{
	double v;
	if (!text || !text[0]) {
		*ret = DEFAULT_LIFETIME;
		return 0;
	}
	if (text[0] == 'P') {
		if (camsim_duration_parse(text, &v) < 0)
			return -EINVAL;
	} else {
		if (camsim_time_parse(text, &v) < 0)
			return -EINVAL;
		v -= camsim_camera_now(k->cam);
	}
	if (!(v > 0))
		return -EINVAL;
	*ret = v > MAX_LIFETIME ? MAX_LIFETIME : v;
	return 0;
}

static void op_create_subscription(struct call *k)
{
	struct camsim_camera *cam = k->cam;
	char text[128];
	double lifetime;
	if (cam->mb.one_subscriber && camsim_sub_count(cam) > 0) {
		send_fault(k, 500, "env:Receiver", "ter:Action", "Too many subscribers: this camera serves one",
			   "<wsnt:SubscribeCreationFailedFault/>");
		return;
	}
	const char *itt = camsim_soap_text(k->soap.op, NULL, "InitialTerminationTime", text, sizeof(text));
	if (parse_lifetime(k, itt, &lifetime) < 0) {
		send_fault(k, 400, "env:Sender", "ter:InvalidArgVal", "Unacceptable InitialTerminationTime",
			   "<wsnt:UnacceptableInitialTerminationTimeFault/>");
		return;
	}
	struct camsim_sub *sub = camsim_sub_create(cam, lifetime);
	if (!sub) {
		send_fault(k, 500, "env:Receiver", "ter:Action", "Out of memory", NULL);
		return;
	}
	char addr[192];
	struct camsim_buf b = {0};
	int64_t now = (int64_t)camsim_camera_now(cam);
	camsim_sub_address(sub, addr, sizeof(addr));
	camsim_tpl_subscription_created(&b, k->soap.message_id, addr, now, (int64_t)(sub->termination + cam->clock_offset));
	send_buf(k, &b);
}

/* The subscription named by ?Idx= in the URL, or else in wsa:To. */
static struct camsim_sub *lookup_sub(struct call *k)
{
	char v[32];
	const char *q = k->http->query;
	if (camsim_query_get(q, "Idx", v, sizeof(v)) < 0) {
		const char *qm = strchr(k->soap.to, '?');
		if (!qm || camsim_query_get(qm + 1, "Idx", v, sizeof(v)) < 0)
			return NULL;
	}
	char *end;
	unsigned long idx = strtoul(v, &end, 10);
	if (*end || end == v)
		return NULL;
	return camsim_sub_find(k->cam, (unsigned)idx);
}

static void unknown_sub(struct call *k)
{
	if (k->cam->mb.unknown_sub_404) {
		camsim_http_respond_text(k->conn, 404, "subscription not found\n");
		return;
	}
	send_fault(k, 400, "env:Sender", "wsrf-r:ResourceUnknownFault", "Subscription not found",
		   "<wsrf-r:ResourceUnknownFault><wsrf-bf:Description>Subscription not found"
		   "</wsrf-bf:Description></wsrf-r:ResourceUnknownFault>");
}

static void op_pull(struct call *k)
{
	struct camsim_sub *sub = lookup_sub(k);
	char text[64];
	double timeout = 10;
	unsigned long limit = 1;
	if (!sub) {
		unknown_sub(k);
		return;
	}
	const char *t = camsim_soap_text(k->soap.op, NULL, "Timeout", text, sizeof(text));
	if (t && camsim_duration_parse(t, &timeout) < 0) {
		send_fault(k, 400, "env:Sender", "ter:InvalidArgVal", "Bad Timeout", NULL);
		return;
	}
	if (timeout > MAX_PULL_TIMEOUT)
		timeout = MAX_PULL_TIMEOUT;
	const char *l = camsim_soap_text(k->soap.op, NULL, "MessageLimit", text, sizeof(text));
	if (l) {
		char *end;
		limit = strtoul(l, &end, 10);
		if (*end || end == l || limit == 0) {
			send_fault(k, 400, "env:Sender", "ter:InvalidArgVal", "Bad MessageLimit", NULL);
			return;
		}
	}
	if (limit > MAX_MESSAGE_LIMIT)
		limit = MAX_MESSAGE_LIMIT;
	camsim_sub_pull(sub, k->conn, timeout, (unsigned)limit, k->soap.message_id);
}

static void op_renew(struct call *k)
{
	struct camsim_sub *sub = lookup_sub(k);
	char text[128];
	double lifetime;
	if (!sub) {
		unknown_sub(k);
		return;
	}
	const char *tt = camsim_soap_text(k->soap.op, NULL, "TerminationTime", text, sizeof(text));
	if (parse_lifetime(k, tt, &lifetime) < 0) {
		send_fault(k, 400, "env:Sender", "ter:InvalidArgVal", "Unacceptable TerminationTime",
			   "<wsnt:UnacceptableTerminationTimeFault/>");
		return;
	}
	sub->termination = camsim_wall_now() + lifetime;
	struct camsim_buf b = {0};
	double now = camsim_camera_now(k->cam);
	camsim_tpl_renewed(&b, k->soap.message_id, (int64_t)now, (int64_t)(now + lifetime));
	send_buf(k, &b);
}

static void op_unsubscribe(struct call *k)
{
	struct camsim_sub *sub = lookup_sub(k);
	if (!sub) {
		unknown_sub(k);
		return;
	}
	if (k->cam->mb.unsubscribe_kills_all)
		camsim_sub_drop_all(k->cam, "killed");
	else
		camsim_sub_drop(sub, "unsubscribed");
	struct camsim_buf b = {0};
	camsim_tpl_unsubscribed(&b, k->soap.message_id);
	send_buf(k, &b);
}

static void dispatch(struct call *k)
{
	struct camsim_camera *cam = k->cam;
	const char *op = k->soap.op_name;
	const char *msgid = k->soap.message_id;
	char base[128];
	struct camsim_buf b = {0};
	camsim_camera_base_url(cam, true, base, sizeof(base));
	bool changes_state = strcmp(op, "CreatePullPointSubscription") == 0 || strcmp(op, "Renew") == 0 ||
			     strcmp(op, "Unsubscribe") == 0;
	if (op_unsupported(cam, op))
		send_fault(k, 500, "env:Receiver", "ter:ActionNotSupported", "Operation not supported", NULL);
	else if (changes_state && camsim_onvif_next_misbehaves(cam))
		/* The client cannot know what a faulted or mangled answer did: it does nothing (no orphan
		 * subscription). Any well-formed body does, it is replaced or mangled on the way out. */
		camsim_tpl_unsubscribed(&b, msgid);
	else if (strcmp(op, "GetDeviceInformation") == 0)
		camsim_tpl_device_information(&b, msgid, cam->id);
	else if (strcmp(op, "GetCapabilities") == 0)
		camsim_tpl_capabilities(&b, msgid, base);
	else if (strcmp(op, "GetServices") == 0)
		camsim_tpl_services(&b, msgid, base);
	else if (strcmp(op, "GetProfiles") == 0)
		camsim_tpl_profiles(&b, msgid, cam->sim->opt.sources);
	else if (strcmp(op, "GetVideoSources") == 0)
		camsim_tpl_video_sources(&b, msgid, cam->sim->opt.sources);
	else if (strcmp(op, "GetStreamUri") == 0)
		camsim_tpl_stream_uri(&b, msgid, cam->sim->opt.common.host, cam->id, cam->mb.stream_url);
	else if (strcmp(op, "GetSnapshotUri") == 0 && ++cam->snapshot_uri_asks && cam->mb.no_snapshot)
		send_fault(k, 500, "env:Receiver", "ter:ActionNotSupported", "Operation not supported", NULL);
	else if (strcmp(op, "GetSnapshotUri") == 0)
		camsim_tpl_snapshot_uri(&b, msgid, base);
	else if (strcmp(op, "GetEventProperties") == 0)
		camsim_tpl_event_properties(&b, msgid);
	else if (strcmp(op, "CreatePullPointSubscription") == 0)
		op_create_subscription(k);
	else if (strcmp(op, "PullMessages") == 0)
		op_pull(k);
	else if (strcmp(op, "Renew") == 0)
		op_renew(k);
	else if (strcmp(op, "Unsubscribe") == 0)
		op_unsubscribe(k);
	else
		send_fault(k, 500, "env:Receiver", "ter:ActionNotSupported", "Operation not supported", NULL);
	/* The operations above answer by themselves and leave b empty. */
	if (b.len)
		send_buf(k, &b);
	else
		camsim_buf_free(&b);
}

static bool known_path(const char *path)
{
	static const char *const paths[] = {"/onvif/device_service", "/onvif/media_service", "/onvif/event_service",
					    "/onvif/subscription"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (strcmp(path, paths[i]) == 0)
			return true;
	return false;
}

/* The snapshot JPEG: the file CAMSIM_SNAPSHOT names (read once, up to 16 MiB; bench/evidence
 * serves a 1080p picture so), else jpeg.c's small one. */
static void snapshot_jpeg(const unsigned char **ret, size_t *ret_len)
{
	static unsigned char *pic;
	static size_t len;
	static bool tried;
	const char *path = getenv("CAMSIM_SNAPSHOT");
	if (!tried && path) {
		FILE *f = fopen(path, "rb");
		pic = f ? malloc(16u << 20) : NULL;
		len = pic ? fread(pic, 1, 16u << 20, f) : 0;
		if (f)
			fclose(f);
		if (!len)
			agw_log_err("camsim", NULL, "CAMSIM_SNAPSHOT %s: cannot read it, serving the small JPEG", path);
	}
	tried = true;
	*ret = len ? pic : vsim_jpeg;
	*ret_len = len ? len : vsim_jpeg_len;
}

/* GET /onvif/snapshot.jpg: the picture, behind the same HTTP Digest as the SOAP services (ONVIF
 * media: "the URI ... shall be accessible through HTTP GET"; cameras ask for Digest there). */
static void serve_snapshot(struct call *k)
{
	if (strcmp(k->http->method, "GET") != 0) {
		camsim_http_respond_text(k->conn, 405, "GET only\n");
		return;
	}
	if (k->cam->sim->opt.auth != CAMSIM_AUTH_NONE && digest_verified(k) < 0)
		return;
	k->cam->snapshot_gets++;
	if (k->cam->mb.snapshot_404) {
		camsim_http_respond_text(k->conn, 404, "no snapshot\n");
		return;
	}
	const unsigned char *pic;
	size_t len;
	snapshot_jpeg(&pic, &len);
	char *body = malloc(len);
	if (!body) {
		camsim_http_respond_text(k->conn, 503, "out of memory\n");
		return;
	}
	memcpy(body, pic, len);
	k->cam->snapshots++;
	camsim_http_respond(k->conn, 200, "image/jpeg", NULL, body, len,
			    k->cam->mb.snapshot_hang ? 60000 : k->cam->mb.slow_ms);
}

void camsim_onvif_on_request(struct camsim_http_conn *c, const struct camsim_http_request *req, void *ctx)
{
	struct call k = {.cam = ctx, .conn = c, .http = req};
	k.cam->requests++;
	if (strcmp(req->path, "/onvif/snapshot.jpg") == 0) {
		serve_snapshot(&k);
		return;
	}
	if (!known_path(req->path)) {
		camsim_http_respond_text(c, 404, "not found\n");
		return;
	}
	if (strcmp(req->method, "POST") != 0) {
		camsim_http_respond_text(c, 405, "POST only\n");
		return;
	}
	if (camsim_soap_parse(req->body, req->body_len, &k.soap) < 0) {
		/* libcurl negotiates Digest with an empty POST first: a camera answers it with the challenge. */
		if (check_digest(&k) < 0)
			return;
		agw_log_debug("camsim", k.cam->id, "request is not a SOAP envelope");
		send_fault(&k, 400, "env:Sender", "ter:WellFormed", "Request is not a well-formed SOAP envelope", NULL);
		return;
	}
	if (strcmp(k.soap.op_name, "GetSystemDateAndTime") == 0 && !op_unsupported(k.cam, k.soap.op_name)) {
		struct camsim_buf b = {0};
		camsim_tpl_system_date_time(&b, k.soap.message_id, (int64_t)camsim_camera_now(k.cam),
					    k.cam->clock_offset == 0);
		send_buf(&k, &b);
	} else if (check_digest(&k) == 0 && check_wsse(&k) == 0) {
		dispatch(&k);
	}
	camsim_soap_request_free(&k.soap);
}
