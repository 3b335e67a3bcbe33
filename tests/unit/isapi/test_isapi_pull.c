/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The live ISAPI adapter (vendor_pull.c) on a real libuv loop against an in-process HTTP server
 * that behaves like devices at their worst: a stream the device ends, a stream that goes silent
 * without closing, nothing listening, a refusal, and a core that pushes back. The adapter is
 * driven through its struct agw_adapter, as the daemon drives it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <uv.h>

#include "alarmgw/adapter.h"
#include "alarmgw/metrics.h"

extern const struct agw_adapter agw_adapter_isapi;
extern const struct agw_adapter agw_adapter_dahua;

/* the adapter under test: both share vendor_pull.c */
static const struct agw_adapter *adapter = &agw_adapter_isapi;

#define MAX_SEEN 32

/* ---- a scripted HTTP server ---- */

struct client {
	uv_tcp_t tcp;
	struct server *srv;
	char req[4096];
	size_t n;
	bool answered, open;
	struct client *next;
};

struct server {
	uv_tcp_t tcp;
	int port;
	int conns;
	char first_request_line[256];
	uint64_t request_at[16]; /* uv_now() of each connection's request */
	/* what connection i (from 0) gets, and whether it stays open after it */
	const char *(*script)(int conn, bool *keep_open);
	/* when set, answers instead of script from the request's text */
	const char *(*auth_check)(const char *request, bool *keep_open);
	struct client *clients;
};

static void client_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	struct server *s = c->srv;
	for (struct client **pp = &s->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c);
}

static void client_close(struct client *c)
{
	if (c->open) {
		c->open = false;
		uv_close((uv_handle_t *)&c->tcp, client_closed);
	}
}

struct wreq {
	uv_write_t w;
	struct client *c;
	bool close_after;
	char data[];
};

static void written(uv_write_t *w, int status)
{
	struct wreq *r = (struct wreq *)w;
	(void)status;
	if (r->close_after)
		client_close(r->c);
	free(r);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct client *c = h->data;
	(void)suggested;
	buf->base = c->req + c->n;
	buf->len = sizeof(c->req) - c->n - 1;
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct client *c = st->data;
	(void)buf;
	if (nread < 0) {
		client_close(c);
		return;
	}
	c->n += (size_t)nread;
	c->req[c->n] = '\0';
	if (c->answered || !strstr(c->req, "\r\n\r\n"))
		return;
	c->answered = true;
	struct server *s = c->srv;
	if (s->conns == 0)
		snprintf(s->first_request_line, sizeof(s->first_request_line), "%.*s", (int)strcspn(c->req, "\r"), c->req);
	bool keep = false;
	if (s->conns < 16)
		s->request_at[s->conns] = uv_now(c->tcp.loop);
	const char *resp = s->script(s->conns++, &keep);
	if (s->auth_check) {
		resp = s->auth_check(c->req, &keep);
		if (keep) {
			/* an answer with a length on a kept connection: the next request follows */
			c->answered = false;
			c->n = 0;
		}
	}
	size_t len = strlen(resp);
	struct wreq *r = malloc(sizeof(*r) + len);
	assert_non_null(r);
	r->c = c;
	r->close_after = !keep;
	memcpy(r->data, resp, len);
	uv_buf_t b = uv_buf_init(r->data, (unsigned)len);
	assert_int_equal(uv_write(&r->w, (uv_stream_t *)&c->tcp, &b, 1, written), 0);
}

static void on_connection(uv_stream_t *st, int status)
{
	struct server *s = st->data;
	assert_int_equal(status, 0);
	struct client *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->srv = s;
	uv_tcp_init(st->loop, &c->tcp);
	c->tcp.data = c;
	c->open = true;
	c->next = s->clients;
	s->clients = c;
	assert_int_equal(uv_accept(st, (uv_stream_t *)&c->tcp), 0);
	uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

static void server_start(uv_loop_t *loop, struct server *s)
{
	struct sockaddr_in a;
	uv_ip4_addr("127.0.0.1", 0, &a);
	uv_tcp_init(loop, &s->tcp);
	s->tcp.data = s;
	assert_int_equal(uv_tcp_bind(&s->tcp, (const struct sockaddr *)&a, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&s->tcp, 16, on_connection), 0);
	struct sockaddr_in got;
	int len = sizeof(got);
	uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&got, &len);
	s->port = ntohs(got.sin_port);
}

static void server_stop(struct server *s)
{
	while (s->clients && s->clients->open)
		client_close(s->clients);
	for (struct client *c = s->clients; c; c = c->next)
		client_close(c);
	if (!uv_is_closing((uv_handle_t *)&s->tcp))
		uv_close((uv_handle_t *)&s->tcp, NULL);
}

/* ---- the core, as the adapter sees it ---- */

struct seen {
	enum agw_alert_kind kind;
	enum agw_active active;
	char topic[64], channel[16], reason[160], camera[32];
};

struct harness {
	struct agw_adapter_ctx ctx;
	int64_t coalesce_ms;
	uv_loop_t loop;
	uv_timer_t guard, resume_timer, stop_timer;
	struct server srv;
	void *priv;
	struct seen seen[MAX_SEEN];
	size_t n_seen;
	int refuse; /* emit answers -EAGAIN this many times */
	int refused;
	size_t stop_at; /* stop the adapter after this many alerts */
	const struct agw_camera *extra; /* more ledger rows (NVR channels), added before nvr-1 */
	size_t n_extra;
	bool stopping, stopped;
};

static void adapter_stopped(struct agw_adapter_ctx *ctx)
{
	struct harness *h = (struct harness *)ctx;
	h->stopped = true;
	server_stop(&h->srv);
	uv_close((uv_handle_t *)&h->guard, NULL);
	uv_close((uv_handle_t *)&h->resume_timer, NULL);
	uv_close((uv_handle_t *)&h->stop_timer, NULL);
}

static void stop_now(uv_timer_t *t)
{
	struct harness *h = t->data;
	adapter->stop(h->priv);
}

/* From the loop, as the daemon stops adapters (never from inside emit). */
static void stop_all(struct harness *h)
{
	if (h->stopping)
		return;
	h->stopping = true;
	uv_timer_start(&h->stop_timer, stop_now, 0, 0);
}

static void resume_later(uv_timer_t *t)
{
	struct harness *h = t->data;
	adapter->resume(h->priv);
}

static int emit(struct agw_adapter_ctx *ctx, const struct agw_alert *a)
{
	struct harness *h = (struct harness *)ctx;
	assert_non_null(a->camera_id);
	assert_string_equal(a->adapter, adapter->name);
	assert_true(a->gateway_time_ms > 0);
	if (h->refuse > 0) {
		h->refuse--;
		h->refused++;
		if (!uv_is_active((uv_handle_t *)&h->resume_timer))
			uv_timer_start(&h->resume_timer, resume_later, 20, 0);
		return -EAGAIN;
	}
	assert_true(h->n_seen < MAX_SEEN);
	struct seen *s = &h->seen[h->n_seen++];
	s->kind = a->kind;
	s->active = a->active;
	snprintf(s->topic, sizeof(s->topic), "%s", a->topic ? a->topic : "");
	snprintf(s->camera, sizeof(s->camera), "%s", a->camera_id);
	const char *ch = agw_items_get(&a->source, "channel");
	snprintf(s->channel, sizeof(s->channel), "%s", ch ? ch : "");
	const char *why = agw_items_get(&a->data, "reason");
	snprintf(s->reason, sizeof(s->reason), "%s", why ? why : "");
	if (h->stop_at && h->n_seen >= h->stop_at)
		stop_all(h);
	return 0;
}

static void guard_fired(uv_timer_t *t)
{
	struct harness *h = t->data;
	for (size_t i = 0; i < h->n_seen; i++)
		print_message("seen %zu: %s %s active=%d ch=%s reason=%s\n", i, h->seen[i].topic,
			      h->seen[i].camera, h->seen[i].active, h->seen[i].channel, h->seen[i].reason);
	fail_msg("timed out with %zu alerts", h->n_seen);
}

static void set_opt(void *priv, const char *name, int64_t v)
{
	for (const struct agw_option *o = adapter->options; o->name; o++)
		if (!strcmp(o->name, name)) {
			if (o->type == AGW_OPT_BOOL)
				*(bool *)((char *)priv + o->offset) = v != 0;
			else
				*(int64_t *)((char *)priv + o->offset) = v;
			return;
		}
	fail_msg("no option %s", name);
}

static void harness_run(struct harness *h, const char *(*script)(int, bool *), const char *address, int refuse,
			size_t stop_at);

#define HEAD "HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=boundary\r\n\r\n"
#define DOC(type, state, ch)                                                                                   \
	"--boundary\r\nContent-Type: application/xml; charset=\"UTF-8\"\r\n\r\n"                                 \
	"<EventNotificationAlert version=\"2.0\" xmlns=\"http://www.hikvision.com/ver20/XMLSchema\">"          \
	"<channelID>" ch "</channelID><dateTime>2024-01-01T10:00:00+08:00</dateTime><eventType>" type         \
	"</eventType><eventState>" state "</eventState></EventNotificationAlert>\r\n"

static void md5_hex(const char *text, char out[33])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	assert_int_equal(EVP_Digest(text, strlen(text), d, &n, EVP_md5(), NULL), 1);
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The value of a Digest parameter in an Authorization header ("name=\"v\"" or name=v). */
static bool digest_param(const char *hdr, const char *name, char *out, size_t len)
{
	char key[32];
	snprintf(key, sizeof(key), " %s=", name);
	const char *p = strstr(hdr, key);
	if (!p) {
		snprintf(key, sizeof(key), ",%s=", name);
		p = strstr(hdr, key);
	}
	if (!p)
		return false;
	p += strlen(key);
	bool q = *p == '"';
	p += q;
	size_t n = q ? strcspn(p, "\"") : strcspn(p, ",\r");
	snprintf(out, len, "%.*s", (int)n, p);
	return true;
}

static int digest_ok, digest_challenges;

/* A device that wants Digest (realm, nonce, qop=auth) and checks the answer like a device does. */
static const char *auth_digest(const char *req, bool *keep_open)
{
	static const char challenge[] = "HTTP/1.1 401 Unauthorized\r\n"
					"WWW-Authenticate: Digest realm=\"IP Camera(C1234)\", nonce=\"4e6f6e6365\", qop=\"auth\"\r\n"
					"Content-Type: text/html\r\nContent-Length: 12\r\n\r\nUnauthorized";
	const char *auth = strstr(req, "\r\nAuthorization: Digest ");
	if (!auth) {
		digest_challenges++;
		*keep_open = true;
		return challenge;
	}
	char user[64], realm[64], nonce[64], uri[256], response[64], qop[16], nc[16], cnonce[64];
	const char *hdr = auth + 2;
	if (!digest_param(hdr, "username", user, sizeof(user)) || !digest_param(hdr, "realm", realm, sizeof(realm)) ||
	    !digest_param(hdr, "nonce", nonce, sizeof(nonce)) || !digest_param(hdr, "uri", uri, sizeof(uri)) ||
	    !digest_param(hdr, "response", response, sizeof(response)) || !digest_param(hdr, "qop", qop, sizeof(qop)) ||
	    !digest_param(hdr, "nc", nc, sizeof(nc)) || !digest_param(hdr, "cnonce", cnonce, sizeof(cnonce)))
		fail_msg("incomplete Digest header: %.300s", hdr);
	char a1[256], a2[300], ha1[33], ha2[33], all[400], want[33];
	snprintf(a1, sizeof(a1), "%s:%s:%s", user, realm, "secret");
	snprintf(a2, sizeof(a2), "GET:%s", uri);
	md5_hex(a1, ha1);
	md5_hex(a2, ha2);
	snprintf(all, sizeof(all), "%s:%s:%s:%s:%s:%s", ha1, nonce, nc, cnonce, qop, ha2);
	md5_hex(all, want);
	if (strcmp(user, "admin") != 0 || strcmp(response, want) != 0) {
		*keep_open = true;
		return challenge;
	}
	digest_ok++;
	*keep_open = true;
	return HEAD DOC("VMD", "active", "7") "--boundary\r\n";
}

static void harness_run(struct harness *h, const char *(*script)(int, bool *), const char *address, int refuse,
			size_t stop_at)
{
	assert_int_equal(uv_loop_init(&h->loop), 0);
	h->ctx.loop = &h->loop;
	h->ctx.name = adapter->name;
	h->ctx.emit = emit;
	h->ctx.stopped = adapter_stopped;
	h->refuse = refuse;
	h->stop_at = stop_at;
	h->srv.script = script;
	server_start(&h->loop, &h->srv);
	uv_timer_init(&h->loop, &h->guard);
	h->guard.data = h;
	uv_timer_start(&h->guard, guard_fired, 15000, 0);
	uv_timer_init(&h->loop, &h->resume_timer);
	h->resume_timer.data = h;
	uv_timer_init(&h->loop, &h->stop_timer);
	h->stop_timer.data = h;

	h->priv = calloc(1, adapter->priv_size);
	assert_non_null(h->priv);
	set_opt(h->priv, "heartbeat_timeout", 400);
	set_opt(h->priv, "connect_timeout", 2000);
	set_opt(h->priv, "backoff_min", 30);
	set_opt(h->priv, "backoff_max", 200);
	set_opt(h->priv, "coalesce", h->coalesce_ms);
	if (adapter == &agw_adapter_dahua)
		set_opt(h->priv, "heartbeat", 5); /* the core sets every default; this test sets what it uses */
	assert_int_equal(adapter->init(h->priv, &h->ctx), 0);
	char addr[64];
	if (address)
		snprintf(addr, sizeof(addr), "%s", address);
	else
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", h->srv.port);
	struct agw_camera cam = {.id = (char *)"nvr-1", .name = (char *)"NVR", .protocol = (char *)adapter->protocol,
				 .address = addr, .username = (char *)"admin", .password = (char *)"secret"};
	for (size_t i = 0; i < h->n_extra; i++)
		assert_int_equal(adapter->camera_add(h->priv, &h->extra[i]), 0);
	assert_int_equal(adapter->camera_add(h->priv, &cam), 0);
	assert_int_equal(adapter->start(h->priv), 0);
	uv_run(&h->loop, UV_RUN_DEFAULT);
	assert_true(h->stopped);
	adapter->uninit(h->priv);
	free(h->priv);
	assert_int_equal(uv_loop_close(&h->loop), 0);
}

/* connection 0: an event and a heartbeat, then the device ends the stream; connection 1: an
 * event, then silence with the socket open */
static const char *script_lost(int conn, bool *keep_open)
{
	if (conn == 0)
		return HEAD DOC("VMD", "active", "1") DOC("videoloss", "inactive", "1") "--boundary\r\n";
	*keep_open = true;
	return HEAD DOC("IO", "active", "2") "--boundary\r\n";
}

#define LABELS "adapter=\"isapi\""

static void test_stream_lost_and_silent(void **state)
{
	(void)state;
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	int64_t events0 = agw_metric_get("agw_stream_events_total", LABELS);
	int64_t reconnects0 = agw_metric_get("agw_stream_reconnects_total", LABELS);
	harness_run(h, script_lost, NULL, 0, 5);
	/* the device's VMD and IO (the heartbeat is no event); two ends, two reconnects scheduled */
	assert_int_equal(agw_metric_get("agw_stream_events_total", LABELS) - events0, 2);
	assert_int_equal(agw_metric_get("agw_stream_reconnects_total", LABELS) - reconnects0, 2);
	/* stopped: the gauges forget the device */
	assert_int_equal(agw_metric_get("agw_stream_devices", LABELS), 0);
	assert_int_equal(agw_metric_get("agw_stream_channels_lost", LABELS), 0);
	assert_string_equal(h->srv.first_request_line, "GET /ISAPI/Event/notification/alertStream HTTP/1.1");
	assert_int_equal(h->n_seen, 5);
	/* the event, then the stream's end */
	assert_string_equal(h->seen[0].topic, "VMD");
	assert_string_equal(h->seen[0].channel, "1");
	assert_string_equal(h->seen[0].camera, "nvr-1");
	assert_int_equal(h->seen[1].kind, AGW_KIND_EVENT_CHANNEL_LOST);
	assert_int_equal(h->seen[1].active, AGW_ACTIVE_TRUE);
	assert_string_equal(h->seen[1].reason, "the device ended the stream");
	/* reconnected: the loss is cleared before the next event */
	assert_int_equal(h->seen[2].kind, AGW_KIND_EVENT_CHANNEL_LOST);
	assert_int_equal(h->seen[2].active, AGW_ACTIVE_FALSE);
	assert_string_equal(h->seen[3].topic, "IO");
	assert_int_equal(h->seen[3].kind, AGW_KIND_DIGITAL_INPUT);
	/* silence with the socket open: the heartbeat timeout ends it */
	assert_int_equal(h->seen[4].kind, AGW_KIND_EVENT_CHANNEL_LOST);
	assert_int_equal(h->seen[4].active, AGW_ACTIVE_TRUE);
	if (strncmp(h->seen[4].reason, "no data for ", 12) != 0)
		fail_msg("reason '%s'", h->seen[4].reason);
	assert_int_equal(h->srv.conns, 2);
	free(h);
}

static const char *script_unused(int conn, bool *keep_open)
{
	(void)conn;
	(void)keep_open;
	return "HTTP/1.1 500 Nope\r\n\r\n";
}

/* Nothing listens at the address: camera_offline once, however many retries. */
static void test_unreachable(void **state)
{
	(void)state;
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	/* port 1 on loopback: refused at once */
	harness_run(h, script_unused, "http://127.0.0.1:1/", 0, 1);
	assert_int_equal(h->n_seen, 1);
	assert_int_equal(h->seen[0].kind, AGW_KIND_CAMERA_OFFLINE);
	assert_int_equal(h->seen[0].active, AGW_ACTIVE_TRUE);
	assert_int_equal(h->srv.conns, 0);
	free(h);
}

static const char *script_401(int conn, bool *keep_open)
{
	(void)conn;
	(void)keep_open;
	return "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\nUnauthorized";
}

/* The device answers but refuses: the event channel is lost (not the device), with the reason. */
static void test_refused(void **state)
{
	(void)state;
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	harness_run(h, script_401, NULL, 0, 1);
	assert_int_equal(h->seen[0].kind, AGW_KIND_EVENT_CHANNEL_LOST);
	if (strncmp(h->seen[0].reason, "HTTP 401", 8) != 0)
		fail_msg("reason '%s'", h->seen[0].reason);
	free(h);
}

/* five events with a 40 KB heartbeat between the second and the third, so that curl delivers
 * them in several writes and the later ones must wait (paused) for resume() */
static const char *script_burst(int conn, bool *keep_open)
{
	static char buf[64 * 1024];
	(void)conn;
	*keep_open = true;
	char pad[40 * 1024 + 1];
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	snprintf(buf, sizeof(buf),
		 HEAD DOC("VMD", "active", "1") DOC("VMD", "active", "2")
		 "--boundary\r\nContent-Type: application/xml\r\n\r\n<EventNotificationAlert><eventType>videoloss</eventType>"
		 "<eventState>inactive</eventState><pad>%s</pad></EventNotificationAlert>\r\n"
		 DOC("VMD", "active", "3") DOC("VMD", "active", "4") DOC("VMD", "active", "5") "--boundary\r\n",
		 pad);
	return buf;
}

/* The core pushes back on the first two tries (and calls resume() 20 ms later, as the daemon
 * does once its queue drains): the alerts are held, in order, and every one is delivered exactly
 * once. */
static void test_back_pressure(void **state)
{
	(void)state;
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	harness_run(h, script_burst, NULL, 2, 5);
	assert_int_equal(agw_metric_get("agw_stream_alerts_held", LABELS), 0);
	assert_int_equal(h->refused, 2);
	assert_int_equal(h->n_seen, 5);
	for (size_t i = 0; i < 5; i++) {
		char want[4];
		snprintf(want, sizeof(want), "%zu", i + 1);
		assert_string_equal(h->seen[i].topic, "VMD");
		assert_string_equal(h->seen[i].channel, want);
	}
	free(h);
}

static const char *script_dahua(int conn, bool *keep_open)
{
	(void)conn;
	*keep_open = true;
	return "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=myboundary\r\n\r\n"
	       "--myboundary\r\nContent-Type: text/plain\r\nContent-Length:9\r\n\r\nHeartbeat\r\n"
	       "--myboundary\r\nContent-Type: text/plain\r\nContent-Length:44\r\n\r\nCode=CrossLineDetection;action=Start;index=3\r\n\r\n"
	       "--myboundary\r\n";
}

/* The Dahua adapter on the same client: its request, its parser. */
static void test_dahua(void **state)
{
	(void)state;
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	adapter = &agw_adapter_dahua;
	harness_run(h, script_dahua, NULL, 0, 1);
	adapter = &agw_adapter_isapi;
	assert_string_equal(h->srv.first_request_line,
			    "GET /cgi-bin/eventManager.cgi?action=attach&codes=[All]&heartbeat=5 HTTP/1.1");
	assert_string_equal(h->seen[0].topic, "CrossLineDetection");
	assert_int_equal(h->seen[0].kind, AGW_KIND_LINE_CROSSING);
	assert_string_equal(h->seen[0].channel, "4");
	free(h);
}

static const char *script_repeats(int conn, bool *keep_open)
{
	(void)conn;
	*keep_open = true;
	return HEAD DOC("VMD", "active", "1") DOC("VMD", "active", "1") DOC("VMD", "active", "1")
		DOC("VMD", "active", "2") DOC("VMD", "inactive", "1") DOC("VMD", "active", "1") "--boundary\r\n";
}

/* ISAPI's once-a-second repeats of an active event: emitted once per run (per topic and channel);
 * an inactive ends the run, so the next active is new. */
static void test_coalesce(void **state)
{
	(void)state;
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->coalesce_ms = 10000;
	int64_t coalesced0 = agw_metric_get("agw_stream_coalesced_total", LABELS);
	harness_run(h, script_repeats, NULL, 0, 4);
	assert_int_equal(agw_metric_get("agw_stream_coalesced_total", LABELS) - coalesced0, 2);
	assert_int_equal(h->n_seen, 4);
	static const struct {
		const char *ch;
		enum agw_active active;
	} want[] = {{"1", AGW_ACTIVE_TRUE}, {"2", AGW_ACTIVE_TRUE}, {"1", AGW_ACTIVE_FALSE}, {"1", AGW_ACTIVE_TRUE}};
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(h->seen[i].channel, want[i].ch);
		assert_int_equal(h->seen[i].active, want[i].active);
	}
	free(h);
	/* without coalescing, every repeat */
	h = calloc(1, sizeof(*h));
	assert_non_null(h);
	harness_run(h, script_repeats, NULL, 0, 6);
	assert_int_equal(h->n_seen, 6);
	free(h);
}

static struct harness *backoff_h;
static void stop_all(struct harness *h);

/* a device that answers, sends its head and one heartbeat, and ends the stream at once */
static const char *script_flapping(int conn, bool *keep_open)
{
	(void)keep_open;
	if (conn == 4)
		stop_all(backoff_h);
	return HEAD DOC("videoloss", "inactive", "1") "--boundary\r\n";
}

/* A device that ends every stream at once: the delays double (30, 60, 120, then 200 ms, the
 * maximum), each a point in the upper half of its step (agw_backoff_ms) and never below the
 * minimum: at least 30, 30, 60 and 100 ms. */
static void test_backoff(void **state)
{
	(void)state;
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	backoff_h = h;
	harness_run(h, script_flapping, NULL, 0, 0);
	assert_true(h->srv.conns >= 5);
	static const uint64_t least[] = {30, 30, 60, 100};
	for (size_t i = 0; i < 4; i++) {
		uint64_t gap = h->srv.request_at[i + 1] - h->srv.request_at[i];
		if (gap < least[i])
			fail_msg("delay %zu: %llu ms, want at least %llu", i, (unsigned long long)gap, (unsigned long long)least[i]);
	}
	free(h);
}

/* HTTP Digest as devices ask for it: challenged once, then the stream. */
static void test_digest(void **state)
{
	(void)state;
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->srv.auth_check = auth_digest;
	harness_run(h, script_unused, NULL, 0, 1);
	assert_int_equal(digest_challenges, 1);
	assert_int_equal(digest_ok, 1);
	assert_string_equal(h->seen[0].topic, "VMD");
	assert_string_equal(h->seen[0].channel, "7");
	free(h);
}

/* an NVR's one stream with events of channels 1, 2 and 7, and one of the device itself */
static const char *script_nvr(int conn, bool *keep_open)
{
	(void)conn;
	*keep_open = true;
	return HEAD DOC("VMD", "active", "1") DOC("linedetection", "active", "2") DOC("VMD", "active", "7")
		"--boundary\r\nContent-Type: application/xml\r\n\r\n<EventNotificationAlert><eventType>diskfull</eventType>"
		"<eventState>active</eventState></EventNotificationAlert>\r\n"
		DOC("VMD", "inactive", "2") "--boundary\r\n";
}

#define UNROUTED "agw_unrouted_channel_alerts_total"

/* NVR channels: the ledger rows "gate" (channel 1) and "yard" (channel 2) name nvr-1; one stream
 * for the device (the channel rows open none), each event on the camera of its channel; channel 7,
 * which no row names, stays on the device with its channel, and is counted; the device's own
 * event (no channel) is the device's and is not counted. */
static void test_nvr_channels(void **state)
{
	(void)state;
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	static const struct agw_camera rows[] = {
		{.id = (char *)"gate", .name = (char *)"Gate", .protocol = (char *)"isapi", .address = (char *)"",
		 .device = (char *)"nvr-1", .channel = 1},
		{.id = (char *)"yard", .name = (char *)"Yard", .protocol = (char *)"isapi", .address = (char *)"",
		 .device = (char *)"nvr-1", .channel = 2},
	};
	h->extra = rows;
	h->n_extra = 2;
	const char *l1 = "adapter=\"isapi\",device=\"nvr-1\",channel=\"1\"";
	const char *l7 = "adapter=\"isapi\",device=\"nvr-1\",channel=\"7\"";
	int64_t c1 = agw_metric_get(UNROUTED, l1), c7 = agw_metric_get(UNROUTED, l7);
	harness_run(h, script_nvr, NULL, 0, 5);
	assert_int_equal(h->srv.conns, 1); /* one connection for the device and its channels */
	assert_int_equal(h->n_seen, 5);
	static const struct {
		const char *camera, *topic, *channel;
	} want[] = {
		{"gate", "VMD", "1"}, {"yard", "linedetection", "2"}, {"nvr-1", "VMD", "7"},
		{"nvr-1", "diskfull", ""}, {"yard", "VMD", "2"},
	};
	for (size_t i = 0; i < 5; i++) {
		if (strcmp(h->seen[i].camera, want[i].camera) != 0)
			fail_msg("alert %zu (%s ch %s) on %s, want %s", i, h->seen[i].topic, h->seen[i].channel,
				 h->seen[i].camera, want[i].camera);
		assert_string_equal(h->seen[i].topic, want[i].topic);
		assert_string_equal(h->seen[i].channel, want[i].channel);
	}
	assert_int_equal(agw_metric_get(UNROUTED, l7) - c7, 1);
	assert_int_equal(agw_metric_get(UNROUTED, l1) - c1, 0);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_lost_and_silent),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_back_pressure),
		cmocka_unit_test(test_dahua),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_coalesce),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_nvr_channels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
