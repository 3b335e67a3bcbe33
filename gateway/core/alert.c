/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The normalized alert: names, copies, and its JSON form. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alarmgw/alert.h"
#include "alarmgw/json_writer.h"

static const char *const kind_names[] = {
#define AGW_KIND_NAME(sym, str) [AGW_KIND_##sym] = str,
	AGW_ALERT_KINDS(AGW_KIND_NAME)
#undef AGW_KIND_NAME
};

const char *agw_alert_kind_name(enum agw_alert_kind kind)
{
	return (unsigned)kind < AGW_KIND__COUNT ? kind_names[kind] : "other";
}

int agw_alert_kind_parse(const char *name, enum agw_alert_kind *ret_kind)
{
	for (int k = 0; name && k < AGW_KIND__COUNT; k++)
		if (strcmp(name, kind_names[k]) == 0) {
			*ret_kind = (enum agw_alert_kind)k;
			return 0;
		}
	return -EINVAL;
}

static const char *const op_names[] = {
	[AGW_OP_NONE] = NULL,
	[AGW_OP_INITIALIZED] = "Initialized",
	[AGW_OP_CHANGED] = "Changed",
	[AGW_OP_DELETED] = "Deleted",
};

const char *agw_operation_name(enum agw_operation op)
{
	return (unsigned)op <= AGW_OP_DELETED ? op_names[op] : NULL;
}

int agw_operation_parse(const char *name, enum agw_operation *ret_op)
{
	for (int o = AGW_OP_INITIALIZED; name && o <= AGW_OP_DELETED; o++)
		if (strcmp(name, op_names[o]) == 0) {
			*ret_op = (enum agw_operation)o;
			return 0;
		}
	return -EINVAL;
}

void agw_alert_init(struct agw_alert *a)
{
	memset(a, 0, sizeof(*a));
	a->camera_time_ms = AGW_TIME_UNKNOWN;
}

void agw_items_clear(struct agw_items *items)
{
	for (size_t i = 0; i < items->n; i++) {
		free(items->v[i].name);
		free(items->v[i].value);
	}
	free(items->v);
	items->v = NULL;
	items->n = 0;
}

int agw_items_add(struct agw_items *items, const char *name, const char *value)
{
	struct agw_item *v = realloc(items->v, (items->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	items->v = v;
	char *n = strdup(name ? name : ""), *val = strdup(value ? value : "");
	if (!n || !val) {
		free(n);
		free(val);
		return -ENOMEM;
	}
	v[items->n++] = (struct agw_item){n, val};
	return 0;
}

const char *agw_items_get(const struct agw_items *items, const char *name)
{
	for (size_t i = 0; i < items->n; i++)
		if (strcmp(items->v[i].name, name) == 0)
			return items->v[i].value;
	return NULL;
}

void agw_alert_clear(struct agw_alert *a)
{
	free(a->camera_id);
	free(a->adapter);
	free(a->topic);
	free(a->event_id);
	free(a->payload);
	agw_items_clear(&a->source);
	agw_items_clear(&a->key);
	agw_items_clear(&a->data);
	agw_alert_init(a);
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static int items_copy(struct agw_items *dst, const struct agw_items *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (agw_items_add(dst, src->v[i].name, src->v[i].value) < 0)
			return -ENOMEM;
	return 0;
}

int agw_alert_copy(struct agw_alert *dst, const struct agw_alert *src)
{
	struct agw_alert c = *src;
	c.camera_id = c.adapter = c.topic = c.event_id = c.payload = NULL;
	c.source = c.key = c.data = (struct agw_items){0};
	if (dup_opt(&c.camera_id, src->camera_id) < 0 || dup_opt(&c.adapter, src->adapter) < 0 ||
	    dup_opt(&c.topic, src->topic) < 0 || dup_opt(&c.event_id, src->event_id) < 0 ||
	    dup_opt(&c.payload, src->payload) < 0 || items_copy(&c.source, &src->source) < 0 ||
	    items_copy(&c.key, &src->key) < 0 || items_copy(&c.data, &src->data) < 0) {
		agw_alert_clear(&c);
		return -ENOMEM;
	}
	*dst = c;
	return 0;
}

/* ---- JSON ---- */

/* Items with the same name more than once: the last value is the one kept (as a JSON object
 * read back keeps it). Items are few (a handful per alert): the quadratic look is cheaper than a map. */
static void items_write(struct agw_jw *w, const struct agw_items *items)
{
	agw_jw_lit(w, "{");
	for (size_t i = 0; i < items->n; i++) {
		bool later = false;
		for (size_t j = i + 1; j < items->n && !later; j++)
			later = strcmp(items->v[i].name, items->v[j].name) == 0;
		if (later)
			continue;
		agw_jw_sep(w);
		agw_jw_str(w, items->v[i].name);
		agw_jw_lit(w, ":");
		agw_jw_str(w, items->v[i].value);
	}
	agw_jw_lit(w, "}");
}

int agw_alert_to_json(const struct agw_alert *a, char **ret_json)
{
	struct agw_jw w = {0};
	size_t len;
	agw_jw_lit(&w, "{");
	agw_jw_key(&w, "camera");
	agw_jw_str(&w, a->camera_id);
	agw_jw_key(&w, "adapter");
	agw_jw_str(&w, a->adapter);
	agw_jw_key(&w, "kind");
	agw_jw_str(&w, agw_alert_kind_name(a->kind));
	agw_jw_key(&w, "active");
	if (a->active == AGW_ACTIVE_NONE)
		agw_jw_lit(&w, "null");
	else
		agw_jw_bool(&w, a->active == AGW_ACTIVE_TRUE);
	agw_jw_key(&w, "operation");
	agw_jw_str(&w, agw_operation_name(a->operation));
	agw_jw_key(&w, "camera_time");
	agw_jw_time(&w, a->camera_time_ms);
	/* 0 is "not stamped yet" (the pipeline stamps it); 1970 would not parse back */
	agw_jw_key(&w, "gateway_time");
	agw_jw_time(&w, a->gateway_time_ms ? a->gateway_time_ms : AGW_TIME_UNKNOWN);
	agw_jw_key(&w, "clock_offset_ms");
	agw_jw_int(&w, a->clock_offset_ms);
	agw_jw_key(&w, "topic");
	agw_jw_str(&w, a->topic);
	agw_jw_key(&w, "id");
	agw_jw_str(&w, a->event_id);
	agw_jw_key(&w, "source");
	items_write(&w, &a->source);
	agw_jw_key(&w, "key");
	items_write(&w, &a->key);
	agw_jw_key(&w, "data");
	items_write(&w, &a->data);
	agw_jw_key(&w, "payload");
	agw_jw_str(&w, a->payload);
	agw_jw_lit(&w, "}");
	return agw_jw_finish(&w, ret_json, &len);
}

/* Reads an optional string member; a present member of another type is an error. */
static int get_str(json_t *o, const char *key, char **dst, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		snprintf(err, errlen, "\"%s\" must be a string", key);
		return -EINVAL;
	}
	*dst = strdup(json_string_value(v));
	return *dst ? 0 : -ENOMEM;
}

static int get_items(json_t *o, const char *key, struct agw_items *dst, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		snprintf(err, errlen, "\"%s\" must be an object of strings", key);
		return -EINVAL;
	}
	const char *name;
	json_t *val;
	json_object_foreach(v, name, val) {
		if (!json_is_string(val)) {
			snprintf(err, errlen, "\"%s.%s\" must be a string", key, name);
			return -EINVAL;
		}
		if (agw_items_add(dst, name, json_string_value(val)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int get_time(json_t *o, const char *key, int64_t *dst, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || agw_time_parse_ms(json_string_value(v), dst) < 0) {
		snprintf(err, errlen, "\"%s\" must be an RFC 3339 time", key);
		return -EINVAL;
	}
	return 0;
}

int agw_alert_from_json(const char *text, size_t len, struct agw_alert *ret_alert, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		snprintf(err, errlen, "invalid JSON at column %d: %s", jerr.column, jerr.text);
		return -EINVAL;
	}
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_time_ms = AGW_TIME_UNKNOWN;
	int r = -EINVAL;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "an alert must be a JSON object");
		goto out;
	}
	if ((r = get_str(o, "camera", &a.camera_id, err, errlen)) < 0 ||
	    (r = get_str(o, "adapter", &a.adapter, err, errlen)) < 0 ||
	    (r = get_str(o, "topic", &a.topic, err, errlen)) < 0 || (r = get_str(o, "id", &a.event_id, err, errlen)) < 0 ||
	    (r = get_str(o, "payload", &a.payload, err, errlen)) < 0 ||
	    (r = get_items(o, "source", &a.source, err, errlen)) < 0 ||
	    (r = get_items(o, "key", &a.key, err, errlen)) < 0 || (r = get_items(o, "data", &a.data, err, errlen)) < 0 ||
	    (r = get_time(o, "camera_time", &a.camera_time_ms, err, errlen)) < 0 ||
	    (r = get_time(o, "gateway_time", &a.gateway_time_ms, err, errlen)) < 0)
		goto out;
	r = -EINVAL;
	if (!a.camera_id || !*a.camera_id) {
		snprintf(err, errlen, "\"camera\" is required");
		goto out;
	}
	json_t *kind = json_object_get(o, "kind");
	if (!json_is_string(kind) || agw_alert_kind_parse(json_string_value(kind), &a.kind) < 0) {
		snprintf(err, errlen, "\"kind\" must be one of the alert kinds (motion, intrusion, ..., other)");
		goto out;
	}
	json_t *active = json_object_get(o, "active");
	if (!active || json_is_null(active))
		a.active = AGW_ACTIVE_NONE;
	else if (json_is_boolean(active))
		a.active = json_is_true(active) ? AGW_ACTIVE_TRUE : AGW_ACTIVE_FALSE;
	else {
		snprintf(err, errlen, "\"active\" must be true, false or null");
		goto out;
	}
	json_t *op = json_object_get(o, "operation");
	if (op && !json_is_null(op) && (!json_is_string(op) || agw_operation_parse(json_string_value(op), &a.operation) < 0)) {
		snprintf(err, errlen, "\"operation\" must be Initialized, Changed, Deleted or null");
		goto out;
	}
	json_t *off = json_object_get(o, "clock_offset_ms");
	if (off && !json_is_null(off)) {
		if (!json_is_integer(off)) {
			snprintf(err, errlen, "\"clock_offset_ms\" must be an integer");
			goto out;
		}
		a.clock_offset_ms = json_integer_value(off);
	}
	*ret_alert = a;
	json_decref(o);
	return 0;
out:
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	agw_alert_clear(&a);
	json_decref(o);
	return r;
}
