/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dahua event text (dahua_event.h). An event runs from a line that starts with "Code=" to the
 * next such line outside the data JSON's braces, so a JSON value over many lines stays whole. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dahua_event.h"
#include "alarmgw/vendor_json.h"

#define MAX_UTC_SECONDS 8589934591LL /* year 2242: anything later is not a clock */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);
	return n >= pl && !memcmp(s, prefix, pl);
}

/* End of the event that starts at text[start]: the next line starting with "Code=" (after white
 * space) while outside braces and strings, or len. Counts the newlines it passes. */
static size_t event_end(const char *text, size_t len, size_t start, unsigned *lines)
{
	int depth = 0;
	bool in_str = false, esc = false;
	for (size_t i = start; i < len; i++) {
		char c = text[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			if (c == '\n')
				(*lines)++;
			continue;
		}
		if (c == '"' && depth > 0)
			in_str = true;
		else if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && depth > 0)
			depth--;
		else if (c == '\n') {
			(*lines)++;
			size_t j = i + 1;
			while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r'))
				j++;
			if (depth == 0 && starts_with(text + j, len - j, "Code="))
				return i + 1;
		}
	}
	return len;
}

static bool parse_index(const char *s, size_t n, long *ret)
{
	if (n == 0 || n > 6)
		return false;
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

struct skip_utc {
	bool utc, utcms;
};

static bool skip_member(const char *name, void *arg)
{
	const struct skip_utc *k = arg;
	return (k->utc && !strcmp(name, "UTC")) || (k->utcms && !strcmp(name, "UTCMS"));
}

/* camera time from data.UTC (+ UTCMS). */
static void data_time(const json_t *o, struct agw_alert *a, struct skip_utc *skip)
{
	const json_t *utc = json_object_get(o, "UTC");
	double secs;
	if (json_is_integer(utc))
		secs = (double)json_integer_value(utc);
	else if (json_is_real(utc))
		secs = json_real_value(utc);
	else
		return;
	if (!(secs > 0 && secs <= (double)MAX_UTC_SECONDS))
		return;
	a->camera_time_ms = (int64_t)secs * 1000;
	skip->utc = true;
	const json_t *ms = json_object_get(o, "UTCMS");
	if (json_is_integer(ms) && json_integer_value(ms) >= 0 && json_integer_value(ms) < 1000) {
		a->camera_time_ms += json_integer_value(ms);
		skip->utcms = true;
	}
}

static int add_n(struct agw_items *items, const char *k, size_t kn, const char *v, size_t vn)
{
	char *name = strndup(k, kn), *value = strndup(v, vn);
	int rc = name && value ? agw_items_add(items, name, value) : -ENOMEM;
	free(name);
	free(value);
	return rc;
}

/* One event's text [s, s+n) into *a. Returns 0, -ENOMEM, or -EINVAL with why (the alert is then
 * still usable when *ret_usable: the data JSON was bad, kept as text). */
/* The data={...} value: its JSON flattened into the alert's data items (its UTC time read on the
 * way), or the text as one item. -EINVAL (why set) when it looked like JSON and was not: the alert
 * keeps the text and is still usable. */
static int read_data(struct agw_alert *a, const char *v, size_t vn, char *why, size_t whylen)
{
	json_error_t je;
	json_t *j = vn && *v == '{' ? json_loadb(v, vn, 0, &je) : NULL;
	if (!j) {
		int rc = add_n(&a->data, "data", 4, v, vn);
		if (rc < 0)
			return rc;
		if (vn && *v == '{') {
			snprintf(why, whylen, "data is not valid JSON (line %d of it: %.120s), kept as text", je.line,
				 je.text);
			return -EINVAL;
		}
		return 0;
	}
	struct skip_utc skip = {0};
	data_time(j, a, &skip);
	size_t dropped = 0;
	int rc = agw_vendor_json_flatten(j, NULL, skip_member, &skip, &a->data, AGW_DAHUA_MAX_ITEMS, &dropped);
	json_decref(j);
	if (rc < 0 || !dropped)
		return rc < 0 ? rc : 0;
	char num[24];
	snprintf(num, sizeof(num), "%zu", dropped);
	return agw_items_add(&a->data, "items_dropped", num);
}

static int parse_event(const char *s, size_t n, const struct agw_vendor_table *table, struct agw_alert *a, char *why,
		       size_t whylen, bool *ret_usable)
{
	const char *p = s, *end = s + n;
	int rc = 0;
	*ret_usable = false;
	while (p < end) {
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *semi = memchr(p, ';', (size_t)(end - p));
		if (!eq || (semi && semi < eq)) {
			const char *k = p;
			size_t kn = (size_t)((semi ? semi : end) - p);
			trim(&k, &kn);
			if (kn) {
				snprintf(why, whylen, "'%.*s' is not key=value", (int)(kn > 40 ? 40 : kn), k);
				return -EINVAL;
			}
			p = semi ? semi + 1 : end;
			continue;
		}
		const char *k = p;
		size_t kn = (size_t)(eq - p);
		trim(&k, &kn);
		bool is_data = kn == 4 && !memcmp(k, "data", 4);
		const char *v = eq + 1;
		const char *ve = is_data ? end : (semi ? semi : end);
		size_t vn = (size_t)(ve - v);
		trim(&v, &vn);
		p = ve < end ? ve + 1 : end;
		if (kn == 4 && !memcmp(k, "Code", 4)) {
			if (!vn) {
				snprintf(why, whylen, "Code is empty");
				return -EINVAL;
			}
			free(a->topic);
			if (!(a->topic = strndup(v, vn)))
				return -ENOMEM;
		} else if (kn == 6 && !memcmp(k, "action", 6)) {
			if (vn == 5 && !memcmp(v, "Start", 5))
				a->active = AGW_ACTIVE_TRUE;
			else if (vn == 4 && !memcmp(v, "Stop", 4))
				a->active = AGW_ACTIVE_FALSE;
			else if (!(vn == 5 && !memcmp(v, "Pulse", 5)) && (rc = add_n(&a->data, k, kn, v, vn)) < 0)
				return rc;
		} else if (kn == 5 && !memcmp(k, "index", 5)) {
			long idx;
			char ch[24];
			if (parse_index(v, vn, &idx)) {
				snprintf(ch, sizeof(ch), "%ld", idx + 1);
				if ((rc = agw_items_add(&a->source, "channel", ch)) < 0)
					return rc;
			} else if ((rc = add_n(&a->data, k, kn, v, vn)) < 0) {
				return rc;
			}
		} else if (is_data) {
			int drc = read_data(a, v, vn, why, whylen);
			if (drc == -EINVAL) {
				rc = -EINVAL; /* kept as text: the alert is still usable */
				*ret_usable = true;
			} else if (drc < 0) {
				return drc;
			}
		} else if (kn) {
			if ((rc = add_n(&a->data, k, kn, v, vn)) < 0)
				return rc;
		}
	}
	if (!a->topic) {
		snprintf(why, whylen, "no Code");
		return -EINVAL;
	}
	agw_vendor_table_kind(table, a->topic, &a->kind);
	if (!(a->payload = strndup(s, n)))
		return -ENOMEM;
	if (rc == -EINVAL)
		*ret_usable = true;
	return rc;
}

int agw_dahua_parse_part(const char *text, size_t len, const struct agw_vendor_table *table,
			 int (*fn)(void *arg, struct agw_alert *alert), void *arg, struct agw_dahua_part_info *info,
			 char *err, size_t errlen)
{
	info->heartbeats = 0;
	info->events = 0;
	if (len > AGW_DAHUA_MAX_TEXT) {
		snprintf(err, errlen, "part of %zu bytes is over the limit of %u", len, AGW_DAHUA_MAX_TEXT);
		return -EMSGSIZE;
	}
	size_t pos = 0;
	unsigned line = 1;
	int first_err = 0;
	while (pos < len) {
		while (pos < len && is_space(text[pos])) {
			if (text[pos] == '\n')
				line++;
			pos++;
		}
		if (pos >= len)
			break;
		const char *s = text + pos;
		size_t rest = len - pos;
		const char *nl = memchr(s, '\n', rest);
		size_t ll = nl ? (size_t)(nl - s) : rest;
		const char *t = s;
		size_t tn = ll;
		trim(&t, &tn);
		if (tn == 9 && !memcmp(t, "Heartbeat", 9)) {
			info->heartbeats++;
			pos += ll;
			continue;
		}
		if (!starts_with(s, rest, "Code=")) {
			if (!first_err) {
				snprintf(err, errlen, "line %u: expected 'Code=...' or 'Heartbeat', got '%.*s'", line,
					 (int)(tn > 40 ? 40 : tn), t);
				first_err = -EINVAL;
			}
			/* skip to the next event, if any */
			unsigned skipped = 0;
			size_t next = event_end(text, len, pos, &skipped);
			line += skipped;
			pos = next;
			continue;
		}
		unsigned lines = 0;
		size_t end = event_end(text, len, pos, &lines);
		struct agw_alert a;
		agw_alert_init(&a);
		char why[200] = "";
		bool usable;
		int rc = parse_event(text + pos, end - pos, table, &a, why, sizeof(why), &usable);
		if (rc == -ENOMEM) {
			agw_alert_clear(&a);
			snprintf(err, errlen, "out of memory");
			return rc;
		}
		if (rc < 0 && !first_err) {
			snprintf(err, errlen, "line %u: %s", line, why);
			first_err = rc;
		}
		if (rc == 0 || usable) {
			info->events++;
			int frc = fn ? fn(arg, &a) : 0;
			agw_alert_clear(&a);
			if (frc < 0)
				return frc;
		} else {
			agw_alert_clear(&a);
		}
		line += lines;
		pos = end;
	}
	return first_err;
}
