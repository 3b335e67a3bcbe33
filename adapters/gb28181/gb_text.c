/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MANSCDP bytes to UTF-8 (see gb_text.h).
 *
 * Which encoding: ASCII needs none. Valid UTF-8 with non-ASCII text is read as UTF-8 even when
 * GB2312 is declared: Chinese in GB2312 is practically never valid UTF-8 (a lead byte must be
 * followed by the right number of 0x80-0xBF bytes, which GB2312 text does not keep up for more than
 * a character or two), while UTF-8 Chinese often also decodes as GB18030 without error, into
 * nonsense. Bytes that are not UTF-8 are read as GB18030 whatever is declared, and the note says
 * so. Only bytes that are neither are refused. */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gb_text.h"

#define DECL_MAX 512 /* an XML declaration longer than this is not one */

size_t agw_gb_utf8_check(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		unsigned min;
		if (c >= 0xC2 && c <= 0xDF)
			n = 1, min = 0x80;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 2, min = 0x800;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 3, min = 0x10000;
		else
			return i;
		if (len - i <= n)
			return i;
		unsigned cp = c & (0x3Fu >> n);
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3Fu);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += n + 1;
	}
	return len;
}

enum family { FAM_NONE, FAM_UTF8, FAM_GB, FAM_OTHER };

static enum family family_of(const char *name)
{
	static const char *const gb[] = {"GB2312", "GBK", "GB18030", "EUC-CN", "CP936", "X-GBK", "GB_2312-80", "MS936"};
	if (!*name)
		return FAM_NONE;
	if (!strcasecmp(name, "UTF-8") || !strcasecmp(name, "UTF8"))
		return FAM_UTF8;
	for (size_t i = 0; i < sizeof(gb) / sizeof(gb[0]); i++)
		if (!strcasecmp(name, gb[i]))
			return FAM_GB;
	return FAM_OTHER;
}

/* Finds the XML declaration at the start of [s, s+n): *ret_end is the offset after "?>" (0 when
 * there is none) and the encoding value, however it is written ('encoding="x"', "encoding='x'",
 * 'encoding-"x"', 'encoding=x'), goes into enc. */
static int read_decl(const char *s, size_t n, size_t *ret_end, char *enc, size_t enclen)
{
	*ret_end = 0;
	enc[0] = '\0';
	if (n < 6 || memcmp(s, "<?xml", 5) != 0 || !(isspace((unsigned char)s[5]) || s[5] == '?'))
		return 0;
	size_t lim = n < DECL_MAX ? n : DECL_MAX;
	const char *close = memmem(s, lim, "?>", 2);
	if (!close)
		return -EINVAL;
	*ret_end = (size_t)(close - s) + 2;
	const char *p = s + 5, *end = close;
	for (; p + 8 <= end; p++)
		if (!strncasecmp(p, "encoding", 8))
			break;
	if (p + 8 > end)
		return 0;
	p += 8;
	while (p < end && (isspace((unsigned char)*p) || *p == '=' || *p == '-' || *p == ':'))
		p++;
	char quote = p < end && (*p == '"' || *p == '\'') ? *p++ : 0;
	const char *v = p;
	while (p < end && (quote ? *p != quote : (isalnum((unsigned char)*p) || strchr("-_.:", *p))))
		p++;
	size_t vlen = (size_t)(p - v);
	if (vlen > 0 && vlen < enclen) {
		memcpy(enc, v, vlen);
		enc[vlen] = '\0';
	}
	return 0;
}

/* GB18030 (what GB2312 and GBK are read as) to UTF-8, opened once per thread: iconv_open loads
 * and searches glibc's gconv modules, several times the cost of converting an alarm. Other
 * encodings a device declares are rare and are opened per document. */
static iconv_t gb18030(void)
{
	static _Thread_local iconv_t cd = (iconv_t)-1;
	if (cd == (iconv_t)-1)
		cd = iconv_open("UTF-8", "GB18030");
	else
		iconv(cd, NULL, NULL, NULL, NULL); /* back to the initial state */
	return cd;
}

/* Converts with iconv; on a bad sequence returns -EILSEQ with *ret_bad its offset in src. */
static int convert(const char *from, const char *src, size_t n, char **ret, size_t *ret_len, size_t *ret_bad)
{
	bool cached = !strcmp(from, "GB18030");
	iconv_t cd = cached ? gb18030() : iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1)
		return -ENOENT;
	/* GB18030 takes 1, 2 or 4 bytes per character and UTF-8 at most 4 (3 for 2-byte GB). */
	size_t cap = n * 2 + 16;
	char *out = malloc(cap);
	int rc = 0;
	if (!out) {
		rc = -ENOMEM;
		goto done;
	}
	char *in = (char *)src, *o = out;
	size_t inleft = n, outleft = cap - 1;
	if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1) {
		rc = errno == E2BIG ? -ENOMEM : -EILSEQ;
		*ret_bad = (size_t)(in - src);
		free(out);
		goto done;
	}
	*o = '\0';
	*ret = out;
	*ret_len = (size_t)(o - out);
done:
	if (!cached)
		iconv_close(cd);
	return rc;
}

static bool all_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* The document without its declaration: [0, pre) + [decl_end, n). Done on the input, before any
 * conversion, so offsets in errors stay those of the input. */
static int strip_decl(const char *s, size_t n, size_t pre, size_t decl_end, char **ret, size_t *ret_len)
{
	char *c = malloc(n - (decl_end - pre) + 1);
	if (!c)
		return -ENOMEM;
	memcpy(c, s, pre);
	memcpy(c + pre, s + decl_end, n - decl_end);
	*ret_len = n - (decl_end - pre);
	c[*ret_len] = '\0';
	*ret = c;
	return 0;
}

/* Where the document's bytes were in the input: base (a byte order mark skipped), pre (blanks
 * before the declaration), shift (the declaration's length, removed from doc). */
struct place {
	size_t base, pre, shift;
};

/* Offset in the input of offset `at` of doc. */
static size_t input_offset(const struct place *pl, size_t at)
{
	return (at < pl->pre - pl->base ? at : at + pl->shift) + pl->base;
}

/* Reads doc (its declaration removed) as UTF-8, as the encoding it declares, or as GB18030, and
 * says in t->note when that is not what it declared. doc ends in t->utf8 or is freed. */
static int decode(struct agw_gb_text *t, char *doc, size_t doc_len, const struct place *pl, char *err, size_t errlen)
{
	enum family fam = family_of(t->declared);
	const char *dname = t->declared[0] ? t->declared : "no encoding";
	size_t bad_utf8 = agw_gb_utf8_check(doc, doc_len);
	size_t bad = 0;
	int rc;
	if (all_ascii(doc, doc_len) || (bad_utf8 == doc_len && fam != FAM_OTHER)) {
		if (fam == FAM_GB && bad_utf8 == doc_len && !all_ascii(doc, doc_len))
			snprintf(t->note, sizeof(t->note), "declared %s but the bytes are UTF-8: read as UTF-8", t->declared);
		goto as_utf8;
	}
	if (fam == FAM_OTHER) {
		rc = convert(t->declared, doc, doc_len, &t->utf8, &t->len, &bad);
		if (rc == 0) {
			t->read_as = t->declared;
			free(doc);
			return 0;
		}
		if (rc == -ENOMEM)
			goto nomem;
		if (bad_utf8 == doc_len) {
			snprintf(t->note, sizeof(t->note), "declared %s, %s; the bytes are UTF-8: read as UTF-8", t->declared,
				 rc == -ENOENT ? "an encoding iconv does not know" : "which the bytes are not");
			goto as_utf8;
		}
	}
	rc = convert("GB18030", doc, doc_len, &t->utf8, &t->len, &bad);
	if (rc == -ENOMEM)
		goto nomem;
	if (rc < 0) {
		snprintf(err, errlen, "offset %zu: byte 0x%02X is not GB18030 (and offset %zu: byte 0x%02X not UTF-8); %s declared",
			 input_offset(pl, bad), (unsigned char)doc[bad], input_offset(pl, bad_utf8),
			 (unsigned char)doc[bad_utf8], dname);
		free(doc);
		return -EILSEQ;
	}
	t->read_as = "GB18030";
	if (fam != FAM_GB)
		snprintf(t->note, sizeof(t->note), "%s%s but byte 0x%02X at offset %zu is not UTF-8: read as GB18030",
			 fam == FAM_NONE ? "" : "declared ", fam == FAM_NONE ? "no encoding declared" : t->declared,
			 (unsigned char)doc[bad_utf8], input_offset(pl, bad_utf8));
	free(doc);
	return 0;
as_utf8:
	t->utf8 = doc;
	t->len = doc_len;
	t->read_as = "UTF-8";
	return 0;
nomem:
	free(doc);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

int agw_gb_text_to_utf8(const char *buf, size_t len, struct agw_gb_text *ret, char *err, size_t errlen)
{
	struct agw_gb_text t;
	memset(&t, 0, sizeof(t));
	size_t base = 0;
	/* a UTF-8 byte order mark, and the NULs and blanks some devices send after the document */
	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
		base = 3;
	while (len > base && (buf[len - 1] == '\0' || isspace((unsigned char)buf[len - 1])))
		len--;
	size_t pre = base;
	while (pre < len && isspace((unsigned char)buf[pre]))
		pre++;
	size_t decl_end = 0;
	if (read_decl(buf + pre, len - pre, &decl_end, t.declared, sizeof(t.declared)) < 0) {
		snprintf(err, errlen, "offset %zu: the XML declaration does not end with '?>'", pre);
		return -EINVAL;
	}
	/* keep the blank lines before the declaration, drop the declaration itself */
	char *doc;
	size_t doc_len;
	if (strip_decl(buf + base, len - base, pre - base, decl_end ? pre - base + decl_end : pre - base, &doc,
		       &doc_len) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct place pl = {.base = base, .pre = pre, .shift = decl_end};
	int rc = decode(&t, doc, doc_len, &pl, err, errlen);
	if (rc < 0)
		return rc;
	*ret = t;
	return 0;
}

void agw_gb_text_clear(struct agw_gb_text *t)
{
	free(t->utf8);
	memset(t, 0, sizeof(*t));
}
