/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/log.h"
#include "http.h"

#define INITIAL_BUF 4096
#define MAX_BUF (CAMSIM_HTTP_MAX_HEADER + CAMSIM_HTTP_MAX_BODY)
#define LINGER_MS 2000

static const char *find_crlfcrlf(const char *data, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' && data[i + 3] == '\n')
			return data + i;
	return NULL;
}

static bool token_eq(const char *p, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

/* Copies the target (origin-form or absolute-form) into path and query. */
static int split_target(const char *t, size_t n, struct camsim_http_request *r)
{
	if (n > 7 && (strncasecmp(t, "http://", 7) == 0)) {
		const char *slash = memchr(t + 7, '/', n - 7);
		if (!slash)
			return -EPROTO;
		n -= (size_t)(slash - t);
		t = slash;
	}
	if (n == 0 || t[0] != '/')
		return -EPROTO;
	const char *q = memchr(t, '?', n);
	size_t plen = q ? (size_t)(q - t) : n;
	size_t qlen = q ? n - plen - 1 : 0;
	if (plen >= sizeof(r->path) || qlen >= sizeof(r->query))
		return -EMSGSIZE;
	memcpy(r->path, t, plen);
	r->path[plen] = '\0';
	if (q)
		memcpy(r->query, q + 1, qlen);
	r->query[qlen] = '\0';
	return 0;
}

int camsim_http_parse(const char *data, size_t len, struct camsim_http_request *ret)
{
	struct camsim_http_request r = {0};
	size_t scan = len < CAMSIM_HTTP_MAX_HEADER ? len : CAMSIM_HTTP_MAX_HEADER;
	const char *end = find_crlfcrlf(data, scan);
	if (!end)
		return len >= CAMSIM_HTTP_MAX_HEADER ? -EMSGSIZE : 0;
	r.header_len = (size_t)(end - data) + 4;

	/* request line */
	const char *line_end = memchr(data, '\r', (size_t)(end - data) + 1);
	const char *sp1 = memchr(data, ' ', (size_t)(line_end - data));
	if (!sp1 || sp1 == data || (size_t)(sp1 - data) >= sizeof(r.method))
		return -EPROTO;
	const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1));
	if (!sp2)
		return -EPROTO;
	memcpy(r.method, data, (size_t)(sp1 - data));
	int err = split_target(sp1 + 1, (size_t)(sp2 - sp1 - 1), &r);
	if (err)
		return err;
	size_t vlen = (size_t)(line_end - sp2 - 1);
	if (token_eq(sp2 + 1, vlen, "HTTP/1.1"))
		r.keep_alive = true;
	else if (!token_eq(sp2 + 1, vlen, "HTTP/1.0"))
		return -EPROTO;

	size_t content_length = 0;
	const char *p = line_end + 2;
	while (p < end + 2) {
		const char *eol = memchr(p, '\r', (size_t)(end + 2 - p));
		if (!eol || eol[1] != '\n')
			return -EPROTO;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			return -EPROTO;
		size_t nlen = (size_t)(colon - p);
		const char *v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		size_t vl = (size_t)(eol - v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		if (token_eq(p, nlen, "Content-Length")) {
			if (vl == 0 || vl > 9)
				return vl > 9 ? -EMSGSIZE : -EPROTO;
			content_length = 0;
			for (size_t i = 0; i < vl; i++) {
				if (!isdigit((unsigned char)v[i]))
					return -EPROTO;
				content_length = content_length * 10 + (size_t)(v[i] - '0');
			}
			if (content_length > CAMSIM_HTTP_MAX_BODY)
				return -EMSGSIZE;
		} else if (token_eq(p, nlen, "Transfer-Encoding")) {
			if (!token_eq(v, vl, "identity"))
				return -ENOTSUP;
		} else if (token_eq(p, nlen, "Connection")) {
			if (token_eq(v, vl, "close"))
				r.keep_alive = false;
			else if (token_eq(v, vl, "keep-alive"))
				r.keep_alive = true;
		} else if (token_eq(p, nlen, "Authorization")) {
			if (vl >= sizeof(r.authorization))
				return -EMSGSIZE;
			memcpy(r.authorization, v, vl);
			r.authorization[vl] = '\0';
		} else if (token_eq(p, nlen, "Expect")) {
			r.expect_continue = token_eq(v, vl, "100-continue");
		}
		p = eol + 2;
	}
	*ret = r;
	if (len - r.header_len < content_length)
		return 0;
	ret->body = data + r.header_len;
	ret->body_len = content_length;
	return (int)(r.header_len + content_length);
}

struct write_req {
	uv_write_t req;
	struct camsim_http_conn *conn;
	char *head;
	char *body;
	void (*done)(void *arg, int status);
	void *arg;
};

/* Tells the owner of an answer whether it was handed to the kernel (0) or not (a libuv error). */
static void answer_done(void (*done)(void *arg, int status), void *arg, int status)
{
	if (done)
		done(arg, status);
}

static void process(struct camsim_http_conn *c);

static void conn_handle_closed(uv_handle_t *h)
{
	struct camsim_http_conn *c = h->data;
	if (--c->handles > 0)
		return;
	free(c->buf);
	free(c);
}

void camsim_http_conn_close(struct camsim_http_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->prev)
		c->prev->next = c->next;
	else if (c->server && c->server->conns == c)
		c->server->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	if (c->on_close)
		c->on_close(c);
	void (*done)(void *arg, int status) = c->pending_done;
	c->pending_done = NULL;
	answer_done(done, c->pending_arg, UV_ECONNRESET); /* a held answer never written */
	free(c->pending_head);
	free(c->pending_body);
	c->pending_head = c->pending_body = NULL;
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
}

static void on_linger_timeout(uv_timer_t *t)
{
	camsim_http_conn_close(t->data);
}

/* Closing a socket with unread input makes the kernel send a reset, which can destroy the answer
 * before the client reads it: send FIN, read and discard until the client closes, or give up. */
static void linger(struct camsim_http_conn *c)
{
	if (c->lingering)
		return;
	c->lingering = true;
	if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
		camsim_http_conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_linger_timeout, LINGER_MS, 0);
}

static void on_written(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct camsim_http_conn *c = w->conn;
	answer_done(w->done, w->arg, status);
	free(w->head);
	free(w->body);
	free(w);
	if (c->closing)
		return;
	if (status < 0)
		camsim_http_conn_close(c);
	else if (c->close_after && c->tcp.write_queue_size == 0 && !c->busy)
		linger(c);
}

/* Hands head and body (both owned) to libuv; the connection is closed if writing fails. */
static void write_out(struct camsim_http_conn *c, char *head, size_t head_len, char *body, size_t body_len,
		      void (*done)(void *arg, int status), void *arg)
{
	struct write_req *w = calloc(1, sizeof(*w));
	if (!w) {
		free(head);
		free(body);
		answer_done(done, arg, UV_ENOMEM);
		camsim_http_conn_close(c);
		return;
	}
	w->conn = c;
	w->head = head;
	w->body = body;
	w->done = done;
	w->arg = arg;
	uv_buf_t bufs[2] = {uv_buf_init(head, (unsigned)head_len), uv_buf_init(body ? body : head, (unsigned)body_len)};
	int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, body_len ? 2 : 1, on_written);
	if (rc < 0) {
		answer_done(done, arg, rc);
		free(head);
		free(body);
		free(w);
		camsim_http_conn_close(c);
	}
}

/* The answer is on its way: forget the request and look at the next one. */
static void finish_request(struct camsim_http_conn *c, char *head, size_t head_len, char *body, size_t body_len,
			   void (*done)(void *arg, int status), void *arg)
{
	if (c->req_len <= c->len) {
		memmove(c->buf, c->buf + c->req_len, c->len - c->req_len);
		c->len -= c->req_len;
	}
	c->req_len = 0;
	c->busy = false;
	c->continue_sent = false;
	write_out(c, head, head_len, body, body_len, done, arg);
	if (c->closing)
		return;
	if (!c->close_after)
		process(c);
}

static void on_delay(uv_timer_t *t)
{
	struct camsim_http_conn *c = t->data;
	char *head = c->pending_head, *body = c->pending_body;
	void (*done)(void *arg, int status) = c->pending_done;
	c->pending_head = c->pending_body = NULL;
	c->pending_done = NULL;
	finish_request(c, head, c->pending_head_len, body, c->pending_body_len, done, c->pending_arg);
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	default:
		return "Status";
	}
}

void camsim_http_respond(struct camsim_http_conn *c, int status, const char *content_type, const char *extra_headers,
			 char *body, size_t len, unsigned delay_ms)
{
	camsim_http_respond_tracked(c, status, content_type, extra_headers, body, len, delay_ms, NULL, NULL);
}

void camsim_http_respond_tracked(struct camsim_http_conn *c, int status, const char *content_type,
				 const char *extra_headers, char *body, size_t len, unsigned delay_ms,
				 void (*done)(void *arg, int status), void *arg)
{
	if (c->closing || !c->busy) {
		free(body);
		answer_done(done, arg, UV_ECANCELED);
		return;
	}
	if (!c->req.keep_alive)
		c->close_after = true;
	size_t cap = 256 + (extra_headers ? strlen(extra_headers) : 0) + (content_type ? strlen(content_type) : 0);
	char *head = malloc(cap);
	if (!head) {
		free(body);
		answer_done(done, arg, UV_ENOMEM);
		camsim_http_conn_close(c);
		return;
	}
	int n = snprintf(head, cap, "HTTP/1.1 %d %s\r\nServer: camsim\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: %s\r\n%s\r\n",
			 status, reason_phrase(status), content_type ? content_type : "text/plain", len,
			 c->close_after ? "close" : "keep-alive", extra_headers ? extra_headers : "");
	if (delay_ms > 0) {
		c->pending_head = head;
		c->pending_head_len = (size_t)n;
		c->pending_body = body;
		c->pending_body_len = len;
		c->pending_done = done;
		c->pending_arg = arg;
		uv_timer_start(&c->timer, on_delay, delay_ms, 0);
		return;
	}
	finish_request(c, head, (size_t)n, body, len, done, arg);
}

void camsim_http_respond_text(struct camsim_http_conn *c, int status, const char *text)
{
	char *body = strdup(text);
	camsim_http_respond(c, status, "text/plain", NULL, body, body ? strlen(body) : 0, 0);
}

static void process(struct camsim_http_conn *c)
{
	if (c->in_process)
		return;
	c->in_process = true;
	while (!c->busy && !c->closing && !c->close_after && c->len > 0) {
		struct camsim_http_request req;
		int r = camsim_http_parse(c->buf, c->len, &req);
		if (r < 0) {
			/* The byte stream cannot be trusted any more: answer and hang up. */
			c->busy = true;
			c->req_len = c->len;
			c->req = (struct camsim_http_request){0};
			c->close_after = true;
			camsim_http_respond_text(c, r == -EMSGSIZE ? 413 : r == -ENOTSUP ? 501 : 400,
						 "bad request\n");
			break;
		}
		if (r == 0) {
			if (req.header_len && req.expect_continue && !c->continue_sent) {
				static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
				char *head = strdup(cont);
				c->continue_sent = true;
				if (head)
					write_out(c, head, sizeof(cont) - 1, NULL, 0, NULL, NULL);
			}
			break;
		}
		c->req = req;
		c->req_len = (size_t)r;
		c->busy = true;
		c->server->on_request(c, &c->req, c->server->ctx);
	}
	c->in_process = false;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct camsim_http_conn *c = h->data;
	if (c->cap - c->len < 1024 && c->cap < MAX_BUF) {
		size_t cap = c->cap ? c->cap * 2 : INITIAL_BUF;
		if (cap > MAX_BUF)
			cap = MAX_BUF;
		char *p = realloc(c->buf, cap);
		if (p) {
			c->buf = p;
			c->cap = cap;
		}
	}
	*buf = uv_buf_init(c->buf ? c->buf + c->len : NULL, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct camsim_http_conn *c = s->data;
	if (nread < 0) {
		camsim_http_conn_close(c);
		return;
	}
	/* After the last answer of a connection, input is only drained. */
	if (!c->close_after)
		c->len += (size_t)nread;
	process(c);
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct camsim_http_server *s = listener->data;
	static unsigned long failures;
	if (status < 0) {
		/* EMFILE when the descriptor limit is reached: libuv then refuses the client; log the first of a
		 * series and every 1000th so the cause is visible without flooding. */
		if (failures++ % 1000 == 0)
			agw_log_warn("camsim", NULL, "accept failed (%lu so far): %s", failures, uv_strerror(status));
		return;
	}
	struct camsim_http_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->timer);
	c->handles = 2;
	c->tcp.data = c;
	c->timer.data = c;
	c->server = s;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0) {
		c->closing = true;
		uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
		uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
		return;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	uv_tcp_nodelay(&c->tcp, 1);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

int camsim_http_server_start(struct camsim_http_server *s, const char *host, int port)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} addr;
	int r = strchr(host, ':') ? uv_ip6_addr(host, port, &addr.in6) : uv_ip4_addr(host, port, &addr.in4);
	if (r < 0)
		return r;
	uv_tcp_t *l = malloc(sizeof(*l));
	if (!l)
		return UV_ENOMEM;
	uv_tcp_init(s->loop, l);
	l->data = s;
	r = uv_tcp_bind(l, &addr.sa, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)l, 128, on_connection);
	if (r < 0) {
		uv_close((uv_handle_t *)l, free_handle);
		return r;
	}
	s->listener = l;
	return 0;
}

void camsim_http_server_stop(struct camsim_http_server *s)
{
	if (s->listener) {
		uv_close((uv_handle_t *)s->listener, free_handle);
		s->listener = NULL;
	}
	while (s->conns)
		camsim_http_conn_close(s->conns);
}
