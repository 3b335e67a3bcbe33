/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A device's listener and connections: one request per connection until a stream starts (401 and
 * 404 answers keep the connection, as curl's Digest handshake expects), then a body that never
 * ends. Authentication as the devices do it: HTTP Digest (MD5, qop=auth), Basic when allowed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/log.h"
#include "digest.h"
#include "vendorsim.h"

#define MAX_REQUEST (16 * 1024)
#define ISAPI_PATH "/ISAPI/Event/notification/alertStream"
#define DAHUA_PATH "/cgi-bin/eventManager.cgi"

uint64_t vsim_rand(struct vsim_device *dev)
{
	dev->rng ^= dev->rng << 13;
	dev->rng ^= dev->rng >> 7;
	dev->rng ^= dev->rng << 17;
	return dev->rng;
}

void vsim_device_init(struct vsim *sim, struct vsim_device *dev, unsigned index)
{
	memset(dev, 0, sizeof(*dev));
	dev->sim = sim;
	dev->index = index;
	dev->port = sim->opt.common.base_port + (int)index;
	const char *prefix = sim->opt.id_prefix ? sim->opt.id_prefix : sim->opt.protocol == VSIM_ISAPI ? "hik" : "dh";
	snprintf(dev->id, sizeof(dev->id), "%s-%05u", prefix, index + 1);
	dev->mb = sim->opt.mb;
	dev->rate = sim->opt.common.rate;
	dev->dialect = sim->opt.dialect;
	if (sim->opt.mixed)
		vsim_dialect_mixed(sim->opt.protocol, index, &dev->dialect);
	dev->rng = (sim->opt.common.seed ^ (0x9e3779b97f4a7c15ULL * (index + 1))) | 1;
	uv_timer_init(sim->loop, &dev->event_timer);
	uv_timer_init(sim->loop, &dev->tick_timer);
	uv_timer_init(sim->loop, &dev->reboot_timer);
	dev->event_timer.data = dev->tick_timer.data = dev->reboot_timer.data = dev;
}

/* ---- connections ---- */

static void conn_closed(uv_handle_t *h)
{
	struct vsim_conn *c = h->data;
	if (--c->handles > 0)
		return;
	free(c->in);
	free(c->pend);
	camsim_buf_free(&c->out);
	free(c);
}

static void conn_close(struct vsim_conn *c, const char *reason, bool reset)
{
	struct vsim_device *dev = c->dev;
	if (c->closing)
		return;
	c->closing = true;
	if (c->streaming) {
		dev->live_streams--;
		vsim_evlog_stream(dev->sim, dev, c->answer, "closed", reason);
	}
	vsim_conn_pend_unsent(c, reason);
	if (c->prev)
		c->prev->next = c->next;
	else
		dev->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	uv_close((uv_handle_t *)&c->timer, conn_closed);
	uv_close((uv_handle_t *)&c->trickle_timer, conn_closed);
	uv_close((uv_handle_t *)&c->silence_timer, conn_closed);
	if (reset && uv_tcp_close_reset(&c->tcp, conn_closed) == 0)
		return;
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

void vsim_conn_close(struct vsim_conn *c, const char *reason)
{
	conn_close(c, reason, false);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	vsim_conn_close(req->data, "ended by the device");
}

void vsim_conn_end(struct vsim_conn *c)
{
	if (c->closing || c->shutdown_sent)
		return;
	c->ending = true;
	uv_timer_stop(&c->timer);
	if (vsim_conn_has_unsent(c)) {
		vsim_conn_trickle_start(c); /* ends it once the trickle is through */
		return;
	}
	c->shutdown_sent = true;
	c->shutdown.data = c;
	if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
		vsim_conn_close(c, "ended by the device");
}

/* A complete answer that is not a stream. */
static void answer(struct vsim_conn *c, int status, const char *reason, const char *extra, const char *body,
		   bool close_after)
{
	char head[1024];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s%s\r\n",
			 status, reason, strlen(body), extra ? extra : "", close_after ? "Connection: close\r\n" : "");
	struct camsim_buf b = {0};
	camsim_buf_append(&b, head, (size_t)n);
	camsim_buf_puts(&b, body);
	vsim_conn_send(c, b.data, b.len);
	camsim_buf_free(&b);
	if (close_after)
		vsim_conn_end(c);
}

/* The picture of a channel: Dahua's snapshot CGI, ISAPI's channel picture (evidence snapshots). */
static bool snapshot_path(bool isapi, const char *path)
{
	if (!isapi)
		return strcmp(path, "/cgi-bin/snapshot.cgi") == 0;
	const char *pre = "/ISAPI/Streaming/channels/";
	size_t n = strlen(pre), l = strlen(path);
	return strncmp(path, pre, n) == 0 && l > n + 8 && strcmp(path + l - 8, "/picture") == 0;
}

static void answer_jpeg(struct vsim_conn *c, bool close_after)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n%s\r\n",
			 vsim_jpeg_len, close_after ? "Connection: close\r\n" : "");
	struct camsim_buf b = {0};
	camsim_buf_append(&b, head, (size_t)n);
	camsim_buf_append(&b, (const char *)vsim_jpeg, vsim_jpeg_len);
	vsim_conn_send(c, b.data, b.len);
	camsim_buf_free(&b);
	c->dev->snapshots++;
	if (close_after)
		vsim_conn_end(c);
}

static void challenge(struct vsim_conn *c, bool stale)
{
	struct vsim_device *dev = c->dev;
	char h[512];
	camsim_digest_challenge(dev->sim->secret, (int64_t)camsim_wall_now(), stale, h, sizeof(h));
	if (dev->sim->opt.auth == VSIM_AUTH_BASIC) {
		size_t l = strlen(h);
		snprintf(h + l, sizeof(h) - l, "WWW-Authenticate: Basic realm=\"%s\"\r\n", CAMSIM_DIGEST_REALM);
	}
	answer(c, 401, "Unauthorized", h, "Unauthorized\r\n", false);
}

static bool basic_ok(const struct vsim *sim, const char *value)
{
	unsigned char dec[512];
	int n = camsim_base64_decode(value, dec, sizeof(dec) - 1);
	if (n < 0)
		return false;
	dec[n] = '\0';
	char *colon = strchr((char *)dec, ':');
	if (!colon)
		return false;
	*colon = '\0';
	return strcmp((char *)dec, sim->opt.common.user) == 0 && strcmp(colon + 1, sim->opt.common.password) == 0;
}

/* 0 when the request may go on; otherwise the answer has been given. */
static int authenticate(struct vsim_conn *c, const struct camsim_http_request *req, const char *target)
{
	struct vsim_device *dev = c->dev;
	struct vsim *sim = dev->sim;
	if (sim->opt.auth == VSIM_AUTH_NONE)
		return 0;
	const char *a = req->authorization;
	if (sim->opt.auth == VSIM_AUTH_BASIC && strncasecmp(a, "Basic ", 6) == 0) {
		if (basic_ok(sim, a + 6))
			return 0;
		challenge(c, false);
		return -EACCES;
	}
	struct camsim_digest_auth da;
	if (!a[0] || camsim_digest_parse(a, &da) < 0 || strcmp(da.uri, target) != 0) {
		challenge(c, false);
		return -EACCES;
	}
	int r = camsim_digest_verify(&da, sim->secret, (int64_t)camsim_wall_now(), req->method, sim->opt.common.user,
				     sim->opt.common.password);
	if (r == -ESTALE) {
		challenge(c, true);
		return r;
	}
	if (r < 0) {
		challenge(c, false);
		return r;
	}
	if (dev->mb.stale_nonce) {
		/* the right answer to a nonce the device says it no longer knows */
		dev->mb.stale_nonce--;
		challenge(c, true);
		return -ESTALE;
	}
	return 0;
}

static void on_heartbeat(uv_timer_t *t)
{
	vsim_stream_heartbeat(t->data);
}

static void start_stream(struct vsim_conn *c, uint64_t heartbeat_ms)
{
	struct vsim_device *dev = c->dev;
	c->streaming = true;
	c->answer = ++dev->answers;
	c->dialect = dev->dialect;
	if (dev->mb.wrong_boundary) {
		dev->mb.wrong_boundary--;
		c->wrong_boundary = true;
	}
	dev->live_streams++;
	dev->streams++;
	char dn[48];
	vsim_dialect_name(dev->sim->opt.protocol, &c->dialect, dn, sizeof(dn));
	vsim_evlog_stream(dev->sim, dev, c->answer, "open", c->wrong_boundary ? "wrong-boundary" : dn);
	struct camsim_buf b = {0};
	vsim_render_stream_head(dev, c, &b);
	vsim_stream_raw(c, b.data, b.len);
	camsim_buf_free(&b);
	c->heartbeat_ms = heartbeat_ms;
	if (heartbeat_ms)
		uv_timer_start(&c->timer, on_heartbeat, heartbeat_ms, heartbeat_ms);
}

/* codes=[All] or codes=[A,B]: the list without brackets into c->codes. */
static int dahua_codes(const char *query, char *buf, size_t len)
{
	char v[256];
	if (camsim_query_get(query, "codes", v, sizeof(v)) < 0)
		return -EINVAL;
	size_t n = strlen(v);
	if (n < 3 || v[0] != '[' || v[n - 1] != ']' || n - 2 >= len)
		return -EINVAL;
	memcpy(buf, v + 1, n - 2);
	buf[n - 2] = '\0';
	return 0;
}

static void on_request(struct vsim_conn *c, const struct camsim_http_request *req)
{
	struct vsim_device *dev = c->dev;
	struct vsim *sim = dev->sim;
	dev->requests++;
	char target[1100];
	snprintf(target, sizeof(target), "%s%s%s", req->path, req->query[0] ? "?" : "", req->query);
	bool isapi = sim->opt.protocol == VSIM_ISAPI;
	bool snapshot = snapshot_path(isapi, req->path);
	if (!snapshot && strcmp(req->path, isapi ? ISAPI_PATH : DAHUA_PATH) != 0) {
		answer(c, 404, "Not Found", NULL, "Not Found\r\n", !req->keep_alive);
		return;
	}
	if (strcmp(req->method, "GET") != 0) {
		answer(c, 405, "Method Not Allowed", NULL, "Method Not Allowed\r\n", !req->keep_alive);
		return;
	}
	if (authenticate(c, req, target) < 0) {
		if (!req->keep_alive)
			vsim_conn_end(c);
		return;
	}
	if (snapshot) {
		answer_jpeg(c, !req->keep_alive);
		return;
	}
	uint64_t heartbeat_ms = (uint64_t)(sim->opt.heartbeat * 1000);
	if (!isapi) {
		char action[32], hb[16];
		if (camsim_query_get(req->query, "action", action, sizeof(action)) < 0 || strcmp(action, "attach") != 0 ||
		    dahua_codes(req->query, c->codes, sizeof(c->codes)) < 0) {
			answer(c, 400, "Bad Request", NULL, "Error\r\nBad Request!\r\n", true);
			return;
		}
		heartbeat_ms = 0; /* no heartbeat unless asked for */
		if (camsim_query_get(req->query, "heartbeat", hb, sizeof(hb)) == 0) {
			char *end;
			long s = strtol(hb, &end, 10);
			if (*end || end == hb || s < 1 || s > 3600) {
				answer(c, 400, "Bad Request", NULL, "Error\r\nBad Request!\r\n", true);
				return;
			}
			heartbeat_ms = (uint64_t)s * 1000;
		}
	}
	if (dev->mb.max_streams && dev->live_streams >= dev->mb.max_streams) {
		dev->refused++;
		vsim_evlog_stream(sim, dev, 0, "refused", "connection limit");
		answer(c, 503, "Service Unavailable", NULL, "Service Unavailable\r\n", true);
		return;
	}
	start_stream(c, heartbeat_ms);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	static char scratch[65536]; /* one loop thread: bytes are copied out before the next read */
	*buf = uv_buf_init(scratch, sizeof(scratch));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct vsim_conn *c = s->data;
	if (nread < 0) {
		vsim_conn_close(c, nread == UV_EOF ? "closed by the client" : uv_err_name((int)nread));
		return;
	}
	if (c->closing || c->streaming || c->ending || nread == 0)
		return; /* a client says nothing once its stream runs */
	if (c->in_len + (size_t)nread > MAX_REQUEST) {
		answer(c, 431, "Request Header Fields Too Large", NULL, "Too Large\r\n", true);
		return;
	}
	char *in = realloc(c->in, c->in_len + (size_t)nread + 1);
	if (!in) {
		vsim_conn_close(c, "out of memory");
		return;
	}
	c->in = in;
	memcpy(c->in + c->in_len, buf->base, (size_t)nread);
	c->in_len += (size_t)nread;
	while (!c->streaming && !c->ending && !c->closing && c->in_len) {
		struct camsim_http_request req;
		int n = camsim_http_parse(c->in, c->in_len, &req);
		if (n == 0)
			return;
		if (n < 0) {
			answer(c, 400, "Bad Request", NULL, "Bad Request\r\n", true);
			return;
		}
		memmove(c->in, c->in + n, c->in_len - (size_t)n);
		c->in_len -= (size_t)n;
		on_request(c, &req);
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct vsim_device *dev = server->data;
	if (status < 0)
		return;
	struct vsim_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->dev = dev;
	uv_tcp_init(dev->sim->loop, &c->tcp);
	uv_timer_init(dev->sim->loop, &c->timer);
	uv_timer_init(dev->sim->loop, &c->trickle_timer);
	uv_timer_init(dev->sim->loop, &c->silence_timer);
	c->tcp.data = c->timer.data = c->trickle_timer.data = c->silence_timer.data = c;
	c->handles = 4;
	c->next = dev->conns;
	if (dev->conns)
		dev->conns->prev = c;
	dev->conns = c;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 || uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
		vsim_conn_close(c, "accept failed");
}

/* ---- the device ---- */

static void listener_closed(uv_handle_t *h)
{
	free(h);
}

int vsim_device_start(struct vsim_device *dev)
{
	struct vsim *sim = dev->sim;
	struct sockaddr_storage addr;
	int r = uv_ip4_addr(sim->opt.common.host, dev->port, (struct sockaddr_in *)&addr);
	if (r < 0)
		r = uv_ip6_addr(sim->opt.common.host, dev->port, (struct sockaddr_in6 *)&addr);
	if (r < 0)
		return r;
	uv_tcp_t *l = calloc(1, sizeof(*l));
	if (!l)
		return UV_ENOMEM;
	uv_tcp_init(sim->loop, l);
	l->data = dev;
	if ((r = uv_tcp_bind(l, (struct sockaddr *)&addr, 0)) < 0 || (r = uv_listen((uv_stream_t *)l, 128, on_connection)) < 0) {
		uv_close((uv_handle_t *)l, listener_closed);
		return r;
	}
	dev->listener = l;
	dev->up = true;
	return 0;
}

static void close_all(struct vsim_device *dev, const char *reason, bool reset)
{
	if (dev->listener) {
		uv_close((uv_handle_t *)dev->listener, listener_closed);
		dev->listener = NULL;
	}
	while (dev->conns)
		conn_close(dev->conns, reason, reset);
	dev->up = false;
}

void vsim_device_close(struct vsim_device *dev)
{
	close_all(dev, "shutdown", false);
	uv_close((uv_handle_t *)&dev->event_timer, NULL);
	uv_close((uv_handle_t *)&dev->tick_timer, NULL);
	uv_close((uv_handle_t *)&dev->reboot_timer, NULL);
}

static void on_reboot_done(uv_timer_t *t)
{
	struct vsim_device *dev = t->data;
	int r = vsim_device_start(dev);
	if (r < 0)
		agw_log_err("vendorsim", dev->id, "cannot listen again after the reboot: %s", uv_strerror(r));
	else
		agw_log_info("vendorsim", dev->id, "up again");
}

void vsim_device_reboot(struct vsim_device *dev, double seconds)
{
	/* connections reset, nothing listening: the gateway sees a device it cannot reach */
	close_all(dev, "reboot", true);
	uv_timer_start(&dev->reboot_timer, on_reboot_done, (uint64_t)(seconds * 1000), 0);
}

static void on_silence_end(uv_timer_t *t)
{
	vsim_conn_close(t->data, "hung stream closed by the device");
}

void vsim_device_silence(struct vsim_device *dev, double seconds)
{
	for (struct vsim_conn *c = dev->conns; c; c = c->next) {
		if (!c->streaming || c->silent || c->closing || c->ending)
			continue;
		c->silent = true;
		uv_timer_stop(&c->timer);
		vsim_evlog_stream(dev->sim, dev, c->answer, "silent", NULL);
		if (seconds > 0)
			uv_timer_start(&c->silence_timer, on_silence_end, (uint64_t)(seconds * 1000), 0);
	}
}

void vsim_device_garbage(struct vsim_device *dev, size_t bytes)
{
	char *g = malloc(bytes + 2);
	if (!g)
		return;
	for (size_t i = 0; i < bytes; i++) {
		/* anything but '-': garbage never forms a delimiter line by chance */
		char ch = (char)(vsim_rand(dev) & 0xff);
		g[i] = ch == '-' ? '#' : ch;
	}
	/* then a line break: the next delimiter starts a line, as the framing requires (a delimiter
	 * glued to junk could not be found by any reader, and the part after it would be lost by
	 * the simulator's doing, not the reader's) */
	for (struct vsim_conn *c = dev->conns; c; c = c->next) {
		size_t n = bytes;
		if (c->dialect.lf)
			g[n++] = '\n';
		else {
			g[n++] = '\r';
			g[n++] = '\n';
		}
		vsim_stream_raw(c, g, n);
	}
	free(g);
}
