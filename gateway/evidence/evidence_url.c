/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Signed, expiring evidence URLs (see evidence_url.h): HMAC-SHA256 from libcrypto, compared with
 * CRYPTO_memcmp so the time taken says nothing about how much of a forged signature was right. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "evidence_url.h"

int agw_evidence_url_key_load(const char *path, struct agw_evidence_url_key *ret, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	struct agw_evidence_url_key k = {0};
	k.len = fread(k.bytes, 1, sizeof(k.bytes), f);
	int extra = fgetc(f);
	fclose(f);
	if (extra != EOF) {
		snprintf(err, errlen, "%s: longer than %d bytes", path, AGW_EVIDENCE_URL_KEY_MAX);
		return -EMSGSIZE;
	}
	if (k.len > 0 && k.bytes[k.len - 1] == '\n')
		k.len--;
	if (k.len > 0 && k.bytes[k.len - 1] == '\r')
		k.len--;
	if (k.len < AGW_EVIDENCE_URL_KEY_MIN) {
		snprintf(err, errlen, "%s: %zu bytes, a key needs at least %d (e.g. openssl rand -hex 32)", path, k.len,
			 AGW_EVIDENCE_URL_KEY_MIN);
		OPENSSL_cleanse(&k, sizeof(k));
		return -EINVAL;
	}
	*ret = k;
	OPENSSL_cleanse(&k, sizeof(k));
	return 0;
}

static void mac(const struct agw_evidence_url_key *key, const char *path, int64_t exp, uint8_t out[32])
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "%s\n%" PRId64, path, exp);
	unsigned len = 32;
	/* a path longer than msg is signed cut: it is no path of ours, and the check cuts it the same way */
	size_t mlen = n < 0 ? 0 : (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
	HMAC(EVP_sha256(), key->bytes, (int)key->len, (const unsigned char *)msg, mlen, out, &len);
}

void agw_evidence_url_sign(const struct agw_evidence_url_key *key, const char *path, int64_t exp, char hex[65])
{
	uint8_t m[32];
	mac(key, path, exp, m);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", m[i]);
}

static int id_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || strchr("/?%#&", *s))
			return 0;
	return 1;
}

char *agw_evidence_url_make(const struct agw_evidence_url_key *key, const char *base, const char *case_id, int n,
			    int64_t exp)
{
	if (!id_ok(case_id) || n < 1)
		return NULL;
	char path[128], hex[65], *out;
	if (snprintf(path, sizeof(path), "/evidence/%s/%d", case_id, n) >= (int)sizeof(path))
		return NULL;
	agw_evidence_url_sign(key, path, exp, hex);
	size_t blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--; /* "https://gw:8443/" and "https://gw:8443" give the same URL */
	if (asprintf(&out, "%.*s%s?exp=%" PRId64 "&sig=%s", (int)blen, base, path, exp, hex) < 0)
		return NULL;
	return out;
}

/* The value of name in a query string (a=1&b=2), into out; 0, or -ENOENT. */
static int query_get(const char *query, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		if (strncmp(p, name, nlen) != 0 || p[nlen] != '=')
			continue;
		const char *v = p + nlen + 1;
		size_t vlen = strcspn(v, "&");
		if (vlen >= outlen)
			return -EINVAL;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
		return 0;
	}
	return -ENOENT;
}

static int hex_decode(const char *hex, uint8_t out[32])
{
	if (strlen(hex) != 64)
		return -EINVAL;
	for (int i = 0; i < 32; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", hex[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", hex[2 * i + 1]))
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

int agw_evidence_url_check(const struct agw_evidence_url_key *key, const char *path, const char *query, int64_t now,
			   char *why, size_t whylen)
{
	char exp_s[24], sig_s[80];
	uint8_t want[32], got[32];
	if (!query || query_get(query, "exp", exp_s, sizeof(exp_s)) < 0 || query_get(query, "sig", sig_s, sizeof(sig_s)) < 0) {
		snprintf(why, whylen, "no exp and sig in the query");
		return -EINVAL;
	}
	char *end;
	errno = 0;
	long long exp = strtoll(exp_s, &end, 10);
	if (errno || end == exp_s || *end || exp < 0) {
		snprintf(why, whylen, "exp is not a unix time");
		return -EINVAL;
	}
	if (hex_decode(sig_s, got) < 0) {
		snprintf(why, whylen, "sig is not 64 hex digits");
		return -EINVAL;
	}
	if (exp < now) {
		snprintf(why, whylen, "link expired %lld s ago", (long long)(now - exp));
		return -EKEYEXPIRED;
	}
	mac(key, path, exp, want);
	if (CRYPTO_memcmp(want, got, sizeof(want)) != 0) {
		snprintf(why, whylen, "signature does not match");
		return -EPERM;
	}
	return 0;
}
