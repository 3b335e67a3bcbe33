/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A whole GB/T 28181 message (see gb_message.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gb_alarm.h"
#include "gb_message.h"

void agw_gb_message_clear(struct agw_gb_message *m)
{
	agw_gb_sip_msg_free(m->sip);
	agw_gb_text_clear(&m->text);
	agw_gb_doc_clear(&m->doc);
	m->sip = NULL;
	m->has_doc = false;
}

bool agw_gb_message_is_alarm(const struct agw_gb_message *m)
{
	return m->has_doc && m->doc.root == AGW_GB_ROOT_NOTIFY && m->doc.cmd == AGW_GB_CMD_ALARM;
}

static size_t skip_blank(const char *buf, size_t len)
{
	size_t p = len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3) ? 3 : 0;
	while (p < len && isspace((unsigned char)buf[p]))
		p++;
	return p;
}

/* Errors from the body's parsers count from the body; the caller's count from buf. */
static void rebase(char *err, size_t errlen, unsigned line_base, size_t offset_base)
{
	char rest[512];
	unsigned line;
	size_t off;
	int n = 0;
	if (sscanf(err, "line %u: %n", &line, &n) == 1 && n > 0) {
		snprintf(rest, sizeof(rest), "%s", err + n);
		snprintf(err, errlen, "line %u: %s", line + line_base - 1, rest);
	} else if (sscanf(err, "offset %zu: %n", &off, &n) == 1 && n > 0) {
		snprintf(rest, sizeof(rest), "%s", err + n);
		snprintf(err, errlen, "offset %zu: %s", off + offset_base, rest);
	}
}

static bool manscdp_type(const char *ct)
{
	const char *slash = strchr(ct, '/');
	const char *sub = slash ? slash + 1 : ct;
	return !strcasecmp(sub, "MANSCDP+xml") || !strcasecmp(sub, "xml");
}

static int read_body(const char *body, size_t len, struct agw_gb_message *m, char *err, size_t errlen)
{
	int rc = agw_gb_text_to_utf8(body, len, &m->text, err, errlen);
	if (rc < 0)
		return rc;
	rc = agw_gb_manscdp_parse(m->text.utf8, m->text.len, &m->doc, err, errlen);
	if (rc < 0)
		return rc;
	m->has_doc = true;
	return 0;
}

int agw_gb_message_parse(const char *buf, size_t len, unsigned sip_flags, struct agw_gb_message *ret, char *err,
			 size_t errlen)
{
	struct agw_gb_message m;
	memset(&m, 0, sizeof(m));
	m.doc.list_num = -1;
	int rc;
	size_t start = skip_blank(buf, len);
	if (start < len && buf[start] == '<') {
		if (len > AGW_GB_SIP_MAX_MESSAGE) {
			snprintf(err, errlen, "offset 0: body of %zu bytes, larger than the limit of %u", len,
				 AGW_GB_SIP_MAX_MESSAGE);
			return -EMSGSIZE;
		}
		rc = read_body(buf, len, &m, err, errlen);
		if (rc < 0)
			goto fail;
		*ret = m;
		return 0;
	}
	rc = agw_gb_sip_parse(buf, len, sip_flags, &m.sip, err, errlen);
	if (rc < 0)
		return rc;
	const struct agw_gb_sip_msg *s = m.sip;
	size_t bstart = skip_blank(s->body, s->body_len);
	bool xml_body = bstart < s->body_len && s->body[bstart] == '<';
	if (s->method && s->body_len > 0 &&
	    (s->content_type[0] ? manscdp_type(s->content_type) : xml_body)) {
		rc = read_body(s->body, s->body_len, &m, err, errlen);
		if (rc < 0) {
			rebase(err, errlen, s->body_line, s->body_offset);
			goto fail;
		}
	}
	*ret = m;
	return 0;
fail:
	agw_gb_message_clear(&m);
	return rc;
}

int agw_gb_normalize(const char *buf, size_t len, const struct agw_gb_event_table *table, const struct agw_gb_zones *zones,
		     int offset_min, int (*fn)(void *arg, struct agw_alert *alert), void *arg, char *note, size_t notelen,
		     char *err, size_t errlen)
{
	struct agw_gb_message m;
	if (note && notelen)
		note[0] = '\0';
	int rc = agw_gb_message_parse(buf, len, 0, &m, err, errlen);
	if (rc < 0)
		return rc;
	if (note && notelen)
		snprintf(note, notelen, "%s", m.text.note);
	if (!agw_gb_message_is_alarm(&m)) {
		agw_gb_message_clear(&m);
		return 0;
	}
	struct agw_alert a;
	agw_alert_init(&a);
	/* the payload without the blank line where the declaration was */
	const char *payload = m.text.utf8 + skip_blank(m.text.utf8, m.text.len);
	const char *device = m.sip && m.sip->from_user[0] ? m.sip->from_user : NULL;
	rc = agw_gb_alarm_alert(&m.doc, table, agw_gb_zones_offset(zones, m.doc.device_id, device, offset_min), payload, &a);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
	} else {
		rc = fn(arg, &a);
		if (rc >= 0)
			rc = 1;
	}
	agw_alert_clear(&a);
	agw_gb_message_clear(&m);
	return rc;
}
