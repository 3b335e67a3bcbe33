/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A well-formedness check run before gSOAP sees a document. gSOAP is a lenient reader: it does not
 * compare end tags with start tags, ignores unknown entities and stops after the first root. Camera
 * captures with two roots, undeclared prefixes or cut-off bodies must be a clean error with a line
 * number, never half-read events. DTDs are refused outright (entity expansion attacks). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "onvif_normalize.h"

#define MAX_DEPTH 64
#define MAX_NS 256

struct scan {
	const char *p, *end, *start;
	/* open elements: name and how many prefix declarations they made */
	struct {
		const char *name;
		size_t len;
		unsigned ns_mark;
	} stack[MAX_DEPTH];
	unsigned depth;
	/* declared prefixes in scope (name/len), innermost last */
	struct {
		const char *name;
		size_t len;
	} ns[MAX_NS];
	unsigned n_ns;
	bool lenient;
	char *err;
	size_t errlen;
};

static unsigned line_at(const struct scan *s, const char *at)
{
	unsigned line = 1;
	for (const char *q = s->start; q < at && q < s->end; q++)
		line += *q == '\n';
	return line;
}

static int fail(struct scan *s, const char *at, int rc, const char *what)
{
	snprintf(s->err, s->errlen, "line %u: %s", line_at(s, at), what);
	return rc;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}

static bool is_name_char(unsigned char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static void skip_space(struct scan *s)
{
	while (s->p < s->end && is_space(*s->p))
		s->p++;
}

/* Reads a Name; returns its length (0 when there is none). */
static size_t scan_name(struct scan *s)
{
	const char *b = s->p;
	if (s->p >= s->end || !is_name_start((unsigned char)*s->p))
		return 0;
	while (s->p < s->end && is_name_char((unsigned char)*s->p))
		s->p++;
	return (size_t)(s->p - b);
}

/* Checks the entity references and '<' in text or an attribute value [b, e). */
static int check_text(struct scan *s, const char *b, const char *e, bool attr)
{
	static const char *const named[] = {"lt;", "gt;", "amp;", "quot;", "apos;"};
	const char *lt = attr ? memchr(b, '<', (size_t)(e - b)) : NULL;
	if (lt)
		return fail(s, lt, -EINVAL, "'<' in an attribute value");
	/* memchr to each '&': most text has none, and a byte loop was a fifth of the check */
	for (const char *q = b; q < e && (q = memchr(q, '&', (size_t)(e - q))); q++) {
		bool ok = false;
		for (size_t i = 0; i < sizeof(named) / sizeof(named[0]) && !ok; i++) {
			size_t n = strlen(named[i]);
			ok = (size_t)(e - q - 1) >= n && !memcmp(q + 1, named[i], n);
		}
		if (!ok && q + 2 < e && q[1] == '#') {
			const char *r = q + 2;
			bool hex = *r == 'x';
			if (hex)
				r++;
			const char *digits = r;
			while (r < e && ((*r >= '0' && *r <= '9') || (hex && ((*r >= 'a' && *r <= 'f') || (*r >= 'A' && *r <= 'F')))))
				r++;
			ok = r > digits && r < e && *r == ';';
		}
		if (!ok)
			return fail(s, q, -EINVAL, "unknown or broken entity reference");
	}
	return 0;
}

static bool prefix_declared(const struct scan *s, const char *name, size_t len)
{
	if (len == 3 && !memcmp(name, "xml", 3))
		return true;
	for (unsigned i = s->n_ns; i-- > 0;)
		if (s->ns[i].len == len && !memcmp(s->ns[i].name, name, len))
			return true;
	return false;
}

/* A qualified name's prefix must be declared ("xmlns" itself needs none). */
static int check_prefix(struct scan *s, const char *name, size_t len)
{
	const char *colon = memchr(name, ':', len);
	if (!colon)
		return 0;
	size_t plen = (size_t)(colon - name);
	if (plen == 5 && !memcmp(name, "xmlns", 5))
		return 0;
	if (plen == 0 || colon + 1 == name + len || memchr(colon + 1, ':', (size_t)(name + len - colon - 1)))
		return fail(s, name, -EINVAL, "malformed qualified name");
	if (!prefix_declared(s, name, plen) && !s->lenient)
		return fail(s, name, -EINVAL, "undeclared namespace prefix");
	return 0;
}

/* "<name attr='v' ...>" or "/>"; s->p is just after '<'. */
static int scan_start_tag(struct scan *s, bool *ret_root_done)
{
	const char *name = s->p;
	size_t len = scan_name(s);
	if (!len)
		return fail(s, name, -EINVAL, "bad element name");
	if (s->depth >= MAX_DEPTH)
		return fail(s, name, -EMSGSIZE, "elements nested too deep");
	unsigned ns_mark = s->n_ns;
	/* attribute names seen, to check them after the xmlns declarations of this tag */
	const char *attrs[64];
	size_t attr_len[64];
	unsigned n_attrs = 0;
	for (;;) {
		const char *before = s->p;
		skip_space(s);
		if (s->p >= s->end)
			return fail(s, s->p, -EINVAL, "document ends inside a tag");
		if (*s->p == '>' || (*s->p == '/' && s->p + 1 < s->end && s->p[1] == '>'))
			break;
		if (before == s->p)
			return fail(s, s->p, -EINVAL, "expected white space, '>' or '/>'");
		const char *an = s->p;
		size_t alen = scan_name(s);
		if (!alen)
			return fail(s, an, -EINVAL, "bad attribute name");
		skip_space(s);
		if (s->p >= s->end || *s->p != '=')
			return fail(s, s->p, -EINVAL, "attribute without a value");
		s->p++;
		skip_space(s);
		if (s->p >= s->end || (*s->p != '"' && *s->p != '\''))
			return fail(s, s->p, -EINVAL, "attribute value not quoted");
		char q = *s->p++;
		const char *vb = s->p;
		const char *ve = memchr(s->p, q, (size_t)(s->end - s->p));
		if (!ve)
			return fail(s, vb, -EINVAL, "unterminated attribute value");
		int rc = check_text(s, vb, ve, true);
		if (rc < 0)
			return rc;
		s->p = ve + 1;
		for (unsigned i = 0; i < n_attrs; i++)
			if (attr_len[i] == alen && !memcmp(attrs[i], an, alen))
				return fail(s, an, -EINVAL, "duplicate attribute");
		if (n_attrs >= sizeof(attrs) / sizeof(attrs[0]))
			return fail(s, an, -EMSGSIZE, "too many attributes");
		attrs[n_attrs] = an;
		attr_len[n_attrs++] = alen;
		if (alen > 6 && !memcmp(an, "xmlns:", 6)) {
			if (s->n_ns >= MAX_NS)
				return fail(s, an, -EMSGSIZE, "too many namespace declarations");
			s->ns[s->n_ns].name = an + 6;
			s->ns[s->n_ns++].len = alen - 6;
		}
	}
	int rc = check_prefix(s, name, len);
	for (unsigned i = 0; rc == 0 && i < n_attrs; i++)
		rc = check_prefix(s, attrs[i], attr_len[i]);
	if (rc < 0)
		return rc;
	if (*s->p == '/') {
		s->p += 2;
		s->n_ns = ns_mark;
		*ret_root_done = s->depth == 0;
		return 0;
	}
	s->p++;
	s->stack[s->depth].name = name;
	s->stack[s->depth].len = len;
	s->stack[s->depth].ns_mark = ns_mark;
	s->depth++;
	return 0;
}

/* "</name>"; s->p is just after "</". */
static int scan_end_tag(struct scan *s, bool *ret_root_done)
{
	const char *name = s->p;
	size_t len = scan_name(s);
	if (!len)
		return fail(s, name, -EINVAL, "bad end tag");
	if (s->depth == 0)
		return fail(s, name, -EINVAL, "end tag without a start tag");
	s->depth--;
	if (s->stack[s->depth].len != len || memcmp(s->stack[s->depth].name, name, len))
		return fail(s, name, -EINVAL, "end tag does not match the start tag");
	s->n_ns = s->stack[s->depth].ns_mark;
	skip_space(s);
	if (s->p >= s->end || *s->p != '>')
		return fail(s, s->p, -EINVAL, "expected '>'");
	s->p++;
	*ret_root_done = s->depth == 0;
	return 0;
}

/* Skips from s->p past the terminator; fails when it is missing. */
static int skip_past(struct scan *s, const char *term, const char *what)
{
	size_t n = strlen(term);
	const char *q = memmem(s->p, (size_t)(s->end - s->p), term, n);
	if (!q)
		return fail(s, s->p, -EINVAL, what);
	s->p = q + n;
	return 0;
}

int agw_onvif_xml_check(const char *buf, size_t len, char *err, size_t errlen)
{
	return agw_onvif_xml_check_flags(buf, len, 0, err, errlen);
}

int agw_onvif_xml_check_flags(const char *buf, size_t len, unsigned flags, char *err, size_t errlen)
{
	struct scan scan = {0};
	struct scan *s = &scan;
	s->lenient = flags & AGW_XMLCHECK_UNDECLARED_OK;
	s->p = s->start = buf;
	s->end = buf + len;
	s->err = err;
	s->errlen = errlen;
	bool root_seen = false, root_done = false;
	int rc;
	/* a UTF-8 byte order mark */
	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
		s->p += 3;
	while (s->p < s->end) {
		if (*s->p != '<') {
			const char *t = s->p;
			const char *lt = memchr(s->p, '<', (size_t)(s->end - s->p));
			s->p = lt ? lt : s->end;
			if (s->depth == 0) {
				for (const char *q = t; q < s->p; q++)
					if (!is_space(*q))
						return fail(s, q, -EINVAL, "text outside the root element");
			} else if ((rc = check_text(s, t, s->p, false)) < 0) {
				return rc;
			}
			continue;
		}
		const char *tag = s->p++;
		if (s->p >= s->end)
			return fail(s, tag, -EINVAL, "document ends inside a tag");
		if (*s->p == '?') {
			rc = skip_past(s, "?>", "unterminated processing instruction");
		} else if (s->end - s->p >= 3 && !memcmp(s->p, "!--", 3)) {
			rc = skip_past(s, "-->", "unterminated comment");
		} else if (s->end - s->p >= 8 && !memcmp(s->p, "![CDATA[", 8)) {
			if (s->depth == 0)
				return fail(s, tag, -EINVAL, "CDATA outside the root element");
			rc = skip_past(s, "]]>", "unterminated CDATA section");
		} else if (*s->p == '!') {
			return fail(s, tag, -EINVAL, "DTDs are not accepted");
		} else if (*s->p == '/') {
			s->p++;
			rc = scan_end_tag(s, &root_done);
		} else {
			if (root_done)
				return fail(s, tag, -EINVAL, "a second root element");
			root_seen = true;
			rc = scan_start_tag(s, &root_done);
		}
		if (rc < 0)
			return rc;
	}
	if (s->depth > 0)
		return fail(s, s->end, -EINVAL, "document ends before the root element is closed");
	if (!root_seen)
		return fail(s, s->end, -EINVAL, "no root element");
	return 0;
}
