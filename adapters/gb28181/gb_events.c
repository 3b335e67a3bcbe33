/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The alarm-to-kind table (see gb_events.h and gb28181-events.conf). */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/table_text.h"
#include "gb_events.h"

#define MAX_VALUE 32

extern const char agw_gb_events_data[];
extern const size_t agw_gb_events_data_size;

enum match { M_ANY, M_ABSENT, M_VALUE };

struct cell {
	enum match m;
	char v[MAX_VALUE];
};

struct rule {
	struct cell method, type, event;
	enum agw_alert_kind kind;
};

struct agw_gb_event_table {
	struct rule *rules;
	size_t n;
	const struct agw_gb_event_table *fallback;
};

static bool numeric(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Compares as numbers when both are digits ("05" is 5), else case-insensitively. */
static bool value_eq(const char *a, const char *b)
{
	if (numeric(a) && numeric(b)) {
		while (*a == '0' && a[1])
			a++;
		while (*b == '0' && b[1])
			b++;
		return !strcmp(a, b);
	}
	return !strcasecmp(a, b);
}

static bool cell_match(const struct cell *c, const char *v)
{
	bool absent = !v || !*v;
	switch (c->m) {
	case M_ANY:
		return true;
	case M_ABSENT:
		return absent;
	case M_VALUE:
		return !absent && value_eq(c->v, v);
	}
	return false;
}

enum agw_alert_kind agw_gb_event_kind(const struct agw_gb_event_table *t, const char *method, const char *type,
				      const char *event_type)
{
	if (!t)
		t = agw_gb_event_table_default();
	for (; t; t = t->fallback)
		for (size_t i = 0; i < t->n; i++) {
			const struct rule *r = &t->rules[i];
			if (cell_match(&r->method, method) && cell_match(&r->type, type) && cell_match(&r->event, event_type))
				return r->kind;
		}
	return AGW_KIND_OTHER;
}

size_t agw_gb_event_table_size(const struct agw_gb_event_table *t)
{
	size_t n = 0;
	for (; t; t = t->fallback)
		n += t->n;
	return n;
}

static void table_free(struct agw_gb_event_table *t)
{
	free(t->rules);
	free(t);
}

static int set_cell(struct cell *c, const char *w, size_t len, const char *what, char *why, size_t whylen)
{
	if (len == 1 && *w == '*') {
		c->m = M_ANY;
		return 0;
	}
	if (len == 1 && *w == '-') {
		c->m = M_ABSENT;
		return 0;
	}
	if (len >= MAX_VALUE) {
		snprintf(why, whylen, "%s '%.*s...' is longer than %d characters", what, 20, w, MAX_VALUE - 1);
		return -EINVAL;
	}
	c->m = M_VALUE;
	memcpy(c->v, w, len);
	c->v[len] = '\0';
	return 0;
}

static const char *next_word(const char **p, const char *end, size_t *ret_len)
{
	const char *w = agw_table_word(p, end, ret_len);
	return w && *w != '#' ? w : NULL; /* a word starting with # begins a comment */
}

static int parse_line(void *arg, const char *b, const char *e, char *why, size_t whylen)
{
	struct agw_gb_event_table *t = arg;
	const char *w[5];
	size_t len[5];
	size_t n = 0;
	const char *p = b;
	while (n < 5 && (w[n] = next_word(&p, e, &len[n])))
		n++;
	if (n == 0)
		return 0;
	if (n < 3 || n > 4) {
		snprintf(why, whylen, "expected 'METHOD TYPE [EVENTTYPE] KIND', got %zu word%s", n, n == 1 ? "" : "s");
		return -EINVAL;
	}
	struct rule r;
	memset(&r, 0, sizeof(r));
	char kind_name[32];
	snprintf(kind_name, sizeof(kind_name), "%.*s", (int)(len[n - 1] > 31 ? 31 : len[n - 1]), w[n - 1]);
	if (agw_alert_kind_parse(kind_name, &r.kind) < 0 || r.kind == AGW_KIND_CAMERA_OFFLINE ||
	    r.kind == AGW_KIND_EVENT_CHANNEL_LOST || r.kind == AGW_KIND_EVENTS_LOST) {
		snprintf(why, whylen, "unknown kind '%s'", kind_name);
		return -EINVAL;
	}
	if (set_cell(&r.method, w[0], len[0], "AlarmMethod", why, whylen) < 0 ||
	    set_cell(&r.type, w[1], len[1], "AlarmType", why, whylen) < 0 ||
	    (n == 4 && set_cell(&r.event, w[2], len[2], "EventType", why, whylen) < 0))
		return -EINVAL;
	if (r.method.m == M_ABSENT) {
		snprintf(why, whylen, "AlarmMethod '-' would never match: an alarm without one has nothing to look up");
		return -EINVAL;
	}
	struct rule *v = realloc(t->rules, (t->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->rules = v;
	v[t->n++] = r;
	return 0;
}

int agw_gb_event_table_parse(const char *text, size_t len, const char *origin,
			     const struct agw_gb_event_table *fallback, struct agw_gb_event_table **ret, char *err,
			     size_t errlen)
{
	struct agw_gb_event_table *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "%s: out of memory", origin);
		return -ENOMEM;
	}
	t->fallback = fallback;
	int rc = agw_table_lines(text, len, origin, parse_line, t, err, errlen);
	if (rc < 0) {
		table_free(t);
		return rc;
	}
	*ret = t;
	return 0;
}

static struct agw_gb_event_table *default_table;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
	char err[256];
	/* The text is part of the build and a unit test parses it: failing here is a build bug, and
	 * an empty table still gives every alarm kind "other" without losing it. */
	if (agw_gb_event_table_parse(agw_gb_events_data, agw_gb_events_data_size, "gb28181-events.conf", NULL,
				     &default_table, err, sizeof(err)) < 0)
		default_table = calloc(1, sizeof(*default_table));
}

const struct agw_gb_event_table *agw_gb_event_table_default(void)
{
	pthread_once(&default_once, default_init);
	return default_table;
}

int agw_gb_event_table_load(const char *path, struct agw_gb_event_table **ret, char *err, size_t errlen)
{
	char *buf;
	size_t n;
	int rc = agw_table_file_read(path, &buf, &n, err, errlen);
	if (rc < 0)
		return rc;
	rc = agw_gb_event_table_parse(buf, n, path, agw_gb_event_table_default(), ret, err, errlen);
	free(buf);
	return rc;
}

void agw_gb_event_table_free(struct agw_gb_event_table *t)
{
	if (!t || t == default_table)
		return;
	table_free(t);
}
