/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The push listener's request heads and HTTP Digest (isapi_push_http.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "isapi_push_http.h"

size_t agw_push_head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int agw_push_head_parse(char *head, size_t len, struct agw_push_head *ret, const char **why)
{
	struct agw_push_head h = {.content_length = -1, .content_type = ""};
	head[len] = '\0';
	if (memchr(head, '\0', len)) {
		*why = "a NUL byte in the request head";
		return 400;
	}
	char *save = NULL;
	char *line = strtok_r(head, "\n", &save);
	if (!line) {
		*why = "no request line";
		return 400;
	}
	/* request line: METHOD SP target SP HTTP/1.x */
	line = trim(line);
	char *sp1 = strchr(line, ' ');
	char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strchr(sp2 + 1, ' ')) {
		*why = "the request line is not METHOD target HTTP/1.x";
		return 400;
	}
	*sp1 = *sp2 = '\0';
	h.method = line;
	h.target = sp1 + 1;
	if (strcmp(sp2 + 1, "HTTP/1.1") != 0 && strcmp(sp2 + 1, "HTTP/1.0") != 0) {
		*why = "only HTTP/1.0 and HTTP/1.1";
		return 505;
	}
	if (h.target[0] != '/') {
		*why = "the target is not a path";
		return 400;
	}
	for (char *l; (l = strtok_r(NULL, "\n", &save));) {
		l = trim(l);
		if (!*l)
			break;
		char *colon = strchr(l, ':');
		if (!colon || colon == l) {
			*why = "a header line without a name";
			return 400;
		}
		*colon = '\0';
		char *name = trim(l), *value = trim(colon + 1);
		if (!strcasecmp(name, "Content-Length")) {
			char *end;
			errno = 0;
			long long v = strtoll(value, &end, 10);
			if (errno || end == value || *end || v < 0 || (h.content_length >= 0 && h.content_length != v)) {
				*why = "a bad or repeated Content-Length";
				return 400;
			}
			h.content_length = v;
		} else if (!strcasecmp(name, "Transfer-Encoding")) {
			if (strcasecmp(value, "identity") != 0)
				h.chunked = true;
		} else if (!strcasecmp(name, "Expect")) {
			if (strcasecmp(value, "100-continue") != 0) {
				*why = "an Expect other than 100-continue";
				return 417;
			}
			h.expect_continue = true;
		} else if (!strcasecmp(name, "Content-Type")) {
			h.content_type = value;
		} else if (!strcasecmp(name, "Authorization")) {
			h.authorization = value;
		}
	}
	h.path = h.target;
	h.path_len = strcspn(h.target, "?");
	*ret = h;
	return 0;
}

/* ---- Digest ---- */

static void md5_hex(const char *text, char out[33])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (EVP_Digest(text, strlen(text), d, &n, EVP_md5(), NULL) != 1 || n != 16) {
		memset(out, '0', 32); /* never matches an answer: a failing digest refuses */
		out[32] = '\0';
		return;
	}
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* nonce = 16 hex digits of the time, then the keyed MD5 of the time */
static void make_nonce(const unsigned char key[AGW_DIGEST_KEY_LEN], int64_t t, char out[49])
{
	char text[2 * AGW_DIGEST_KEY_LEN + 20], mac[33];
	for (int i = 0; i < AGW_DIGEST_KEY_LEN; i++)
		snprintf(text + 2 * i, 3, "%02x", key[i]);
	snprintf(text + 2 * AGW_DIGEST_KEY_LEN, 20, ":%016" PRIx64, (uint64_t)t);
	md5_hex(text, mac);
	snprintf(out, 49, "%016" PRIx64 "%s", (uint64_t)t, mac);
}

void agw_digest_challenge(const unsigned char key[AGW_DIGEST_KEY_LEN], const char *realm, int64_t now_s, bool stale,
			  char *out, size_t outlen)
{
	char nonce[49];
	make_nonce(key, now_s, nonce);
	snprintf(out, outlen, "Digest realm=\"%s\", qop=\"auth\", algorithm=MD5, nonce=\"%s\"%s", realm, nonce,
		 stale ? ", stale=true" : "");
}

/* The value of one auth-param (quoted or token) in a Digest header, or false. */
static bool param(const char *hdr, const char *name, char *out, size_t len)
{
	size_t nlen = strlen(name);
	const char *p = hdr;
	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		const char *key = p;
		while (*p && *p != '=' && *p != ',' && *p != ' ')
			p++;
		size_t klen = (size_t)(p - key);
		while (*p == ' ')
			p++;
		if (*p != '=')
			continue;
		p++;
		while (*p == ' ')
			p++;
		const char *v;
		size_t vlen;
		if (*p == '"') {
			v = ++p;
			while (*p && *p != '"')
				p += (*p == '\\' && p[1]) ? 2 : 1;
			vlen = (size_t)(p - v);
			if (*p)
				p++;
		} else {
			v = p;
			while (*p && *p != ',' && *p != ' ')
				p++;
			vlen = (size_t)(p - v);
		}
		if (klen == nlen && !strncasecmp(key, name, nlen)) {
			if (vlen >= len)
				return false;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return true;
		}
	}
	return false;
}

int agw_digest_verify(const unsigned char key[AGW_DIGEST_KEY_LEN], const char *realm, const char *username,
		      const char *password, const char *method, const char *target, const char *authorization,
		      int64_t now_s, int64_t max_age_s, const char **why)
{
	if (!authorization || strncasecmp(authorization, "Digest ", 7) != 0) {
		*why = "no Digest Authorization";
		return -EACCES;
	}
	const char *hdr = authorization + 7;
	char user[128], rlm[128], nonce[64], uri[1024], response[40], qop[16] = "", nc[16] = "", cnonce[128] = "",
									   alg[16] = "MD5";
	if (!param(hdr, "username", user, sizeof(user)) || !param(hdr, "realm", rlm, sizeof(rlm)) ||
	    !param(hdr, "nonce", nonce, sizeof(nonce)) || !param(hdr, "uri", uri, sizeof(uri)) ||
	    !param(hdr, "response", response, sizeof(response))) {
		*why = "an incomplete Digest Authorization";
		return -EACCES;
	}
	param(hdr, "algorithm", alg, sizeof(alg));
	bool with_qop = param(hdr, "qop", qop, sizeof(qop));
	if (with_qop && (strcmp(qop, "auth") != 0 || !param(hdr, "nc", nc, sizeof(nc)) ||
			 !param(hdr, "cnonce", cnonce, sizeof(cnonce)))) {
		*why = "a Digest qop other than auth, or without nc and cnonce";
		return -EACCES;
	}
	if (strcasecmp(alg, "MD5") != 0) {
		*why = "a Digest algorithm other than MD5";
		return -EACCES;
	}
	if (strcmp(user, username) != 0 || strcmp(rlm, realm) != 0 || strcmp(uri, target) != 0) {
		*why = "wrong Digest username, realm or uri";
		return -EACCES;
	}
	/* the nonce must be ours: its time's keyed MD5 */
	char want[49];
	char *end;
	if (strlen(nonce) != 48) {
		*why = "a nonce this listener did not give";
		return -EACCES;
	}
	char ts[17];
	memcpy(ts, nonce, 16);
	ts[16] = '\0';
	errno = 0;
	uint64_t t = strtoull(ts, &end, 16);
	make_nonce(key, (int64_t)t, want);
	if (errno || *end || CRYPTO_memcmp(want, nonce, 48) != 0) {
		*why = "a nonce this listener did not give";
		return -EACCES;
	}
	char a1[512], a2[1100], ha1[33], ha2[33], all[700], expect[33];
	snprintf(a1, sizeof(a1), "%s:%s:%s", username, realm, password);
	snprintf(a2, sizeof(a2), "%s:%s", method, target);
	md5_hex(a1, ha1);
	md5_hex(a2, ha2);
	if (with_qop)
		snprintf(all, sizeof(all), "%s:%s:%s:%s:%s:%s", ha1, nonce, nc, cnonce, qop, ha2);
	else
		snprintf(all, sizeof(all), "%s:%s:%s", ha1, nonce, ha2);
	md5_hex(all, expect);
	for (char *c = response; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (strlen(response) != 32 || CRYPTO_memcmp(expect, response, 32) != 0) {
		*why = "a wrong Digest response (check the device's httpHosts user name and password)";
		return -EACCES;
	}
	if ((int64_t)t > now_s + 60 || now_s - (int64_t)t > max_age_s) {
		*why = "an expired nonce";
		return -ESTALE;
	}
	return 0;
}
