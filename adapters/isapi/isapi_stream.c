/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ISAPI streams: multipart parts -> documents -> alerts, pictures attached (isapi_stream.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/multipart.h"
#include "isapi_event.h"
#include "isapi_stream.h"

struct agw_isapi_stream {
	struct agw_isapi_stream_config cfg;
	struct agw_multipart *mp;
	struct agw_isapi_stream_stats stats;
	/* the event waiting for its pictures */
	bool pending;
	struct agw_alert alert;
	unsigned want, got;
	size_t bytes[AGW_ISAPI_MAX_PICTURES];
	int stop_rc;
};

static void stream_error(struct agw_isapi_stream *s, uint64_t off, const char *what)
{
	s->stats.errors++;
	if (s->cfg.on_error)
		s->cfg.on_error(s->cfg.arg, off, what);
}

static void on_mp_error(void *arg, uint64_t off, const char *what)
{
	stream_error(arg, off, what);
}

static int deliver(struct agw_isapi_stream *s, struct agw_alert *a)
{
	s->stats.events++;
	int rc = s->cfg.on_alert ? s->cfg.on_alert(s->cfg.arg, a) : 0;
	agw_alert_clear(a);
	return rc < 0 ? rc : 0;
}

static int flush(struct agw_isapi_stream *s)
{
	if (!s->pending)
		return 0;
	s->pending = false;
	if (s->got) {
		char n[16], list[AGW_ISAPI_MAX_PICTURES * 21 + 1];
		size_t len = 0;
		list[0] = '\0';
		for (unsigned i = 0; i < s->got; i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%zu", i ? "," : "", s->bytes[i]);
		snprintf(n, sizeof(n), "%u", s->got);
		if (agw_items_add(&s->alert.data, "pictures", n) < 0 ||
		    agw_items_add(&s->alert.data, "picture_bytes", list) < 0) {
			agw_alert_clear(&s->alert);
			return -ENOMEM;
		}
	}
	return deliver(s, &s->alert);
}

static bool is_picture(const struct agw_multipart_part *p)
{
	if (!strncasecmp(p->content_type, "image/", 6))
		return true;
	/* no Content-Type: JPEG by its magic */
	return !p->content_type[0] && p->len >= 3 && !memcmp(p->body, "\xff\xd8\xff", 3);
}

static int on_part(void *arg, const struct agw_multipart_part *p)
{
	struct agw_isapi_stream *s = arg;
	if (is_picture(p)) {
		if (s->pending && s->got < s->want) {
			if (s->cfg.on_picture)
				s->cfg.on_picture(s->cfg.arg, &s->alert, s->got, p->content_type, p->body, p->len);
			s->bytes[s->got++] = p->len;
			s->stats.pictures++;
			return s->got == s->want ? flush(s) : 0;
		}
		s->stats.orphan_pictures++;
		return 0;
	}
	int rc = flush(s);
	if (rc < 0)
		return rc;
	size_t i = 0;
	while (i < p->len && (p->body[i] == ' ' || p->body[i] == '\t' || p->body[i] == '\r' || p->body[i] == '\n'))
		i++;
	if (i == p->len)
		return 0; /* an empty part */
	char err[256];
	struct agw_isapi_doc info;
	struct agw_alert a;
	agw_alert_init(&a);
	rc = agw_isapi_parse_document(p->body, p->len, s->cfg.table, &a, &info, err, sizeof(err));
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		char what[320];
		snprintf(what, sizeof(what), "%s%s", err, p->unterminated ? " (the input ends inside this part)" : "");
		stream_error(s, p->body_offset, what);
		return 0;
	}
	switch (info.kind) {
	case AGW_ISAPI_DOC_HEARTBEAT:
		s->stats.heartbeats++;
		return 0;
	case AGW_ISAPI_DOC_OTHER:
		s->stats.other_documents++;
		return 0;
	case AGW_ISAPI_DOC_EVENT:
		break;
	}
	if (!info.pictures)
		return deliver(s, &a);
	s->alert = a; /* ownership moves to the pending slot */
	s->pending = true;
	s->want = info.pictures;
	s->got = 0;
	return 0;
}

int agw_isapi_stream_new(const struct agw_isapi_stream_config *cfg, struct agw_isapi_stream **ret)
{
	struct agw_isapi_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	agw_alert_init(&s->alert);
	struct agw_multipart_config mc = {
		.content_type = cfg->content_type,
		.max_part = cfg->max_part,
		.on_part = on_part,
		.on_error = on_mp_error,
		.arg = s,
	};
	int rc = agw_multipart_new(&mc, &s->mp);
	if (rc < 0) {
		free(s);
		return rc;
	}
	*ret = s;
	return 0;
}

void agw_isapi_stream_free(struct agw_isapi_stream *s)
{
	if (!s)
		return;
	agw_multipart_free(s->mp);
	agw_alert_clear(&s->alert);
	free(s);
}

int agw_isapi_stream_feed(struct agw_isapi_stream *s, const void *buf, size_t len)
{
	return agw_multipart_feed(s->mp, buf, len);
}

int agw_isapi_stream_finish(struct agw_isapi_stream *s)
{
	int rc = agw_multipart_finish(s->mp);
	if (rc < 0)
		return rc;
	return flush(s);
}

const struct agw_isapi_stream_stats *agw_isapi_stream_stats(const struct agw_isapi_stream *s)
{
	return &s->stats;
}

struct first_error {
	char *err;
	size_t errlen;
	bool set;
};

static void keep_first(void *arg, uint64_t off, const char *what)
{
	struct first_error *fe = arg;
	if (fe->set)
		return;
	fe->set = true;
	snprintf(fe->err, fe->errlen, "offset %" PRIu64 ": %s", off, what);
}

struct normalize_ctx {
	struct first_error fe;
	int (*fn)(void *arg, struct agw_alert *alert);
	void *arg;
};

static int forward(void *arg, struct agw_alert *a)
{
	struct normalize_ctx *c = arg;
	return c->fn(c->arg, a);
}

static void forward_error(void *arg, uint64_t off, const char *what)
{
	struct normalize_ctx *c = arg;
	keep_first(&c->fe, off, what);
}

int agw_isapi_normalize(const char *buf, size_t len, const struct agw_vendor_table *table,
			int (*fn)(void *arg, struct agw_alert *alert), void *arg, char *err, size_t errlen)
{
	struct normalize_ctx c = {.fe = {.err = err, .errlen = errlen}, .fn = fn, .arg = arg};
	struct agw_isapi_stream_config cfg = {
		.table = table, .on_alert = forward, .on_error = forward_error, .arg = &c,
	};
	struct agw_isapi_stream *s;
	int rc = agw_isapi_stream_new(&cfg, &s);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	rc = agw_isapi_stream_feed(s, buf, len);
	if (rc == 0)
		rc = agw_isapi_stream_finish(s);
	uint64_t events = agw_isapi_stream_stats(s)->events;
	agw_isapi_stream_free(s);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc < 0)
		return rc;
	if (c.fe.set)
		return -EINVAL;
	return events > INT32_MAX ? INT32_MAX : (int)events;
}
