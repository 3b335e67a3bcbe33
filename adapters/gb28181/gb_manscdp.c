/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MANSCDP parsing with libxml2 (see gb_manscdp.h). No DTD, no entities, no network: the standard
 * has none, so a document that brings one is refused before libxml2 sees it. */
#include <ctype.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
