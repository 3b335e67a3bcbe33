/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP Digest authentication (RFC 7616) as a camera checks it: MD5, qop=auth, stateless nonces. */
#ifndef CAMSIM_DIGEST_H
#define CAMSIM_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define CAMSIM_DIGEST_REALM "camsim"
/* A nonce older than this is answered with stale=true so the client retries with a fresh one. */
#define CAMSIM_DIGEST_NONCE_TTL 300

struct camsim_digest_auth {
	char username[128];
	char realm[128];
	char nonce[128];
	char uri[1024];
	char qop[16];
	char nc[16];
	char cnonce[128];
	char response[64];
	char algorithm[16];
};

/* Parses an Authorization header value "Digest k=v, k="v", ..."; -EINVAL if it is not Digest or a
 * field is missing or too long. */
int camsim_digest_parse(const char *header, struct camsim_digest_auth *ret);
/* The lower-case hex response for qop=auth (out: 33 bytes). */
void camsim_digest_compute(const char *user, const char *realm, const char *password, const char *method,
			   const char *uri, const char *nonce, const char *nc, const char *cnonce,
			   const char *qop, char out[33]);
/* A nonce "<time hex>.<mac hex>" bound to secret: no server-side state per client. */
void camsim_digest_nonce_make(const char *secret, int64_t now, char *buf, size_t len);
/* 0 when valid, -ESTALE when it is ours but too old, -EINVAL otherwise. */
int camsim_digest_nonce_check(const char *secret, const char *nonce, int64_t now);
/* 0 when a's response is right for method/user/password and a carries one of our nonces;
 * -ESTALE for an old nonce; -EACCES otherwise. */
int camsim_digest_verify(const struct camsim_digest_auth *a, const char *secret, int64_t now, const char *method,
			 const char *user, const char *password);
/* The WWW-Authenticate header line (with CRLF) for a challenge. */
void camsim_digest_challenge(const char *secret, int64_t now, int stale, char *buf, size_t len);

#endif
