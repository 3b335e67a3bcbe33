/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Digest authentication of REGISTER (RFC 2617, RFC 3261 22.4) as GB/T 28181 devices do it: MD5,
 * with or without qop=auth. Nonces are stateless: a timestamp and an HMAC of it with a secret of
 * the process, so a challenge costs no memory per device and expires by itself. */
#ifndef AGW_GB_DIGEST_H
#define AGW_GB_DIGEST_H

#include <osipparser2/osip_parser.h>
#include <stddef.h>
#include <stdint.h>

#define AGW_GB_NONCE_LEN 40 /* 8 hex digits of time + 32 of HMAC */

struct agw_gb_nonce_key {
	unsigned char secret[32];
};

/* A fresh random secret. Returns 0 or a negative errno. */
int agw_gb_nonce_key_init(struct agw_gb_nonce_key *k);
/* The nonce for now_s, NUL-terminated in out. */
void agw_gb_nonce_make(const struct agw_gb_nonce_key *k, int64_t now_s, char out[AGW_GB_NONCE_LEN + 1]);
/* 0 when the nonce is ours and younger than lifetime_s, -ETIMEDOUT when ours but older (the device
 * is challenged again, with stale=true), -EINVAL when not ours. */
int agw_gb_nonce_check(const struct agw_gb_nonce_key *k, const char *nonce, int64_t now_s, int64_t lifetime_s);

/* Checks an Authorization header's response against password for a request of method. Returns 0,
 * -EACCES for a wrong response, or -EINVAL (with why) for a header that cannot be checked (not
 * Digest, a missing field, an algorithm or qop other than MD5/MD5-sess and auth). Quoted values are
 * unquoted here. */
int agw_gb_digest_verify(const osip_authorization_t *auth, const char *method, const char *password, char *why,
			 size_t whylen);

/* Lower-case hex MD5 of s (33 bytes with the NUL). */
void agw_gb_md5_hex(const char *s, size_t n, char out[33]);

#endif
