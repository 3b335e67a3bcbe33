/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MANSCDP parsing with libxml2 (see gb_manscdp.h). No DTD, no entities, no network: the standard
 * has none, so a document that brings one is refused before libxml2 sees it. At the end, a
 * Catalog answer's items as channel records. */
#include <ctype.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "gb_manscdp.h"

#define MAX_DEPTH 8      /* below the root; MANSCDP nests three or four deep */
#define MAX_PATH 256
#define MAX_DOC (1u << 20)

static const struct {
	const char *name;
	enum agw_gb_cmd cmd;
} cmds[] = {
	{"Alarm", AGW_GB_CMD_ALARM},
	{"Keepalive", AGW_GB_CMD_KEEPALIVE},
	{"Catalog", AGW_GB_CMD_CATALOG},
	{"DeviceStatus", AGW_GB_CMD_DEVICE_STATUS},
	{"DeviceInfo", AGW_GB_CMD_DEVICE_INFO},
	{"DeviceControl", AGW_GB_CMD_DEVICE_CONTROL},
	{"MobilePosition", AGW_GB_CMD_MOBILE_POSITION},
};

const char *agw_gb_cmd_name(enum agw_gb_cmd cmd)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].cmd == cmd)
			return cmds[i].name;
	return "other";
}

static enum agw_gb_root root_of(const char *name)
{
	if (!strcasecmp(name, "Notify"))
		return AGW_GB_ROOT_NOTIFY;
	if (!strcasecmp(name, "Query"))
		return AGW_GB_ROOT_QUERY;
	if (!strcasecmp(name, "Response"))
		return AGW_GB_ROOT_RESPONSE;
	if (!strcasecmp(name, "Control"))
		return AGW_GB_ROOT_CONTROL;
	return AGW_GB_ROOT_OTHER;
}

static const char *items_find(const struct agw_items *items, const char *path)
{
	for (size_t i = 0; i < items->n; i++)
		if (!strcasecmp(items->v[i].name, path))
			return items->v[i].value;
	return NULL;
}

const char *agw_gb_doc_get(const struct agw_gb_doc *d, const char *path)
{
	return items_find(&d->fields, path);
}

const char *agw_gb_item_get(const struct agw_gb_item *it, const char *path)
{
	return items_find(&it->fields, path);
}

void agw_gb_doc_clear(struct agw_gb_doc *d)
{
	free(d->root_name);
	free(d->cmd_type);
	free(d->sn);
	free(d->device_id);
	agw_items_clear(&d->fields);
	for (size_t i = 0; i < d->n_items; i++)
		agw_items_clear(&d->items[i].fields);
	free(d->items);
	memset(d, 0, sizeof(*d));
	d->list_num = -1;
}

static bool is_element(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE;
}

static bool has_element_child(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (is_element(c))
			return true;
	return false;
}

/* The text of a leaf, trimmed, as a heap string. */
static char *leaf_text(xmlNode *n)
{
	xmlChar *raw = xmlNodeGetContent(n);
	const char *s = raw ? (const char *)raw : "";
	size_t len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	while (len && isspace((unsigned char)*s))
		s++, len--;
	char *v = strndup(s, len);
	xmlFree(raw);
	return v;
}

struct walk {
	char *err;
	size_t errlen;
	size_t max;
};

/* Adds the leaves below n to items, named by their path from the element the walk started at. */
static int collect(struct walk *w, xmlNode *n, char *path, size_t plen, unsigned depth, struct agw_items *items)
{
	for (xmlNode *c = n->children; c; c = c->next) {
		if (!is_element(c))
			continue;
		size_t nlen = strlen((const char *)c->name);
		if (plen + nlen + 2 > MAX_PATH || depth > MAX_DEPTH)
			continue; /* nothing MANSCDP defines is this deep: not worth refusing an alarm for */
		size_t l = plen;
		if (l)
			path[l++] = '/';
		memcpy(path + l, c->name, nlen + 1);
		int rc;
		if (has_element_child(c)) {
			rc = collect(w, c, path, l + nlen, depth + 1, items);
		} else {
			if (items->n >= w->max) {
				snprintf(w->err, w->errlen, "line %ld: more than %zu fields", xmlGetLineNo(c), w->max);
				return -E2BIG;
			}
			char *v = leaf_text(c);
			rc = v ? agw_items_add(items, path, v) : -ENOMEM;
			free(v);
			if (rc == -ENOMEM)
				snprintf(w->err, w->errlen, "out of memory");
		}
		path[plen] = '\0';
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int read_device_list(struct walk *w, xmlNode *list, struct agw_gb_doc *d)
{
	xmlChar *num = xmlGetProp(list, (const xmlChar *)"Num");
	if (!num)
		num = xmlGetProp(list, (const xmlChar *)"num");
	if (num) {
		char *end;
		long v = strtol((const char *)num, &end, 10);
		d->list_num = end != (char *)num && *end == '\0' && v >= 0 ? v : -1;
		xmlFree(num);
	}
	for (xmlNode *c = list->children; c; c = c->next) {
		if (!is_element(c) || strcasecmp((const char *)c->name, "Item") != 0)
			continue;
		if (d->n_items >= AGW_GB_MAX_ITEMS) {
			snprintf(w->err, w->errlen, "line %ld: more than %d DeviceList items", xmlGetLineNo(c),
				 AGW_GB_MAX_ITEMS);
			return -E2BIG;
		}
		struct agw_gb_item *v = realloc(d->items, (d->n_items + 1) * sizeof(*v));
		if (!v) {
			snprintf(w->err, w->errlen, "out of memory");
			return -ENOMEM;
		}
		d->items = v;
		struct agw_gb_item *it = &v[d->n_items++];
		memset(it, 0, sizeof(*it));
		char path[MAX_PATH] = "";
		struct walk iw = {w->err, w->errlen, AGW_GB_MAX_ITEM_FIELDS};
		int rc = collect(&iw, c, path, 0, 1, &it->fields);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int read_root(struct walk *w, xmlNode *root, struct agw_gb_doc *d)
{
	char path[MAX_PATH];
	for (xmlNode *c = root->children; c; c = c->next) {
		if (!is_element(c))
			continue;
		int rc;
		if (!strcasecmp((const char *)c->name, "DeviceList")) {
			rc = read_device_list(w, c, d);
		} else {
			struct agw_items *fields = &d->fields;
			size_t nlen = strlen((const char *)c->name);
			if (nlen + 1 > MAX_PATH)
				continue;
			memcpy(path, c->name, nlen + 1);
			if (has_element_child(c)) {
				rc = collect(w, c, path, nlen, 2, fields);
			} else if (fields->n >= w->max) {
				snprintf(w->err, w->errlen, "line %ld: more than %zu fields", xmlGetLineNo(c), w->max);
				rc = -E2BIG;
			} else {
				char *v = leaf_text(c);
				rc = v ? agw_items_add(fields, path, v) : -ENOMEM;
				free(v);
				if (rc == -ENOMEM)
					snprintf(w->err, w->errlen, "out of memory");
			}
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A DOCTYPE could declare entities; MANSCDP has none. Returns the line of one, or 0. */
static long doctype_line(const char *s, size_t len)
{
	long line = 1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			line++;
		else if (s[i] == '<' && len - i >= 9 && s[i + 1] == '!' &&
			 (!strncasecmp(s + i + 2, "DOCTYPE", 7) || !strncasecmp(s + i + 2, "ENTITY", 6)))
			return line;
	}
	return 0;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

int agw_gb_manscdp_parse(const char *utf8, size_t len, struct agw_gb_doc *ret, char *err, size_t errlen)
{
	struct agw_gb_doc d;
	memset(&d, 0, sizeof(d));
	d.list_num = -1;
	if (len > MAX_DOC) {
		snprintf(err, errlen, "line 1: document of %zu bytes, larger than the limit of %u", len, MAX_DOC);
		return -EMSGSIZE;
	}
	long dl = doctype_line(utf8, len);
	if (dl) {
		snprintf(err, errlen, "line %ld: a DOCTYPE or ENTITY declaration (MANSCDP has none)", dl);
		return -EINVAL;
	}
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = 0;
	xmlDocPtr doc = xmlCtxtReadMemory(ctxt, utf8, (int)len, NULL, "UTF-8",
					  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (!doc || !ctxt->wellFormed) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[160] = "not well-formed";
		if (e && e->message) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			size_t n = strlen(msg);
			while (n && isspace((unsigned char)msg[n - 1]))
				msg[--n] = '\0';
		}
		snprintf(err, errlen, "line %d: XML: %s", e && e->line > 0 ? e->line : 1, msg);
		rc = -EINVAL;
		goto out;
	}
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!root) {
		snprintf(err, errlen, "line 1: no root element");
		rc = -EINVAL;
		goto out;
	}
	d.root = root_of((const char *)root->name);
	struct walk w = {err, errlen, AGW_GB_MAX_FIELDS};
	if (!(d.root_name = strdup((const char *)root->name))) {
		rc = -ENOMEM;
		goto nomem;
	}
	rc = read_root(&w, root, &d);
	if (rc < 0)
		goto out;
	const char *cmd = agw_gb_doc_get(&d, "CmdType");
	if (!cmd || !*cmd) {
		snprintf(err, errlen, "line %ld: <%s> has no CmdType", xmlGetLineNo(root), d.root_name);
		rc = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcasecmp(cmd, cmds[i].name))
			d.cmd = cmds[i].cmd;
	if (!(d.cmd_type = strdup(cmd)) || !(d.sn = dup_or_empty(agw_gb_doc_get(&d, "SN"))) ||
	    !(d.device_id = dup_or_empty(agw_gb_doc_get(&d, "DeviceID")))) {
		rc = -ENOMEM;
		goto nomem;
	}
	*ret = d;
	memset(&d, 0, sizeof(d));
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	agw_gb_doc_clear(&d);
	if (doc)
		xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return rc;
}

/* ---- Catalog items to channel records (see gb_manscdp.h). Everything here is device input:
 * every text is cut to a bound (at a UTF-8 character boundary), every number range-checked. ---- */
#define MAX_SUM 1000000L /* SumNum at most */

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
