/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One bounded HTTP GET on the loop's curl multi (alarmgw/curl_loop.h): a snapshot JPEG from a
 * camera. Digest authentication (never Basic: the password would cross the network), a size limit
 * checked while the body arrives, a deadline for the whole transfer, TLS verified for https. */
#ifndef ALARMGW_HTTP_GET_H
#define ALARMGW_HTTP_GET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarmgw/curl_loop.h"

struct agw_http_get_opts {
	const char *url;        /* http(s) URL without credentials */
	const char *username;   /* NULL: no authentication */
	const char *password;
	size_t max_bytes;       /* a longer body fails with -EMSGSIZE */
	int64_t timeout_ms;     /* the whole transfer */
	bool tls_verify;
	const char *ca_file;    /* NULL: the system's */
	const char *post_body;  /* NULL: GET; else POST of this text (SOAP requests) */
	const char *content_type; /* the POST's Content-Type header value */
};

/* done runs on the loop once, unless the request was cancelled first. status is 0 with body and
 * len (valid during the call; the content type may be NULL), or a negative errno with reason
 * ("timeout after 5000 ms", "HTTP 404", "body over 2097152 bytes"): -ENOENT for 404, -EOPNOTSUPP
 * for 501, -EACCES for 401/403, -EPROTO for another status, -ETIMEDOUT, -EMSGSIZE. */
typedef void (*agw_http_get_fn)(void *arg, int status, const char *reason, const void *body, size_t len,
				const char *content_type);

struct agw_http_get;

int agw_http_get_start(struct agw_curl_loop *loop, const struct agw_http_get_opts *opts, agw_http_get_fn done,
		       void *arg, struct agw_http_get **ret);
/* Aborts a running request and frees it: done is not called. */
void agw_http_get_cancel(struct agw_http_get *g);

#endif
