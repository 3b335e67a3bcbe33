/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Integer literals over 32 bits get their L before libconfig reads them (libconfig_text.h). The
 * scan follows libconfig's lexer: strings ("..." with backslash escapes), comments (#, //, and
 * C comments), names ([A-Za-z*][-A-Za-z0-9_*]*, so a digit inside one is not a number), floats
 * (a '.' or an exponent after the digits) and literals already suffixed with L. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libconfig_text.h"

struct scan {
	const char *in;
	size_t len, i;
	char *out;
	size_t n;
	int line;
};

static void copy_to(struct scan *s, size_t end)
{
	for (; s->i < end; s->i++) {
		s->line += s->in[s->i] == '\n';
		s->out[s->n++] = s->in[s->i];
	}
}

/* A string, a comment or nothing at s->i: copied whole (to the end of the text when unclosed:
 * libconfig then reports it). Returns whether it copied one. */
static bool copy_skipped(struct scan *s)
{
	const char *p = s->in + s->i, *end = s->in + s->len;
	size_t stop;
	if (*p == '"') {
		const char *q = p + 1;
		while (q < end && *q != '"')
			q += (*q == '\\' && q + 1 < end) ? 2 : 1;
		stop = (size_t)((q < end ? q + 1 : end) - s->in);
	} else if (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/')) {
		const char *q = memchr(p, '\n', (size_t)(end - p));
		stop = (size_t)((q ? q : end) - s->in);
	} else if (*p == '/' && p + 1 < end && p[1] == '*') {
		const char *q = p + 2;
		while (q + 1 < end && !(q[0] == '*' && q[1] == '/'))
			q++;
		stop = q + 1 < end ? (size_t)(q + 2 - s->in) : s->len;
	} else {
		return false;
	}
	copy_to(s, stop);
	return true;
}

static bool in_name(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '*' || c == '-' || c == '+' || c == '.';
}

/* An integer literal at s->i (sign included): copied, with an L when its value needs 64 bits. */
static int copy_number(struct scan *s, char *why, size_t whylen)
{
	size_t start = s->i, j = start;
	bool negative = s->in[j] == '-';
	if (s->in[j] == '-' || s->in[j] == '+')
		j++;
	bool hex = j + 1 < s->len && s->in[j] == '0' && (s->in[j + 1] == 'x' || s->in[j + 1] == 'X');
	size_t digits = hex ? j + 2 : j, k = digits;
	while (k < s->len && (hex ? isxdigit((unsigned char)s->in[k]) : isdigit((unsigned char)s->in[k])))
		k++;
	char next = k < s->len ? s->in[k] : '\0';
	if (k == digits || next == 'L' || (!hex && (next == '.' || next == 'e' || next == 'E'))) {
		copy_to(s, k); /* a float, a literal already 64-bit, or not a number: libconfig's */
		return 0;
	}
	uint64_t v = 0, limit = hex ? UINT64_MAX : (uint64_t)INT64_MAX + negative;
	for (size_t d = digits; d < k; d++) {
		unsigned x = isdigit((unsigned char)s->in[d]) ? (unsigned)(s->in[d] - '0')
							      : (unsigned)(tolower((unsigned char)s->in[d]) - 'a' + 10);
		if (v > (limit - x) / (hex ? 16 : 10)) {
			snprintf(why, whylen, "integer %.*s is out of range (64 bits)", (int)(k - start > 40 ? 40 : k - start),
				 s->in + start);
			return -ERANGE;
		}
		v = v * (hex ? 16 : 10) + x;
	}
	copy_to(s, k);
	if (v > (uint64_t)INT32_MAX + negative)
		s->out[s->n++] = 'L';
	return 0;
}

int agw_libconfig_text_widen(const char *in, size_t len, char **ret, int *ret_line, char *why, size_t whylen)
{
	const char *nul = memchr(in, '\0', len);
	if (nul) { /* libconfig would read the text as ending there, silently */
		*ret_line = 1;
		for (const char *p = in; p < nul; p++)
			*ret_line += *p == '\n';
		snprintf(why, whylen, "a NUL byte in the text");
		return -EINVAL;
	}
	/* at most one L per two bytes of input (a literal over 32 bits has ten digits or more) */
	struct scan s = {.in = in, .len = len, .out = malloc(len + len / 2 + 1), .line = 1};
	if (!s.out)
		return -ENOMEM;
	while (s.i < len) {
		if (copy_skipped(&s))
			continue;
		char c = in[s.i], c1 = s.i + 1 < len ? in[s.i + 1] : '\0';
		bool starts = isdigit((unsigned char)c) || ((c == '-' || c == '+') && isdigit((unsigned char)c1));
		if (starts && (s.i == 0 || !in_name(in[s.i - 1]))) {
			int rc = copy_number(&s, why, whylen);
			if (rc < 0) {
				*ret_line = s.line;
				free(s.out);
				return rc;
			}
			continue;
		}
		copy_to(&s, s.i + 1);
	}
	s.out[s.n] = '\0';
	*ret = s.out;
	return 0;
}

int agw_libconfig_text_read(const char *path, char **ret, int *ret_line, char *why, size_t whylen)
{
	*ret_line = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		int err = errno;
		snprintf(why, whylen, "cannot read the file: %s", strerror(err));
		return -err;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int rc = buf ? 0 : -ENOMEM;
	while (rc == 0) {
		if (n == cap) {
			char *b = cap > AGW_LIBCONFIG_TEXT_MAX ? NULL : realloc(buf, cap * 2);
			if (!b) {
				rc = cap > AGW_LIBCONFIG_TEXT_MAX ? -EFBIG : -ENOMEM;
				break;
			}
			buf = b;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			rc = ferror(f) ? -EIO : 1;
	}
	fclose(f);
	if (rc == 1 && n > AGW_LIBCONFIG_TEXT_MAX)
		rc = -EFBIG;
	if (rc == 1)
		rc = agw_libconfig_text_widen(buf, n, ret, ret_line, why, whylen);
	else if (rc == -EFBIG)
		snprintf(why, whylen, "the file is larger than %u MiB", AGW_LIBCONFIG_TEXT_MAX >> 20);
	else if (rc < 0)
		snprintf(why, whylen, "cannot read the file: %s", strerror(-rc));
	free(buf);
	return rc;
}
