/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PullMessagesResponse reader without gSOAP (onvif_events.h says what it is for). It runs after the
 * well-formedness check and is written to decline rather than guess: it takes one shape, the one
 * PullPoint cameras answer, and declines (-ENOTSUP) at the first thing where gSOAP could read the
 * document differently from a plain reading of its text:
 * - any byte over 0x7E (encodings, byte order marks) or under 0x20 but TAB, LF and CR; CDATA,
 *   comments or processing instructions inside the root; entity references or CR/TAB/LF in the
 *   values it keeps; white space inside date-times (gSOAP collapses it there);
 * - prefixed attributes other than xmlns:* (xsi:type, xsi:nil, SOAP-ENC:id) and id/href/ref
 *   (gSOAP's multi-reference data); SOAP-ENV:mustUnderstand only on the headers below, which
 *   gSOAP understands (cameras built on gSOAP put it on wsa:Action);
 * - namespaces other than the exact URIs below (gSOAP also matches them case-insensitively and
 *   by pattern), elements it does not name, elements out of order or repeated, text between
 *   elements, a tt:Message whose kind is "other" or that has ElementItems (their payload is
 *   gSOAP's canonical XML);
 * - SOAP headers other than WS-Addressing's Action, MessageID, RelatesTo and To as plain text.
 * Date-times are trimmed as gSOAP trims them; white space inside one declines. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onvif_events.h"
#include "onvif_topics.h"

#define DECLINE (-ENOTSUP)
#define MAX_NS 64
#define MAX_ATTRS 16
#define MAX_VALUE 65536
#define MAX_MESSAGES 10000

enum ns_id { NS_NONE, NS_OTHER, NS_SOAP, NS_TEV, NS_WSNT, NS_TT, NS_WSA };

static const struct {
	const char *uri;
	enum ns_id id;
} known_ns[] = {
	{"http://www.w3.org/2003/05/soap-envelope", NS_SOAP},
	{"http://schemas.xmlsoap.org/soap/envelope/", NS_SOAP},
	{"http://www.onvif.org/ver10/events/wsdl", NS_TEV},
	{"http://docs.oasis-open.org/wsn/b-2", NS_WSNT},
	{"http://www.onvif.org/ver10/schema", NS_TT},
	{"http://www.w3.org/2005/08/addressing", NS_WSA},
	{"http://schemas.xmlsoap.org/ws/2004/08/addressing", NS_WSA},
};

struct span {
	const char *s;
	size_t n;
};

struct reader {
	const char *p, *end;
	struct {
		struct span prefix, uri;
	} ns[MAX_NS];
	unsigned n_ns;
	bool in_header; /* reading the SOAP Header's children */
};

struct elem {
	struct span qname, local;
	enum ns_id ns;
	struct span attr_name[MAX_ATTRS], attr_value[MAX_ATTRS]; /* unprefixed, not xmlns */
	unsigned n_attrs, ns_mark;
	struct span must_understand; /* the prefix of a prefix:mustUnderstand attribute */
	bool empty;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool span_is(struct span a, const char *s)
{
	size_t n = strlen(s);
	return a.n == n && !memcmp(a.s, s, n);
}

static void skip_space(struct reader *r)
{
	while (r->p < r->end && is_space(*r->p))
		r->p++;
}

static struct span read_name(struct reader *r)
{
	const char *b = r->p;
	while (r->p < r->end && !is_space(*r->p) && *r->p != '=' && *r->p != '>' && *r->p != '/' && *r->p != '<')
		r->p++;
	return (struct span){b, (size_t)(r->p - b)};
}

static enum ns_id ns_lookup(const struct reader *r, struct span prefix)
{
	for (unsigned i = r->n_ns; i-- > 0;) {
		if (r->ns[i].prefix.n != prefix.n || memcmp(r->ns[i].prefix.s, prefix.s, prefix.n))
			continue;
		for (size_t k = 0; k < sizeof(known_ns) / sizeof(known_ns[0]); k++)
			if (span_is(r->ns[i].uri, known_ns[k].uri))
				return known_ns[k].id;
		return r->ns[i].uri.n ? NS_OTHER : NS_NONE;
	}
	return NS_NONE;
}

/* One attribute: xmlns declarations go onto the namespace stack, plain ones into e. */
static int take_attr(struct reader *r, struct elem *e, struct span name, struct span value)
{
	const char *colon = memchr(name.s, ':', name.n);
	if (span_is(name, "xmlns") || (colon && colon - name.s == 5 && !memcmp(name.s, "xmlns", 5))) {
		struct span prefix = colon ? (struct span){colon + 1, name.n - 6} : (struct span){name.s, 0};
		if (r->n_ns >= MAX_NS || (colon && value.n == 0))
			return DECLINE;
		r->ns[r->n_ns].prefix = prefix;
		r->ns[r->n_ns++].uri = value;
		return 0;
	}
	if (colon && !e->must_understand.n && r->in_header && span_is((struct span){colon, name.n - (size_t)(colon - name.s)}, ":mustUnderstand")) {
		e->must_understand = (struct span){name.s, (size_t)(colon - name.s)};
		return 0; /* its prefix is checked once the tag's declarations are read */
	}
	if (colon || e->n_attrs >= MAX_ATTRS)
		return DECLINE;
	static const char *const multiref[] = {"id", "href", "ref"};
	for (size_t i = 0; i < 3; i++)
		if (name.n == strlen(multiref[i]) && !strncasecmp(name.s, multiref[i], name.n))
			return DECLINE;
	for (size_t i = 0; i < value.n; i++)
		if (value.s[i] == '&' || value.s[i] == '\t' || value.s[i] == '\n' || value.s[i] == '\r')
			return DECLINE;
	e->attr_name[e->n_attrs] = name;
	e->attr_value[e->n_attrs++] = value;
	return 0;
}

/* A start tag at r->p ("<name ...>" or "/>"). */
static int open_elem(struct reader *r, struct elem *e)
{
	if (r->p >= r->end || *r->p != '<' || r->p + 1 >= r->end || r->p[1] == '/' || r->p[1] == '!' || r->p[1] == '?')
		return DECLINE;
	r->p++;
	e->qname = read_name(r);
	e->n_attrs = 0;
	e->ns_mark = r->n_ns;
	e->must_understand = (struct span){NULL, 0};
	for (;;) {
		skip_space(r);
		if (r->p >= r->end)
			return DECLINE;
		if (*r->p == '>' || *r->p == '/')
			break;
		struct span name = read_name(r);
		skip_space(r);
		if (r->p >= r->end || *r->p++ != '=')
			return DECLINE;
		skip_space(r);
		if (r->p >= r->end || (*r->p != '"' && *r->p != '\''))
			return DECLINE;
		char q = *r->p++;
		const char *ve = memchr(r->p, q, (size_t)(r->end - r->p));
		if (!ve || name.n == 0 || ve - r->p > MAX_VALUE)
			return DECLINE;
		int rc = take_attr(r, e, name, (struct span){r->p, (size_t)(ve - r->p)});
		if (rc < 0)
			return rc;
		r->p = ve + 1;
	}
	e->empty = *r->p == '/';
	if (e->empty && (r->p + 1 >= r->end || r->p[1] != '>'))
		return DECLINE;
	r->p += e->empty ? 2 : 1;
	const char *colon = memchr(e->qname.s, ':', e->qname.n);
	struct span prefix = {e->qname.s, colon ? (size_t)(colon - e->qname.s) : 0};
	e->local = colon ? (struct span){colon + 1, e->qname.n - prefix.n - 1} : e->qname;
	e->ns = ns_lookup(r, prefix);
	if (e->must_understand.n && ns_lookup(r, e->must_understand) != NS_SOAP)
		return DECLINE;
	if (e->empty)
		r->n_ns = e->ns_mark;
	return e->qname.n ? 0 : DECLINE;
}

static bool elem_is(const struct elem *e, enum ns_id ns, const char *local)
{
	return e->ns == ns && span_is(e->local, local);
}

/* The end tag of e at r->p. */
static int close_elem(struct reader *r, const struct elem *e)
{
	if (r->end - r->p < 2 || r->p[0] != '<' || r->p[1] != '/')
		return DECLINE;
	r->p += 2;
	struct span name = read_name(r);
	skip_space(r);
	if (name.n != e->qname.n || memcmp(name.s, e->qname.s, name.n) || r->p >= r->end || *r->p != '>')
		return DECLINE;
	r->p++;
	r->n_ns = e->ns_mark;
	return 0;
}

/* The next child of parent into *child, or *ret_end when parent has ended (its end tag read).
 * Only white space may stand between children. */
static int next_child(struct reader *r, const struct elem *parent, struct elem *child, bool *ret_end)
{
	*ret_end = parent->empty;
	if (parent->empty)
		return 0;
	skip_space(r);
	if (r->end - r->p >= 2 && r->p[0] == '<' && r->p[1] == '/') {
		*ret_end = true;
		return close_elem(r, parent);
	}
	return open_elem(r, child);
}

/* A date-time as gSOAP reads xsd:dateTime: trimmed; white space inside declines. */
static int date_trim(struct span *t)
{
	while (t->n && is_space(*t->s)) {
		t->s++;
		t->n--;
	}
	while (t->n && is_space(t->s[t->n - 1]))
		t->n--;
	for (size_t i = 0; i < t->n; i++)
		if (is_space(t->s[i]))
			return DECLINE;
	return 0;
}

/* The text content of e (no child elements, comments or entity references), its end tag read. */
static int read_text(struct reader *r, const struct elem *e, struct span *ret, bool date)
{
	*ret = (struct span){r->p, 0};
	if (e->empty)
		return 0;
	const char *lt = memchr(r->p, '<', (size_t)(r->end - r->p));
	if (!lt || lt - r->p > MAX_VALUE)
		return DECLINE;
	for (const char *q = r->p; q < lt; q++)
		if (*q == '&' || *q == '\r')
			return DECLINE;
	*ret = (struct span){r->p, (size_t)(lt - r->p)};
	r->p = lt;
	if (date && date_trim(ret) < 0)
		return DECLINE;
	return close_elem(r, e);
}

static const struct span *attr_of(const struct elem *e, const char *name)
{
	for (unsigned i = 0; i < e->n_attrs; i++)
		if (span_is(e->attr_name[i], name))
			return &e->attr_value[i];
	return NULL;
}

/* A NUL-terminated copy of a value, or NULL for an absent one (as gSOAP leaves it). */
static int dup_span(const struct span *v, char **ret)
{
	*ret = NULL;
	if (v && !(*ret = strndup(v->s, v->n)))
		return -ENOMEM;
	return 0;
}

/* Text-only children of e without attributes, with the given names in ns, in any order:
 * anything else declines. */
static int skip_text_children(struct reader *r, const struct elem *e, enum ns_id ns, const char *const *names,
			      size_t n_names)
{
	for (;;) {
		struct elem c;
		bool end;
		struct span text;
		int rc = next_child(r, e, &c, &end);
		if (rc < 0 || end)
			return rc;
		bool known = false;
		for (size_t i = 0; i < n_names && !known; i++)
			known = elem_is(&c, ns, names[i]);
		if (!known || c.n_attrs > 0 || (rc = read_text(r, &c, &text, false)) < 0)
			return DECLINE;
	}
}

static int read_items(struct reader *r, const struct elem *list, struct agw_items *items)
{
	for (;;) {
		struct elem c;
		bool end;
		struct span text;
		int rc = next_child(r, list, &c, &end);
		if (rc < 0 || end)
			return rc;
		if (!elem_is(&c, NS_TT, "SimpleItem") || read_text(r, &c, &text, false) < 0)
			return DECLINE;
		for (size_t i = 0; i < text.n; i++)
			if (!is_space(text.s[i]))
				return DECLINE;
		char *name, *value;
		rc = dup_span(attr_of(&c, "Name"), &name);
		if (rc == 0 && (rc = dup_span(attr_of(&c, "Value"), &value)) == 0) {
			rc = agw_onvif_item_add(items, name, value);
			free(value);
		}
		free(name);
		if (rc < 0)
			return rc;
	}
}

/* tt:Message: its attributes, then Source, Key and Data, each at most once and in that order. */
static int read_tt_message(struct reader *r, const struct elem *m, struct agw_alert *a,
			   const struct agw_onvif_topic_table *table)
{
	static const char *const lists[] = {"Source", "Key", "Data"};
	struct agw_items *dst[] = {&a->source, &a->key, &a->data};
	const struct span *found = attr_of(m, "UtcTime");
	struct span utc_span = found ? *found : (struct span){NULL, 0};
	const struct span *utc = found ? &utc_span : NULL;
	if (utc && date_trim(&utc_span) < 0)
		return DECLINE;
	size_t next = 0;
	for (;;) {
		struct elem c;
		bool end;
		int rc = next_child(r, m, &c, &end);
		if (rc < 0)
			return rc;
		if (end)
			break;
		while (next < 3 && !elem_is(&c, NS_TT, lists[next]))
			next++;
		if (next == 3)
			return DECLINE;
		if ((rc = read_items(r, &c, dst[next++])) < 0)
			return rc;
	}
	char *utc_time, *op;
	int rc = dup_span(utc, &utc_time);
	if (rc == 0 && (rc = dup_span(attr_of(m, "PropertyOperation"), &op)) == 0) {
		agw_onvif_message_fill(a, utc_time, op, table);
		free(op);
	}
	free(utc_time);
	return rc;
}

/* wsnt:Message holding exactly one tt:Message. */
static int read_message(struct reader *r, const struct elem *holder, struct agw_alert *a,
			const struct agw_onvif_topic_table *table)
{
	struct elem m, c;
	bool end;
	int rc = next_child(r, holder, &m, &end);
	if (rc < 0 || end || !elem_is(&m, NS_TT, "Message"))
		return DECLINE;
	if ((rc = read_tt_message(r, &m, a, table)) < 0)
		return rc;
	rc = next_child(r, holder, &c, &end);
	return rc < 0 || !end ? DECLINE : 0;
}

/* An endpoint reference with only its Address. */
static int read_reference(struct reader *r, const struct elem *e)
{
	static const char *const address[] = {"Address"};
	return skip_text_children(r, e, NS_WSA, address, 1);
}

/* wsnt:NotificationMessage: [SubscriptionReference] Topic [ProducerReference] Message. */
static int read_notification(struct reader *r, const struct elem *nm, struct agw_alert *a,
			     const struct agw_onvif_topic_table *table)
{
	enum { SUBREF, TOPIC, PRODREF, MESSAGE, DONE } next = SUBREF;
	static const char *const names[] = {"SubscriptionReference", "Topic", "ProducerReference", "Message"};
	a->camera_time_ms = AGW_TIME_UNKNOWN;
	for (;;) {
		struct elem c;
		bool end;
		int rc = next_child(r, nm, &c, &end);
		if (rc < 0)
			return rc;
		if (end)
			break;
		while (next < DONE && !elem_is(&c, NS_WSNT, names[next]))
			next++;
		if (next == SUBREF || next == PRODREF) {
			rc = read_reference(r, &c);
		} else if (next == TOPIC) {
			struct span topic;
			char *t = NULL;
			if ((rc = read_text(r, &c, &topic, false)) == 0 && (!(t = strndup(topic.s, topic.n)) ||
									!(a->topic = agw_onvif_dup_trimmed(t))))
				rc = -ENOMEM;
			free(t);
		} else if (next == MESSAGE) {
			rc = read_message(r, &c, a, table);
		} else {
			return DECLINE;
		}
		next++;
		if (rc < 0)
			return rc;
	}
	if (next <= MESSAGE || !a->topic)
		return DECLINE; /* without its Topic or Message: the gSOAP path reads it */
	int rc = agw_onvif_alert_finish(a, table);
	if (rc == 0 && a->kind == AGW_KIND_OTHER)
		rc = DECLINE; /* kept with gSOAP's XML of the message as its payload */
	return rc;
}

static int batch_add(struct agw_onvif_fast_batch *b, struct agw_alert **ret)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4;
		struct agw_alert *v = realloc(b->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	*ret = &b->v[b->n++];
	agw_alert_init(*ret);
	return 0;
}

static int copy_date(struct reader *r, const struct elem *e, char *dst, size_t size)
{
	struct span t;
	int rc = read_text(r, e, &t, true);
	if (rc == 0)
		snprintf(dst, size, "%.*s", (int)t.n, t.s);
	return rc;
}

/* tev:PullMessagesResponse: CurrentTime, TerminationTime, then the messages. */
static int read_response(struct reader *r, const struct elem *resp, const struct agw_onvif_topic_table *table,
			 struct agw_onvif_fast_batch *b)
{
	struct elem c;
	bool end;
	int rc = next_child(r, resp, &c, &end);
	if (rc < 0 || end || !elem_is(&c, NS_TEV, "CurrentTime") ||
	    copy_date(r, &c, b->info.current_time, sizeof(b->info.current_time)) < 0)
		return DECLINE;
	rc = next_child(r, resp, &c, &end);
	if (rc < 0 || end || !elem_is(&c, NS_TEV, "TerminationTime") ||
	    copy_date(r, &c, b->info.termination_time, sizeof(b->info.termination_time)) < 0)
		return DECLINE;
	for (;;) {
		if ((rc = next_child(r, resp, &c, &end)) < 0 || end)
			return rc;
		struct agw_alert *a;
		if (!elem_is(&c, NS_WSNT, "NotificationMessage") || b->n >= MAX_MESSAGES)
			return DECLINE;
		if ((rc = batch_add(b, &a)) < 0 || (rc = read_notification(r, &c, a, table)) < 0)
			return rc;
	}
}

/* Envelope: [Header] Body, the Body holding the response alone. */
static int read_envelope(struct reader *r, const struct agw_onvif_topic_table *table, struct agw_onvif_fast_batch *b)
{
	static const char *const headers[] = {"Action", "MessageID", "RelatesTo", "To"};
	struct elem env, c, resp;
	bool end;
	int rc = open_elem(r, &env);
	if (rc < 0 || !elem_is(&env, NS_SOAP, "Envelope"))
		return DECLINE;
	if ((rc = next_child(r, &env, &c, &end)) < 0 || end)
		return DECLINE;
	if (elem_is(&c, NS_SOAP, "Header")) {
		r->in_header = true;
		rc = skip_text_children(r, &c, NS_WSA, headers, 4);
		r->in_header = false;
		if (rc < 0 || next_child(r, &env, &c, &end) < 0 || end)
			return DECLINE;
	}
	if (!elem_is(&c, NS_SOAP, "Body") || next_child(r, &c, &resp, &end) < 0 || end ||
	    !elem_is(&resp, NS_TEV, "PullMessagesResponse"))
		return DECLINE;
	if ((rc = read_response(r, &resp, table, b)) < 0)
		return rc;
	struct elem after;
	if (next_child(r, &c, &after, &end) < 0 || !end || next_child(r, &env, &after, &end) < 0 || !end)
		return DECLINE;
	skip_space(r);
	return r->p == r->end ? 0 : DECLINE;
}

void agw_onvif_fast_batch_clear(struct agw_onvif_fast_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		agw_alert_clear(&b->v[i]);
	free(b->v);
	memset(b, 0, sizeof(*b));
}

/* Whether every byte is printable ASCII (0x20-0x7E), tab, LF or CR. Eight bytes at a time: a word
 * whose bytes all lie in 0x20-0x7E passes at once (the byte loop was a fifth of the reader). */
static bool plain_ascii(const char *xml, size_t len)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, xml + i, 8);
		/* a high bit set in (w - 0x20) or (w + 1) marks a byte < 0x20 or >= 0x7F (or >= 0x80) */
		if (!((w | (w - ones * 0x20) | (w + ones)) & highs))
			continue;
		for (size_t j = i; j < i + 8; j++) {
			unsigned char c = (unsigned char)xml[j];
			if (c > 0x7E || (c < 0x20 && c != '\t' && c != '\n' && c != '\r'))
				return false;
		}
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)xml[i];
		if (c > 0x7E || (c < 0x20 && c != '\t' && c != '\n' && c != '\r'))
			return false;
	}
	return true;
}

int agw_onvif_fast_read(const char *xml, size_t len, const struct agw_onvif_topic_table *table,
			struct agw_onvif_fast_batch *ret)
{
	/* bytes gSOAP may read otherwise: over 0x7F (encodings), and controls (white space to it) */
	if (!plain_ascii(xml, len))
		return DECLINE;
	struct reader *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->p = xml;
	r->end = xml + len;
	/* before the root: white space and the XML declaration only */
	skip_space(r);
	if (r->end - r->p >= 5 && !memcmp(r->p, "<?xml", 5) && (r->p + 5 == r->end || is_space(r->p[5]))) {
		const char *q = memmem(r->p, (size_t)(r->end - r->p), "?>", 2);
		/* a declaration holds only its pseudo-attributes: gSOAP ends a '<' or '>' inside it
		 * elsewhere than at "?>" (fuzz_onvif_fastpull found one), so such a prolog is its */
		size_t decl = q ? (size_t)(q - r->p - 5) : 0;
		if (!q || memchr(r->p + 5, '<', decl) || memchr(r->p + 5, '>', decl)) {
			free(r);
			return DECLINE;
		}
		r->p = q + 2;
		skip_space(r);
	}
	struct agw_onvif_fast_batch b = {0};
	int rc = read_envelope(r, table ? table : agw_onvif_topic_table_default(), &b);
	free(r);
	if (rc < 0) {
		agw_onvif_fast_batch_clear(&b);
		return rc;
	}
	*ret = b;
	return 0;
}
