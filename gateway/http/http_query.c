/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The parts of a request the page's API reads beyond the path: query parameters and the
 * preferred language. Pure code, bounded by the request head (8 KB). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "http_request.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes [v, e) into buf. */
static int decode(const char *v, const char *e, char *buf, size_t buflen)
{
	size_t n = 0;
	for (const char *p = v; p < e; p++) {
		char ch = *p;
		if (ch == '+') {
			ch = ' ';
		} else if (ch == '%') {
			int hi = p + 2 < e ? hex_value(p[1]) : -1, lo = hi >= 0 ? hex_value(p[2]) : -1;
			if (lo < 0)
				return -EINVAL;
			ch = (char)(hi * 16 + lo);
			p += 2;
		}
		if (ch == '\0' || n + 1 >= buflen)
			return -EINVAL;
		buf[n++] = ch;
	}
	buf[n] = '\0';
	return (int)n;
}

int agw_http_query_get(const char *query, size_t len, const char *name, char *buf, size_t buflen)
{
	size_t nlen = strlen(name);
	if (!query || !buflen)
		return -ENOENT;
	const char *end = query + len;
	for (const char *p = query; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		const char *ne = eq ? eq : pe;
		if ((size_t)(ne - p) == nlen && memcmp(p, name, nlen) == 0)
			return decode(eq ? eq + 1 : pe, pe, buf, buflen);
		p = pe + 1;
	}
	return -ENOENT;
}

/* The q of one "tag;q=0.8" entry: 1 without one, 0 when malformed. In thousandths. */
static int entry_q(const char *semi, const char *e)
{
	if (!semi)
		return 1000;
	const char *p = semi + 1;
	while (p < e && *p == ' ')
		p++;
	if (e - p < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
		return 0;
	p += 2;
	int q = (*p == '1') ? 1000 : 0;
	if (*p != '0' && *p != '1')
		return 0;
	p++;
	if (p < e && *p == '.') {
		int scale = 100;
		for (p++; p < e && *p >= '0' && *p <= '9' && scale; p++, scale /= 10)
			q += (*p - '0') * scale;
	}
	return q > 1000 ? 1000 : q;
}

const char *agw_http_pick_language(const char *value, size_t len)
{
	const char *best = "en";
	int best_q = 0;
	if (!value)
		return best;
	const char *end = value + len;
	for (const char *p = value; p < end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		while (p < e && *p == ' ')
			p++;
		const char *semi = p < e ? memchr(p, ';', (size_t)(e - p)) : NULL;
		const char *te = semi ? semi : e;
		while (te > p && te[-1] == ' ')
			te--;
		size_t tlen = (size_t)(te - p);
		bool zh = tlen >= 2 && strncasecmp(p, "zh", 2) == 0 && (tlen == 2 || p[2] == '-');
		bool en = tlen >= 2 && strncasecmp(p, "en", 2) == 0 && (tlen == 2 || p[2] == '-');
		int q = entry_q(semi, e);
		/* The first of equal weights wins, as the sender listed it first. */
		if ((zh || en) && q > best_q) {
			best = zh ? "zh" : "en";
			best_q = q;
		}
		p = e + 1;
	}
	return best;
}
