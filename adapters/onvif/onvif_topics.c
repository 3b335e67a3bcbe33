/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The topic-to-kind table: data, not code (syntax in onvif-topics.conf). The default table is the
 * same text, embedded at build time, parsed once. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/table_text.h"
#include "onvif_topics.h"

#define MAX_SEGMENTS 16
#define MAX_TOPIC 1024

extern const char agw_onvif_topics_data[];
extern const size_t agw_onvif_topics_data_size;

struct segment {
	const char *s;
	size_t len;
};

struct topic_rule {
	char *pattern;
	struct segment seg[MAX_SEGMENTS];
	size_t n_seg;
	char *item;  /* "PATTERN[Item]": the rule needs a Data item of that name, else NULL */
	char *value; /* "PATTERN[Item=Value]": ... with that value (any case), else NULL */
	enum agw_alert_kind kind;
};

/* A list of item names ("state", "nostate" lines). */
struct names {
	char **v;
	size_t n;
};

struct agw_onvif_topic_table {
	struct topic_rule *rules;
	size_t n_rules;
	struct names state;
	struct names nostate;
	const struct agw_onvif_topic_table *fallback;
};

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void table_free(struct agw_onvif_topic_table *t)
{
	for (size_t i = 0; i < t->n_rules; i++) {
		free(t->rules[i].pattern);
		free(t->rules[i].item);
		free(t->rules[i].value);
	}
	free(t->rules);
	names_free(&t->state);
	names_free(&t->nostate);
	free(t);
}

static bool seg_is_end_form(const struct segment *g)
{
	return g->len == 0 || (g->len == 1 && g->s[0] == '.');
}

/* Splits "a:B/c/d:E" into segments without their prefixes. Some firmware ends a topic with "/"
 * or "//." (the XPath form of a topic filter, "tns1:RuleEngine/CellMotionDetector/Motion//."):
 * those trailing segments say nothing and are dropped. Returns the count or -E2BIG. */
static int split_topic(const char *s, size_t len, struct segment *seg)
{
	size_t n = 0;
	const char *p = s, *end = s + len;
	while (p <= end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *e = slash ? slash : end;
		const char *b = p;
		for (const char *q = b; q < e; q++)
			if (*q == ':')
				b = q + 1;
		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (n >= MAX_SEGMENTS)
			return -E2BIG;
		seg[n].s = b;
		seg[n].len = (size_t)(e - b);
		n++;
		if (!slash)
			break;
		p = slash + 1;
	}
	while (n > 1 && seg_is_end_form(&seg[n - 1]))
		n--;
	return (int)n;
}

static bool seg_eq(const struct segment *a, const struct segment *b)
{
	return a->len == b->len && !strncasecmp(a->s, b->s, a->len);
}

static bool match(const struct segment *pat, size_t np, const struct segment *top, size_t nt)
{
	if (np == 0)
		return nt == 0;
	if (pat[0].len == 2 && !memcmp(pat[0].s, "**", 2)) {
		for (size_t skip = 0; skip <= nt; skip++)
			if (match(pat + 1, np - 1, top + skip, nt - skip))
				return true;
		return false;
	}
	if (nt == 0)
		return false;
	if (!(pat[0].len == 1 && pat[0].s[0] == '*') && !seg_eq(&pat[0], &top[0]))
		return false;
	return match(pat + 1, np - 1, top + 1, nt - 1);
}

static bool has_item(const struct agw_items *data, const char *name, const char *value)
{
	for (size_t i = 0; data && i < data->n; i++)
		if (!strcasecmp(data->v[i].name, name) &&
		    (!value || !strcasecmp(data->v[i].value ? data->v[i].value : "", value)))
			return true;
	return false;
}

enum agw_alert_kind agw_onvif_topic_kind_of(const struct agw_onvif_topic_table *t, const char *topic,
					    const struct agw_items *data)
{
	struct segment seg[MAX_SEGMENTS];
	size_t len = topic ? strlen(topic) : 0;
	if (len == 0 || len > MAX_TOPIC)
		return AGW_KIND_OTHER;
	int n = split_topic(topic, len, seg);
	if (n <= 0)
		return AGW_KIND_OTHER;
	for (; t; t = t->fallback)
		for (size_t i = 0; i < t->n_rules; i++) {
			const struct topic_rule *r = &t->rules[i];
			if (r->item && !has_item(data, r->item, r->value))
				continue;
			if (match(r->seg, r->n_seg, seg, (size_t)n))
				return r->kind;
		}
	return AGW_KIND_OTHER;
}

enum agw_alert_kind agw_onvif_topic_kind(const struct agw_onvif_topic_table *t, const char *topic)
{
	return agw_onvif_topic_kind_of(t, topic, NULL);
}

/* Names compare case-insensitively; a name may start or end with '*' ("*Id" matches "ObjectId"). */
static bool name_match(const char *pat, const char *name)
{
	size_t pl = strlen(pat), nl = strlen(name);
	if (pl > 1 && pat[0] == '*')
		return nl >= pl - 1 && !strcasecmp(name + nl - (pl - 1), pat + 1);
	if (pl > 1 && pat[pl - 1] == '*')
		return nl >= pl - 1 && !strncasecmp(name, pat, pl - 1);
	return !strcasecmp(pat, name);
}

static bool names_have(const struct names *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (name_match(l->v[i], name))
			return true;
	return false;
}

bool agw_onvif_topic_state_item(const struct agw_onvif_topic_table *t, const char *name)
{
	if (!name)
		return false;
	for (; t; t = t->fallback)
		if (names_have(&t->state, name))
			return true;
	return false;
}

bool agw_onvif_topic_nostate_item(const struct agw_onvif_topic_table *t, const char *name)
{
	if (!name)
		return false;
	for (; t; t = t->fallback)
		if (names_have(&t->nostate, name))
			return true;
	return false;
}

size_t agw_onvif_topic_table_size(const struct agw_onvif_topic_table *t)
{
	size_t n = 0;
	for (; t; t = t->fallback)
		n += t->n_rules;
	return n;
}

/* "PATTERN", "PATTERN[Item]" or "PATTERN[Item=Value]"; -EBADMSG for a bracket that is not one
 * suffix with a non-empty item name. */
static int add_rule(struct agw_onvif_topic_table *t, const char *pattern, size_t plen, enum agw_alert_kind kind)
{
	const char *open = memchr(pattern, '[', plen), *close = memchr(pattern, ']', plen);
	size_t item_len = 0;
	if (open || close) {
		if (!open || close != pattern + plen - 1 || close <= open + 1 || open == pattern ||
		    memchr(open + 1, '[', (size_t)(close - open - 1)) || open[1] == '=')
			return -EBADMSG;
		item_len = (size_t)(close - open - 1);
		plen = (size_t)(open - pattern);
	}
	struct topic_rule *v = realloc(t->rules, (t->n_rules + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->rules = v;
	struct topic_rule *r = &v[t->n_rules];
	memset(r, 0, sizeof(*r));
	r->pattern = strndup(pattern, plen);
	if (!r->pattern)
		return -ENOMEM;
	if (open) {
		const char *eq = memchr(open + 1, '=', item_len);
		r->item = strndup(open + 1, eq ? (size_t)(eq - open - 1) : item_len);
		r->value = eq ? strndup(eq + 1, (size_t)(close - eq - 1)) : NULL;
		if (!r->item || (eq && !r->value)) {
			free(r->pattern);
			free(r->item);
			free(r->value);
			return -ENOMEM;
		}
	}
	int n = split_topic(r->pattern, plen, r->seg);
	if (n < 0) {
		free(r->pattern);
		free(r->item);
		free(r->value);
		return n;
	}
	r->n_seg = (size_t)n;
	r->kind = kind;
	t->n_rules++;
	return 0;
}

static int add_name(struct names *l, const char *name, size_t len)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	if (!(v[l->n] = strndup(name, len)))
		return -ENOMEM;
	l->n++;
	return 0;
}

static int parse_line(void *arg, const char *b, const char *e, char *why, size_t whylen)
{
	struct agw_onvif_topic_table *t = arg;
	const char *p = b;
	size_t len, klen;
	const char *w = agw_table_word(&p, e, &len);
	if (!w || *w == '#')
		return 0;
	bool is_state = len == 5 && !memcmp(w, "state", 5), is_nostate = len == 7 && !memcmp(w, "nostate", 7);
	if (is_state || is_nostate) {
		const char *n;
		int count = 0;
		while ((n = agw_table_word(&p, e, &len)) && *n != '#') {
			int rc = add_name(is_state ? &t->state : &t->nostate, n, len);
			if (rc < 0)
				return rc;
			count++;
		}
		if (!count) {
			snprintf(why, whylen, "'%s' needs at least one item name", is_state ? "state" : "nostate");
			return -EINVAL;
		}
		return 0;
	}
	const char *k = agw_table_word(&p, e, &klen);
	if (!k || *k == '#') {
		snprintf(why, whylen, "expected 'PATTERN KIND', got only '%.*s'", (int)(len > 80 ? 80 : len), w);
		return -EINVAL;
	}
	size_t xlen;
	const char *x = agw_table_word(&p, e, &xlen);
	if (x && *x != '#') {
		snprintf(why, whylen, "unexpected '%.*s' after the kind", (int)(xlen > 80 ? 80 : xlen), x);
		return -EINVAL;
	}
	char kind_name[64];
	snprintf(kind_name, sizeof(kind_name), "%.*s", (int)(klen > 63 ? 63 : klen), k);
	enum agw_alert_kind kind;
	if (agw_alert_kind_parse(kind_name, &kind) < 0 || kind == AGW_KIND_CAMERA_OFFLINE ||
	    kind == AGW_KIND_EVENT_CHANNEL_LOST) {
		snprintf(why, whylen, "unknown kind '%s'", kind_name);
		return -EINVAL;
	}
	int rc = add_rule(t, w, len, kind);
	if (rc == -E2BIG)
		snprintf(why, whylen, "pattern has more than %d segments", MAX_SEGMENTS);
	if (rc == -EBADMSG) {
		snprintf(why, whylen, "'%.*s': an item condition is one '[Name]' or '[Name=Value]' at the end",
			 (int)(len > 80 ? 80 : len), w);
		rc = -EINVAL;
	}
	return rc;
}

int agw_onvif_topic_table_parse(const char *text, size_t len, const char *origin,
				const struct agw_onvif_topic_table *fallback, struct agw_onvif_topic_table **ret,
				char *err, size_t errlen)
{
	struct agw_onvif_topic_table *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fallback = fallback;
	int rc = agw_table_lines(text, len, origin, parse_line, t, err, errlen);
	if (rc < 0) {
		table_free(t);
		return rc;
	}
	*ret = t;
	return 0;
}

static struct agw_onvif_topic_table *default_table;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
	char err[256];
	/* The text is part of the build and a unit test parses it: failing here is a build bug,
	 * and an empty table still maps every topic to "other" without losing events. */
	if (agw_onvif_topic_table_parse(agw_onvif_topics_data, agw_onvif_topics_data_size, "onvif-topics.conf", NULL,
					&default_table, err, sizeof(err)) < 0)
		default_table = calloc(1, sizeof(*default_table));
}

const struct agw_onvif_topic_table *agw_onvif_topic_table_default(void)
{
	pthread_once(&default_once, default_init);
	return default_table;
}

int agw_onvif_topic_table_load(const char *path, struct agw_onvif_topic_table **ret, char *err, size_t errlen)
{
	char *buf;
	size_t n;
	int rc = agw_table_file_read(path, &buf, &n, err, errlen);
	if (rc < 0)
		return rc;
	rc = agw_onvif_topic_table_parse(buf, n, path, agw_onvif_topic_table_default(), ret, err, errlen);
	free(buf);
	return rc;
}

void agw_onvif_topic_table_free(struct agw_onvif_topic_table *t)
{
	if (!t || t == default_table)
		return;
	table_free(t);
}
