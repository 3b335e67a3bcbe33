/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ISAPI push mode on a real libuv loop: a "device" (a client thread with blocking sockets) POSTs
 * XML, JSON and multipart-with-picture documents to the adapter's listener, driven through its
 * struct agw_adapter as the daemon drives it. The core is this test's emit_durable, which
 * journals each event 30 ms later (as a batched commit would), or pushes back. Checked: every 200
 * comes after the events of its request are journaled; strangers get 403, oversize posts 413, a
 * refusing core 503, each counted; events go to the camera of their NVR channel. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <uv.h>

#include "alarmgw/adapter.h"
#include "alarmgw/metrics.h"
#include "isapi_push_http.h"

extern const struct agw_adapter agw_adapter_isapi;
static const struct agw_adapter *adapter = &agw_adapter_isapi;

#define MAX_SEEN 16
#define MAX_REQ 16

struct seen {
	char camera[32], topic[64], channel[16], pictures[8];
};

struct pending_done {
	uv_timer_t timer;
	void (*done)(void *arg, int status);
	void *arg;
	struct harness *h;
};

struct request {
	const char *bind_ip;       /* source address, NULL: any */
	const char *text;          /* the whole request (head and body) */
	size_t len;
	bool refuse;               /* the core pushes back on this request's events */
	const struct request *challenged; /* answer the Digest challenge this earlier request got */
	const char *meanwhile;     /* sent first on another connection that stays open during this one */
	/* results */
	int status;
	char response[1024];
	int seen_at_answer, journaled_at_answer;
};

struct harness {
	struct agw_adapter_ctx ctx;
	uv_loop_t loop;
	uv_async_t finished;
	uv_timer_t guard;
	void *priv;
	int port;
	struct seen seen[MAX_SEEN];
	atomic_int n_seen, n_journaled;
	atomic_bool refuse;
	struct request *reqs;
	size_t n_reqs;
	pthread_t client;
	bool stopped;
	bool digest;               /* the listener wants Digest (hik / s3cret) */
	char picture_camera[32];   /* the last event picture handed to the core (evidence) */
	size_t picture_len, n_pictures;
	bool sync_done;            /* the core journals inside emit_durable (done() before it returns) */
};

/* ---- the core ---- */

static void journal_now(uv_timer_t *t)
{
	struct pending_done *pd = t->data;
	atomic_fetch_add(&pd->h->n_journaled, 1);
	pd->done(pd->arg, 0);
	uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

static int emit(struct agw_adapter_ctx *ctx, const struct agw_alert *a)
{
	(void)ctx;
	(void)a;
	fail_msg("push must use emit_durable");
	return -EINVAL;
}

static int picture(struct agw_adapter_ctx *ctx, const char *camera_id, const struct agw_picture *pic)
{
	struct harness *h = (struct harness *)ctx; /* ctx is its first member */
	snprintf(h->picture_camera, sizeof(h->picture_camera), "%s", camera_id);
	h->picture_len = pic->len;
	h->n_pictures++;
	return 0;
}

static int emit_durable(struct agw_adapter_ctx *ctx, const struct agw_alert *a, void (*done)(void *arg, int status),
			void *arg)
{
	struct harness *h = (struct harness *)ctx;
	assert_string_equal(a->adapter, "isapi");
	assert_true(a->gateway_time_ms > 0);
	if (atomic_load(&h->refuse))
		return -EAGAIN;
	int i = atomic_load(&h->n_seen);
	assert_true(i < MAX_SEEN);
	struct seen *s = &h->seen[i];
	snprintf(s->camera, sizeof(s->camera), "%s", a->camera_id);
	snprintf(s->topic, sizeof(s->topic), "%s", a->topic ? a->topic : "");
	const char *ch = agw_items_get(&a->source, "channel");
	snprintf(s->channel, sizeof(s->channel), "%s", ch ? ch : "");
	const char *pics = agw_items_get(&a->data, "pictures");
	snprintf(s->pictures, sizeof(s->pictures), "%s", pics ? pics : "");
	atomic_fetch_add(&h->n_seen, 1);
	if (h->sync_done) {
		atomic_fetch_add(&h->n_journaled, 1);
		done(arg, 0);
		return 0;
	}
	/* journaled a little later, as the core's batched commit does */
	struct pending_done *pd = calloc(1, sizeof(*pd));
	assert_non_null(pd);
	pd->done = done;
	pd->arg = arg;
	pd->h = h;
	uv_timer_init(&h->loop, &pd->timer);
	pd->timer.data = pd;
	uv_timer_start(&pd->timer, journal_now, 30, 0);
	return 0;
}

static void adapter_stopped(struct agw_adapter_ctx *ctx)
{
	struct harness *h = (struct harness *)ctx;
	h->stopped = true;
	uv_close((uv_handle_t *)&h->finished, NULL);
	uv_close((uv_handle_t *)&h->guard, NULL);
}

static void client_finished(uv_async_t *a)
{
	struct harness *h = a->data;
	adapter->stop(h->priv);
}

static void guard_fired(uv_timer_t *t)
{
	(void)t;
	fail_msg("timed out");
}

/* ---- the device ---- */

static void device_answer(const char *challenge, const char *password, const char *uri, char *out, size_t len);

static int connect_to(struct harness *h)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h->port)};
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
	return fd;
}

static void do_request(struct harness *h, struct request *r)
{
	atomic_store(&h->refuse, r->refuse);
	int other = -1;
	if (r->meanwhile) {
		other = connect_to(h);
		assert_int_equal(send(other, r->meanwhile, strlen(r->meanwhile), MSG_NOSIGNAL), (ssize_t)strlen(r->meanwhile));
		usleep(100000); /* the listener has read its head */
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	if (r->bind_ip) {
		struct sockaddr_in src = {.sin_family = AF_INET};
		inet_pton(AF_INET, r->bind_ip, &src.sin_addr);
		assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	}
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h->port)};
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
	char *authed = NULL;
	if (r->challenged) {
		/* the same post again with the answer to the challenge, as a device does */
		char auth[700];
		device_answer(r->challenged->response, "s3cret", "/alarm", auth, sizeof(auth));
		const char *head_end = strstr(r->text, "\r\n");
		assert_non_null(head_end);
		size_t first = (size_t)(head_end - r->text) + 2;
		assert_non_null(authed = malloc(r->len + strlen(auth) + 32));
		int n = sprintf(authed, "%.*sAuthorization: %s\r\n", (int)first, r->text, auth);
		memcpy(authed + n, r->text + first, r->len - first);
		free((char *)r->text);
		r->text = authed;
		r->len = (size_t)n + r->len - first;
	}
	/* a refused device may find the connection closed before it has sent everything */
	for (size_t off = 0; off < r->len;) {
		ssize_t n = send(fd, r->text + off, r->len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	size_t got = 0;
	for (;;) {
		ssize_t n = recv(fd, r->response + got, sizeof(r->response) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(r->response) - 1)
			break;
	}
	r->response[got] = '\0';
	r->seen_at_answer = atomic_load(&h->n_seen);
	r->journaled_at_answer = atomic_load(&h->n_journaled);
	close(fd);
	if (other >= 0)
		close(other);
	if (sscanf(r->response, "HTTP/1.1 %d", &r->status) != 1)
		r->status = -1;
}

static void *client_main(void *arg)
{
	struct harness *h = arg;
	for (size_t i = 0; i < h->n_reqs; i++)
		do_request(h, &h->reqs[i]);
	uv_async_send(&h->finished);
	return NULL;
}

/* ---- set-up ---- */

static void set_opt(void *priv, const char *name, const char *text, int64_t v)
{
	for (const struct agw_option *o = adapter->options; o->name; o++)
		if (!strcmp(o->name, name)) {
			if (o->type == AGW_OPT_STRING)
				*(char **)((char *)priv + o->offset) = text ? strdup(text) : NULL;
			else if (o->type == AGW_OPT_BOOL)
				*(bool *)((char *)priv + o->offset) = v != 0;
			else
				*(int64_t *)((char *)priv + o->offset) = v;
			return;
		}
	fail_msg("no option %s", name);
}

static void free_string_opts(void *priv)
{
	for (const struct agw_option *o = adapter->options; o->name; o++)
		if (o->type == AGW_OPT_STRING)
			free(*(char **)((char *)priv + o->offset));
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	close(fd);
	return ntohs(a.sin_port);
}

static void *new_priv(const char *listen, int64_t max_body)
{
	void *priv = calloc(1, adapter->priv_size);
	assert_non_null(priv);
	set_opt(priv, "push_listen", listen, 0);
	set_opt(priv, "push_path", "/alarm", 0);
	set_opt(priv, "push_realm", "alarmgw", 0);
	set_opt(priv, "push_only", NULL, 1);
	set_opt(priv, "push_max_body", NULL, max_body);
	set_opt(priv, "push_timeout", NULL, 3000);
	set_opt(priv, "push_max_connections", NULL, 16);
	set_opt(priv, "push_max_buffered", NULL, 65536);
	return priv;
}

static void run(struct harness *h, struct request *reqs, size_t n)
{
	assert_int_equal(uv_loop_init(&h->loop), 0);
	h->ctx.loop = &h->loop;
	h->ctx.name = "isapi";
	h->ctx.emit = emit;
	h->ctx.emit_durable = emit_durable;
	h->ctx.picture = picture;
	h->ctx.stopped = adapter_stopped;
	h->reqs = reqs;
	h->n_reqs = n;
	uv_async_init(&h->loop, &h->finished, client_finished);
	h->finished.data = h;
	uv_timer_init(&h->loop, &h->guard);
	uv_timer_start(&h->guard, guard_fired, 20000, 0);
	h->port = free_port();
	char listen[64];
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", h->port);
	h->priv = new_priv(listen, 65536);
	if (h->digest) {
		set_opt(h->priv, "push_username", "hik", 0);
		set_opt(h->priv, "push_password", "s3cret", 0);
	}
	assert_int_equal(adapter->init(h->priv, &h->ctx), 0);
	/* the NVR at 127.0.0.1 and two of its channels; 127.0.0.2 is no device */
	static const struct agw_camera rows[] = {
		{.id = (char *)"gate", .name = (char *)"Gate", .protocol = (char *)"isapi", .address = (char *)"",
		 .device = (char *)"nvr-1", .channel = 1},
		{.id = (char *)"yard", .name = (char *)"Yard", .protocol = (char *)"isapi", .address = (char *)"",
		 .device = (char *)"nvr-1", .channel = 2},
		{.id = (char *)"nvr-1", .name = (char *)"NVR", .protocol = (char *)"isapi",
		 .address = (char *)"http://127.0.0.1:8000/"},
	};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(adapter->camera_add(h->priv, &rows[i]), 0);
	assert_int_equal(adapter->start(h->priv), 0);
	assert_int_equal(pthread_create(&h->client, NULL, client_main, h), 0);
	uv_run(&h->loop, UV_RUN_DEFAULT);
	pthread_join(h->client, NULL);
	assert_true(h->stopped);
	adapter->uninit(h->priv);
	free_string_opts(h->priv);
	free(h->priv);
	assert_int_equal(uv_loop_close(&h->loop), 0);
}

static char *read_fixture(const char *name, size_t *ret_len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/isapi/%s", AGW_FIXTURES, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[16384];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	*ret_len = n;
	return buf;
}

static struct request post(const char *ctype, const char *body, size_t body_len, const char *bind_ip)
{
	struct request r = {.bind_ip = bind_ip};
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "POST /alarm HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n", ctype,
			 body_len);
	char *t = malloc((size_t)n + body_len);
	assert_non_null(t);
	memcpy(t, head, (size_t)n);
	memcpy(t + n, body, body_len);
	r.text = t;
	r.len = (size_t)n + body_len;
	return r;
}

#define XML_DOC(type, state, ch)                                                                              \
	"<EventNotificationAlert version=\"2.0\" xmlns=\"http://www.hikvision.com/ver20/XMLSchema\">"         \
	"<ipAddress>127.0.0.1</ipAddress><channelID>" ch "</channelID><dateTime>2024-01-01T10:00:00+08:00"   \
	"</dateTime><eventType>" type "</eventType><eventState>" state "</eventState></EventNotificationAlert>"

#define LBL "adapter=\"isapi\""

static int64_t refused(const char *reason)
{
	char l[80];
	snprintf(l, sizeof(l), LBL ",reason=\"%s\"", reason);
	return agw_metric_get("agw_push_refused_total", l);
}

static void test_push(void **state)
{
	(void)state;
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	size_t mp_len;
	const char *mp = read_fixture("push_fielddetection_picture.bin", &mp_len);
	static const char json[] = "{\"ipAddress\":\"127.0.0.1\",\"channelID\":2,\"dateTime\":\"2024-01-01T10:00:01+08:00\","
				   "\"activePostCount\":1,\"eventType\":\"linedetection\",\"eventState\":\"active\"}";
	static const char xml7[] = XML_DOC("VMD", "active", "7");
	static const char xml1[] = XML_DOC("VMD", "active", "1");
	static const char beat[] = XML_DOC("videoloss", "inactive", "1");
	static char big[70000];
	memset(big, 'x', sizeof(big));
	struct request reqs[] = {
		post("application/xml; charset=\"UTF-8\"", xml7, strlen(xml7), NULL),
		post("application/json", json, strlen(json), NULL),
		post("multipart/form-data; boundary=MIME_boundary", mp, mp_len, NULL),
		post("application/xml", xml1, strlen(xml1), "127.0.0.2"),
		post("application/xml", big, sizeof(big), NULL),
		post("application/xml", xml1, strlen(xml1), NULL),
		post("application/xml", beat, strlen(beat), NULL),
		post("application/xml", big, 10000, NULL),
	};
	reqs[5].refuse = true;
	/* while another post of 60,000 bytes is under way, 10,000 more pass the 65,536 bytes held at
	 * once (push_max_buffered) */
	reqs[7].meanwhile = "POST /alarm HTTP/1.1\r\nContent-Type: application/xml\r\nContent-Length: 60000\r\n\r\n<Event";
	int64_t addr0 = refused("address"), size0 = refused("size"), busy0 = refused("busy"), buf0 = refused("buffers");
	int64_t unrouted0 = agw_metric_get("agw_unrouted_channel_alerts_total", LBL ",device=\"nvr-1\",channel=\"7\"");
	run(h, reqs, sizeof(reqs) / sizeof(reqs[0]));
	static const int want_status[] = {200, 200, 200, 403, 413, 503, 200, 503};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		if (reqs[i].status != want_status[i])
			fail_msg("request %zu: %d, want %d: %.200s", i, reqs[i].status, want_status[i], reqs[i].response);
	/* three events, each on the camera of its channel; 7 is no row: the NVR's, counted */
	assert_int_equal(atomic_load(&h->n_seen), 3);
	assert_string_equal(h->seen[0].camera, "nvr-1");
	assert_string_equal(h->seen[0].channel, "7");
	assert_string_equal(h->seen[1].camera, "yard");
	assert_string_equal(h->seen[1].topic, "linedetection");
	assert_string_equal(h->seen[2].camera, "gate");
	assert_string_equal(h->seen[2].topic, "fielddetection");
	assert_string_equal(h->seen[2].pictures, "1");
	/* and its JPEG is the evidence of that camera's case, as on the alertStream */
	assert_int_equal(h->n_pictures, 1);
	assert_string_equal(h->picture_camera, "gate");
	assert_int_equal(h->picture_len, 222); /* the fixture's detectionPicture part */
	assert_int_equal(agw_metric_get("agw_unrouted_channel_alerts_total", LBL ",device=\"nvr-1\",channel=\"7\"") - unrouted0,
			 1);
	/* each 200 with events came after they were journaled: the 30 ms commit was waited for */
	for (size_t i = 0; i < 3; i++)
		if (reqs[i].journaled_at_answer != reqs[i].seen_at_answer || reqs[i].seen_at_answer != (int)i + 1)
			fail_msg("request %zu answered with %d of %d events journaled", i, reqs[i].journaled_at_answer,
				 reqs[i].seen_at_answer);
	/* refusals: counted, and a retryable answer for the core's push-back */
	assert_int_equal(refused("address") - addr0, 1);
	assert_int_equal(refused("size") - size0, 1);
	assert_int_equal(refused("busy") - busy0, 1);
	assert_int_equal(refused("buffers") - buf0, 1);
	assert_non_null(strstr(reqs[5].response, "\r\nRetry-After: "));
	assert_non_null(strstr(reqs[4].response, "the limit is 65536"));
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		free((char *)reqs[i].text);
	free(h);
}

/* Digest on the listener: a device's first post is challenged (401, counted), its answer with
 * the right password is taken (wrong answers: test_digest). The challenge is counted apart from
 * wrong answers. */
static void test_push_digest(void **state)
{
	(void)state;
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->digest = true;
	static const char xml2[] = XML_DOC("VMD", "active", "2");
	struct request reqs[] = {
		post("application/xml", xml2, strlen(xml2), NULL),
		post("application/xml", xml2, strlen(xml2), NULL),
	};
	reqs[1].challenged = &reqs[0];
	int64_t challenge0 = refused("challenge"), auth0 = refused("auth");
	run(h, reqs, 2);
	assert_int_equal(reqs[0].status, 401);
	assert_non_null(strstr(reqs[0].response, "\r\nWWW-Authenticate: Digest realm=\"alarmgw\", qop=\"auth\""));
	if (reqs[1].status != 200)
		fail_msg("answered challenge: %.300s", reqs[1].response);
	assert_int_equal(refused("challenge") - challenge0, 1);
	assert_int_equal(refused("auth") - auth0, 0);
	assert_int_equal(atomic_load(&h->n_seen), 1);
	assert_string_equal(h->seen[0].camera, "yard");
	for (size_t i = 0; i < 2; i++)
		free((char *)reqs[i].text);
	free(h);
}

/* A core that commits inside emit_durable calls done() before it returns: the connection
 * survives it and the answer is 200. */
static void test_push_sync_done(void **state)
{
	(void)state;
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->sync_done = true;
	static const char two[] = "--b\r\nContent-Type: application/xml\r\n\r\n" XML_DOC("VMD", "active", "1")
				  "\r\n--b\r\nContent-Type: application/xml\r\n\r\n" XML_DOC("VMD", "active", "2")
				  "\r\n--b--\r\n";
	struct request reqs[] = {post("multipart/mixed; boundary=b", two, strlen(two), NULL)};
	run(h, reqs, 1);
	if (reqs[0].status != 200)
		fail_msg("%.300s", reqs[0].response);
	assert_int_equal(atomic_load(&h->n_seen), 2);
	assert_string_equal(h->seen[0].camera, "gate");
	assert_string_equal(h->seen[1].camera, "yard");
	free((char *)reqs[0].text);
	free(h);
}

/* Nothing listens beyond loopback without credentials; push needs a core that acknowledges
 * durably. */
static void test_config_refusals(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct agw_adapter_ctx ctx = {.loop = &loop, .name = "isapi", .emit = emit, .emit_durable = emit_durable};
	void *priv = new_priv("0.0.0.0:0", 65536);
	assert_int_equal(adapter->init(priv, &ctx), -EINVAL);
	adapter->uninit(priv);
	char err[256];
	assert_int_equal(adapter->check(priv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not loopback"));
	free_string_opts(priv);
	free(priv);
	/* with Digest credentials it may */
	priv = new_priv("0.0.0.0:0", 65536);
	set_opt(priv, "push_username", "hik", 0);
	set_opt(priv, "push_password", "s3cret", 0);
	assert_int_equal(adapter->check(priv, err, sizeof(err)), 0);
	assert_int_equal(adapter->init(priv, &ctx), 0);
	adapter->uninit(priv);
	free_string_opts(priv);
	free(priv);
	/* a core without emit_durable */
	ctx.emit_durable = NULL;
	priv = new_priv("127.0.0.1:0", 65536);
	assert_int_equal(adapter->init(priv, &ctx), -ENOTSUP);
	adapter->uninit(priv);
	free_string_opts(priv);
	free(priv);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void md5_hex(const char *text, char out[33])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	assert_int_equal(EVP_Digest(text, strlen(text), d, &n, EVP_md5(), NULL), 1);
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* What a device answers to a challenge, computed here independently (RFC 7616, qop=auth). */
static void device_answer(const char *challenge, const char *password, const char *uri, char *out, size_t len)
{
	const char *p = strstr(challenge, "nonce=\"");
	assert_non_null(p);
	char nonce[64];
	snprintf(nonce, sizeof(nonce), "%.*s", (int)strcspn(p + 7, "\""), p + 7);
	char a1[128], a2[256], ha1[33], ha2[33], all[400], resp[33];
	snprintf(a1, sizeof(a1), "hik:alarmgw:%s", password);
	snprintf(a2, sizeof(a2), "POST:%s", uri);
	md5_hex(a1, ha1);
	md5_hex(a2, ha2);
	snprintf(all, sizeof(all), "%s:%s:00000001:0a4f113b:auth:%s", ha1, nonce, ha2);
	md5_hex(all, resp);
	snprintf(out, len,
		 "Digest username=\"hik\", realm=\"alarmgw\", nonce=\"%s\", uri=\"%s\", qop=auth, nc=00000001, "
		 "cnonce=\"0a4f113b\", response=\"%s\", algorithm=MD5",
		 nonce, uri, resp);
}

static void test_digest(void **state)
{
	(void)state;
	unsigned char key[AGW_DIGEST_KEY_LEN] = {1, 2, 3};
	char ch[300], auth[600];
	const char *why = NULL;
	agw_digest_challenge(key, "alarmgw", 1000000, false, ch, sizeof(ch));
	assert_non_null(strstr(ch, "qop=\"auth\""));
	device_answer(ch, "s3cret", "/alarm", auth, sizeof(auth));
	assert_int_equal(agw_digest_verify(key, "alarmgw", "hik", "s3cret", "POST", "/alarm", auth, 1000010, 300, &why), 0);
	/* a wrong password, another path, another key's nonce, an old nonce */
	assert_int_equal(agw_digest_verify(key, "alarmgw", "hik", "other", "POST", "/alarm", auth, 1000010, 300, &why),
			 -EACCES);
	assert_int_equal(agw_digest_verify(key, "alarmgw", "hik", "s3cret", "POST", "/other", auth, 1000010, 300, &why),
			 -EACCES);
	unsigned char key2[AGW_DIGEST_KEY_LEN] = {9};
	assert_int_equal(agw_digest_verify(key2, "alarmgw", "hik", "s3cret", "POST", "/alarm", auth, 1000010, 300, &why),
			 -EACCES);
	assert_int_equal(agw_digest_verify(key, "alarmgw", "hik", "s3cret", "POST", "/alarm", auth, 1000400, 300, &why),
			 -ESTALE);
	assert_int_equal(agw_digest_verify(key, "alarmgw", "hik", "s3cret", "POST", "/alarm", NULL, 1000010, 300, &why),
			 -EACCES);
}

/* Heads as devices and attackers write them. */
static void test_head(void **state)
{
	(void)state;
	static const struct {
		const char *head;
		int code;
	} cases[] = {
		{"POST /alarm?x=1 HTTP/1.1\r\nContent-Length: 12\r\nContent-Type: application/xml\r\n\r\n", 0},
		{"POST /alarm HTTP/1.1\nContent-Length:5\n\n", 0},
		{"POST /alarm HTTP/2\r\n\r\n", 505},
		{"POST alarm HTTP/1.1\r\n\r\n", 400},
		{"POST /alarm HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
		{"POST /alarm HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
		{"POST /alarm HTTP/1.1\r\n: x\r\n\r\n", 400},
		{"POST /alarm HTTP/1.1\r\nExpect: magic\r\n\r\n", 417},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[256];
		size_t len = strlen(cases[i].head);
		memcpy(buf, cases[i].head, len + 1);
		assert_int_equal(agw_push_head_end(buf, len), len);
		struct agw_push_head h;
		const char *why = NULL;
		int code = agw_push_head_parse(buf, len, &h, &why);
		if (code != cases[i].code)
			fail_msg("case %zu: %d (%s), want %d", i, code, why ? why : "", cases[i].code);
		if (i == 0) {
			assert_int_equal(h.path_len, 6);
			assert_string_equal(h.target, "/alarm?x=1");
			assert_int_equal(h.content_length, 12);
			assert_string_equal(h.content_type, "application/xml");
		}
	}
	assert_int_equal(agw_push_head_end("POST / HTTP/1.1\r\nA: b\r\n", 24), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_config_refusals),
		cmocka_unit_test(test_push),
		cmocka_unit_test(test_push_digest),
		cmocka_unit_test(test_push_sync_done),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
