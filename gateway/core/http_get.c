/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A bounded HTTP GET on the curl loop (alarmgw/http_get.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/http_get.h"

struct agw_http_get {
	struct agw_curl_req req; /* first: the curl loop hands it back */
	struct agw_curl_loop *loop;
	CURL *easy;
	struct curl_slist *headers;
	char *post;
	char *body;
	size_t len, cap, max;
	bool too_big;
	int64_t timeout_ms;
	agw_http_get_fn done;
	void *arg;
};

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
	struct agw_http_get *g = userp;
	size_t add = size * n;
	if (add > g->max - g->len) {
		g->too_big = true;
		return 0; /* curl stops the transfer: CURLE_WRITE_ERROR */
	}
	if (g->len + add > g->cap) {
		size_t cap = g->cap ? g->cap : 16384;
		while (cap < g->len + add)
			cap *= 2;
		if (cap > g->max)
			cap = g->max;
		char *b = realloc(g->body, cap);
		if (!b)
			return 0;
		g->body = b;
		g->cap = cap;
	}
	memcpy(g->body + g->len, data, add);
	g->len += add;
	return add;
}

static void free_get(struct agw_http_get *g)
{
	if (!g)
		return;
	if (g->easy)
		curl_easy_cleanup(g->easy);
	curl_slist_free_all(g->headers);
	free(g->post);
	free(g->body);
	free(g);
}

static void on_done(struct agw_curl_req *req, CURLcode code)
{
	struct agw_http_get *g = (struct agw_http_get *)req;
	long status = 0;
	char *ctype = NULL;
	char reason[160];
	int rc = 0;
	curl_easy_getinfo(g->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(g->easy, CURLINFO_CONTENT_TYPE, &ctype);
	if (g->too_big) {
		rc = -EMSGSIZE;
		snprintf(reason, sizeof(reason), "picture over %zu bytes", g->max);
	} else if (code == CURLE_OPERATION_TIMEDOUT) {
		rc = -ETIMEDOUT;
		snprintf(reason, sizeof(reason), "timeout after %lld ms", (long long)g->timeout_ms);
	} else if (code != CURLE_OK) {
		rc = -EIO;
		snprintf(reason, sizeof(reason), "%s", curl_easy_strerror(code));
	} else if (status != 200) {
		/* 404 and 501 say the device has no such thing (a camera without snapshots): callers
		 * may take another way; other statuses are failures of this one */
		rc = status == 401 || status == 403 ? -EACCES
		     : status == 404		   ? -ENOENT
		     : status == 501		   ? -EOPNOTSUPP
						   : -EPROTO;
		snprintf(reason, sizeof(reason), "HTTP %ld", status);
	} else if (g->len == 0) {
		rc = -ENODATA;
		snprintf(reason, sizeof(reason), "empty answer");
	}
	g->done(g->arg, rc, rc ? reason : NULL, g->body, g->len, rc ? NULL : ctype);
	free_get(g);
}

int agw_http_get_start(struct agw_curl_loop *loop, const struct agw_http_get_opts *o, agw_http_get_fn done,
		       void *arg, struct agw_http_get **ret)
{
	if (!o->url || o->max_bytes == 0)
		return -EINVAL;
	struct agw_http_get *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	int rc = -ENOMEM;
	g->req.done = on_done;
	g->loop = loop;
	g->max = o->max_bytes;
	g->timeout_ms = o->timeout_ms;
	g->done = done;
	g->arg = arg;
	g->easy = curl_easy_init();
	if (!g->easy)
		goto fail;
	CURL *e = g->easy;
	curl_easy_setopt(e, CURLOPT_URL, o->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, g);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, g);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o->timeout_ms > 0 ? o->timeout_ms : 5000));
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, o->tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, o->tls_verify ? 2L : 0L);
	if (o->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
	if (o->username) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_DIGEST);
		curl_easy_setopt(e, CURLOPT_USERNAME, o->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, o->password ? o->password : "");
	}
	if (o->post_body) {
		char ct[512];
		snprintf(ct, sizeof(ct), "Content-Type: %s", o->content_type ? o->content_type : "application/octet-stream");
		g->post = strdup(o->post_body);
		g->headers = curl_slist_append(NULL, ct);
		if (!g->post || !g->headers)
			goto fail;
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, g->post);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, g->headers);
	}
	rc = agw_curl_loop_start(loop, e);
	if (rc < 0)
		goto fail;
	*ret = g;
	return 0;
fail:
	free_get(g);
	return rc;
}

void agw_http_get_cancel(struct agw_http_get *g)
{
	if (!g)
		return;
	agw_curl_loop_cancel(g->loop, g->easy);
	free_get(g);
}
