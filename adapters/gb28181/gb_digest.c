/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Digest authentication and nonces (see gb_digest.h). */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gb_digest.h"

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void agw_gb_md5_hex(const char *s, size_t n, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_Digest(s, n, md, &len, EVP_md5(), NULL) != 1 || len != 16)
		memset(md, 0, 16);
	hex(md, 16, out);
}

int agw_gb_nonce_key_init(struct agw_gb_nonce_key *k)
{
	return RAND_bytes(k->secret, sizeof(k->secret)) == 1 ? 0 : -EIO;
}

static void nonce_mac(const struct agw_gb_nonce_key *k, const char *stamp, char out[33])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (!HMAC(EVP_sha256(), k->secret, (int)sizeof(k->secret), (const unsigned char *)stamp, strlen(stamp), mac, &len) ||
	    len < 16)
		memset(mac, 0, 16);
	hex(mac, 16, out);
}

void agw_gb_nonce_make(const struct agw_gb_nonce_key *k, int64_t now_s, char out[AGW_GB_NONCE_LEN + 1])
{
	char stamp[9], mac[33];
	snprintf(stamp, sizeof(stamp), "%08x", (unsigned)(uint32_t)now_s);
	nonce_mac(k, stamp, mac);
	snprintf(out, AGW_GB_NONCE_LEN + 1, "%s%s", stamp, mac);
}

int agw_gb_nonce_check(const struct agw_gb_nonce_key *k, const char *nonce, int64_t now_s, int64_t lifetime_s)
{
	if (!nonce || strlen(nonce) != AGW_GB_NONCE_LEN)
		return -EINVAL;
	char stamp[9], mac[33];
	memcpy(stamp, nonce, 8);
	stamp[8] = '\0';
	char *end;
	unsigned long t = strtoul(stamp, &end, 16);
	if (*end)
		return -EINVAL;
	nonce_mac(k, stamp, mac);
	if (CRYPTO_memcmp(mac, nonce + 8, 32) != 0)
		return -EINVAL;
	int64_t age = (int64_t)(uint32_t)((uint32_t)now_s - (uint32_t)t); /* wraps in 2106, harmlessly */
	return age <= lifetime_s ? 0 : -ETIMEDOUT;
}

/* The value of a digest parameter without its quotes, in buf. NULL when absent or too long. */
static const char *unquote(const char *v, char *buf, size_t len)
{
	if (!v)
		return NULL;
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		v++, n -= 2;
	if (n >= len)
		return NULL;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return buf;
}

int agw_gb_digest_verify(const osip_authorization_t *auth, const char *method, const char *password, char *why,
			 size_t whylen)
{
	char user[128], realm[128], nonce[128], uri[512], resp[64], alg[32], qop[32], nc[32], cnonce[128];
	if (!auth->auth_type || strcasecmp(auth->auth_type, "Digest") != 0) {
		snprintf(why, whylen, "not Digest authentication");
		return -EINVAL;
	}
	const char *u = unquote(auth->username, user, sizeof(user)), *r = unquote(auth->realm, realm, sizeof(realm)),
		   *n = unquote(auth->nonce, nonce, sizeof(nonce)), *p = unquote(auth->uri, uri, sizeof(uri)),
		   *rs = unquote(auth->response, resp, sizeof(resp)), *a = unquote(auth->algorithm, alg, sizeof(alg)),
		   *q = unquote(auth->message_qop, qop, sizeof(qop)), *c = unquote(auth->nonce_count, nc, sizeof(nc)),
		   *cn = unquote(auth->cnonce, cnonce, sizeof(cnonce));
	const char *missing = !u ? "username" : !r ? "realm" : !n ? "nonce" : !p ? "uri" : !rs ? "response" : NULL;
	if (!missing && q && (!c || !cn))
		missing = !c ? "nc" : "cnonce";
	if (missing) {
		snprintf(why, whylen, "Authorization without a usable %s", missing);
		return -EINVAL;
	}
	bool sess = a && !strcasecmp(a, "MD5-sess");
	if (a && !sess && strcasecmp(a, "MD5") != 0) {
		snprintf(why, whylen, "algorithm %.20s (only MD5 and MD5-sess)", a);
		return -EINVAL;
	}
	if (q && strcasecmp(q, "auth") != 0) {
		snprintf(why, whylen, "qop %.20s (only auth)", q);
		return -EINVAL;
	}
	if (strlen(rs) != 32) {
		snprintf(why, whylen, "a response that is not 32 hex digits");
		return -EINVAL;
	}
	char text[1024], ha1[33], ha2[33], want[33];
	int len = snprintf(text, sizeof(text), "%s:%s:%s", u, r, password);
	agw_gb_md5_hex(text, (size_t)len, ha1);
	if (sess) {
		len = snprintf(text, sizeof(text), "%s:%s:%s", ha1, n, cn ? cn : "");
		agw_gb_md5_hex(text, (size_t)len, ha1);
	}
	len = snprintf(text, sizeof(text), "%s:%s", method, p);
	agw_gb_md5_hex(text, (size_t)len, ha2);
	if (q)
		len = snprintf(text, sizeof(text), "%s:%s:%s:%s:%s:%s", ha1, n, c, cn, q, ha2);
	else
		len = snprintf(text, sizeof(text), "%s:%s:%s", ha1, n, ha2);
	agw_gb_md5_hex(text, (size_t)len, want);
	char got[33];
	for (int i = 0; i < 32; i++)
		got[i] = (char)((rs[i] >= 'A' && rs[i] <= 'F') ? rs[i] - 'A' + 'a' : rs[i]);
	got[32] = '\0';
	return CRYPTO_memcmp(got, want, 32) == 0 ? 0 : -EACCES;
}
