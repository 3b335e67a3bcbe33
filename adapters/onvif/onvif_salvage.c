/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Salvage of a PullMessages answer that does not parse whole: a plain scan for the
 * NotificationMessage elements (no XML parser can be trusted with a broken document to say where
 * they are), each one parsed on its own by the normalizer with the namespace declarations it
 * inherited from the elements before it. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onvif_events.h"

#define MAX_DECLS 64
#define MAX_NAME 128

/* One xmlns or xmlns:p declaration, pointing into the document. */
struct decl {
	const char *prefix; /* after "xmlns:"; NULL for the default namespace */
	size_t prefix_len;
	const char *text;   /* the whole attribute: xmlns:p="uri" */
	size_t text_len;
};

struct decls {
	struct decl v[MAX_DECLS];
	size_t n;
};

static bool is_name_char(char ch)
{
	return ch && !strchr(" \t\r\n/>=\"'<", ch);
}

/* The end of the tag that starts at p ('<'), quotes respected; NULL when cut. */
static const char *tag_end(const char *p, const char *end)
{
	char quote = 0;
	for (; p < end; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == '>') {
			return p;
		}
	}
	return NULL;
}

static bool decl_has(const struct decls *d, const char *prefix, size_t len)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].prefix_len == len && (len == 0 || !memcmp(d->v[i].prefix, prefix, len)))
			return true;
	return false;
}

/* Adds the xmlns attributes of the start tag [p, e) that d does not have yet (the outermost
 * declaration of a prefix wins: a message's own redeclaration is kept in its own tag). */
static void collect_decls(struct decls *d, const char *p, const char *e)
{
	while (p < e && d->n < MAX_DECLS) {
		const char *x = memmem(p, (size_t)(e - p), "xmlns", 5);
		if (!x)
			return;
		p = x + 5;
		if (x[-1] != ' ' && x[-1] != '\t' && x[-1] != '\r' && x[-1] != '\n')
			continue;
		const char *prefix = NULL;
		size_t plen = 0;
		if (p < e && *p == ':') {
			prefix = ++p;
			while (p < e && is_name_char(*p))
				p++;
			plen = (size_t)(p - prefix);
		}
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= e || *p != '=')
			continue;
		p++;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= e || (*p != '"' && *p != '\''))
			continue;
		const char *close = memchr(p + 1, *p, (size_t)(e - p - 1));
		if (!close)
			return;
		p = close + 1;
		if (decl_has(d, prefix, plen))
			continue;
		d->v[d->n++] = (struct decl){.prefix = prefix, .prefix_len = plen, .text = x,
					     .text_len = (size_t)(p - x)};
	}
}

/* The local part of the QName at p (after '<'), its full length in *qlen. */
static const char *qname_local(const char *p, const char *end, size_t *qlen, size_t *local_len)
{
	const char *q = p;
	while (q < end && is_name_char(*q))
		q++;
	*qlen = (size_t)(q - p);
	const char *colon = memchr(p, ':', *qlen);
	const char *local = colon ? colon + 1 : p;
	*local_len = (size_t)(q - local);
	return local;
}

/* The message's start tag [m, tag_e] rewritten with the inherited declarations it lacks. */
static char *fragment(const struct decls *d, const char *m, const char *tag_e, size_t qlen, const char *msg_end,
		      size_t *ret_len)
{
	struct decls own = {.n = 0};
	collect_decls(&own, m + 1 + qlen, tag_e);
	size_t extra = 0;
	for (size_t i = 0; i < d->n; i++)
		if (!decl_has(&own, d->v[i].prefix, d->v[i].prefix_len))
			extra += d->v[i].text_len + 1;
	size_t body = (size_t)(msg_end - m);
	char *out = malloc(body + extra + 1);
	if (!out)
		return NULL;
	size_t n = 0;
	memcpy(out, m, 1 + qlen);
	n = 1 + qlen;
	for (size_t i = 0; i < d->n; i++) {
		if (decl_has(&own, d->v[i].prefix, d->v[i].prefix_len))
			continue;
		out[n++] = ' ';
		memcpy(out + n, d->v[i].text, d->v[i].text_len);
		n += d->v[i].text_len;
	}
	memcpy(out + n, m + 1 + qlen, body - 1 - qlen);
	n += body - 1 - qlen;
	out[n] = '\0';
	*ret_len = n;
	return out;
}

/* Does the document end with the end tag of its first element (white space after it allowed)? */
static bool ends_whole(const char *buf, size_t len)
{
	const char *end = buf + len;
	const char *p = buf;
	for (;;) {
		p = memchr(p, '<', (size_t)(end - p));
		if (!p || p + 1 >= end)
			return false;
		if (p[1] != '?' && p[1] != '!')
			break;
		p++;
	}
	size_t qlen, llen;
	qname_local(p + 1, end, &qlen, &llen);
	while (end > buf && strchr(" \t\r\n", end[-1]))
		end--;
	if (qlen == 0 || (size_t)(end - buf) < qlen + 3 || end[-1] != '>')
		return false;
	const char *t = end - 1 - qlen;
	return t - 2 >= buf && t[-2] == '<' && t[-1] == '/' && !memcmp(t, p + 1, qlen);
}

/* Counts instead of passing on, for the messages a first attempt already passed. */
static int count_only(void *arg, struct agw_alert *alert)
{
	(void)arg;
	(void)alert;
	return 0;
}

int agw_onvif_salvage(struct soap *soap, const char *buf, size_t len, const struct agw_onvif_topic_table *table,
		      int skip, int (*fn)(void *arg, struct agw_alert *alert), void *arg, struct agw_onvif_salvage *ret)
{
	struct agw_onvif_salvage s = {.first_bad = len};
	struct decls d = {.n = 0};
	const char *end = buf + len, *p = buf;
	int rc = 0;
	s.complete = ends_whole(buf, len);
	while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		if (p + 1 >= end || p[1] == '/' || p[1] == '?' || p[1] == '!') {
			p++;
			continue;
		}
		const char *te = tag_end(p, end);
		size_t qlen, llen;
		const char *local = qname_local(p + 1, end, &qlen, &llen);
		bool is_msg = llen == 19 && !memcmp(local, "NotificationMessage", 19);
		if (!is_msg) {
			if (!te)
				break;
			collect_decls(&d, p + 1 + qlen, te);
			p = te + 1;
			continue;
		}
		/* a message: from its start tag to the first end tag of the same name (they do not nest) */
		char close[MAX_NAME + 4];
		const char *msg_end = NULL;
		if (te && qlen <= MAX_NAME) {
			close[0] = '<';
			close[1] = '/';
			memcpy(close + 2, p + 1, qlen);
			const char *c = memmem(te, (size_t)(end - te), close, qlen + 2);
			if (c) {
				const char *gt = c + 2 + qlen;
				while (gt < end && strchr(" \t\r\n", *gt))
					gt++;
				if (gt < end && *gt == '>')
					msg_end = gt + 1;
			}
		}
		if (!msg_end || s.read + s.unreadable >= AGW_ONVIF_SALVAGE_MAX_MESSAGES) {
			/* cut inside the message (or too many): whatever follows is not a message of its own */
			s.unreadable++;
			if (s.first_bad == len)
				s.first_bad = (size_t)(p - buf);
			break;
		}
		size_t flen;
		char *frag = fragment(&d, p, te, qlen, msg_end, &flen);
		if (!frag) {
			rc = -ENOMEM;
			break;
		}
		char err[256];
		bool again = s.read < skip;
		int n = agw_onvif_normalize_soap(soap, frag, flen, table, again ? count_only : fn, arg, NULL, err,
						 sizeof(err));
		free(frag);
		if (n > 0) {
			s.read += n;
			s.bytes_read += (size_t)(msg_end - p);
		} else if (n == 0 || n == -EINVAL || n == -EMSGSIZE || n == -EPROTO) {
			s.unreadable++;
			if (s.first_bad == len)
				s.first_bad = (size_t)(p - buf);
		} else {
			rc = n; /* fn refused, or out of memory */
			break;
		}
		p = msg_end;
	}
	*ret = s;
	return rc < 0 ? rc : s.read;
}
