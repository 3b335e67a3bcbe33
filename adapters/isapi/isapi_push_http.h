/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the ISAPI push listener needs of HTTP, kept apart from the sockets so every malformed head
 * and every Digest answer is unit-tested: the request head of a device's POST, and HTTP Digest
 * (RFC 7616, MD5, qop=auth, what Hikvision's httpHosts "MD5digest" speaks) with stateless nonces
 * (a timestamp and its keyed MD5: nothing to keep per device, a restart only makes devices answer
 * one more challenge). Pure: no I/O, no logging. */
#ifndef AGW_ISAPI_PUSH_HTTP_H
#define AGW_ISAPI_PUSH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A request head. The strings point into the parsed buffer (NUL-terminated there). */
struct agw_push_head {
	const char *method;
	const char *target;          /* as written (for Digest's uri) */
	const char *path;            /* the target, of which path_len bytes are the path (up to '?') */
	size_t path_len;
	int64_t content_length;      /* -1: none */
	bool chunked, expect_continue;
	const char *content_type;    /* "" when absent */
	const char *authorization;   /* NULL when absent */
};

/* Parses the head in place: head holds len bytes up to and including the blank line (CRLF or LF
 * line ends) and one more byte of room. Returns 0, or an HTTP status (400, 501, 505) with *why.
 * The body's framing is the caller's to judge (Content-Length, chunked). */
int agw_push_head_parse(char *head, size_t len, struct agw_push_head *ret, const char **why);

/* Where the blank line ending a head is: the number of head bytes including it, or 0 when buf
 * holds no complete head yet. */
size_t agw_push_head_end(const char *buf, size_t len);

#define AGW_DIGEST_KEY_LEN 32

/* The WWW-Authenticate value of a challenge at now_s (seconds). stale: the client's nonce was
 * only too old (it retries without asking the user). */
void agw_digest_challenge(const unsigned char key[AGW_DIGEST_KEY_LEN], const char *realm, int64_t now_s, bool stale,
			  char *out, size_t outlen);

/* Checks an Authorization header value against the credentials, for this method and target. 0:
 * good; -ESTALE: right answer to a nonce older than max_age_s; -EACCES: anything else (*why). */
int agw_digest_verify(const unsigned char key[AGW_DIGEST_KEY_LEN], const char *realm, const char *username,
		      const char *password, const char *method, const char *target, const char *authorization,
		      int64_t now_s, int64_t max_age_s, const char **why);

#endif
