/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "digest.h"

static void md5_hex(const char *text, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(text, strlen(text), md, &n, EVP_md5(), NULL);
	for (unsigned int i = 0; i < n && i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[32] = '\0';
}

/* Copies the value of one k=v or k="v" pair; returns the position after it or NULL if too long. */
static const char *read_value(const char *p, char *buf, size_t len)
{
	size_t o = 0;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (o + 1 >= len)
				return NULL;
			buf[o++] = *p;
		}
		if (*p != '"')
			return NULL;
		p++;
	} else {
		for (; *p && *p != ',' && !isspace((unsigned char)*p); p++) {
			if (o + 1 >= len)
				return NULL;
			buf[o++] = *p;
		}
	}
	buf[o] = '\0';
	return p;
}

int camsim_digest_parse(const char *header, struct camsim_digest_auth *ret)
{
	struct camsim_digest_auth a = {0};
	const char *p = header;
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "Digest", 6) != 0 || !isspace((unsigned char)p[6]))
		return -EINVAL;
	p += 6;
	for (;;) {
		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (!*p)
			break;
		const char *eq = strchr(p, '=');
		if (!eq)
			return -EINVAL;
		size_t klen = (size_t)(eq - p);
		while (klen && isspace((unsigned char)p[klen - 1]))
			klen--;
		struct {
			const char *key;
			char *dst;
			size_t size;
		} fields[] = {
			{"username", a.username, sizeof(a.username)}, {"realm", a.realm, sizeof(a.realm)},
			{"nonce", a.nonce, sizeof(a.nonce)},          {"uri", a.uri, sizeof(a.uri)},
			{"qop", a.qop, sizeof(a.qop)},                {"nc", a.nc, sizeof(a.nc)},
			{"cnonce", a.cnonce, sizeof(a.cnonce)},       {"response", a.response, sizeof(a.response)},
			{"algorithm", a.algorithm, sizeof(a.algorithm)},
		};
		char scratch[1024];
		char *dst = scratch;
		size_t size = sizeof(scratch);
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (strlen(fields[i].key) == klen && strncasecmp(p, fields[i].key, klen) == 0) {
				dst = fields[i].dst;
				size = fields[i].size;
			}
		p = eq + 1;
		while (isspace((unsigned char)*p))
			p++;
		p = read_value(p, dst, size);
		if (!p)
			return -EINVAL;
	}
	if (!a.username[0] || !a.nonce[0] || !a.uri[0] || !a.response[0])
		return -EINVAL;
	*ret = a;
	return 0;
}

void camsim_digest_compute(const char *user, const char *realm, const char *password, const char *method,
			   const char *uri, const char *nonce, const char *nc, const char *cnonce,
			   const char *qop, char out[33])
{
	char ha1[33], ha2[33];
	size_t n = strlen(user) + strlen(realm) + strlen(password) + strlen(method) + strlen(uri) +
		   strlen(nonce) + strlen(nc) + strlen(cnonce) + strlen(qop) + 64;
	char *text = malloc(n);
	if (!text) {
		out[0] = '\0';
		return;
	}
	snprintf(text, n, "%s:%s:%s", user, realm, password);
	md5_hex(text, ha1);
	snprintf(text, n, "%s:%s", method, uri);
	md5_hex(text, ha2);
	if (qop[0])
		snprintf(text, n, "%s:%s:%s:%s:%s:%s", ha1, nonce, nc, cnonce, qop, ha2);
	else /* RFC 2069 compatibility form */
		snprintf(text, n, "%s:%s:%s", ha1, nonce, ha2);
	md5_hex(text, out);
	free(text);
}

static void nonce_mac(const char *secret, const char *stamp, char out[33])
{
	char text[256];
	snprintf(text, sizeof(text), "%s:%s", stamp, secret);
	md5_hex(text, out);
}

void camsim_digest_nonce_make(const char *secret, int64_t now, char *buf, size_t len)
{
	char stamp[17], mac[33]; /* 16 hex digits: "%s.%s" always fits the 64 bytes callers give */
	snprintf(stamp, sizeof(stamp), "%" PRIx64, (uint64_t)now);
	nonce_mac(secret, stamp, mac);
	snprintf(buf, len, "%s.%s", stamp, mac);
}

int camsim_digest_nonce_check(const char *secret, const char *nonce, int64_t now)
{
	const char *dot = strchr(nonce, '.');
	if (!dot || dot == nonce || dot - nonce > 16)
		return -EINVAL;
	char stamp[32], mac[33];
	memcpy(stamp, nonce, (size_t)(dot - nonce));
	stamp[dot - nonce] = '\0';
	char *end;
	uint64_t t = strtoull(stamp, &end, 16);
	if (*end)
		return -EINVAL;
	nonce_mac(secret, stamp, mac);
	if (strlen(dot + 1) != 32 || CRYPTO_memcmp(mac, dot + 1, 32) != 0)
		return -EINVAL;
	if ((int64_t)t > now + 5 || now - (int64_t)t > CAMSIM_DIGEST_NONCE_TTL)
		return -ESTALE;
	return 0;
}

int camsim_digest_verify(const struct camsim_digest_auth *a, const char *secret, int64_t now, const char *method,
			 const char *user, const char *password)
{
	if (a->algorithm[0] && strcasecmp(a->algorithm, "MD5") != 0)
		return -EACCES;
	if (a->qop[0] && (strcmp(a->qop, "auth") != 0 || !a->nc[0] || !a->cnonce[0]))
		return -EACCES;
	if (strcmp(a->username, user) != 0 || (a->realm[0] && strcmp(a->realm, CAMSIM_DIGEST_REALM) != 0))
		return -EACCES;
	int r = camsim_digest_nonce_check(secret, a->nonce, now);
	if (r == -EINVAL)
		return -EACCES;
	char expect[33];
	camsim_digest_compute(user, CAMSIM_DIGEST_REALM, password, method, a->uri, a->nonce, a->nc, a->cnonce,
			      a->qop, expect);
	if (strlen(a->response) != 32 || strncasecmp(expect, a->response, 32) != 0)
		return -EACCES;
	/* A right answer to an old nonce: ask again with stale=true rather than refuse the password. */
	return r == -ESTALE ? -ESTALE : 0;
}

void camsim_digest_challenge(const char *secret, int64_t now, int stale, char *buf, size_t len)
{
	char nonce[64];
	camsim_digest_nonce_make(secret, now, nonce, sizeof(nonce));
	snprintf(buf, len, "WWW-Authenticate: Digest realm=\"%s\", qop=\"auth\", algorithm=MD5, nonce=\"%s\"%s\r\n",
		 CAMSIM_DIGEST_REALM, nonce, stale ? ", stale=true" : "");
}
