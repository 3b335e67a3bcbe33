/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The status server's request parsing and access policy, kept apart from the sockets so every
 * malformed head is unit-tested and fuzzed (tests/fuzz/fuzz_http_request.c). Pure code: no I/O,
 * no logging. */
#ifndef ALARMGW_HTTP_REQUEST_H
#define ALARMGW_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

/* What a request asked for. Pointers point into the parsed head. */
struct agw_http_request {
	bool head;                     /* HEAD: headers only */
	const char *path;              /* the target up to '?' */
	size_t path_len;
	const char *query;             /* after the '?' (without it), or NULL */
	size_t query_len;
	const char *accept_language;   /* the Accept-Language header's value, trimmed; or NULL */
	size_t accept_language_len;
	const char *host;              /* the Host header's value, trimmed; NULL when absent */
	size_t host_len;
	const char *authorization;     /* the Authorization header's value, trimmed; or NULL */
	size_t authorization_len;
};

/* Why a request is refused: the status, a metric label, a one-line text for the body and the
 * log, and extra header lines (each ending in CRLF; "" for none). All static strings. */
struct agw_http_refusal {
	int code;
	const char *reason;
	const char *text;
	const char *extra;
};

/* Parses one request head: len bytes ending with the blank line (CRLF or LF line ends). Only GET
 * and HEAD without a body are accepted. Returns 0 and fills *ret, or -EINVAL and fills *refusal. */
int agw_http_request_parse(const char *head, size_t len, struct agw_http_request *ret,
			   struct agw_http_refusal *refusal);

/* The value of name in a query string ("a=1&q=%E4%B8%AD+x"), percent- and '+'-decoded into buf
 * (at most buflen - 1 bytes, NUL-terminated). Returns the value's length, -ENOENT when name is
 * absent, -EINVAL when the value is malformed (a bad escape, a NUL) or longer than buflen - 1. */
int agw_http_query_get(const char *query, size_t len, const char *name, char *buf, size_t buflen);

/* The page's language from an Accept-Language value: "zh" when the most preferred language the
 * page has is Chinese, else "en" (also for NULL or malformed values). */
const char *agw_http_pick_language(const char *value, size_t len);

/* Who may ask. hosts: the names a client may use in the Host header (matched without case; an
 * entry "name" matches any port, "name:port" only that port); NULL/0 means the loopback names
 * localhost, 127.0.0.1 and [::1] with the server's port, which is what a DNS-rebinding page can
 * never send. token: NULL for none, else every path but /healthz needs
 * "Authorization: Bearer <token>". */
struct agw_evidence_url_key;
struct agw_http_access {
	const char *const *hosts;
	size_t n_hosts;
	int port;
	const char *token;
	/* GET /evidence/<case>/<n> may carry a signed link (?exp=&sig=, gateway/evidence/evidence_url.h)
	 * instead of the token; NULL: only the token */
	const struct agw_evidence_url_key *url_key;
};

/* Returns 0 when req may be answered, else -EACCES with *refusal (400 without a Host header on
 * HTTP/1.1 is the parser's; here 421 for a foreign Host, 401 without the token). */
int agw_http_access_check(const struct agw_http_access *a, const struct agw_http_request *req,
			  struct agw_http_refusal *refusal);

/* Whether host ("name", "name:port", "[v6]:port") names one of the allowed hosts. */
bool agw_http_host_allowed(const struct agw_http_access *a, const char *host, size_t len);

#endif
