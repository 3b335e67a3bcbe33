/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal HTTP/1.1 server on libuv: keep-alive, Content-Length bodies, 100-continue, answers that
 * may come later (long polls) or after a delay. One server per camera plus the control port. */
#ifndef CAMSIM_HTTP_H
#define CAMSIM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#define CAMSIM_HTTP_MAX_HEADER (16 * 1024)
#define CAMSIM_HTTP_MAX_BODY (1024 * 1024)

struct camsim_http_request {
	char method[16];
	char path[512];
	char query[512];
	char authorization[2048];
	const char *body; /* points into the connection's buffer until the answer is sent */
	size_t body_len;
	bool keep_alive;
	bool expect_continue;
	size_t header_len; /* bytes up to and including the blank line */
};

/* Parses one request from data: the total length when complete, 0 when more bytes are needed
 * (ret->header_len is set once the header is complete), -EMSGSIZE over a limit, -ENOTSUP for chunked
 * bodies, -EPROTO for anything malformed. */
int camsim_http_parse(const char *data, size_t len, struct camsim_http_request *ret);

struct camsim_http_conn;

struct camsim_http_server {
	uv_loop_t *loop;
	uv_tcp_t *listener; /* NULL while stopped */
	struct camsim_http_conn *conns;
	/* Called once per request; the handler answers now or later with camsim_http_respond(). */
	void (*on_request)(struct camsim_http_conn *c, const struct camsim_http_request *req, void *ctx);
	void *ctx;
};

struct camsim_http_conn {
	uv_tcp_t tcp;
	uv_timer_t timer; /* delayed answers, then the lingering close */
	uv_shutdown_t shutdown;
	struct camsim_http_server *server;
	struct camsim_http_conn *prev, *next;
	char *buf;
	size_t len, cap;
	struct camsim_http_request req;
	size_t req_len;
	bool busy;          /* a request is being answered */
	bool in_process;
	bool continue_sent;
	bool close_after;   /* close once the answer is written */
	bool closing;
	bool lingering;     /* answer sent, FIN sent, input drained until EOF or a timeout */
	int handles;        /* open libuv handles; the memory goes when both are closed */
	char *pending_head, *pending_body;
	size_t pending_head_len, pending_body_len;
	void (*pending_done)(void *arg, int status); /* of the held answer */
	void *pending_arg;
	/* Owner hook: a long poll waiting on this connection is told that it went away. */
	void *waiter;
	void (*on_close)(struct camsim_http_conn *c);
};

/* Binds and listens; 0 or a negative libuv error. */
int camsim_http_server_start(struct camsim_http_server *s, const char *host, int port);
/* Closes the listener and every open connection (connections then get refused). */
void camsim_http_server_stop(struct camsim_http_server *s);
/* Answers the current request. body is malloc'd and owned by the connection from now on (may be NULL
 * when len is 0). extra_headers: full header lines with CRLF or NULL. delay_ms > 0 holds the answer. */
void camsim_http_respond(struct camsim_http_conn *c, int status, const char *content_type, const char *extra_headers,
			 char *body, size_t len, unsigned delay_ms);
/* The same, and done(arg, status) is called once: 0 when the answer was handed to the kernel,
 * a negative libuv error when it never was (the connection closed before a held answer went out,
 * or the write failed). What a camera takes off its queue for an answer is gone either way. */
void camsim_http_respond_tracked(struct camsim_http_conn *c, int status, const char *content_type,
				 const char *extra_headers, char *body, size_t len, unsigned delay_ms,
				 void (*done)(void *arg, int status), void *arg);
/* Plain text answer (copies text). */
void camsim_http_respond_text(struct camsim_http_conn *c, int status, const char *text);
void camsim_http_conn_close(struct camsim_http_conn *c);

#endif
