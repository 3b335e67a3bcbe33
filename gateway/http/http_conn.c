/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One connection of the status server: it reads one request head (at most AGW_HTTP_MAX_REQUEST
 * bytes, within AGW_HTTP_TIMEOUT_MS), answers it with "Connection: close" and closes after a
 * short linger, so nothing ever waits on a client. A live page (SSE) stays open instead. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "http_internal.h"
#include "http_tls.h"

#define TLS_READ_BUF 16384 /* one TLS record */

#define LINGER_MS 2000 /* reading what a client still sends after our answer */
#define PLAIN_CSP "default-src 'none'; frame-ancestors 'none'"

void agw_http_count_error(const char *reason)
{
	char labels[64];
	snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
	agw_metric_add("agw_http_errors_total", labels, 1);
}

/* ---- teardown ---- */

void agw_http_maybe_done(struct agw_http *h)
{
	if (!h->stopping || h->n_conns || h->listener_open || h->job || h->n_evidence || h->sse_timer_open)
		return;
	agw_status_free(h->cached);
	void (*done)(void *) = h->done;
	void *arg = h->done_arg;
	agw_http_free(h);
	if (done)
		done(arg);
}

static void conn_handle_closed(uv_handle_t *handle)
{
	struct agw_http_conn *c = handle->data;
	if (--c->open_handles > 0)
		return;
	struct agw_http *h = c->http;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->n_conns--;
	if (c->sse)
		agw_http_sse_gone(c);
	agw_http_evidence_gone(c);
	agw_http_tls_conn_free(c);
	free(c->tls_in);
	free(c->response);
	free(c);
	agw_http_maybe_done(h);
}

void agw_http_conn_close(struct agw_http_conn *c)
{
	if (c->state == CONN_CLOSING)
		return;
	c->state = CONN_CLOSING;
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

/* ---- responses ---- */

static const char *reason_phrase(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 403: return "Forbidden";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 421: return "Misdirected Request";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static void linger_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct agw_http_conn *c = handle->data;
	/* The request buffer is no longer needed: reuse it to drain the socket. */
	*buf = uv_buf_init(c->req, sizeof(c->req));
}

static void linger_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	if (nread < 0)
		agw_http_conn_close(stream->data);
}

static void on_linger_timeout(uv_timer_t *timer)
{
	agw_http_conn_close(timer->data);
}

/* After our answer, read and drop what the client may still send until it closes: closing with
 * unread data makes the kernel send a reset that can destroy the answer before it is read. */
static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct agw_http_conn *c = req->data;
	if (c->state == CONN_CLOSING)
		return;
	if (status < 0) {
		agw_http_conn_close(c);
		return;
	}
	c->state = CONN_LINGER;
	uv_timer_start(&c->timer, on_linger_timeout, LINGER_MS, 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, linger_alloc, linger_read) < 0)
		agw_http_conn_close(c);
}

static void on_write(uv_write_t *req, int status)
{
	struct agw_http_conn *c = req->data;
	if (c->state == CONN_CLOSING)
		return;
	if (status < 0) {
		agw_http_count_error("write");
		agw_http_conn_close(c);
		return;
	}
	agw_http_tls_close_notify(c);
	c->shutdown_req.data = c;
	if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
		agw_http_conn_close(c);
}

static void on_write_timeout(uv_timer_t *timer)
{
	struct agw_http_conn *c = timer->data;
	agw_http_count_error("timeout");
	agw_log_info(AGW_HTTP_COMPONENT, NULL, "closing a connection that did not read its response in time");
	agw_http_conn_close(c);
}

/* Sends code with body (owned: freed with the connection). extra: more header lines or "". */
void agw_http_send(struct agw_http_conn *c, int code, const char *type, const char *extra, char *body, size_t body_len)
{
	char head[1024];
	char labels[32];
	snprintf(labels, sizeof(labels), "code=\"%d\"", code);
	agw_metric_add("agw_http_responses_total", labels, 1);
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: %s\r\n"
			 "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n"
			 "Content-Security-Policy: %s\r\nConnection: close\r\n%s\r\n",
			 code, reason_phrase(code), type, body_len, c->cache ? c->cache : "no-store",
			 c->csp ? c->csp : PLAIN_CSP, extra);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		free(body);
		agw_http_conn_close(c);
		return;
	}
	size_t total = (size_t)n + (c->head ? 0 : body_len);
	char *out = malloc(total);
	if (!out) {
		free(body);
		agw_http_conn_close(c);
		return;
	}
	memcpy(out, head, (size_t)n);
	if (!c->head && body_len)
		memcpy(out + n, body, body_len);
	free(body);
	free(c->response);
	c->response = out;
	c->response_len = total;
	c->state = CONN_WRITING;
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_timer_start(&c->timer, on_write_timeout, AGW_HTTP_TIMEOUT_MS, 0);
	if (agw_http_conn_write(c, c->response, c->response_len, on_write) < 0)
		agw_http_conn_close(c);
}

void agw_http_send_text(struct agw_http_conn *c, int code, const char *text, const char *extra)
{
	char *body = strdup(text);
	agw_http_send(c, code, "text/plain; charset=utf-8", extra, body, body ? strlen(body) : 0);
}

/* A request we refuse: counted and logged once here. */
void agw_http_refuse(struct agw_http_conn *c, int code, const char *reason, const char *text, const char *extra)
{
	char body[480]; /* an evidence 404 carries the capture's reason */
	agw_http_count_error(reason);
	agw_log_info(AGW_HTTP_COMPONENT, NULL, "refused a request with %d: %s", code, text);
	snprintf(body, sizeof(body), "%s\n", text);
	agw_http_send_text(c, code, body, extra);
}

/* ---- request parsing ---- */

/* Returns the end of the head (after the blank line) or NULL when it is not complete yet. */
static char *find_head_end(char *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return p + i + 2;
		if (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n')
			return p + i + 3;
	}
	return NULL;
}

static void handle_request(struct agw_http_conn *c, char *end)
{
	struct agw_http *h = c->http;
	struct agw_http_request req;
	struct agw_http_refusal no;
	if (agw_http_request_parse(c->req, (size_t)(end - c->req), &req, &no) < 0 ||
	    agw_http_access_check(&h->access, &req, &no) < 0) {
		agw_http_refuse(c, no.code, no.reason, no.text, no.extra);
		return;
	}
	agw_http_route(c, &req);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct agw_http_conn *c = handle->data;
	if (c->ssl) {
		*buf = uv_buf_init(c->tls_in, TLS_READ_BUF);
		return;
	}
	/* One spare byte is read beyond the limit so "exactly full" and "too long" differ. */
	*buf = uv_buf_init(c->req + c->len, (unsigned)(sizeof(c->req) - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct agw_http_conn *c = stream->data;
	if (c->state != CONN_READING)
		return;
	if (nread < 0) {
		if (nread != UV_EOF)
			agw_http_count_error("read");
		agw_http_conn_close(c);
		return;
	}
	size_t old = c->len;
	if (c->ssl) {
		if (agw_http_tls_feed(c, buf->base, (size_t)nread) < 0) {
			agw_http_conn_close(c);
			return;
		}
	} else {
		c->len += (size_t)nread;
	}
	/* Rescan from a little before the new bytes: the blank line may straddle two reads. */
	size_t from = old > 3 ? old - 3 : 0;
	char *end = find_head_end(c->req + from, c->len - from);
	if (end && (size_t)(end - c->req) <= AGW_HTTP_MAX_REQUEST) {
		handle_request(c, end);
		return;
	}
	if (c->len > AGW_HTTP_MAX_REQUEST)
		agw_http_refuse(c, 413, "too_large", "request head larger than 8192 bytes", "");
}

static void on_read_timeout(uv_timer_t *timer)
{
	struct agw_http_conn *c = timer->data;
	if (c->ssl && !agw_http_tls_ready(c)) {
		/* no answer can be sent before the handshake: counted as a failed one */
		agw_http_count_error("tls_handshake");
		agw_log_info(AGW_HTTP_COMPONENT, NULL, "TLS handshake not finished within %d ms", AGW_HTTP_TIMEOUT_MS);
		agw_http_conn_close(c);
		return;
	}
	if (c->len == 0) {
		/* An idle connection (a port probe) gets no answer, just closed. */
		agw_http_count_error("timeout");
		agw_http_conn_close(c);
		return;
	}
	agw_http_refuse(c, 408, "timeout", "the request did not arrive in time", "");
}

/* ---- accepting ---- */

void agw_http_on_connection(uv_stream_t *server, int status)
{
	struct agw_http *h = server->data;
	if (status < 0) {
		agw_http_count_error("accept");
		agw_log_warn(AGW_HTTP_COMPONENT, NULL, "accept failed: %s", uv_strerror(status));
		return;
	}
	struct agw_http_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->http = h;
	uv_tcp_init(h->loop, &c->tcp);
	uv_timer_init(h->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->open_handles = 2;
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	h->n_conns++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
		agw_http_conn_close(c);
		return;
	}
	/* Over the limit the connection is accepted and closed at once, which keeps the backlog moving. */
	if (h->n_conns > AGW_HTTP_MAX_CONNECTIONS) {
		agw_http_count_error("busy");
		agw_http_conn_close(c);
		return;
	}
	if (h->tls_ctx && (!(c->tls_in = malloc(TLS_READ_BUF)) || agw_http_tls_conn_start(c, h->tls_ctx) < 0)) {
		agw_http_conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_read_timeout, AGW_HTTP_TIMEOUT_MS, 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
		agw_http_conn_close(c);
}

