/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A deliberately small HTTP/1.1 server for operations. Each connection reads one request head
 * (at most AGW_HTTP_MAX_REQUEST bytes, within AGW_HTTP_TIMEOUT_MS), answers it with
 * "Connection: close" and closes after a short linger, so nothing ever waits on a client.
 * Store reads run on the worker pool on their own read-only connection (WAL lets them read
 * while the loop writes); requests arriving during a read wait for it and share its snapshot. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "alarmgw/alert.h"
#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "http.h"
#include "http_request.h"
#include "status.h"

#define COMPONENT "http"
#define STATUS_CACHE_MS 1000     /* scrapes and page loads within a second share one snapshot */
#define STATUS_WAIT_MS 30000     /* longest a request waits for a snapshot */
#define LINGER_MS 2000           /* reading what a client still sends after our answer */
#define PAGE_REFRESH_S 10
#define PAGE_MAX_CAMERAS 2000
/* The page needs nothing but itself and its one <style> block: no script runs, nothing loads,
 * nobody frames it. Every other answer is data and may do nothing at all. */
#define PAGE_CSP "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#define PLAIN_CSP "default-src 'none'; frame-ancestors 'none'"
#define TOKEN_MIN 16 /* bytes: a guessable token is no token */
#define TOKEN_MAX 512

enum conn_state {
	CONN_READING,
	CONN_WAITING, /* for a status snapshot */
	CONN_WRITING,
	CONN_LINGER,
	CONN_CLOSING,
};

enum route {
	ROUTE_PAGE,
	ROUTE_METRICS,
	ROUTE_HEALTHZ,
	ROUTE_API_STATUS,
};

struct conn {
	struct agw_http *http;
	struct conn *prev, *next;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t write_req;
	uv_shutdown_t shutdown_req;
	enum conn_state state;
	int open_handles;
	enum route route;
	bool head; /* HEAD: headers only */
	size_t len;
	char *response;
	size_t response_len, header_len;
	char req[AGW_HTTP_MAX_REQUEST + 1];
};

struct collect_job {
	uv_work_t work;
	struct agw_http *http;
	char *db_path;
	struct agw_status *status;
	int ret;
	char err[256];
};

struct agw_http {
	uv_loop_t *loop;
	struct agw_store *store;
	uv_tcp_t listener;
	bool listener_open;
	int port;
	bool healthy;
	bool (*health_fn)(void *arg);
	void *health_arg;
	bool stopping;
	void (*done)(void *arg);
	void *done_arg;
	struct conn *conns;
	size_t n_conns;
	struct collect_job *job;   /* in flight, or NULL */
	struct agw_health_tracker *tracker; /* used by one snapshot at a time: the job in flight */
	struct agw_status *cached; /* last good snapshot */
	uint64_t cached_at;        /* uv_now() when it was taken */
	bool cache_valid;
	int last_collect_ret;      /* of the last finished collection */
	struct agw_http_access access; /* Host names and token; points at the strings below */
	char *token;
	char **hosts;
	size_t n_hosts;
};

static void respond_route(struct conn *c);
static void http_free(struct agw_http *h);

static void count_error(const char *reason)
{
	char labels[64];
	snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
	agw_metric_add("agw_http_errors_total", labels, 1);
}

/* ---- teardown ---- */

static void maybe_done(struct agw_http *h)
{
	if (!h->stopping || h->n_conns || h->listener_open || h->job)
		return;
	agw_status_free(h->cached);
	void (*done)(void *) = h->done;
	void *arg = h->done_arg;
	http_free(h);
	if (done)
		done(arg);
}

static void conn_handle_closed(uv_handle_t *handle)
{
	struct conn *c = handle->data;
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
	free(c->response);
	free(c);
	maybe_done(h);
}

static void conn_close(struct conn *c)
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
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static void linger_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = handle->data;
	/* The request buffer is no longer needed: reuse it to drain the socket. */
	*buf = uv_buf_init(c->req, sizeof(c->req));
}

static void linger_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	if (nread < 0)
		conn_close(stream->data);
}

static void on_linger_timeout(uv_timer_t *timer)
{
	conn_close(timer->data);
}

/* After our answer, read and drop what the client may still send until it closes: closing with
 * unread data makes the kernel send a reset that can destroy the answer before it is read. */
static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct conn *c = req->data;
	if (c->state == CONN_CLOSING)
		return;
	if (status < 0) {
		conn_close(c);
		return;
	}
	c->state = CONN_LINGER;
	uv_timer_start(&c->timer, on_linger_timeout, LINGER_MS, 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, linger_alloc, linger_read) < 0)
		conn_close(c);
}

static void on_write(uv_write_t *req, int status)
{
	struct conn *c = req->data;
	if (c->state == CONN_CLOSING)
		return;
	if (status < 0) {
		count_error("write");
		conn_close(c);
		return;
	}
	c->shutdown_req.data = c;
	if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
		conn_close(c);
}

static void on_write_timeout(uv_timer_t *timer)
{
	struct conn *c = timer->data;
	count_error("timeout");
	agw_log_info(COMPONENT, NULL, "closing a connection that did not read its response in time");
	conn_close(c);
}

/* Sends code with body (owned: freed with the connection). extra: more header lines or "". */
static void conn_send(struct conn *c, int code, const char *type, const char *extra, char *body, size_t body_len)
{
	char head[1024];
	char labels[32];
	snprintf(labels, sizeof(labels), "code=\"%d\"", code);
	agw_metric_add("agw_http_responses_total", labels, 1);
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
			 "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n"
			 "Content-Security-Policy: %s\r\nConnection: close\r\n%s\r\n",
			 code, reason_phrase(code), type, body_len,
			 strncmp(type, "text/html", 9) == 0 ? PAGE_CSP : PLAIN_CSP, extra);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		free(body);
		conn_close(c);
		return;
	}
	size_t total = (size_t)n + (c->head ? 0 : body_len);
	char *out = malloc(total);
	if (!out) {
		free(body);
		conn_close(c);
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
	uv_buf_t buf = uv_buf_init(c->response, (unsigned)c->response_len);
	c->write_req.data = c;
	if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &buf, 1, on_write) < 0)
		conn_close(c);
}

static void conn_send_text(struct conn *c, int code, const char *text, const char *extra)
{
	char *body = strdup(text);
	conn_send(c, code, "text/plain; charset=utf-8", extra, body, body ? strlen(body) : 0);
}

/* A request we refuse: counted and logged once here. */
static void conn_refuse(struct conn *c, int code, const char *reason, const char *text, const char *extra)
{
	char body[160];
	count_error(reason);
	agw_log_info(COMPONENT, NULL, "refused a request with %d: %s", code, text);
	snprintf(body, sizeof(body), "%s\n", text);
	conn_send_text(c, code, body, extra);
}

/* ---- status snapshots ---- */

static void collect_work(uv_work_t *work)
{
	struct collect_job *job = work->data;
	sqlite3 *db = NULL;
	/* A connection per snapshot: opening costs far less than the queries, and a worker thread
	 * never shares a connection with another. */
	int rc = sqlite3_open_v2(job->db_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(job->err, sizeof(job->err), "cannot open %s: %s", job->db_path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		job->ret = -EIO;
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	job->ret = agw_status_collect(db, job->http->tracker, AGW_STATUS_RECENT_DEFAULT, agw_now_ms(), &job->status,
				      job->err, sizeof(job->err));
out:
	sqlite3_close(db);
}

static void collect_finished(struct agw_http *h, int ret, struct agw_status *status, const char *err)
{
	h->last_collect_ret = ret;
	if (ret < 0) {
		agw_metric_add("agw_http_errors_total", "reason=\"status\"", 1);
		agw_log_warn(COMPONENT, NULL, "cannot read the status from the store: %s", err);
	} else {
		agw_status_free(h->cached);
		h->cached = status;
	}
	h->cached_at = uv_now(h->loop);
	h->cache_valid = true;
	/* Every request that waited gets this snapshot (or the failure). */
	for (struct conn *c = h->conns, *next; c; c = next) {
		next = c->next;
		if (c->state == CONN_WAITING)
			respond_route(c);
	}
}

static void collect_after(uv_work_t *work, int status)
{
	struct collect_job *job = work->data;
	struct agw_http *h = job->http;
	h->job = NULL;
	if (status < 0 && job->ret >= 0) {
		job->ret = status;
		snprintf(job->err, sizeof(job->err), "%s", uv_strerror(status));
	}
	if (h->stopping)
		agw_status_free(job->status);
	else
		collect_finished(h, job->ret, job->status, job->err);
	free(job->db_path);
	free(job);
	maybe_done(h);
}

static void collect_start(struct agw_http *h)
{
	if (h->job || h->stopping)
		return;
	const char *path = sqlite3_db_filename(agw_store_db(h->store), "main");
	if (!path || !*path) {
		/* An in-memory store has no file to open a second connection on: read it here. */
		struct agw_status *st = NULL;
		char err[256] = "";
		int r = agw_status_collect(agw_store_db(h->store), h->tracker, AGW_STATUS_RECENT_DEFAULT, agw_now_ms(),
					   &st, err, sizeof(err));
		collect_finished(h, r, st, err);
		return;
	}
	struct collect_job *job = calloc(1, sizeof(*job));
	if (!job || !(job->db_path = strdup(path))) {
		free(job);
		collect_finished(h, -ENOMEM, NULL, "out of memory");
		return;
	}
	job->http = h;
	job->work.data = job;
	int r = uv_queue_work(h->loop, &job->work, collect_work, collect_after);
	if (r < 0) {
		free(job->db_path);
		free(job);
		collect_finished(h, r, NULL, uv_strerror(r));
		return;
	}
	h->job = job;
}

static void on_wait_timeout(uv_timer_t *timer)
{
	struct conn *c = timer->data;
	conn_refuse(c, 503, "status_timeout", "the status snapshot took too long", "");
}

/* ---- routes ---- */

static bool cache_fresh(struct agw_http *h)
{
	return h->cache_valid && uv_now(h->loop) - h->cached_at < STATUS_CACHE_MS;
}

static void respond_route(struct conn *c)
{
	struct agw_http *h = c->http;
	char *text = NULL;
	size_t len = 0;
	int r;
	if (c->route == ROUTE_HEALTHZ) {
		if (h->health_fn ? h->health_fn(h->health_arg) : h->healthy)
			conn_send_text(c, 200, "ok\n", "");
		else
			conn_send_text(c, 503, "unhealthy\n", "");
		return;
	}
	if (!cache_fresh(h)) {
		c->state = CONN_WAITING;
		uv_timer_start(&c->timer, on_wait_timeout, STATUS_WAIT_MS, 0);
		collect_start(h);
		return;
	}
	bool ok = h->last_collect_ret >= 0 && h->cached;
	switch (c->route) {
	case ROUTE_METRICS:
		/* The counters are always served; store gauges only from a good snapshot. */
		r = agw_status_to_prometheus(ok ? h->cached : NULL, &text, &len);
		if (r < 0)
			break;
		conn_send(c, 200, "text/plain; version=0.0.4; charset=utf-8", "", text, len);
		return;
	case ROUTE_API_STATUS:
		if (!ok)
			goto unavailable;
		r = agw_status_to_json(h->cached, &text, &len);
		if (r < 0)
			break;
		conn_send(c, 200, "application/json", "", text, len);
		return;
	case ROUTE_PAGE:
		if (!ok)
			goto unavailable;
		r = agw_status_to_html(h->cached, PAGE_REFRESH_S, PAGE_MAX_CAMERAS, &text, &len);
		if (r < 0)
			break;
		conn_send(c, 200, "text/html; charset=utf-8", "", text, len);
		return;
	case ROUTE_HEALTHZ:
		break;
	}
	conn_send_text(c, 500, "out of memory\n", "");
	return;
unavailable:
	conn_send_text(c, 503, "the store cannot be read; see the journal\n", "");
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

static void handle_request(struct conn *c, char *end)
{
	struct agw_http *h = c->http;
	struct agw_http_request req;
	struct agw_http_refusal no;
	if (agw_http_request_parse(c->req, (size_t)(end - c->req), &req, &no) < 0 ||
	    agw_http_access_check(&h->access, &req, &no) < 0) {
		conn_refuse(c, no.code, no.reason, no.text, no.extra);
		return;
	}
	c->head = req.head;
	if (req.path_len == 1)
		c->route = ROUTE_PAGE;
	else if (req.path_len == 8 && strncmp(req.path, "/metrics", 8) == 0)
		c->route = ROUTE_METRICS;
	else if (req.path_len == 8 && strncmp(req.path, "/healthz", 8) == 0)
		c->route = ROUTE_HEALTHZ;
	else if (req.path_len == 11 && strncmp(req.path, "/api/status", 11) == 0)
		c->route = ROUTE_API_STATUS;
	else {
		agw_metric_add("agw_http_errors_total", "reason=\"not_found\"", 1);
		conn_send_text(c, 404, "not found; try /, /metrics, /healthz or /api/status\n", "");
		return;
	}
	uv_read_stop((uv_stream_t *)&c->tcp);
	respond_route(c);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = handle->data;
	/* One spare byte is read beyond the limit so "exactly full" and "too long" differ. */
	*buf = uv_buf_init(c->req + c->len, (unsigned)(sizeof(c->req) - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = stream->data;
	if (c->state != CONN_READING)
		return;
	if (nread < 0) {
		if (nread != UV_EOF)
			count_error("read");
		conn_close(c);
		return;
	}
	size_t old = c->len;
	c->len += (size_t)nread;
	/* Rescan from a little before the new bytes: the blank line may straddle two reads. */
	size_t from = old > 3 ? old - 3 : 0;
	char *end = find_head_end(c->req + from, c->len - from);
	if (end && (size_t)(end - c->req) <= AGW_HTTP_MAX_REQUEST) {
		handle_request(c, end);
		return;
	}
	if (c->len > AGW_HTTP_MAX_REQUEST)
		conn_refuse(c, 413, "too_large", "request head larger than 8192 bytes", "");
}

static void on_read_timeout(uv_timer_t *timer)
{
	struct conn *c = timer->data;
	if (c->len == 0) {
		/* An idle connection (a port probe) gets no answer, just closed. */
		count_error("timeout");
		conn_close(c);
		return;
	}
	conn_refuse(c, 408, "timeout", "the request did not arrive in time", "");
}

/* ---- accepting ---- */

static void on_connection(uv_stream_t *server, int status)
{
	struct agw_http *h = server->data;
	if (status < 0) {
		count_error("accept");
		agw_log_warn(COMPONENT, NULL, "accept failed: %s", uv_strerror(status));
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
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
		conn_close(c);
		return;
	}
	/* Over the limit the connection is accepted and closed at once, which keeps the backlog moving. */
	if (h->n_conns > AGW_HTTP_MAX_CONNECTIONS) {
		count_error("busy");
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_read_timeout, AGW_HTTP_TIMEOUT_MS, 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
		conn_close(c);
}

static int parse_listen(const char *text, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon;
	const char *h = text;
	size_t hlen;
	if (*text == '[') {
		const char *rb = strchr(text, ']');
		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = text + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - text);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
		return -EINVAL;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0)
		return 0;
	if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0)
		return 0;
	return -EINVAL;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static void http_free(struct agw_http *h)
{
	agw_health_tracker_free(h->tracker);
	if (h->token)
		explicit_bzero(h->token, strlen(h->token));
	free(h->token);
	for (size_t i = 0; i < h->n_hosts; i++)
		free(h->hosts[i]);
	free(h->hosts);
	free(h);
}

static void free_unstarted(uv_handle_t *handle)
{
	http_free(handle->data);
}

/* Reads the bearer token: one line of printable characters without spaces. The file should be
 * readable by the service's group only, like the config; a world-readable one is said so once. */
static int token_read(const char *path, char **ret)
{
	char buf[TOKEN_MAX + 2];
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		agw_log_err(COMPONENT, NULL, "http_token_file %s: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0007))
		agw_log_warn(COMPONENT, NULL,
			     "http_token_file %s can be read by every user (mode %03o): make it root:alarmgw 0640",
			     path, (unsigned)(st.st_mode & 0777));
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	bool ok = n >= TOKEN_MIN && n <= TOKEN_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = buf[i] > ' ' && buf[i] < 127;
	if (!ok) {
		agw_log_err(COMPONENT, NULL,
			    "http_token_file %s: the token must be one line of %d to %d printable characters "
			    "without spaces (e.g. openssl rand -hex 32)",
			    path, TOKEN_MIN, TOKEN_MAX);
		explicit_bzero(buf, sizeof(buf));
		return -EINVAL;
	}
	*ret = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return *ret ? 0 : -ENOMEM;
}

/* "a.example, 10.0.0.5:9108 [::1]" -> h->hosts; each entry checked the way requests are. */
static int hosts_parse(struct agw_http *h, const char *text)
{
	const char *p = text;
	while (*p) {
		size_t skip = strspn(p, ", \t");
		p += skip;
		size_t len = strcspn(p, ", \t");
		if (!len)
			break;
		struct agw_http_access probe = {.hosts = NULL, .n_hosts = 0, .port = -1, .token = NULL};
		char *entry = strndup(p, len);
		char **v = entry ? realloc(h->hosts, (h->n_hosts + 1) * sizeof(*v)) : NULL;
		if (!v) {
			free(entry);
			return -ENOMEM;
		}
		h->hosts = v;
		h->hosts[h->n_hosts++] = entry;
		/* An entry that cannot match itself is malformed ("a:b", "[::1"). */
		const char *const one[] = {entry};
		probe.hosts = one;
		probe.n_hosts = 1;
		if (!agw_http_host_allowed(&probe, entry, len)) {
			agw_log_err(COMPONENT, NULL, "http_hosts: \"%s\" is not a host name, host:port or [v6]:port",
				    entry);
			return -EINVAL;
		}
		p += len;
	}
	return 0;
}

int agw_http_start(uv_loop_t *loop, const char *listen_addr, struct agw_store *store, struct agw_http **ret)
{
	struct agw_http_config cfg = {.listen = listen_addr, .token_file = NULL, .hosts = NULL};
	return agw_http_start_config(loop, &cfg, store, ret);
}

int agw_http_start_config(uv_loop_t *loop, const struct agw_http_config *cfg, struct agw_store *store,
			  struct agw_http **ret)
{
	const char *listen_addr = cfg->listen;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (!listen_addr || parse_listen(listen_addr, &ss) < 0) {
		agw_log_err(COMPONENT, NULL, "http_listen \"%s\" is not host:port (127.0.0.1:9108, [::1]:9108)",
			    listen_addr ? listen_addr : "");
		return -EINVAL;
	}
	bool loopback = is_loopback(&ss);
	bool has_token = cfg->token_file && *cfg->token_file;
	if (!loopback && !has_token) {
		agw_log_err(COMPONENT, NULL,
			    "http_listen %s is not a loopback address: set gateway.http_token_file (a bearer token "
			    "every request but /healthz must carry) or listen on 127.0.0.1",
			    listen_addr);
		return -EINVAL;
	}
	struct agw_http *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->loop = loop;
	h->store = store;
	h->healthy = true;
	int r = has_token ? token_read(cfg->token_file, &h->token) : 0;
	if (r == 0 && cfg->hosts)
		r = hosts_parse(h, cfg->hosts);
	if (r == 0 && !loopback && !h->n_hosts) {
		agw_log_err(COMPONENT, NULL,
			    "http_listen %s is not a loopback address: set gateway.http_hosts to the names clients "
			    "use (the Host header is checked against them)",
			    listen_addr);
		r = -EINVAL;
	}
	if (r == 0)
		r = agw_health_tracker_new(&h->tracker);
	if (r == 0)
		r = uv_tcp_init(loop, &h->listener);
	if (r < 0) {
		http_free(h);
		return r;
	}
	h->access.hosts = (const char *const *)h->hosts;
	h->access.n_hosts = h->n_hosts;
	h->access.token = h->token;
	h->listener.data = h;
	r = uv_tcp_bind(&h->listener, (const struct sockaddr *)&ss, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&h->listener, 128, on_connection);
	if (r < 0) {
		agw_log_err(COMPONENT, NULL, "cannot listen on %s: %s", listen_addr, uv_strerror(r));
		uv_close((uv_handle_t *)&h->listener, free_unstarted);
		return r;
	}
	struct sockaddr_storage bound;
	int blen = sizeof(bound);
	if (uv_tcp_getsockname(&h->listener, (struct sockaddr *)&bound, &blen) == 0)
		h->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
							   : ((struct sockaddr_in6 *)&bound)->sin6_port);
	h->access.port = h->port;
	h->listener_open = true;
	agw_log_info(COMPONENT, NULL, "serving /metrics, /healthz, / and /api/status on %s (port %d%s%s)",
		     listen_addr, h->port, h->token ? ", bearer token required" : "",
		     h->n_hosts ? ", Host names from http_hosts" : ", Host must be a loopback name");
	*ret = h;
	return 0;
}

void agw_http_set_health(struct agw_http *h, bool healthy)
{
	if (h)
		h->healthy = healthy;
}

void agw_http_set_health_fn(struct agw_http *h, bool (*fn)(void *arg), void *arg)
{
	if (!h)
		return;
	h->health_fn = fn;
	h->health_arg = arg;
}

int agw_http_port(const struct agw_http *h)
{
	return h ? h->port : -1;
}

static void listener_closed(uv_handle_t *handle)
{
	struct agw_http *h = handle->data;
	h->listener_open = false;
	maybe_done(h);
}

void agw_http_stop(struct agw_http *h, void (*done)(void *arg), void *arg)
{
	if (!h || h->stopping)
		return;
	h->stopping = true;
	h->done = done;
	h->done_arg = arg;
	/* A snapshot not yet started is cancelled; one running finishes on the worker and is dropped. */
	if (h->job)
		uv_cancel((uv_req_t *)&h->job->work);
	for (struct conn *c = h->conns; c; c = c->next)
		conn_close(c);
	uv_close((uv_handle_t *)&h->listener, listener_closed);
}
