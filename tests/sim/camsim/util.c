/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "util.h"

static bool buf_reserve(struct camsim_buf *b, size_t extra)
{
	if (b->failed)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void camsim_buf_append(struct camsim_buf *b, const void *p, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void camsim_buf_puts(struct camsim_buf *b, const char *s)
{
	camsim_buf_append(b, s, strlen(s));
}

void camsim_buf_printf(struct camsim_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n)) {
		b->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void camsim_buf_escape(struct camsim_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			camsim_buf_puts(b, "&amp;");
			break;
		case '<':
			camsim_buf_puts(b, "&lt;");
			break;
		case '>':
			camsim_buf_puts(b, "&gt;");
			break;
		case '"':
			camsim_buf_puts(b, "&quot;");
			break;
		case '\'':
			camsim_buf_puts(b, "&apos;");
			break;
		default:
			camsim_buf_append(b, s, 1);
		}
	}
}

void camsim_buf_fill(struct camsim_buf *b, char c, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memset(b->data + b->len, c, n);
	b->len += n;
	b->data[b->len] = '\0';
}

char *camsim_buf_steal(struct camsim_buf *b, size_t *ret_len)
{
	char *p = NULL;
	if (!b->failed && buf_reserve(b, 0)) {
		p = b->data;
		if (ret_len)
			*ret_len = b->len;
	} else {
		free(b->data);
	}
	*b = (struct camsim_buf){0};
	return p;
}

void camsim_buf_free(struct camsim_buf *b)
{
	free(b->data);
	*b = (struct camsim_buf){0};
}

double camsim_wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *camsim_time_format(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00Z");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
	return buf;
}

static int read_digits(const char **p, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

int camsim_time_parse(const char *s, double *ret_t)
{
	int y, mo, d, h, mi, se;
	const char *p = s;
	while (isspace((unsigned char)*p))
		p++;
	if (read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) || *p++ != '-' ||
	    read_digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		return -EINVAL;
	p++;
	if (read_digits(&p, 2, &h) || *p++ != ':' || read_digits(&p, 2, &mi) || *p++ != ':' ||
	    read_digits(&p, 2, &se))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -EINVAL;
	double frac = 0, scale = 0.1;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	int offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (read_digits(&p, 2, &oh) || *p++ != ':' || read_digits(&p, 2, &om))
			return -EINVAL;
		offset = sign * (oh * 3600 + om * 60);
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p)
		return -EINVAL;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = se};
	time_t t = timegm(&tm);
	*ret_t = (double)t - offset + frac;
	return 0;
}

/* One "<number><unit>" step of a duration; the number may have a fraction. */
static int duration_number(const char **p, double *ret)
{
	char *end;
	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	double v = strtod(*p, &end);
	if (end == *p)
		return -EINVAL;
	*p = end;
	*ret = v;
	return 0;
}

int camsim_duration_parse(const char *s, double *ret_seconds)
{
	const char *p = s;
	double total = 0, v;
	bool in_time = false, any = false;
	while (isspace((unsigned char)*p))
		p++;
	if (*p++ != 'P')
		return -EINVAL;
	while (*p && !isspace((unsigned char)*p)) {
		if (*p == 'T') {
			if (in_time)
				return -EINVAL;
			in_time = true;
			p++;
			continue;
		}
		if (duration_number(&p, &v))
			return -EINVAL;
		switch (*p) {
		case 'Y':
			if (in_time)
				return -EINVAL;
			total += v * 365 * 86400;
			break;
		case 'M':
			total += in_time ? v * 60 : v * 30 * 86400;
			break;
		case 'W':
			if (in_time)
				return -EINVAL;
			total += v * 7 * 86400;
			break;
		case 'D':
			if (in_time)
				return -EINVAL;
			total += v * 86400;
			break;
		case 'H':
			if (!in_time)
				return -EINVAL;
			total += v * 3600;
			break;
		case 'S':
			if (!in_time)
				return -EINVAL;
			total += v;
			break;
		default:
			return -EINVAL;
		}
		p++;
		any = true;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (!any || *p)
		return -EINVAL;
	*ret_seconds = total;
	return 0;
}

size_t camsim_base64_encode(const unsigned char *in, size_t n, char *out)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

int camsim_base64_decode(const char *s, unsigned char *out, size_t out_len)
{
	size_t n = strlen(s);
	if (n == 0 || n % 4 || n > 4096)
		return -EINVAL;
	unsigned char tmp[3 * 4096 / 4];
	int got = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (got < 0)
		return -EINVAL;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (s[n - 1] == '=')
		got--;
	if (s[n - 2] == '=')
		got--;
	if ((size_t)got > out_len)
		return -ENOBUFS;
	memcpy(out, tmp, (size_t)got);
	return got;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int camsim_query_get(const char *query, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = query;
	while (p && *p) {
		const char *end = strchr(p, '&');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t o = 0;
			for (const char *q = p + klen + 1; q < end && o + 1 < len; q++) {
				if (*q == '%' && q + 2 < end && hexval(q[1]) >= 0 && hexval(q[2]) >= 0) {
					buf[o++] = (char)(hexval(q[1]) * 16 + hexval(q[2]));
					q += 2;
				} else {
					buf[o++] = *q == '+' ? ' ' : *q;
				}
			}
			buf[o] = '\0';
			return 0;
		}
		if ((size_t)(end - p) == klen && strncmp(p, key, klen) == 0) {
			buf[0] = '\0';
			return 0;
		}
		p = *end ? end + 1 : NULL;
	}
	return -ENOENT;
}
