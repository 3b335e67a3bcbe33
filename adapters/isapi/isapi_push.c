/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ISAPI push listener (isapi_push.h says what it does and why). One struct conn per
 * connection: its socket, its deadline timer, the request bytes (bounded), and how many of its
 * events the core has not yet journaled. A connection outlives its socket while the core still
 * holds one of its events (done() will come): refs counts the handles and those events. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "alarmgw/vendor_pull.h"
#include "isapi_push.h"
#include "isapi_push_http.h"
#include "isapi_stream.h"

#define TAG "isapi"
#define LOGGED_REFUSALS 20        /* per listener; the rest are counted */
#define NONCE_MAX_AGE_S 300
#define DRAIN_MS 2000             /* after an answer, read what the device still sends, for this long */
#define RETRY_AFTER_S 5

enum conn_state { C_HEAD, C_BODY, C_JOURNAL, C_ANSWERED };

struct host {
	char *camera_id, *host;
	bool heard;               /* it has posted since the start: reported as subscribed once */
	struct host *next;
};

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	struct agw_isapi_push *p; /* NULL once the listener is gone (stop) */
	struct conn *next;
	enum conn_state state;
	int refs;                 /* 1 for the handles + one per event the core holds */
	int closed_handles;
	bool closing;
	char peer[64];
	char *device;             /* the ledger row of the peer (a copy) */
	char *buf;
	size_t len, cap;
	size_t head_len;
	struct agw_push_head head;
	int64_t body_len;
	size_t reserved;          /* of the listener's max_buffered, for this body */
	int status;               /* the answer decided so far (0: 200 once journaled) */
	unsigned events, pending;
	bool parsed;
	char error[160];          /* the first problem in the body */
};

struct agw_isapi_push {
	struct agw_isapi_push_config cfg;
	struct agw_adapter_ctx *ctx;
	uv_tcp_t tcp;
	bool started, stopping, listening;
	struct host *hosts;
	struct conn *conns;
	int n_conns;
	size_t buffered;          /* bodies reserved by connections (max_buffered) */
	int open_handles;
	unsigned refusals_logged;
	unsigned char key[AGW_DIGEST_KEY_LEN];
	void (*stop_done)(void *arg);
	void *stop_arg;
};

static void refused(struct agw_isapi_push *p, const char *reason)
{
	char labels[80];
	snprintf(labels, sizeof(labels), "adapter=\"" TAG "\",reason=\"%s\"", reason);
	agw_metric_add("agw_push_refused_total", labels, 1);
	(void)p;
}

static void answered(int code)
{
	char labels[64];
	snprintf(labels, sizeof(labels), "adapter=\"" TAG "\",code=\"%d\"", code);
	agw_metric_add("agw_push_requests_total", labels, 1);
}

/* ---- addresses ---- */

/* The IP address in text form, IPv4-mapped IPv6 as IPv4, so a ledger host and a peer compare. */
static bool ip_text(const char *in, char *out, size_t outlen)
{
	unsigned char a[16];
	if (inet_pton(AF_INET, in, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)outlen) != NULL;
	if (inet_pton(AF_INET6, in, a) != 1)
		return false;
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (!memcmp(a, mapped, 12))
		return inet_ntop(AF_INET, a + 12, out, (socklen_t)outlen) != NULL;
	return inet_ntop(AF_INET6, a, out, (socklen_t)outlen) != NULL;
}

/* The host of a ledger address ("host[:port]", "[v6]:port", "http://host:port/path"). */
static bool address_host(const char *address, char *out, size_t outlen)
{
	const char *s = strstr(address, "://");
	s = s ? s + 3 : address;
	size_t n;
	if (*s == '[') {
		s++;
		n = strcspn(s, "]");
	} else {
		n = strcspn(s, ":/?#");
	}
	if (n == 0 || n >= outlen)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

static const char *device_of(const struct agw_isapi_push *p, const char *peer, bool *ambiguous)
{
	const char *found = NULL;
	*ambiguous = false;
	for (const struct host *h = p->hosts; h; h = h->next)
		if (!strcmp(h->host, peer)) {
			if (found)
				*ambiguous = true;
			found = h->camera_id;
		}
	return found;
}

/* A device's first authenticated post since the start is its event channel opening (adapter.h
 * subscribed): reported once, not per post, since the core writes it to the store. */
static void device_heard(struct agw_isapi_push *p, const char *camera_id)
{
	for (struct host *h = p->hosts; h && p->ctx->subscribed; h = h->next)
		if (!h->heard && !strcmp(h->camera_id, camera_id)) {
			h->heard = true;
			p->ctx->subscribed(p->ctx, camera_id);
		}
}

int agw_isapi_push_add(struct agw_isapi_push *p, const struct agw_camera *camera)
{
	if (camera->device)
		return 0;
	char host[256], ip[64];
	if (!address_host(camera->address, host, sizeof(host)))
		return 0;
	if (!ip_text(host, ip, sizeof(ip))) {
		/* resolving would block the loop, and a name may not be the address the device posts from */
		agw_log_notice(TAG, camera->id, "its address is a host name: pushes are matched by IP address, so "
						"this device's pushes are refused until the ledger gives its IP");
		return 0;
	}
	struct host *h = calloc(1, sizeof(*h));
	if (!h || !(h->camera_id = strdup(camera->id)) || !(h->host = strdup(ip))) {
		if (h)
			free(h->camera_id);
		free(h);
		return -ENOMEM;
	}
	h->next = p->hosts;
	p->hosts = h;
	return 0;
}

void agw_isapi_push_remove(struct agw_isapi_push *p, const char *camera_id)
{
	for (struct host **pp = &p->hosts; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->camera_id, camera_id)) {
			struct host *h = *pp;
			*pp = h->next;
			free(h->camera_id);
			free(h->host);
			free(h);
			return;
		}
}

/* ---- connections ---- */

static void conn_unref(struct conn *c)
{
	if (--c->refs > 0)
		return;
	free(c->device);
	free(c->buf);
	free(c);
}

static void maybe_stopped(struct agw_isapi_push *p);

/* The body is read (or will never be): its bytes and its share of max_buffered go. */
static void release_body(struct conn *c)
{
	if (c->p)
		c->p->buffered -= c->reserved;
	c->reserved = 0;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static void handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	if (++c->closed_handles < 2)
		return;
	struct agw_isapi_push *p = c->p;
	release_body(c);
	if (p) {
		for (struct conn **pp = &p->conns; *pp; pp = &(*pp)->next)
			if (*pp == c) {
				*pp = c->next;
				break;
			}
		p->n_conns--;
		p->open_handles--;
		c->p = NULL;
	}
	conn_unref(c);
	if (p)
		maybe_stopped(p);
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->tcp, handle_closed);
	uv_close((uv_handle_t *)&c->timer, handle_closed);
}

static void drain_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char sink[4096]; /* what a device sends after its answer is thrown away */
	(void)h;
	(void)suggested;
	buf->base = sink;
	buf->len = sizeof(sink);
}

static void drain_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	if (nread < 0)
		conn_close(st->data);
}

static void drain_timeout(uv_timer_t *t)
{
	conn_close(t->data);
}

static void shutdown_done(uv_shutdown_t *req, int status)
{
	struct conn *c = req->data;
	(void)status;
	free(req);
	if (c->closing)
		return;
	/* the device may still be sending a body it was refused: read it away so that closing does
	 * not reset the connection before it has read the answer */
	uv_read_stop((uv_stream_t *)&c->tcp);
	if (uv_read_start((uv_stream_t *)&c->tcp, drain_alloc, drain_read) < 0)
		conn_close(c);
	else
		uv_timer_start(&c->timer, drain_timeout, DRAIN_MS, 0);
}

struct wreq {
	uv_write_t w;
	struct conn *c;
	char data[];
};

static void written(uv_write_t *w, int status)
{
	struct wreq *r = (struct wreq *)w;
	struct conn *c = r->c;
	free(r);
	if (c->closing)
		return;
	uv_shutdown_t *sd = status == 0 ? malloc(sizeof(*sd)) : NULL;
	if (sd)
		sd->data = c;
	if (!sd || uv_shutdown(sd, (uv_stream_t *)&c->tcp, shutdown_done) < 0) {
		free(sd);
		conn_close(c);
	}
}

static const char *reason_phrase(int code)
{
	switch (code) {
	case 100: return "Continue";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static void interim_written(uv_write_t *w, int status)
{
	(void)status;
	free(w);
}

/* Writes text; the last write of a connection then shuts it down (written), an interim one (100
 * Continue) only frees itself. */
static int write_raw(struct conn *c, const char *text, size_t len, bool last)
{
	struct wreq *r = malloc(sizeof(*r) + len);
	if (!r)
		return -ENOMEM;
	r->c = c;
	memcpy(r->data, text, len);
	uv_buf_t b = uv_buf_init(r->data, (unsigned)len);
	int rc = uv_write(&r->w, (uv_stream_t *)&c->tcp, &b, 1, last ? written : interim_written);
	if (rc < 0)
		free(r);
	return rc;
}

/* The one answer of a request; the connection then closes (devices open one per post). */
static void answer(struct conn *c, int code, const char *extra, const char *text)
{
	if (c->state == C_ANSWERED || c->closing)
		return;
	c->state = C_ANSWERED;
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_timer_stop(&c->timer);
	answered(code);
	char body[256];
	int blen = snprintf(body, sizeof(body), "%s\n", text ? text : reason_phrase(code));
	if (blen < 0 || (size_t)blen >= sizeof(body))
		blen = (int)sizeof(body) - 1;
	char resp[1024];
	int n = snprintf(resp, sizeof(resp),
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
			 "Connection: close\r\n%s\r\n%.*s",
			 code, reason_phrase(code), blen, extra ? extra : "", blen, body);
	if (n < 0 || (size_t)n >= sizeof(resp) || write_raw(c, resp, (size_t)n, true) < 0)
		conn_close(c);
}

static void refuse(struct conn *c, int code, const char *reason, const char *why)
{
	struct agw_isapi_push *p = c->p;
	refused(p, reason);
	if (p && p->refusals_logged < LOGGED_REFUSALS) {
		p->refusals_logged++;
		agw_log_warn(TAG, c->device, "push from %s refused (%d): %s%s", c->peer, code, why,
			     p->refusals_logged == LOGGED_REFUSALS ? " (further refusals are only counted)" : "");
	}
	answer(c, code, code == 503 ? "Retry-After: 5\r\n" : NULL, why);
}

static void maybe_answer(struct conn *c)
{
	if (!c->parsed || c->pending || c->state != C_JOURNAL)
		return;
	if (c->status == 503) {
		refuse(c, 503, "busy", "the gateway cannot take events now; post again");
		return;
	}
	if (c->status) {
		answer(c, c->status, NULL, c->error[0] ? c->error : NULL);
		return;
	}
	if (!c->events && c->error[0]) {
		refuse(c, 400, "malformed", c->error);
		return;
	}
	answer(c, 200, NULL, NULL);
}

/* done() of emit_durable: the event is journaled (0) or dropped unwritten (gateway stopping). */
static void journaled(void *arg, int status)
{
	struct conn *c = arg;
	c->pending--;
	if (status < 0 && !c->status)
		c->status = 503;
	if (c->p && !c->closing)
		maybe_answer(c);
	conn_unref(c);
}

static int on_event(void *arg, struct agw_alert *a)
{
	struct conn *c = arg;
	struct agw_isapi_push *p = c->p;
	if (c->status)
		return -ECANCELED; /* the core pushed back: the device posts the whole request again */
	a->camera_id = (char *)agw_vendor_routes_route(p->cfg.routes, TAG, c->device, a);
	a->adapter = (char *)TAG;
	if (!a->gateway_time_ms)
		a->gateway_time_ms = agw_now_ms();
	const char *unmatched = agw_vendor_unmatched_channel(p->cfg.routes, c->device, a);
	if (unmatched)
		agw_vendor_unmatched_note(p->cfg.unmatched, p->ctx, TAG, c->device, unmatched, a->gateway_time_ms);
	agw_metric_add("agw_push_events_total", "adapter=\"" TAG "\"", 1);
	/* counted before the call: done() may come from inside emit_durable */
	c->pending++;
	c->refs++;
	int rc = p->ctx->emit_durable(p->ctx, a, journaled, c);
	a->camera_id = NULL;
	a->adapter = NULL;
	if (rc == 0) {
		c->events++;
		return 0;
	}
	c->pending--;
	c->refs--; /* the caller still holds the connection: never the last reference */
	c->status = rc == -EAGAIN || rc == -ESHUTDOWN ? 503 : 500;
	if (c->status == 500)
		snprintf(c->error, sizeof(c->error), "the gateway refused an event: %s", strerror(-rc));
	return -ECANCELED;
}

/* A JPEG posted with its event (multipart/form-data): the case's evidence, as on the alertStream. */
static void on_picture(void *arg, const struct agw_alert *event, unsigned index, const char *content_type,
		       const void *data, size_t len)
{
	struct conn *c = arg;
	struct agw_isapi_push *p = c->p;
	if (agw_vendor_event_picture(p->ctx, p->cfg.routes, TAG, c->device, event, index, content_type, data, len) < 0)
		agw_metric_add("agw_stream_pictures_refused_total", "adapter=\"" TAG "\"", 1);
}

static void on_body_error(void *arg, uint64_t offset, const char *what)
{
	struct conn *c = arg;
	agw_metric_add("agw_push_errors_total", "adapter=\"" TAG "\"", 1);
	if (!c->error[0])
		snprintf(c->error, sizeof(c->error), "body offset %" PRIu64 ": %s", offset, what);
}

/* The whole body is here: its events go to the core; the answer waits for their journaling. */
static void process(struct conn *c)
{
	struct agw_isapi_push *p = c->p;
	c->state = C_JOURNAL;
	if (c->device)
		device_heard(p, c->device);
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_timer_stop(&c->timer);
	struct agw_isapi_stream_config sc = {
		.content_type = c->head.content_type[0] ? c->head.content_type : NULL,
		.table = p->cfg.table,
		.max_part = p->cfg.max_body,
		.on_alert = on_event,
		.on_error = on_body_error,
		.on_picture = on_picture,
		.arg = c,
	};
	struct agw_isapi_stream *s;
	if (agw_isapi_stream_new(&sc, &s) < 0) {
		c->status = 503;
	} else {
		int rc = agw_isapi_stream_feed(s, c->buf + c->head_len, (size_t)c->body_len);
		if (rc == 0)
			rc = agw_isapi_stream_finish(s);
		agw_isapi_stream_free(s);
		if (rc == -ENOMEM && !c->status)
			c->status = 503;
	}
	if (c->error[0] && c->events)
		agw_log_warn(TAG, c->device, "push from %s: %s (its %u readable events were taken)", c->peer, c->error,
			     c->events);
	c->parsed = true;
	release_body(c); /* the events are the core's copies now */
	maybe_answer(c);
}

static bool path_is(const struct agw_push_head *h, const char *path)
{
	return strlen(path) == h->path_len && !memcmp(h->path, path, h->path_len);
}

/* A complete head: who, what, how big. Returns false when the request was answered. */
static bool check_head(struct conn *c)
{
	struct agw_isapi_push *p = c->p;
	const char *why = NULL;
	int code = agw_push_head_parse(c->buf, c->head_len, &c->head, &why);
	if (code) {
		refuse(c, code, "malformed", why);
		return false;
	}
	const struct agw_push_head *h = &c->head;
	if (strcmp(h->method, "POST") != 0 && strcmp(h->method, "PUT") != 0) {
		refuse(c, 405, "method", "devices POST their events here");
		return false;
	}
	if (!path_is(h, p->cfg.path)) {
		refuse(c, 404, "path", "not the configured push path (the device's httpHosts url)");
		return false;
	}
	if (p->cfg.username) {
		int64_t now = agw_now_ms() / 1000;
		int rc = agw_digest_verify(p->key, p->cfg.realm, p->cfg.username, p->cfg.password ? p->cfg.password : "",
					   h->method, h->target, h->authorization, now, NONCE_MAX_AGE_S, &why);
		if (rc < 0) {
			char challenge[300], extra[340];
			agw_digest_challenge(p->key, p->cfg.realm, now, rc == -ESTALE, challenge, sizeof(challenge));
			snprintf(extra, sizeof(extra), "WWW-Authenticate: %s\r\n", challenge);
			/* a post without Authorization is the first half of Digest, not an error: counted
			 * apart ("challenge") and not logged; a wrong answer is "auth" */
			refused(p, h->authorization ? "auth" : "challenge");
			if (h->authorization && p->refusals_logged < LOGGED_REFUSALS) {
				p->refusals_logged++;
				agw_log_warn(TAG, c->device, "push from %s: %s", c->peer, why);
			}
			answer(c, 401, extra, "authentication required");
			return false;
		}
	}
	if (h->chunked) {
		refuse(c, 411, "length", "a chunked body: send Content-Length");
		return false;
	}
	if (h->content_length < 0) {
		refuse(c, 411, "length", "no Content-Length");
		return false;
	}
	if ((uint64_t)h->content_length > p->cfg.max_body) {
		char why_size[120];
		snprintf(why_size, sizeof(why_size), "body of %" PRId64 " bytes, the limit is %zu", h->content_length,
			 p->cfg.max_body);
		refuse(c, 413, "size", why_size);
		return false;
	}
	if ((size_t)h->content_length > p->cfg.max_buffered - p->buffered) {
		refuse(c, 503, "buffers", "the gateway holds too many posted bodies now; post again");
		return false;
	}
	c->reserved = (size_t)h->content_length;
	p->buffered += c->reserved;
	c->body_len = h->content_length;
	if (h->expect_continue) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		if (write_raw(c, cont, sizeof(cont) - 1, false) < 0) {
			conn_close(c);
			return false;
		}
	}
	return true;
}

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = hd->data;
	struct agw_isapi_push *p = c->p;
	(void)suggested;
	size_t limit = p->cfg.max_head + p->cfg.max_body + 1;
	size_t want = c->state == C_HEAD ? p->cfg.max_head + 1 : c->head_len + (size_t)c->body_len;
	if (want > limit)
		want = limit;
	if (c->cap < want && c->len + 16384 > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16384;
		if (cap > want)
			cap = want;
		char *nb = realloc(c->buf, cap + 1);
		if (nb) {
			c->buf = nb;
			c->cap = cap;
		}
	}
	buf->base = c->buf ? c->buf + c->len : NULL;
	buf->len = c->buf ? c->cap - c->len : 0;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = st->data;
	struct agw_isapi_push *p = c->p;
	(void)buf;
	if (c->state != C_HEAD && c->state != C_BODY)
		return;
	if (nread == UV_ENOBUFS) {
		refuse(c, 503, "memory", "out of memory");
		return;
	}
	if (nread < 0) {
		/* the device went away before its request was complete: it posts again */
		conn_close(c);
		return;
	}
	c->len += (size_t)nread;
	if (c->state == C_HEAD) {
		c->head_len = agw_push_head_end(c->buf, c->len);
		if (!c->head_len && c->len > p->cfg.max_head) {
			char why[80];
			snprintf(why, sizeof(why), "request head longer than %zu bytes", p->cfg.max_head);
			refuse(c, 431, "head", why);
			return;
		}
		if (!c->head_len)
			return;
		if (c->head_len > p->cfg.max_head) {
			refuse(c, 431, "head", "request head too long");
			return;
		}
		/* the parser writes NULs into the head: keep the body bytes that came with it */
		char keep = c->buf[c->head_len];
		if (!check_head(c))
			return;
		c->buf[c->head_len] = keep;
		c->state = C_BODY;
	}
	/* bytes beyond Content-Length (a stray CRLF some firmware adds) are not part of the body */
	if (c->len - c->head_len >= (size_t)c->body_len)
		process(c);
}

static void request_timeout(uv_timer_t *t)
{
	struct conn *c = t->data;
	refuse(c, 408, "timeout", "the request did not arrive in time");
}

static void peer_text(uv_tcp_t *tcp, char *out, size_t len)
{
	struct sockaddr_storage ss;
	int n = sizeof(ss);
	char raw[INET6_ADDRSTRLEN] = "";
	out[0] = '\0';
	if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &n) < 0)
		return;
	if (ss.ss_family == AF_INET)
		uv_ip4_name((struct sockaddr_in *)&ss, raw, sizeof(raw));
	else if (ss.ss_family == AF_INET6)
		uv_ip6_name((struct sockaddr_in6 *)&ss, raw, sizeof(raw));
	if (!ip_text(raw, out, len))
		snprintf(out, len, "%s", raw);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct agw_isapi_push *p = server->data;
	if (status < 0 || p->stopping)
		return;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return; /* the connection waits in the backlog */
	c->p = p;
	c->refs = 1;
	uv_tcp_init(p->ctx->loop, &c->tcp);
	uv_timer_init(p->ctx->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->next = p->conns;
	p->conns = c;
	p->n_conns++;
	p->open_handles++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
		conn_close(c);
		return;
	}
	if (p->n_conns > p->cfg.max_connections) {
		refused(p, "connections");
		conn_close(c);
		return;
	}
	peer_text(&c->tcp, c->peer, sizeof(c->peer));
	bool ambiguous;
	const char *dev = device_of(p, c->peer, &ambiguous);
	if (dev && !(c->device = strdup(dev))) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, request_timeout, (uint64_t)p->cfg.timeout_ms, 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
		conn_close(c);
		return;
	}
	/* refused before a byte is read: what a stranger sends is never parsed */
	if (!dev)
		refuse(c, 403, "address", "this address is not a device of the ledger");
	else if (ambiguous)
		refuse(c, 403, "ambiguous", "several devices of the ledger have this address; give each its own");
}

/* ---- the listener ---- */

static bool loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return false;
}

static int parse_listen(const char *text, struct sockaddr_storage *ss)
{
	char host[128];
	const char *colon;
	if (!text)
		return -EINVAL;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(close - text - 1), text + 1);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || (size_t)(colon - text) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port < 0 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0)
		return 0;
	if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0)
		return 0;
	return -EINVAL;
}

int agw_isapi_push_check(const struct agw_isapi_push_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	if (parse_listen(cfg->listen, &ss) < 0) {
		snprintf(err, errlen, "push_listen: '%s' is not IP:port or [IPv6]:port", cfg->listen ? cfg->listen : "");
		return -EINVAL;
	}
	if (!cfg->path || cfg->path[0] != '/') {
		snprintf(err, errlen, "push_path must start with '/'");
		return -EINVAL;
	}
	if (!loopback(&ss) && (!cfg->username || !*cfg->username || !cfg->password || !*cfg->password)) {
		snprintf(err, errlen, "push_listen %s is not loopback: set push_username and push_password (Digest, "
				      "the devices' httpHosts MD5digest credentials)", cfg->listen);
		return -EINVAL;
	}
	if (cfg->username && strpbrk(cfg->username, "\":")) {
		snprintf(err, errlen, "push_username must not contain '\"' or ':'");
		return -EINVAL;
	}
	return 0;
}

int agw_isapi_push_new(const struct agw_isapi_push_config *cfg, struct agw_adapter_ctx *ctx,
		       struct agw_isapi_push **ret, char *err, size_t errlen)
{
	int rc = agw_isapi_push_check(cfg, err, errlen);
	if (rc < 0)
		return rc;
	if (!ctx->emit_durable) {
		/* answering 200 before the event is journaled would lose it in a crash: no push then */
		snprintf(err, errlen, "push mode needs a core that acknowledges durably (emit_durable); this one does not");
		return -ENOTSUP;
	}
	struct agw_isapi_push *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->cfg = *cfg;
	if (p->cfg.username && !*p->cfg.username)
		p->cfg.username = NULL;
	if (!p->cfg.realm || !*p->cfg.realm)
		p->cfg.realm = "alarmgw";
	if (!p->cfg.max_head)
		p->cfg.max_head = 16384;
	if (!p->cfg.max_body)
		p->cfg.max_body = 4u << 20;
	if (p->cfg.timeout_ms <= 0)
		p->cfg.timeout_ms = 10000;
	if (p->cfg.max_connections <= 0)
		p->cfg.max_connections = 1024;
	if (!p->cfg.max_buffered)
		p->cfg.max_buffered = 64u << 20;
	if (p->cfg.max_buffered < p->cfg.max_body)
		p->cfg.max_buffered = p->cfg.max_body; /* one largest post always fits */
	p->ctx = ctx;
	if (RAND_bytes(p->key, sizeof(p->key)) != 1) {
		free(p);
		snprintf(err, errlen, "no random bytes for the Digest nonce key");
		return -EIO;
	}
	*ret = p;
	return 0;
}

int agw_isapi_push_start(struct agw_isapi_push *p)
{
	struct sockaddr_storage ss;
	parse_listen(p->cfg.listen, &ss); /* checked by new() */
	uv_tcp_init(p->ctx->loop, &p->tcp);
	p->tcp.data = p;
	p->open_handles++;
	p->started = true;
	int rc = uv_tcp_bind(&p->tcp, (const struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&p->tcp, 128, on_connection);
	if (rc < 0) {
		agw_log_err(TAG, NULL, "push listener on %s: %s", p->cfg.listen, uv_strerror(rc));
		return rc;
	}
	p->listening = true;
	agw_log_info(TAG, NULL, "push listener on %s, path %s%s", p->cfg.listen, p->cfg.path,
		     p->cfg.username ? ", Digest" : ", loopback without authentication");
	return 0;
}

int agw_isapi_push_port(const struct agw_isapi_push *p)
{
	struct sockaddr_storage ss;
	int n = sizeof(ss);
	if (!p->listening || uv_tcp_getsockname(&p->tcp, (struct sockaddr *)&ss, &n) < 0)
		return -1;
	return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
				       : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

void agw_isapi_push_free(struct agw_isapi_push *p)
{
	if (!p)
		return;
	while (p->hosts) {
		struct host *h = p->hosts;
		p->hosts = h->next;
		free(h->camera_id);
		free(h->host);
		free(h);
	}
	free(p);
}

static void maybe_stopped(struct agw_isapi_push *p)
{
	if (!p->stopping || p->open_handles > 0)
		return;
	void (*done)(void *) = p->stop_done;
	void *arg = p->stop_arg;
	agw_isapi_push_free(p);
	if (done)
		done(arg);
}

static void listener_closed(uv_handle_t *h)
{
	struct agw_isapi_push *p = h->data;
	p->open_handles--;
	maybe_stopped(p);
}

void agw_isapi_push_stop(struct agw_isapi_push *p, void (*done)(void *arg), void *arg)
{
	p->stop_done = done;
	p->stop_arg = arg;
	p->stopping = true;
	p->open_handles++; /* held until every close below is started */
	if (p->started)
		uv_close((uv_handle_t *)&p->tcp, listener_closed);
	for (struct conn *c = p->conns; c; c = c->next)
		conn_close(c);
	p->open_handles--;
	maybe_stopped(p);
}
