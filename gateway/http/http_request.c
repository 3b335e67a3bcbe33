/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "evidence_url.h"
#include "http_request.h"

static int refuse(struct agw_http_refusal *r, int code, const char *reason, const char *text, const char *extra)
{
	r->code = code;
	r->reason = reason;
	r->text = text;
	r->extra = extra;
	return -EINVAL;
}

static bool is_tchar(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

/* [*b, *e) without surrounding spaces, tabs and the CR of a CRLF. */
static void trim(const char **b, const char **e)
{
	while (*b < *e && (**b == ' ' || **b == '\t'))
		(*b)++;
	while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

/* Headers from first to end: each well-formed, none announcing a body, at most one Host. */
static int headers_parse(const char *first, const char *end, struct agw_http_request *req,
			 struct agw_http_refusal *refusal)
{
	unsigned hosts = 0;
	for (const char *line = first; line < end && *line != '\r' && *line != '\n';) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			return refuse(refusal, 400, "bad_request", "malformed header", "");
		const char *colon = memchr(line, ':', (size_t)(nl - line));
		if (!colon || colon == line)
			return refuse(refusal, 400, "bad_request", "malformed header", "");
		for (const char *p = line; p < colon; p++)
			if (!is_tchar(*p))
				return refuse(refusal, 400, "bad_request", "malformed header name", "");
		size_t name_len = (size_t)(colon - line);
		const char *v = colon + 1, *ve = nl;
		trim(&v, &ve);
		if (name_is(line, name_len, "Transfer-Encoding"))
			return refuse(refusal, 413, "too_large", "request bodies are not accepted", "");
		if (name_is(line, name_len, "Content-Length")) {
			bool zero = v < ve;
			for (const char *p = v; p < ve; p++) {
				if (*p < '0' || *p > '9')
					return refuse(refusal, 400, "bad_request", "malformed Content-Length", "");
				zero = zero && *p == '0';
			}
			if (!zero)
				return refuse(refusal, v < ve ? 413 : 400, v < ve ? "too_large" : "bad_request",
					      v < ve ? "request bodies are not accepted" : "malformed Content-Length", "");
		} else if (name_is(line, name_len, "Host")) {
			if (++hosts > 1)
				return refuse(refusal, 400, "bad_request", "more than one Host header", "");
			req->host = v;
			req->host_len = (size_t)(ve - v);
		} else if (name_is(line, name_len, "Accept-Language")) {
			req->accept_language = v;
			req->accept_language_len = (size_t)(ve - v);
		} else if (name_is(line, name_len, "Authorization")) {
			if (req->authorization)
				return refuse(refusal, 400, "bad_request", "more than one Authorization header", "");
			req->authorization = v;
			req->authorization_len = (size_t)(ve - v);
		}
		line = nl + 1;
	}
	return 0;
}

int agw_http_request_parse(const char *head, size_t len, struct agw_http_request *ret,
			   struct agw_http_refusal *refusal)
{
	struct agw_http_request req;
	memset(&req, 0, sizeof(req));
	const char *end = head + len;
	if (memchr(head, '\0', len))
		return refuse(refusal, 400, "bad_request", "NUL byte in the request", "");
	/* request-line = method SP request-target SP HTTP-version */
	const char *line_end = memchr(head, '\n', len);
	if (!line_end)
		return refuse(refusal, 400, "bad_request", "malformed request line", "");
	const char *method = head, *sp1 = memchr(head, ' ', (size_t)(line_end - head));
	if (!sp1 || sp1 == method)
		return refuse(refusal, 400, "bad_request", "malformed request line", "");
	for (const char *p = method; p < sp1; p++)
		if (!is_tchar(*p))
			return refuse(refusal, 400, "bad_request", "malformed method", "");
	const char *target = sp1 + 1, *sp2 = memchr(target, ' ', (size_t)(line_end - target));
	if (!sp2 || target == sp2 || *target != '/')
		return refuse(refusal, 400, "bad_request", "malformed request target", "");
	const char *version = sp2 + 1;
	size_t vlen = (size_t)(line_end - version);
	if (vlen && version[vlen - 1] == '\r')
		vlen--;
	bool http11 = vlen == 8 && memcmp(version, "HTTP/1.1", 8) == 0;
	if (!http11 && !(vlen == 8 && memcmp(version, "HTTP/1.0", 8) == 0))
		return refuse(refusal, 400, "bad_request", "unsupported HTTP version", "");
	int r = headers_parse(line_end + 1, end, &req, refusal);
	if (r < 0)
		return r;
	if (http11 && !req.host)
		return refuse(refusal, 400, "bad_request", "HTTP/1.1 request without a Host header", "");
	size_t mlen = (size_t)(sp1 - method);
	if (mlen == 4 && memcmp(method, "HEAD", 4) == 0)
		req.head = true;
	else if (!(mlen == 3 && memcmp(method, "GET", 3) == 0))
		return refuse(refusal, 405, "method", "only GET and HEAD are served", "Allow: GET, HEAD\r\n");
	req.path = target;
	req.path_len = 0;
	while (target + req.path_len < sp2 && target[req.path_len] != '?')
		req.path_len++;
	if (target + req.path_len < sp2) {
		req.query = target + req.path_len + 1;
		req.query_len = (size_t)(sp2 - req.query);
	}
	*ret = req;
	return 0;
}

/* Splits "name", "name:port" or "[v6]" / "[v6]:port". Returns false when malformed; *port is -1
 * when absent. */
static bool host_split(const char *s, size_t len, const char **name, size_t *name_len, long *port)
{
	const char *colon = NULL;
	*port = -1;
	if (len && s[0] == '[') {
		const char *rb = memchr(s, ']', len);
		if (!rb)
			return false;
		*name = s + 1;
		*name_len = (size_t)(rb - s - 1);
		if (rb + 1 < s + len) {
			if (rb[1] != ':')
				return false;
			colon = rb + 1;
		}
	} else {
		colon = memchr(s, ':', len);
		*name = s;
		*name_len = colon ? (size_t)(colon - s) : len;
	}
	if (*name_len == 0)
		return false;
	if (colon) {
		const char *p = colon + 1, *e = s + len;
		if (p == e || e - p > 5)
			return false;
		long v = 0;
		for (; p < e; p++) {
			if (*p < '0' || *p > '9')
				return false;
			v = v * 10 + (*p - '0');
		}
		if (v > 65535)
			return false;
		*port = v;
	}
	return true;
}

static bool entry_matches(const char *entry, const char *name, size_t name_len, long port, long default_port)
{
	const char *ename;
	size_t elen;
	long eport;
	if (!host_split(entry, strlen(entry), &ename, &elen, &eport))
		return false;
	if (elen != name_len || strncasecmp(ename, name, elen) != 0)
		return false;
	if (eport < 0)
		eport = default_port;
	return eport < 0 || eport == (port < 0 ? 80 : port);
}

bool agw_http_host_allowed(const struct agw_http_access *a, const char *host, size_t len)
{
	static const char *const loopback[] = {"localhost", "127.0.0.1", "[::1]"};
	const char *name;
	size_t name_len;
	long port;
	if (!host_split(host, len, &name, &name_len, &port))
		return false;
	if (a->n_hosts) {
		for (size_t i = 0; i < a->n_hosts; i++)
			if (entry_matches(a->hosts[i], name, name_len, port, -1))
				return true;
		return false;
	}
	/* A loopback name with the server's port, or with none (curl -H 'Host: localhost'): what
	 * matters against DNS rebinding is the name, which a rebound page cannot choose. */
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
		if (entry_matches(loopback[i], name, name_len, port < 0 ? a->port : port, a->port))
			return true;
	return false;
}

/* Compares in time that depends on the lengths only, not on where the first difference is. */
static bool token_equal(const char *given, size_t given_len, const char *want)
{
	size_t want_len = strlen(want);
	unsigned char diff = given_len != want_len;
	for (size_t i = 0; i < want_len; i++)
		diff |= (unsigned char)(want[i] ^ (i < given_len ? given[i] : 0));
	return diff == 0;
}

/* A signed evidence link: 1 when it is valid (no token needed), 0 when the request carries none,
 * -EACCES (403) when it carries a wrong or expired one. */
static int signed_link(const struct agw_http_access *a, const struct agw_http_request *req,
		       struct agw_http_refusal *refusal)
{
	static const char prefix[] = "/evidence/";
	if (!a->url_key || req->path_len < sizeof(prefix) - 1 || memcmp(req->path, prefix, sizeof(prefix) - 1) != 0 ||
	    !req->query || !memmem(req->query, req->query_len, "sig=", 4))
		return 0;
	char path[256], query[256], why[96];
	int r = -EINVAL;
	if (req->path_len < sizeof(path) && req->query_len < sizeof(query)) {
		memcpy(path, req->path, req->path_len);
		path[req->path_len] = '\0';
		memcpy(query, req->query, req->query_len);
		query[req->query_len] = '\0';
		/* the link's expiry is a wall-clock time the platform was given */
		r = agw_evidence_url_check(a->url_key, path, query, (int64_t)time(NULL), why, sizeof(why));
	}
	if (r == 0)
		return 1;
	if (r == -EKEYEXPIRED)
		refuse(refusal, 403, "link_expired", "the evidence link has expired", "");
	else if (r == -EPERM)
		refuse(refusal, 403, "link_signature", "the evidence link's signature does not match", "");
	else
		refuse(refusal, 403, "link_malformed", "the evidence link needs exp=<unix time>&sig=<64 hex digits>", "");
	return -EACCES;
}

int agw_http_access_check(const struct agw_http_access *a, const struct agw_http_request *req,
			  struct agw_http_refusal *refusal)
{
	if (req->host && !agw_http_host_allowed(a, req->host, req->host_len)) {
		refuse(refusal, 421, "host", "this server does not answer to that Host name", "");
		return -EACCES;
	}
	int link = signed_link(a, req, refusal);
	if (link != 0)
		return link < 0 ? link : 0;
	if (!a->token || (req->path_len == 8 && memcmp(req->path, "/healthz", 8) == 0))
		return 0;
	static const char scheme[] = "Bearer ";
	const size_t slen = sizeof(scheme) - 1;
	if (!req->authorization || req->authorization_len <= slen ||
	    strncasecmp(req->authorization, scheme, slen) != 0 ||
	    !token_equal(req->authorization + slen, req->authorization_len - slen, a->token)) {
		refuse(refusal, 401, "unauthorized", "a bearer token is required",
		       "WWW-Authenticate: Bearer realm=\"alarmgw\"\r\n");
		return -EACCES;
	}
	return 0;
}
