/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ONVIF notification messages -> struct agw_alert. The XML is checked for well-formedness first
 * (onvif_xmlcheck.c), then read by the gSOAP bindings: namespaces, not prefixes, decide what each
 * element is. tt:Message payloads are typed; any other payload is kept as XML text. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onvif_events.h"
#include "onvif_topics.h"
#include "onvif_normalize.h"

char *agw_onvif_dup_trimmed(const char *s)
{
	if (!s)
		return strdup("");
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

int agw_onvif_bool_parse(const char *text)
{
	static const char *const yes[] = {"true", "1", "active", "on", "yes"};
	static const char *const no[] = {"false", "0", "inactive", "off", "no"};
	if (!text)
		return -1;
	while (isspace((unsigned char)*text))
		text++;
	size_t n = strlen(text);
	while (n > 0 && isspace((unsigned char)text[n - 1]))
		n--;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strlen(yes[i]) == n && !strncasecmp(text, yes[i], n))
			return 1;
		if (strlen(no[i]) == n && !strncasecmp(text, no[i], n))
			return 0;
	}
	return -1;
}

int agw_onvif_item_add(struct agw_items *items, const char *name, const char *value)
{
	char *n = agw_onvif_dup_trimmed(name), *v = agw_onvif_dup_trimmed(value);
	int rc = n && v ? 0 : -ENOMEM;
	/* an item without a name cannot be addressed by rules: dropped from the map, still in the
	 * payload when the message is kept raw */
	if (rc == 0 && *n)
		rc = agw_items_add(items, n, v);
	free(n);
	free(v);
	return rc;
}

static int add_items(struct agw_items *items, const struct tt__ItemList *list)
{
	if (!list)
		return 0;
	for (int i = 0; i < list->__sizeSimpleItem; i++) {
		int rc = agw_onvif_item_add(items, list->SimpleItem[i].Name, list->SimpleItem[i].Value);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static enum agw_operation operation_of(const char *op)
{
	enum agw_operation ret = AGW_OP_NONE;
	if (!op)
		return AGW_OP_NONE;
	char *t = agw_onvif_dup_trimmed(op);
	if (!t)
		return AGW_OP_NONE;
	if (!strcasecmp(t, "Initialized"))
		ret = AGW_OP_INITIALIZED;
	else if (!strcasecmp(t, "Changed"))
		ret = AGW_OP_CHANGED;
	else if (!strcasecmp(t, "Deleted"))
		ret = AGW_OP_DELETED;
	free(t);
	return ret;
}

/* The state of an event is one boolean Data item. Devices name it many ways (IsMotion, State,
 * LogicalState, Failed, is_moving, on_preset, active, ...) and write it many ways (true, FALSE, 1,
 * active, OFF), so, in this order: an item the table names as a state item; else the only
 * boolean-valued item, ids and counters ("nostate" names) aside, since 0 and 1 are also numbers;
 * else, among several, the first called Is<Something>. None of these: a pulse (no state). */
static enum agw_active active_of(const struct agw_items *data, const struct agw_onvif_topic_table *table)
{
	int only = -1, only_is = -1;
	size_t n_bool = 0;
	for (size_t i = 0; i < data->n; i++) {
		const char *name = data->v[i].name;
		int b = agw_onvif_bool_parse(data->v[i].value);
		if (b < 0)
			continue;
		if (agw_onvif_topic_state_item(table, name))
			return b ? AGW_ACTIVE_TRUE : AGW_ACTIVE_FALSE;
		if (agw_onvif_topic_nostate_item(table, name))
			continue;
		n_bool++;
		only = b;
		if (only_is < 0 && !strncmp(name, "Is", 2) && isupper((unsigned char)name[2]))
			only_is = b;
	}
	int b = n_bool == 1 ? only : only_is;
	if (b < 0)
		return AGW_ACTIVE_NONE;
	return b ? AGW_ACTIVE_TRUE : AGW_ACTIVE_FALSE;
}

static const char *find_item(const struct agw_items *items, const char *name)
{
	for (size_t i = 0; i < items->n; i++)
		if (!strcasecmp(items->v[i].name, name))
			return items->v[i].value;
	return NULL;
}

/* Writes a parsed tt:Message back as XML (for kind "other" and ElementItems, so nothing of an
 * unknown event is lost). Uses the same context: nothing it read is freed. */
static char *message_xml(struct soap *soap, struct _tt__Message *msg)
{
	const char *out = NULL;
	const char **saved_os = soap->os;
	soap->os = &out;
	soap_set_omode(soap, SOAP_ENC_PLAIN | SOAP_XML_CANONICAL);
	int rc = soap_write__tt__Message(soap, msg);
	soap_clr_omode(soap, SOAP_ENC_PLAIN | SOAP_XML_CANONICAL);
	soap->os = saved_os;
	if (rc != SOAP_OK || !out)
		return NULL;
	/* drop the XML declaration gSOAP writes in front */
	const char *p = out;
	if (!strncmp(p, "<?xml", 5)) {
		const char *q = strstr(p, "?>");
		if (q)
			p = q + 2;
	}
	while (*p == '\n' || *p == '\r')
		p++;
	return strdup(p);
}

static bool has_element_items(const struct _tt__Message *m)
{
	const struct tt__ItemList *l[] = {m->Source, m->Key, m->Data};
	for (size_t i = 0; i < 3; i++)
		if (l[i] && l[i]->__sizeElementItem > 0)
			return true;
	return false;
}

static bool blank(const char *s)
{
	if (!s)
		return true;
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

struct walk {
	struct soap *soap;
	const struct agw_onvif_topic_table *table;
	int (*fn)(void *arg, struct agw_alert *alert);
	void *arg;
	int count;
};

void agw_onvif_message_fill(struct agw_alert *a, const char *utc_time, const char *operation,
			    const struct agw_onvif_topic_table *table)
{
	a->operation = operation_of(operation);
	int64_t ms;
	if (utc_time && agw_time_parse_ms(utc_time, &ms) == 0)
		a->camera_time_ms = ms;
	a->active = active_of(&a->data, table);
}

int agw_onvif_alert_finish(struct agw_alert *a, const struct agw_onvif_topic_table *table)
{
	/* some topics say what happened only through their Data item (TP-Link's TPSmartEvent
	 * carries IsVehicle, IsPeople or IsPet): the table may ask for one */
	a->kind = agw_onvif_topic_kind_of(table, a->topic, &a->data);
	const char *id = find_item(&a->data, "EventId");
	if (!id)
		id = find_item(&a->key, "EventId");
	if (id && *id && !(a->event_id = strdup(id)))
		return -ENOMEM;
	return 0;
}

static int convert(struct walk *w, struct wsnt__NotificationMessageHolderType *nm, struct agw_alert *a)
{
	a->topic = agw_onvif_dup_trimmed(nm->Topic ? nm->Topic->__item : NULL);
	if (!a->topic)
		return -ENOMEM;
	a->camera_time_ms = AGW_TIME_UNKNOWN;
	struct _tt__Message *m = nm->Message ? nm->Message->tt__Message : NULL;
	if (m) {
		int rc = add_items(&a->source, m->Source);
		if (rc == 0)
			rc = add_items(&a->key, m->Key);
		if (rc == 0)
			rc = add_items(&a->data, m->Data);
		if (rc < 0)
			return rc;
		agw_onvif_message_fill(a, m->UtcTime, m->PropertyOperation, w->table);
	}
	if (agw_onvif_alert_finish(a, w->table) < 0)
		return -ENOMEM;
	if (m) {
		if (a->kind == AGW_KIND_OTHER || has_element_items(m)) {
			if (!(a->payload = message_xml(w->soap, m)))
				return -ENOMEM;
		}
	}
	if (nm->Message && !blank(nm->Message->__any) && !a->payload) {
		if (!(a->payload = strdup(nm->Message->__any)))
			return -ENOMEM;
	}
	return 0;
}

static int emit(struct walk *w, struct wsnt__NotificationMessageHolderType *nm)
{
	struct agw_alert a;
	agw_alert_init(&a);
	int rc = convert(w, nm, &a);
	if (rc == 0)
		rc = w->fn(w->arg, &a);
	agw_alert_clear(&a);
	if (rc < 0)
		return rc;
	w->count++;
	return 0;
}

static int emit_list(struct walk *w, struct wsnt__NotificationMessageHolderType *v, int n)
{
	for (int i = 0; i < n; i++) {
		int rc = emit(w, &v[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int emit_metadata(struct walk *w, struct _tt__MetadataStream *ms)
{
	for (int i = 0; i < ms->__size; i++) {
		if (ms->__item[i].__union_MetadataStream != SOAP_UNION__tt__union_MetadataStream_tt__Event)
			continue;
		struct tt__EventStream *ev = ms->__item[i].union_MetadataStream.tt__Event;
		for (int j = 0; ev && j < ev->__size; j++) {
			if (ev->__item[j].__union_EventStream != SOAP_UNION__tt__union_EventStream_wsnt__NotificationMessage)
				continue;
			struct wsnt__NotificationMessageHolderType *nm = ev->__item[j].union_EventStream.wsnt__NotificationMessage;
			if (nm) {
				int rc = emit(w, nm);
				if (rc < 0)
					return rc;
			}
		}
	}
	return 0;
}

static void copy_time(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* The document's root (or the Body's child) decides how it is read. DOC_OTHER: a SOAP answer
 * of another operation (GetSystemDateAndTime, CreatePullPointSubscription, ...), no events. */
enum doc_kind { DOC_NONE, DOC_PULL, DOC_NOTIFY, DOC_MESSAGE, DOC_METADATA, DOC_OTHER };

struct doc {
	enum doc_kind kind;
	struct _tev__PullMessagesResponse pull;
	struct _wsnt__Notify notify;
	struct wsnt__NotificationMessageHolderType message;
	struct _tt__MetadataStream metadata;
};

/* Reads the element at the current position if it is one of the known documents. */
static int read_known(struct soap *soap, struct doc *d)
{
	if (soap_peek_element(soap))
		return soap->error;
	if (!soap_match_tag(soap, soap->tag, "tev:PullMessagesResponse")) {
		d->kind = DOC_PULL;
		soap_get__tev__PullMessagesResponse(soap, &d->pull, "tev:PullMessagesResponse", NULL);
	} else if (!soap_match_tag(soap, soap->tag, "wsnt:Notify")) {
		d->kind = DOC_NOTIFY;
		soap_get__wsnt__Notify(soap, &d->notify, "wsnt:Notify", NULL);
	} else if (!soap_match_tag(soap, soap->tag, "wsnt:NotificationMessage")) {
		d->kind = DOC_MESSAGE;
		soap_get__wsnt__NotificationMessage(soap, &d->message, "wsnt:NotificationMessage", NULL);
	} else if (!soap_match_tag(soap, soap->tag, "tt:MetadataStream")) {
		d->kind = DOC_METADATA;
		soap_get__tt__MetadataStream(soap, &d->metadata, "tt:MetadataStream", NULL);
	} else {
		soap->error = SOAP_TAG_MISMATCH;
	}
	return soap->error;
}

/* other_ok: the Body may hold any answer (it then has no events); else only the known ones.
 * *ret_why: a better reason than gSOAP's for some errors. */
static int read_document(struct soap *soap, struct doc *d, bool other_ok, const char **ret_why)
{
	if (soap_begin_recv(soap) || soap_peek_element(soap))
		return soap->error;
	if (soap_match_tag(soap, soap->tag, "SOAP-ENV:Envelope")) {
		if (read_known(soap, d) == SOAP_TAG_MISMATCH)
			soap->error = SOAP_NO_METHOD;
		return soap->error || soap_end_recv(soap);
	}
	if (soap_envelope_begin_in(soap) || soap_recv_header(soap))
		return soap->error;
	if (soap_body_begin_in(soap)) {
		*ret_why = "SOAP Envelope without a Body";
		return soap->error;
	}
	if (soap_peek_element(soap) == SOAP_NO_TAG) {
		/* an empty Body: nothing to report */
		soap->error = SOAP_OK;
	} else if (read_known(soap, d)) {
		bool other = soap->error == SOAP_TAG_MISMATCH && soap_match_tag(soap, soap->tag, "SOAP-ENV:Fault");
		if (other && other_ok) {
			/* the answer of another operation: no events. The XML check has read the whole
			 * document, so there is no need to read the rest of it here. */
			d->kind = DOC_OTHER;
			return soap->error = SOAP_OK;
		}
		/* a Fault in the Body is read here; anything else stays an error */
		int e = soap_recv_fault(soap, 0);
		if (e != SOAP_FAULT && e != SOAP_CLI_FAULT && e != SOAP_SVR_FAULT)
			soap->error = SOAP_NO_METHOD;
		return soap->error;
	}
	if (soap_body_end_in(soap) || soap_envelope_end_in(soap) || soap_end_recv(soap))
		return soap->error;
	return SOAP_OK;
}

/* The fast reader's alerts handed on as the gSOAP path hands its own; -ENOTSUP when it declined. */
static int normalize_fast(const char *xml, size_t len, const struct agw_onvif_topic_table *table,
			  int (*fn)(void *arg, struct agw_alert *alert), void *arg, struct agw_onvif_pull_info *info,
			  char *err, size_t errlen)
{
	struct agw_onvif_fast_batch b;
	int rc = agw_onvif_fast_read(xml, len, table, &b);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc < 0)
		return rc;
	if (info)
		*info = b.info;
	for (size_t i = 0; i < b.n && rc >= 0; i++) {
		int r = fn(arg, &b.v[i]);
		rc = r < 0 ? r : rc + 1;
	}
	agw_onvif_fast_batch_clear(&b);
	if (rc < 0 && !*err)
		snprintf(err, errlen, "stopped by the consumer: %s", strerror(-rc));
	return rc;
}

/* fast: try onvif_fastpull.c first (answers to PullMessages only, other_ok false). */
static int normalize(struct soap *soap, const char *xml, size_t len, const struct agw_onvif_topic_table *table,
		     int (*fn)(void *arg, struct agw_alert *alert), void *arg, struct agw_onvif_pull_info *info,
		     bool other_ok, bool fast, char *err, size_t errlen)
{
	struct agw_onvif_input in;
	if (len > AGW_ONVIF_MAX_DOCUMENT) {
		snprintf(err, errlen, "document of %zu bytes is over the %u byte limit", len, AGW_ONVIF_MAX_DOCUMENT);
		return -EMSGSIZE;
	}
	int rc = agw_onvif_xml_check(xml, len, err, errlen);
	if (rc < 0)
		return rc;
	if (fast && (rc = normalize_fast(xml, len, table, fn, arg, info, err, errlen)) != -ENOTSUP)
		return rc;
	rc = agw_onvif_parse_begin(soap, &in, xml, len);
	if (rc < 0) {
		snprintf(err, errlen, "line %u: NUL byte in the document",
			 agw_onvif_line_of(xml, len, (size_t)((const char *)memchr(xml, '\0', len) - xml)));
		return rc;
	}
	struct doc *d = soap_malloc(soap, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(d, 0, sizeof(*d));
	const char *why = NULL;
	if (read_document(soap, d, other_ok, &why)) {
		rc = agw_onvif_parse_error(soap, &in, err, errlen);
		unsigned line;
		if (rc == -EINVAL && why && sscanf(err, "line %u:", &line) == 1)
			snprintf(err, errlen, "line %u: %s", line, why);
		return rc;
	}
	if (info) {
		copy_time(info->current_time, sizeof(info->current_time), d->kind == DOC_PULL ? d->pull.CurrentTime : NULL);
		copy_time(info->termination_time, sizeof(info->termination_time),
			  d->kind == DOC_PULL ? d->pull.TerminationTime : NULL);
	}
	struct walk w = {.soap = soap, .table = table ? table : agw_onvif_topic_table_default(), .fn = fn, .arg = arg};
	switch (d->kind) {
	case DOC_PULL:
		rc = emit_list(&w, d->pull.wsnt__NotificationMessage, d->pull.__sizeNotificationMessage);
		break;
	case DOC_NOTIFY:
		rc = emit_list(&w, d->notify.NotificationMessage, d->notify.__sizeNotificationMessage);
		break;
	case DOC_MESSAGE:
		rc = emit(&w, &d->message);
		break;
	case DOC_METADATA:
		rc = emit_metadata(&w, &d->metadata);
		break;
	case DOC_NONE:
	case DOC_OTHER:
		rc = 0;
		break;
	}
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		else if (!*err)
			snprintf(err, errlen, "stopped by the consumer: %s", strerror(-rc));
		return rc;
	}
	return w.count;
}

/* The adapter reads answers to its PullMessages: anything but a PullMessagesResponse (or a
 * notification document) there is a broken answer, counted as such. */
int agw_onvif_normalize_soap(struct soap *soap, const char *xml, size_t len, const struct agw_onvif_topic_table *table,
			     int (*fn)(void *arg, struct agw_alert *alert), void *arg, struct agw_onvif_pull_info *info,
			     char *err, size_t errlen)
{
	return normalize(soap, xml, len, table, fn, arg, info, false, true, err, errlen);
}

int agw_onvif_normalize_gsoap(struct soap *soap, const char *xml, size_t len, const struct agw_onvif_topic_table *table,
			      int (*fn)(void *arg, struct agw_alert *alert), void *arg, struct agw_onvif_pull_info *info,
			      char *err, size_t errlen)
{
	return normalize(soap, xml, len, table, fn, arg, info, false, false, err, errlen);
}

/* The end of an HTTP head ("\r\n\r\n" or "\n\n", whichever comes first): the offset of the body,
 * or 0 when there is none. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static bool head_is_chunked(const char *head, size_t len)
{
	static const char name[] = "\ntransfer-encoding:";
	for (size_t i = 0; i + sizeof(name) - 1 <= len; i++) {
		if (strncasecmp(head + i, name, sizeof(name) - 1))
			continue;
		const char *v = head + i + sizeof(name) - 1, *eol = memchr(v, '\n', len - (size_t)(v - head));
		size_t n = eol ? (size_t)(eol - v) : len - (size_t)(v - head);
		for (size_t j = 0; j + 7 <= n; j++)
			if (!strncasecmp(v + j, "chunked", 7))
				return true;
	}
	return false;
}

/* Joins the chunks of a chunked body into *ret (malloc'd, at most len bytes). On a bad chunk
 * returns -EINVAL with *ret_bad at its offset in body. */
static int dechunk(const char *body, size_t len, char **ret, size_t *ret_len, size_t *ret_bad)
{
	char *out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	size_t pos = 0, n = 0;
	for (;;) {
		size_t start = pos, size = 0;
		int digits = 0;
		while (pos < len && isxdigit((unsigned char)body[pos]) && digits < 8) {
			char c = body[pos++];
			size = size * 16 + (size_t)(isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10));
			digits++;
		}
		const char *eol = digits ? memchr(body + pos, '\n', len - pos) : NULL; /* skips chunk extensions */
		if (!eol || size > len - (size_t)(eol + 1 - body)) {
			*ret_bad = start;
			free(out);
			return -EINVAL;
		}
		pos = (size_t)(eol + 1 - body);
		if (size == 0)
			break;
		memcpy(out + n, body + pos, size);
		n += size;
		pos += size;
		if (pos < len && body[pos] == '\r')
			pos++;
		if (pos >= len || body[pos] != '\n') {
			*ret_bad = pos;
			free(out);
			return -EINVAL;
		}
		pos++;
	}
	*ret = out;
	*ret_len = n;
	return 0;
}

/* "line N: what" in err becomes "line N+lines: what". */
static void shift_line(char *err, size_t errlen, unsigned lines)
{
	unsigned line;
	int off = 0;
	if (!lines || sscanf(err, "line %u: %n", &line, &off) != 1 || off <= 0)
		return;
	char rest[512];
	snprintf(rest, sizeof(rest), "%s", err + off);
	snprintf(err, errlen, "line %u: %s", line + lines, rest);
}

/* A capture saved from a network trace ("follow HTTP stream") starts with the HTTP response head;
 * the document is its body, de-chunked when the head says Transfer-Encoding: chunked. Errors in
 * the body keep the line numbers of the file (of the joined chunks, for a chunked body). */
static int normalize_capture(struct soap *soap, const char *buf, size_t len, const struct agw_onvif_topic_table *table,
			     int (*fn)(void *arg, struct agw_alert *alert), void *arg, char *err, size_t errlen)
{
	if (len < 5 || memcmp(buf, "HTTP/", 5))
		return normalize(soap, buf, len, table, fn, arg, NULL, true, false, err, errlen);
	size_t body = head_end(buf, len);
	if (!body) {
		snprintf(err, errlen, "line 1: HTTP response head without the empty line that ends it");
		return -EINVAL;
	}
	unsigned lines = agw_onvif_line_of(buf, len, body) - 1;
	char *joined = NULL;
	size_t joined_len = 0, bad = 0;
	if (head_is_chunked(buf, body)) {
		int rc = dechunk(buf + body, len - body, &joined, &joined_len, &bad);
		if (rc == -EINVAL)
			snprintf(err, errlen, "line %u: bad chunk in a chunked HTTP body", agw_onvif_line_of(buf, len, body + bad));
		else if (rc < 0)
			snprintf(err, errlen, "out of memory");
		if (rc < 0)
			return rc;
	}
	int rc = joined ? normalize(soap, joined, joined_len, table, fn, arg, NULL, true, false, err, errlen)
			: normalize(soap, buf + body, len - body, table, fn, arg, NULL, true, false, err, errlen);
	if (rc == -EINVAL)
		shift_line(err, errlen, lines);
	free(joined);
	return rc;
}

int agw_onvif_normalize(const char *xml, size_t len, const struct agw_onvif_topic_table *table,
			int (*fn)(void *arg, struct agw_alert *alert), void *arg, char *err, size_t errlen)
{
	struct soap *soap = agw_onvif_soap_new();
	if (!soap) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (errlen)
		*err = '\0';
	int rc = normalize_capture(soap, xml, len, table, fn, arg, err, errlen);
	agw_onvif_soap_free(soap);
	return rc;
}
