/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Flattening vendor JSON into items (rules in vendor_json.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/vendor_json.h"

#define MAX_DEPTH 16
#define MAX_PATH 256
#define MAX_JOINED 4096

bool agw_vendor_json_scalar(const json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, len, "%s", json_string_value(v));
		return true;
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return true;
	case JSON_REAL:
		snprintf(buf, len, "%.15g", json_real_value(v));
		return true;
	case JSON_TRUE:
		snprintf(buf, len, "true");
		return true;
	case JSON_FALSE:
		snprintf(buf, len, "false");
		return true;
	case JSON_NULL:
		if (len)
			buf[0] = '\0';
		return true;
	default:
		return false;
	}
}

struct flat {
	struct agw_items *items;
	size_t max, dropped;
};

static int add(struct flat *f, const char *name, const char *value)
{
	if (f->items->n >= f->max) {
		f->dropped++;
		return 0;
	}
	return agw_items_add(f->items, name, value);
}

static bool all_scalars(const json_t *a)
{
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e)
		if (json_is_object(e) || json_is_array(e))
			return false;
	return true;
}

static int walk(struct flat *f, const json_t *v, char *path, size_t plen, int depth, bool (*skip)(const char *, void *),
		void *skip_arg)
{
	char text[MAX_JOINED];
	if (depth > MAX_DEPTH) {
		f->dropped++;
		return 0;
	}
	if (agw_vendor_json_scalar(v, text, sizeof(text)))
		return add(f, path, text);
	if (json_is_array(v) && all_scalars(v)) {
		size_t i, n = 0;
		json_t *e;
		text[0] = '\0';
		json_array_foreach(v, i, e) {
			char one[256];
			agw_vendor_json_scalar(e, one, sizeof(one));
			int w = snprintf(text + n, sizeof(text) - n, "%s%s", i ? "," : "", one);
			if (w < 0 || (size_t)w >= sizeof(text) - n)
				break;
			n += (size_t)w;
		}
		return add(f, path, text);
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			int w = snprintf(path + plen, MAX_PATH - plen, "[%zu]", i);
			if (w < 0 || (size_t)w >= MAX_PATH - plen) {
				f->dropped++;
				continue;
			}
			int rc = walk(f, e, path, plen + (size_t)w, depth + 1, NULL, NULL);
			if (rc < 0)
				return rc;
		}
		path[plen] = '\0';
		return 0;
	}
	const char *key;
	json_t *e;
	json_object_foreach((json_t *)v, key, e) {
		if (skip && skip(key, skip_arg))
			continue;
		int w = snprintf(path + plen, MAX_PATH - plen, "%s%s", plen ? "." : "", key);
		if (w < 0 || (size_t)w >= MAX_PATH - plen) {
			f->dropped++;
			continue;
		}
		int rc = walk(f, e, path, plen + (size_t)w, depth + 1, NULL, NULL);
		if (rc < 0)
			return rc;
	}
	path[plen] = '\0';
	return 0;
}

int agw_vendor_json_flatten(const json_t *v, const char *prefix, bool (*skip)(const char *name, void *arg),
			    void *skip_arg, struct agw_items *items, size_t max_items, size_t *ret_dropped)
{
	char path[MAX_PATH];
	snprintf(path, sizeof(path), "%s", prefix ? prefix : "");
	struct flat f = {.items = items, .max = max_items};
	int rc = walk(&f, v, path, strlen(path), 0, skip, skip_arg);
	if (ret_dropped)
		*ret_dropped += f.dropped;
	return rc;
}
