/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The vendor event table: "TYPE KIND" lines (see isapi-events.conf). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/table_text.h"
#include "alarmgw/vendor_table.h"

#define MAX_TYPE 128

struct vendor_rule {
	char *type;
	size_t len;
	bool prefix; /* written with a trailing '*' */
	enum agw_alert_kind kind;
};

struct agw_vendor_table {
	struct vendor_rule *rules;
	size_t n;
	const struct agw_vendor_table *fallback;
};

void agw_vendor_table_free(struct agw_vendor_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->rules[i].type);
	free(t->rules);
	free(t);
}

bool agw_vendor_table_kind(const struct agw_vendor_table *t, const char *type, enum agw_alert_kind *ret_kind)
{
	size_t len = type ? strlen(type) : 0;
	for (; t && len && len <= MAX_TYPE; t = t->fallback)
		for (size_t i = 0; i < t->n; i++) {
			const struct vendor_rule *r = &t->rules[i];
			if (r->prefix ? (len >= r->len && !strncasecmp(type, r->type, r->len))
				      : (len == r->len && !strcasecmp(type, r->type))) {
				*ret_kind = r->kind;
				return true;
			}
		}
	*ret_kind = AGW_KIND_OTHER;
	return false;
}

size_t agw_vendor_table_size(const struct agw_vendor_table *t)
{
	size_t n = 0;
	for (; t; t = t->fallback)
		n += t->n;
	return n;
}

static int parse_line(void *arg, const char *b, const char *e, char *why, size_t whylen)
{
	struct agw_vendor_table *t = arg;
	const char *p = b;
	size_t len, klen, xlen;
	const char *w = agw_table_word(&p, e, &len);
	if (!w || *w == '#')
		return 0;
	const char *k = agw_table_word(&p, e, &klen);
	if (!k || *k == '#') {
		snprintf(why, whylen, "expected 'TYPE KIND', got only '%.*s'", (int)(len > 80 ? 80 : len), w);
		return -EINVAL;
	}
	const char *x = agw_table_word(&p, e, &xlen);
	if (x && *x != '#') {
		snprintf(why, whylen, "unexpected '%.*s' after the kind", (int)(xlen > 80 ? 80 : xlen), x);
		return -EINVAL;
	}
	bool prefix = w[len - 1] == '*';
	if (len - prefix == 0 || len > MAX_TYPE) {
		snprintf(why, whylen, "bad event type '%.*s'", (int)(len > 80 ? 80 : len), w);
		return -EINVAL;
	}
	char kind_name[64];
	snprintf(kind_name, sizeof(kind_name), "%.*s", (int)(klen > 63 ? 63 : klen), k);
	enum agw_alert_kind kind;
	/* the gateway's own kinds are not vendor events */
	if (agw_alert_kind_parse(kind_name, &kind) < 0 || kind == AGW_KIND_CAMERA_OFFLINE ||
	    kind == AGW_KIND_EVENT_CHANNEL_LOST || kind == AGW_KIND_EVENTS_LOST) {
		snprintf(why, whylen, "unknown kind '%s'", kind_name);
		return -EINVAL;
	}
	struct vendor_rule *v = realloc(t->rules, (t->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->rules = v;
	struct vendor_rule *r = &v[t->n];
	r->len = len - prefix;
	r->prefix = prefix;
	r->kind = kind;
	if (!(r->type = strndup(w, r->len)))
		return -ENOMEM;
	t->n++;
	return 0;
}

int agw_vendor_table_parse(const char *text, size_t len, const char *origin, const struct agw_vendor_table *fallback,
			   struct agw_vendor_table **ret, char *err, size_t errlen)
{
	struct agw_vendor_table *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fallback = fallback;
	int rc = agw_table_lines(text, len, origin, parse_line, t, err, errlen);
	if (rc < 0) {
		agw_vendor_table_free(t);
		return rc;
	}
	*ret = t;
	return 0;
}

int agw_vendor_table_load(const char *path, const struct agw_vendor_table *fallback, struct agw_vendor_table **ret,
			  char *err, size_t errlen)
{
	char *buf;
	size_t n;
	int rc = agw_table_file_read(path, &buf, &n, err, errlen);
	if (rc < 0)
		return rc;
	rc = agw_vendor_table_parse(buf, n, path, fallback, ret, err, errlen);
	free(buf);
	return rc;
}
