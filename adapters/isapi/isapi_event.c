/* SPDX-License-Identifier: GPL-2.0-or-later */
/* EventNotificationAlert documents (what the alert holds is in isapi_event.h). Both syntaxes are
 * read into the same few named fields first (type, state, time, channels), then everything else
 * is flattened into data, in document order, leaving out what the named fields consumed. */
#include <errno.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "isapi_event.h"
#include "alarmgw/vendor_json.h"

#define MAX_PATH 256
#define MAX_DEPTH 16
#define MAX_FIELD 256

/* The named fields, as text (empty when absent). */
struct fields {
	char type[MAX_FIELD];
	char state[MAX_FIELD];
	char time[MAX_FIELD];
	char channel[MAX_FIELD];
	char dyn_channel[MAX_FIELD];
	/* which of them data leaves out */
	bool skip_time, skip_channel, skip_dyn, skip_state;
};

static void copy_trimmed(char *dst, size_t len, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* A dateTime carries a zone when something follows the seconds: 'Z' or a signed offset. */
static bool has_zone(const char *t)
{
	const char *p = strchr(t, 'T');
	if (!p)
		p = strchr(t, ' ');
	if (!p)
		return false;
	for (p++; *p; p++)
		if (*p == 'Z' || *p == 'z' || *p == '+' || *p == '-')
			return true;
	return false;
}

/* Some Hikvision firmware writes a one-digit hour in the offset ("2019-02-20T15:22:34-8:00",
 * seen in a real alertStream): RFC 3339 wants two, so the zero is put back before parsing. The
 * text kept in data, when the time cannot be read, stays as the camera wrote it. */
static void time_widen_offset(const char *t, char *out, size_t len)
{
	snprintf(out, len, "%s", t);
	const char *sign = strrchr(t, '+');
	const char *minus = strrchr(t, '-');
	const char *day = strchr(t, 'T');
	if (!sign || (minus && minus > sign))
		sign = minus;
	if (!sign || !day || sign < day)
		return;
	if (sign[1] >= '0' && sign[1] <= '9' && sign[2] == ':' && strlen(sign) == 5)
		snprintf(out, len, "%.*s0%s", (int)(sign - t + 1), t, sign + 1);
}

/* Decides what the named fields consume, once they are all known. */
static void settle(struct fields *f, int64_t *ret_ms)
{
	*ret_ms = AGW_TIME_UNKNOWN;
	int64_t ms;
	char time[MAX_FIELD + 1];
	time_widen_offset(f->time, time, sizeof(time));
	if (f->time[0] && has_zone(f->time) && agw_time_parse_ms(time, &ms) == 0) {
		*ret_ms = ms;
		f->skip_time = true;
	}
	f->skip_state = !strcasecmp(f->state, "active") || !strcasecmp(f->state, "inactive") || !f->state[0];
	if (f->channel[0]) {
		f->skip_channel = true;
		f->skip_dyn = !f->dyn_channel[0];
	} else {
		f->skip_channel = true;
		f->skip_dyn = true; /* used as the channel, or empty too */
	}
}

static bool skip_field(const char *name, void *arg)
{
	const struct fields *f = arg;
	if (!strcmp(name, "eventType"))
		return true;
	if (!strcmp(name, "eventState"))
		return f->skip_state;
	if (!strcmp(name, "dateTime"))
		return f->skip_time;
	if (!strcmp(name, "channelID"))
		return f->skip_channel;
	if (!strcmp(name, "dynChannelID"))
		return f->skip_dyn;
	return false;
}

/* ---- XML ---- */

struct xml_walk {
	struct agw_items *items;
	size_t dropped;
	const struct fields *f;
};

static bool has_element_children(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

static int xml_leaf(struct xml_walk *w, const char *path, const xmlNode *n)
{
	if (w->items->n >= AGW_ISAPI_MAX_ITEMS) {
		w->dropped++;
		return 0;
	}
	xmlChar *text = xmlNodeGetContent(n);
	if (!text)
		return -ENOMEM;
	size_t len = strlen((const char *)text);
	char *v = malloc(len + 1);
	int rc = -ENOMEM;
	if (v) {
		copy_trimmed(v, len + 1, (const char *)text, len);
		rc = agw_items_add(w->items, path, v);
		free(v);
	}
	xmlFree(text);
	return rc;
}

static int xml_children(struct xml_walk *w, const xmlNode *parent, char *path, size_t plen, int depth)
{
	if (depth > MAX_DEPTH) {
		w->dropped++;
		return 0;
	}
	for (const xmlNode *c = parent->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		const char *name = (const char *)c->name;
		if (depth == 0 && skip_field(name, (void *)w->f))
			continue;
		/* repeated siblings of one name are numbered */
		size_t same = 0, index = 0;
		for (const xmlNode *s = parent->children; s; s = s->next) {
			if (s->type != XML_ELEMENT_NODE || strcmp((const char *)s->name, name) != 0)
				continue;
			if (s == c)
				index = same;
			same++;
		}
		int n = same > 1 ? snprintf(path + plen, MAX_PATH - plen, "%s%s[%zu]", plen ? "." : "", name, index)
				 : snprintf(path + plen, MAX_PATH - plen, "%s%s", plen ? "." : "", name);
		if (n < 0 || (size_t)n >= MAX_PATH - plen) {
			w->dropped++;
			continue;
		}
		int rc = has_element_children(c) ? xml_children(w, c, path, plen + (size_t)n, depth + 1)
						 : xml_leaf(w, path, c);
		path[plen] = '\0';
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void xml_field(const xmlNode *root, const char *name, char *dst, size_t len)
{
	dst[0] = '\0';
	for (const xmlNode *c = root->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name)) {
			xmlChar *t = xmlNodeGetContent(c);
			if (t) {
				copy_trimmed(dst, len, (const char *)t, strlen((const char *)t));
				xmlFree(t);
			}
			return;
		}
}

static int parse_xml(const char *doc, size_t len, struct fields *f, struct agw_alert *a, bool *ret_is_event,
		     char *err, size_t errlen)
{
	int rc = -ENOMEM;
	xmlDocPtr d = NULL;
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* no network, no entity substitution, no DTD loading: the document comes from the network */
	d = xmlCtxtReadMemory(ctxt, doc, (int)len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!d) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[160] = "not well-formed XML";
		if (e && e->message)
			copy_trimmed(msg, sizeof(msg), e->message, strlen(e->message));
		snprintf(err, errlen, "line %d: %s", e ? e->line : 1, msg);
		rc = -EINVAL;
		goto out;
	}
	if (d->intSubset || d->extSubset) {
		snprintf(err, errlen, "line 1: a document type declaration is not accepted");
		rc = -EINVAL;
		goto out;
	}
	const xmlNode *root = xmlDocGetRootElement(d);
	if (!root || strcmp((const char *)root->name, "EventNotificationAlert") != 0) {
		*ret_is_event = false;
		rc = 0;
		goto out;
	}
	*ret_is_event = true;
	xml_field(root, "eventType", f->type, sizeof(f->type));
	xml_field(root, "eventState", f->state, sizeof(f->state));
	xml_field(root, "dateTime", f->time, sizeof(f->time));
	xml_field(root, "channelID", f->channel, sizeof(f->channel));
	xml_field(root, "dynChannelID", f->dyn_channel, sizeof(f->dyn_channel));
	settle(f, &a->camera_time_ms);
	char path[MAX_PATH] = "";
	struct xml_walk w = {.items = &a->data, .f = f};
	rc = xml_children(&w, root, path, 0, 0);
	if (rc == 0 && w.dropped) {
		char n[24];
		snprintf(n, sizeof(n), "%zu", w.dropped);
		rc = agw_items_add(&a->data, "items_dropped", n);
	}
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
out:
	xmlFreeDoc(d);
	xmlFreeParserCtxt(ctxt);
	return rc;
}

/* ---- JSON ---- */

static void json_field(const json_t *o, const char *name, char *dst, size_t len)
{
	dst[0] = '\0';
	const json_t *v = json_object_get(o, name);
	char buf[MAX_FIELD];
	if (v && agw_vendor_json_scalar(v, buf, sizeof(buf)))
		copy_trimmed(dst, len, buf, strlen(buf));
}

static int parse_json(const char *doc, size_t len, struct fields *f, struct agw_alert *a, bool *ret_is_event,
		      char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		snprintf(err, errlen, "line %d: %s", je.line, je.text);
		return -EINVAL;
	}
	const json_t *o = j;
	/* some firmware wraps the document in a member named after it */
	const json_t *inner = json_object_get(j, "EventNotificationAlert");
	if (json_is_object(inner) && json_object_size(j) == 1)
		o = inner;
	if (!json_is_object(o) || !json_object_get(o, "eventType")) {
		*ret_is_event = false;
		json_decref(j);
		return 0;
	}
	*ret_is_event = true;
	json_field(o, "eventType", f->type, sizeof(f->type));
	json_field(o, "eventState", f->state, sizeof(f->state));
	json_field(o, "dateTime", f->time, sizeof(f->time));
	json_field(o, "channelID", f->channel, sizeof(f->channel));
	json_field(o, "dynChannelID", f->dyn_channel, sizeof(f->dyn_channel));
	settle(f, &a->camera_time_ms);
	size_t dropped = 0;
	int rc = agw_vendor_json_flatten(o, NULL, skip_field, f, &a->data, AGW_ISAPI_MAX_ITEMS, &dropped);
	if (rc == 0 && dropped) {
		char n[24];
		snprintf(n, sizeof(n), "%zu", dropped);
		rc = agw_items_add(&a->data, "items_dropped", n);
	}
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
	json_decref(j);
	return rc;
}

/* ---- both ---- */

static unsigned announced_pictures(const struct agw_items *data)
{
	unsigned n = 0;
	const char *how = agw_items_get(data, "detectionPictureTransType");
	const char *num = agw_items_get(data, "detectionPicturesNumber");
	if (how && num && !strcasecmp(how, "binary"))
		n = (unsigned)strtoul(num, NULL, 10);
	const char *pic = agw_items_get(data, "picNum");
	if (pic && strtoul(pic, NULL, 10) > n)
		n = (unsigned)strtoul(pic, NULL, 10);
	return n > AGW_ISAPI_MAX_PICTURES ? AGW_ISAPI_MAX_PICTURES : n;
}

static enum agw_alert_kind event_kind(const struct agw_vendor_table *t, const char *type, const struct agw_items *data)
{
	enum agw_alert_kind kind;
	agw_vendor_table_kind(t, type, &kind);
	if (strcasecmp(type, "duration") != 0)
		return kind;
	/* DurationList.Duration.relationEvent (XML) or the same path in JSON */
	for (size_t i = 0; i < data->n; i++) {
		const char *name = data->v[i].name;
		size_t len = strlen(name);
		enum agw_alert_kind rel;
		if (len >= 13 && !strcmp(name + len - 13, "relationEvent") &&
		    agw_vendor_table_kind(t, data->v[i].value, &rel) && rel != AGW_KIND_OTHER)
			return rel;
	}
	return kind;
}

int agw_isapi_parse_document(const char *doc, size_t len, const struct agw_vendor_table *table,
			     struct agw_alert *alert, struct agw_isapi_doc *info, char *err, size_t errlen)
{
	if (len > AGW_ISAPI_MAX_DOCUMENT) {
		snprintf(err, errlen, "document of %zu bytes is over the limit of %u", len, AGW_ISAPI_MAX_DOCUMENT);
		return -EMSGSIZE;
	}
	size_t i = 0;
	while (i < len && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\r' || doc[i] == '\n'))
		i++;
	/* a UTF-8 byte order mark */
	if (len - i >= 3 && !memcmp(doc + i, "\xef\xbb\xbf", 3))
		i += 3;
	struct fields *f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	bool is_event = false;
	int rc;
	if (i < len && doc[i] == '<') {
		rc = parse_xml(doc, len, f, alert, &is_event, err, errlen);
	} else if (i < len && (doc[i] == '{' || doc[i] == '[')) {
		rc = parse_json(doc, len, f, alert, &is_event, err, errlen);
	} else {
		snprintf(err, errlen, "neither XML nor JSON");
		rc = -EINVAL;
	}
	if (rc < 0)
		goto fail;
	info->pictures = 0;
	if (!is_event) {
		info->kind = AGW_ISAPI_DOC_OTHER;
		agw_alert_clear(alert);
		goto out;
	}
	if (!f->type[0]) {
		snprintf(err, errlen, "EventNotificationAlert without an eventType");
		rc = -EINVAL;
		goto fail;
	}
	if (!strcasecmp(f->type, "videoloss") && !strcasecmp(f->state, "inactive")) {
		info->kind = AGW_ISAPI_DOC_HEARTBEAT;
		agw_alert_clear(alert);
		goto out;
	}
	info->kind = AGW_ISAPI_DOC_EVENT;
	info->pictures = announced_pictures(&alert->data);
	rc = -ENOMEM;
	if (!(alert->topic = strdup(f->type)))
		goto fail;
	alert->kind = event_kind(table, f->type, &alert->data);
	alert->active = !strcasecmp(f->state, "active")	    ? AGW_ACTIVE_TRUE
			: !strcasecmp(f->state, "inactive") ? AGW_ACTIVE_FALSE
							    : AGW_ACTIVE_NONE;
	const char *channel = f->channel[0] ? f->channel : f->dyn_channel;
	if (channel[0] && agw_items_add(&alert->source, "channel", channel) < 0)
		goto fail;
	if (!(alert->payload = strndup(doc, len)))
		goto fail;
	rc = 0;
	goto out;
fail:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	agw_alert_clear(alert);
out:
	free(f);
	return rc;
}
