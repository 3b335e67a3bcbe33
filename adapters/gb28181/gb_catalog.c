/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Catalog items to channel records (see gb_manscdp.h). Everything here is device input: every
 * text is cut to a bound (at a UTF-8 character boundary), every number range-checked. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gb_manscdp.h"

#define MAX_SUM 1000000L

static bool is_gb_id(const char *s)
{
	if (!s || strlen(s) != 20)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* A copy of at most AGW_GB_CHANNEL_TEXT_MAX bytes, not cutting a UTF-8 sequence; NULL for NULL
 * or "" (and on allocation failure: *ok turns false). */
static char *bounded(const char *s, bool *ok)
{
	if (!s || !*s)
		return NULL;
	size_t n = strlen(s);
	if (n > AGW_GB_CHANNEL_TEXT_MAX) {
		n = AGW_GB_CHANNEL_TEXT_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--; /* s[n] continues a character: cut before that character */
	}
	char *v = strndup(s, n);
	if (!v)
		*ok = false;
	return v;
}

static double coordinate(const char *s, double limit)
{
	if (!s || !*s)
		return NAN;
	char *end;
	double v = strtod(s, &end);
	while (*end && isspace((unsigned char)*end))
		end++;
	if (*end || !isfinite(v) || fabs(v) > limit)
		return NAN;
	return v;
}

void agw_gb_channel_clear(struct agw_gb_channel *c)
{
	free(c->name);
	free(c->manufacturer);
	free(c->model);
	free(c->status);
	free(c->parent_id);
	free(c->civil_code);
	memset(c, 0, sizeof(*c));
	c->lon = c->lat = NAN;
}

void agw_gb_channels_free(struct agw_gb_channel *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		agw_gb_channel_clear(&v[i]);
	free(v);
}

static bool item_read(const struct agw_gb_item *it, const char *device, struct agw_gb_channel *c)
{
	bool ok = true;
	snprintf(c->id, sizeof(c->id), "%s", agw_gb_item_get(it, "DeviceID"));
	snprintf(c->device, sizeof(c->device), "%s", device);
	c->name = bounded(agw_gb_item_get(it, "Name"), &ok);
	c->manufacturer = bounded(agw_gb_item_get(it, "Manufacturer"), &ok);
	c->model = bounded(agw_gb_item_get(it, "Model"), &ok);
	c->status = bounded(agw_gb_item_get(it, "Status"), &ok);
	c->parent_id = bounded(agw_gb_item_get(it, "ParentID"), &ok);
	c->civil_code = bounded(agw_gb_item_get(it, "CivilCode"), &ok);
	c->lon = coordinate(agw_gb_item_get(it, "Longitude"), 180.0);
	c->lat = coordinate(agw_gb_item_get(it, "Latitude"), 90.0);
	if (isnan(c->lon) || isnan(c->lat) || (c->lon == 0.0 && c->lat == 0.0))
		c->lon = c->lat = NAN;
	return ok;
}

int agw_gb_catalog_read(const struct agw_gb_doc *doc, const char *device, struct agw_gb_channel **ret,
			size_t *ret_skipped)
{
	if (doc->root != AGW_GB_ROOT_RESPONSE || doc->cmd != AGW_GB_CMD_CATALOG)
		return -EINVAL;
	struct agw_gb_channel *v = doc->n_items ? calloc(doc->n_items, sizeof(*v)) : NULL;
	if (doc->n_items && !v)
		return -ENOMEM;
	size_t n = 0, skipped = 0;
	int rc = 0;
	for (size_t i = 0; i < doc->n_items; i++) {
		const char *id = agw_gb_item_get(&doc->items[i], "DeviceID");
		if (!is_gb_id(id)) {
			skipped++;
			continue;
		}
		agw_gb_channel_clear(&v[n]);
		bool ok = item_read(&doc->items[i], device, &v[n]);
		n++;
		if (!ok) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (n == 0) {
		free(v);
		v = NULL;
	}
	*ret = v;
	*ret_skipped = skipped;
	return (int)n;
fail:
	agw_gb_channels_free(v, n);
	return rc;
}

long agw_gb_catalog_sum(const struct agw_gb_doc *doc)
{
	const char *s = agw_gb_doc_get(doc, "SumNum");
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	char *end;
	long v = strtol(s, &end, 10);
	return *end || v > MAX_SUM ? -1 : v;
}

static void set_text(json_t *o, const char *name, const char *v)
{
	if (v)
		json_object_set_new(o, name, json_string(v));
}

char *agw_gb_channel_json(const struct agw_gb_channel *c, int64_t first_alarm_ms)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	set_text(o, "device", c->device);
	set_text(o, "name", c->name);
	set_text(o, "manufacturer", c->manufacturer);
	set_text(o, "model", c->model);
	set_text(o, "status", c->status);
	set_text(o, "parent_id", c->parent_id);
	set_text(o, "civil_code", c->civil_code);
	if (!isnan(c->lon)) {
		json_object_set_new(o, "longitude", json_real(c->lon));
		json_object_set_new(o, "latitude", json_real(c->lat));
	}
	if (first_alarm_ms > 0)
		json_object_set_new(o, "first_unmatched_alarm_ms", json_integer(first_alarm_ms));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}
