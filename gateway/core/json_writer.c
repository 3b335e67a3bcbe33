/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The project's JSON writer (include/alarmgw/json_writer.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/alert.h"
#include "alarmgw/json_writer.h"

void agw_jw_grow(struct agw_jw *w, size_t n)
{
	if (w->oom || w->len + n + 1 <= w->cap)
		return;
	size_t cap = w->cap ? w->cap : 2048; /* a message is about 1.1 KB */
	while (cap < w->len + n + 1)
		cap *= 2;
	char *p = realloc(w->p, cap);
	if (!p) {
		w->oom = true;
		return;
	}
	w->p = p;
	w->cap = cap;
}

/* Length of the valid UTF-8 sequence at p (2..4), or 0 when it is not one (overlong forms,
 * surrogates and code points past U+10FFFF included). */
static int utf8_len(const unsigned char *p)
{
	unsigned c = p[0];
	int n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
	    (c == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

/* Whether any of the 8 bytes in v needs more than a copy: a control character (below 0x20, NUL
 * included), a byte of a multi-byte sequence (0x80 and up), '"' or '\\'. The usual bit tricks
 * ("has a zero byte", "has a byte less than n"), exact for whether there is one. */
static bool word_special(uint64_t v)
{
	const uint64_t lo = 0x0101010101010101ULL, hi = 0x8080808080808080ULL;
	uint64_t q = v ^ (lo * '"'), b = v ^ (lo * '\\');
	return (((v - lo * 0x20) & ~v) | v | ((q - lo) & ~q) | ((b - lo) & ~b)) & hi;
}

/* One byte that is not plain ASCII: its escape, or a valid UTF-8 sequence copied, or U+FFFD for
 * anything else (camera-supplied text: the message stays valid JSON). Returns the bytes read. */
static size_t escape_one(const unsigned char *q, char **op)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char ch = *q;
	char *o = *op;
	size_t used = 1;
	if (ch == '"' || ch == '\\') {
		*o++ = '\\';
		*o++ = (char)ch;
	} else if (ch < 0x20) {
		*o++ = '\\';
		if (ch == '\n' || ch == '\r' || ch == '\t') {
			*o++ = ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't';
		} else {
			memcpy(o, "u00", 3);
			o[3] = hex[ch >> 4];
			o[4] = hex[ch & 15];
			o += 5;
		}
	} else if (ch < 0x80) {
		*o++ = (char)ch;
	} else {
		int n = utf8_len(q);
		if (n) {
			memcpy(o, q, (size_t)n);
			o += n;
			used = (size_t)n;
		} else {
			memcpy(o, "\\ufffd", 6);
			o += 6;
		}
	}
	*op = o;
	return used;
}

/* One reservation for the worst case (6 bytes out per byte in), then 8 plain bytes at a time: this
 * runs for every string of every case message. */
void agw_jw_str(struct agw_jw *w, const char *s)
{
	if (!s) {
		agw_jw_lit(w, "null");
		return;
	}
	const unsigned char *q = (const unsigned char *)s;
	size_t n = strlen(s);
	agw_jw_grow(w, n * 6 + 2);
	if (w->oom)
		return;
	char *o = w->p + w->len;
	*o++ = '"';
	for (size_t i = 0; i < n;) {
		uint64_t v;
		if (i + 8 <= n) {
			memcpy(&v, q + i, 8);
			if (!word_special(v)) {
				memcpy(o, &v, 8);
				o += 8;
				i += 8;
				continue;
			}
		}
		if (q[i] >= 0x20 && q[i] < 0x80 && q[i] != '"' && q[i] != '\\')
			*o++ = (char)q[i++];
		else
			i += escape_one(q + i, &o);
	}
	*o++ = '"';
	*o = '\0';
	w->len = (size_t)(o - w->p);
}

void agw_jw_int(struct agw_jw *w, int64_t v)
{
	char b[24], *p = b + sizeof(b);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	agw_jw_raw(w, p, (size_t)(b + sizeof(b) - p));
}

static char *put_digits(char *p, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/* RFC 3339 UTC with milliseconds, like agw_time_format_ms but without gmtime_r and printf: the
 * days-to-civil-date conversion on the proleptic Gregorian calendar (runs for every message). */
const char *agw_jw_time_format(int64_t ms, char *buf)
{
	int64_t secs = ms / 1000, rem = ms % 1000;
	if (rem < 0) {
		rem += 1000;
		secs--;
	}
	int64_t days = secs / 86400, sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999) {
		strcpy(buf, "invalid");
		return buf;
	}
	char *p = put_digits(buf, (unsigned)y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned)(sod / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(sod / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(sod % 60), 2);
	*p++ = '.';
	p = put_digits(p, (unsigned)rem, 3);
	*p++ = 'Z';
	*p = '\0';
	return buf;
}

void agw_jw_bool(struct agw_jw *w, bool v)
{
	if (v)
		agw_jw_lit(w, "true");
	else
		agw_jw_lit(w, "false");
}

/* Quoted as it is (the format has nothing to escape); the date is computed once per day seen. */
void agw_jw_time(struct agw_jw *w, int64_t ms)
{
	const int64_t day_ms = 86400000;
	char b[AGW_JW_TIME_LEN + 2];
	if (ms == AGW_TIME_UNKNOWN) {
		agw_jw_lit(w, "null");
		return;
	}
	unsigned n_recent = w->n_recent < AGW_JW_RECENT ? w->n_recent : AGW_JW_RECENT;
	for (unsigned i = 0; i < n_recent; i++)
		if (w->recent_ms[i] == ms) {
			agw_jw_raw(w, w->recent[i], sizeof(w->recent[i]));
			return;
		}
	int64_t day = ms / day_ms - (ms % day_ms < 0);
	size_t n;
	if (w->has_day && w->day == day) {
		unsigned rem = (unsigned)(ms - day * day_ms);
		memcpy(b + 1, w->date, 10);
		char *p = b + 11;
		*p++ = 'T';
		p = put_digits(p, rem / 3600000, 2);
		*p++ = ':';
		p = put_digits(p, rem / 60000 % 60, 2);
		*p++ = ':';
		p = put_digits(p, rem / 1000 % 60, 2);
		*p++ = '.';
		p = put_digits(p, rem % 1000, 3);
		*p++ = 'Z';
		n = (size_t)(p - (b + 1));
	} else {
		n = strlen(agw_jw_time_format(ms, b + 1));
		if (n == 24) { /* not "invalid" */
			w->has_day = true;
			w->day = day;
			memcpy(w->date, b + 1, 10);
		}
	}
	b[0] = '"';
	b[n + 1] = '"';
	if (n + 2 == sizeof(w->recent[0])) { /* not "invalid" */
		unsigned i = w->n_recent++ % AGW_JW_RECENT;
		w->recent_ms[i] = ms;
		memcpy(w->recent[i], b, sizeof(w->recent[i]));
	}
	agw_jw_raw(w, b, n + 2);
}

void agw_jw_sep(struct agw_jw *w)
{
	if (w->len && w->p[w->len - 1] != '[' && w->p[w->len - 1] != '{')
		agw_jw_lit(w, ",");
}

void agw_jw_strs(struct agw_jw *w, char *const *v, size_t n)
{
	agw_jw_lit(w, "[");
	for (size_t i = 0; i < n; i++) {
		agw_jw_sep(w);
		agw_jw_str(w, v[i]);
	}
	agw_jw_lit(w, "]");
}

int agw_jw_finish(struct agw_jw *w, char **ret, size_t *ret_len)
{
	if (w->oom || !w->p) {
		free(w->p);
		*w = (struct agw_jw){0};
		return -ENOMEM;
	}
	*ret = w->p;
	*ret_len = w->len;
	*w = (struct agw_jw){0};
	return 0;
}
