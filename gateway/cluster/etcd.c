/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The etcd JSON gateway client (see etcd.h). */
#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/curl_loop.h"
#include "alarmgw/metrics.h"
#include "etcd.h"

#define WATCH_MAX_MESSAGE (4u << 20)
#define CONNECT_TIMEOUT_MS 2000

struct agw_etcd {
	uv_loop_t *loop;
	struct agw_curl_loop *curl;
	char **endpoints;
	size_t n_endpoints, current;
	struct agw_etcd_call *calls; /* every call in flight, for close */
	void (*closed)(void *arg);
	void *closed_arg;
};

struct agw_etcd_call {
	struct agw_curl_req req; /* first: CURLOPT_PRIVATE points here */
	struct agw_etcd *e;
	struct agw_etcd_call *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	char *buf;
	size_t len, cap;
	size_t endpoint; /* the endpoint it went to */
	bool watch;
	bool oversize;
	bool in_callback; /* a callback of this call is running: cancel only marks it */
	bool cancelled;
	void (*cb)(void *arg, int status, json_t *answer, const char *why);
	void (*on_result)(void *arg, json_t *result);
	void (*on_end)(void *arg, int status);
	void *arg;
};

static void call_free(struct agw_etcd_call *c)
{
	struct agw_etcd *e = c->e;
	if (c->prev)
		c->prev->next = c->next;
	else if (e->calls == c)
		e->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->easy)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	free(c->buf);
	free(c);
}

static int append(struct agw_etcd_call *c, const char *data, size_t n)
{
	size_t limit = c->watch ? WATCH_MAX_MESSAGE : AGW_ETCD_MAX_RESPONSE;
	if (c->len + n > limit) {
		c->oversize = true;
		return -EMSGSIZE;
	}
	if (c->len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		while (cap < c->len + n + 1)
			cap *= 2;
		char *b = realloc(c->buf, cap);
		if (!b)
			return -ENOMEM;
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, data, n);
	c->len += n;
	c->buf[c->len] = '\0';
	return 0;
}

/* A watch's stream: one JSON object per line. */
static void watch_consume(struct agw_etcd_call *c)
{
	size_t start = 0;
	char *nl;
	while (!c->cancelled && (nl = memchr(c->buf + start, '\n', c->len - start))) {
		size_t n = (size_t)(nl - (c->buf + start));
		json_error_t jerr;
		json_t *msg = n ? json_loadb(c->buf + start, n, 0, &jerr) : NULL;
		start += n + 1;
		if (!n)
			continue;
		if (!msg) {
			agw_metric_add("agw_cluster_etcd_errors_total", "reason=\"watch_json\"", 1);
			continue;
		}
		json_t *result = json_object_get(msg, "result");
		if (result) {
			c->in_callback = true;
			c->on_result(c->arg, result);
			c->in_callback = false;
		}
		json_decref(msg);
	}
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct agw_etcd_call *c = userp;
	size_t n = size * nmemb;
	if (c->cancelled || append(c, data, n) < 0)
		return 0; /* ends the transfer with CURLE_WRITE_ERROR */
	if (c->watch)
		watch_consume(c);
	return c->cancelled ? 0 : n;
}

static int curl_status(struct agw_etcd_call *c, CURLcode code)
{
	if (c->oversize)
		return -EMSGSIZE;
	switch (code) {
	case CURLE_OK: return 0;
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY: return -ENOMEM;
	default: return -EIO;
	}
}

static void on_done(struct agw_curl_req *req, CURLcode code)
{
	struct agw_etcd_call *c = (struct agw_etcd_call *)req;
	struct agw_etcd *e = c->e;
	if (c->cancelled) {
		call_free(c);
		return;
	}
	int status = curl_status(c, code);
	long http = 0;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &http);
	if (status < 0 && status != -EMSGSIZE && c->endpoint == e->current && e->n_endpoints > 1)
		e->current = (e->current + 1) % e->n_endpoints; /* the next call tries another member */
	json_t *answer = NULL;
	const char *why = NULL;
	char whybuf[256];
	if (status == 0 && !c->watch) {
		json_error_t jerr;
		answer = c->buf ? json_loadb(c->buf, c->len, 0, &jerr) : NULL;
		json_t *error = json_object_get(answer, "error");
		if (http != 200 || !json_is_object(answer) || error) {
			const char *msg = json_string_value(json_object_get(answer, "message"));
			if (!msg)
				msg = json_string_value(error);
			if (!msg) /* the hasleader refusal nests it: {"error": {"message": ...}} */
				msg = json_string_value(json_object_get(error, "message"));
			snprintf(whybuf, sizeof(whybuf), "HTTP %ld%s%s", http, msg ? ": " : "", msg ? msg : "");
			why = whybuf;
			status = msg && strstr(msg, "no leader") ? -ENOTCONN : -EPROTO;
			/* a member without a leader may be the minority of a partition: another may have one */
			if (status == -ENOTCONN && c->endpoint == e->current && e->n_endpoints > 1)
				e->current = (e->current + 1) % e->n_endpoints;
		}
	} else if (status < 0) {
		snprintf(whybuf, sizeof(whybuf), "%s", status == -EMSGSIZE ? "answer too large" : curl_easy_strerror(code));
		why = whybuf;
	}
	if (status < 0)
		agw_metric_add("agw_cluster_etcd_errors_total", "reason=\"call\"", 1);
	c->in_callback = true;
	if (c->watch) {
		if (status == 0 && http != 200)
			status = -EPROTO;
		c->on_end(c->arg, status);
	} else {
		c->cb(c->arg, status, status == 0 ? answer : NULL, why);
	}
	json_decref(answer);
	call_free(c);
}

static int start(struct agw_etcd *e, const char *path, json_t *body, int64_t timeout_ms, bool watch,
		 struct agw_etcd_call *c)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char url[1024];
	c->e = e;
	c->watch = watch;
	c->endpoint = e->current;
	c->req.done = on_done;
	c->easy = curl_easy_init();
	c->headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* A member without a leader then refuses at once ("no leader") instead of timing out: the
	 * cluster module needs to tell "etcd has no leader" (no lease can expire) from "unreachable". */
	if (c->headers)
		c->headers = curl_slist_append(c->headers, "Grpc-Metadata-hasleader: true");
	if (!text || !c->easy || !c->headers) {
		free(text);
		call_free(c);
		return -ENOMEM;
	}
	snprintf(url, sizeof(url), "%s%s", e->endpoints[e->current], path);
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, (char *)&c->req);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->easy, CURLOPT_COPYPOSTFIELDS, text);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (watch)
		curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	else if (timeout_ms > 0)
		curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	free(text);
	c->next = e->calls;
	if (e->calls)
		e->calls->prev = c;
	e->calls = c;
	int r = agw_curl_loop_start(e->curl, c->easy);
	if (r < 0)
		call_free(c);
	return r;
}

int agw_etcd_call(struct agw_etcd *e, const char *path, json_t *body, int64_t timeout_ms,
		  void (*cb)(void *arg, int status, json_t *answer, const char *why), void *arg,
		  struct agw_etcd_call **ret)
{
	struct agw_etcd_call *c = calloc(1, sizeof(*c));
	if (!c) {
		json_decref(body);
		return -ENOMEM;
	}
	c->cb = cb;
	c->arg = arg;
	int r = start(e, path, body, timeout_ms, false, c);
	if (r == 0 && ret)
		*ret = c;
	return r;
}

int agw_etcd_watch(struct agw_etcd *e, json_t *create_request, void (*on_result)(void *arg, json_t *result),
		   void (*on_end)(void *arg, int status), void *arg, struct agw_etcd_call **ret)
{
	struct agw_etcd_call *c = calloc(1, sizeof(*c));
	json_t *body = json_pack("{s:o}", "create_request", create_request);
	if (!c || !body) {
		free(c);
		json_decref(body);
		return -ENOMEM;
	}
	c->on_result = on_result;
	c->on_end = on_end;
	c->arg = arg;
	int r = start(e, "/v3/watch", body, 0, true, c);
	if (r == 0 && ret)
		*ret = c;
	return r;
}

void agw_etcd_cancel(struct agw_etcd_call *c)
{
	if (!c)
		return;
	c->cancelled = true;
	if (c->in_callback)
		return; /* freed when its callback returns */
	agw_curl_loop_cancel(c->e->curl, c->easy);
	call_free(c);
}

const char *agw_etcd_endpoint(const struct agw_etcd *e)
{
	return e->endpoints[e->current];
}

int agw_etcd_new(uv_loop_t *loop, const char *endpoints, struct agw_etcd **ret)
{
	struct agw_etcd *e = calloc(1, sizeof(*e));
	char *list = endpoints ? strdup(endpoints) : NULL;
	if (!e || !list) {
		free(e);
		free(list);
		return -ENOMEM;
	}
	e->loop = loop;
	int r = 0;
	char *save = NULL;
	for (char *tok = strtok_r(list, ", ", &save); tok && r == 0; tok = strtok_r(NULL, ", ", &save)) {
		size_t n = strlen(tok);
		while (n && tok[n - 1] == '/')
			tok[--n] = '\0';
		char **v = realloc(e->endpoints, (e->n_endpoints + 1) * sizeof(*v));
		if (!v || !(v[e->n_endpoints] = strdup(tok))) {
			if (v)
				e->endpoints = v;
			r = -ENOMEM;
			break;
		}
		e->endpoints = v;
		e->n_endpoints++;
	}
	free(list);
	if (r == 0 && e->n_endpoints == 0)
		r = -EINVAL;
	if (r == 0)
		r = agw_curl_loop_new(loop, &e->curl);
	if (r < 0) {
		for (size_t i = 0; i < e->n_endpoints; i++)
			free(e->endpoints[i]);
		free(e->endpoints);
		free(e);
		return r;
	}
	*ret = e;
	return 0;
}

static void curl_closed(void *arg)
{
	struct agw_etcd *e = arg;
	for (size_t i = 0; i < e->n_endpoints; i++)
		free(e->endpoints[i]);
	free(e->endpoints);
	void (*closed)(void *) = e->closed;
	void *closed_arg = e->closed_arg;
	free(e);
	if (closed)
		closed(closed_arg);
}

void agw_etcd_close(struct agw_etcd *e, void (*closed)(void *arg), void *arg)
{
	if (!e)
		return;
	struct agw_etcd_call *c = e->calls, *next;
	for (; c; c = next) {
		next = c->next;
		if (c->in_callback) {
			c->cancelled = true; /* the running callback's frame frees it */
			continue;
		}
		agw_curl_loop_cancel(e->curl, c->easy);
		call_free(c);
	}
	e->closed = closed;
	e->closed_arg = arg;
	agw_curl_loop_close(e->curl, curl_closed, e);
}

char *agw_etcd_b64(const void *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

char *agw_etcd_unb64(const char *text, size_t *ret_len)
{
	if (!text)
		return NULL;
	size_t n = strlen(text);
	if (n % 4 || n > (64u << 20))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char ch = text[i];
		bool pad_ok = ch == '=' && i >= n - 2 && (i == n - 1 || text[n - 1] == '=');
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' ||
		      ch == '/' || pad_ok))
			return NULL;
	}
	unsigned char *out = malloc(n / 4 * 3 + 1);
	if (!out)
		return NULL;
	int len = n ? EVP_DecodeBlock(out, (const unsigned char *)text, (int)n) : 0;
	if (len < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes */
	if (n && text[n - 1] == '=')
		len--;
	if (n > 1 && text[n - 2] == '=')
		len--;
	out[len] = '\0';
	if (ret_len)
		*ret_len = (size_t)len;
	return (char *)out;
}

int64_t agw_etcd_int(json_t *v, int64_t def)
{
	if (json_is_integer(v))
		return json_integer_value(v);
	const char *s = json_string_value(v);
	if (!s || !*s)
		return def;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	return errno || *end ? def : x;
}
