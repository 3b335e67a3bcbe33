/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The URL a worker opens: the ledger's address with its credentials put in (rtsp_url.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtsp_url.h"

static int pct_append(char *out, size_t len, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
			     c == '.' || c == '_' || c == '~';
		if (*o + (plain ? 1 : 3) >= len)
			return -ENAMETOOLONG;
		if (plain) {
			out[(*o)++] = (char)c;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 15];
		}
	}
	return 0;
}

char *agw_rtsp_url_open(const char *addr, const char *username, const char *password)
{
	const char *rest = strstr(addr, "://");
	size_t scheme_len = rest ? (size_t)(rest - addr) + 3 : 0;
	size_t len = strlen(addr) + 16 + (username ? 3 * strlen(username) : 0) +
		     (password ? 3 * strlen(password) : 0);
	char *out = malloc(len);
	if (!out)
		return NULL;
	size_t o = 0;
	if (scheme_len) {
		memcpy(out, addr, scheme_len);
		o = scheme_len;
	} else {
		memcpy(out, "rtsp://", 7);
		o = 7;
	}
	if (username && *username) {
		pct_append(out, len, &o, username);
		if (password && *password) {
			out[o++] = ':';
			pct_append(out, len, &o, password);
		}
		out[o++] = '@';
	}
	snprintf(out + o, len - o, "%s", addr + scheme_len);
	return out;
}

void agw_rtsp_url_free(char *url)
{
	if (!url)
		return;
	/* The credentials should not linger in freed heap memory either. */
	volatile char *p = url;
	while (*p)
		*p++ = '\0';
	free(url);
}
