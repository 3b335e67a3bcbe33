/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dahua streams: multipart parts -> event text -> alerts (dahua_stream.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/multipart.h"
#include "dahua_event.h"
#include "dahua_stream.h"

struct agw_dahua_stream {
	struct agw_dahua_stream_config cfg;
	struct agw_multipart *mp;
	struct agw_dahua_stream_stats stats;
};

static void stream_error(struct agw_dahua_stream *s, uint64_t off, const char *what)
{
	s->stats.errors++;
	if (s->cfg.on_error)
		s->cfg.on_error(s->cfg.arg, off, what);
}

static void on_mp_error(void *arg, uint64_t off, const char *what)
{
	stream_error(arg, off, what);
}

static int on_event(void *arg, struct agw_alert *a)
{
	struct agw_dahua_stream *s = arg;
	s->stats.events++;
	return s->cfg.on_alert ? s->cfg.on_alert(s->cfg.arg, a) : 0;
}

static int on_part(void *arg, const struct agw_multipart_part *p)
{
	struct agw_dahua_stream *s = arg;
	if (p->content_type[0] && strncasecmp(p->content_type, "text/", 5) != 0) {
		s->stats.other_parts++;
		return 0;
	}
	struct agw_dahua_part_info info;
	char err[256];
	int rc = agw_dahua_parse_part(p->body, p->len, s->cfg.table, on_event, s, &info, err, sizeof(err));
	s->stats.heartbeats += info.heartbeats;
	if (rc == -EINVAL || rc == -EMSGSIZE) {
		char what[320];
		snprintf(what, sizeof(what), "%s%s", err, p->unterminated ? " (the input ends inside this part)" : "");
		stream_error(s, p->body_offset, what);
		return 0;
	}
	return rc < 0 ? rc : 0;
}

int agw_dahua_stream_new(const struct agw_dahua_stream_config *cfg, struct agw_dahua_stream **ret)
{
	struct agw_dahua_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
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

void agw_dahua_stream_free(struct agw_dahua_stream *s)
{
	if (!s)
		return;
	agw_multipart_free(s->mp);
	free(s);
}

int agw_dahua_stream_feed(struct agw_dahua_stream *s, const void *buf, size_t len)
{
	return agw_multipart_feed(s->mp, buf, len);
}

int agw_dahua_stream_finish(struct agw_dahua_stream *s)
{
	return agw_multipart_finish(s->mp);
}

const struct agw_dahua_stream_stats *agw_dahua_stream_stats(const struct agw_dahua_stream *s)
{
	return &s->stats;
}

struct normalize_ctx {
	char *err;
	size_t errlen;
	bool err_set;
	int (*fn)(void *arg, struct agw_alert *alert);
	void *arg;
};

static void keep_first(void *arg, uint64_t off, const char *what)
{
	struct normalize_ctx *c = arg;
	if (c->err_set)
		return;
	c->err_set = true;
	snprintf(c->err, c->errlen, "offset %" PRIu64 ": %s", off, what);
}

static int forward(void *arg, struct agw_alert *a)
{
	struct normalize_ctx *c = arg;
	return c->fn ? c->fn(c->arg, a) : 0;
}

int agw_dahua_normalize(const char *buf, size_t len, const struct agw_vendor_table *table,
			int (*fn)(void *arg, struct agw_alert *alert), void *arg, char *err, size_t errlen)
{
	struct normalize_ctx c = {.err = err, .errlen = errlen, .fn = fn, .arg = arg};
	struct agw_dahua_stream_config cfg = {.table = table, .on_alert = forward, .on_error = keep_first, .arg = &c};
	struct agw_dahua_stream *s;
	int rc = agw_dahua_stream_new(&cfg, &s);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	rc = agw_dahua_stream_feed(s, buf, len);
	if (rc == 0)
		rc = agw_dahua_stream_finish(s);
	uint64_t events = agw_dahua_stream_stats(s)->events;
	agw_dahua_stream_free(s);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc < 0)
		return rc;
	if (c.err_set)
		return -EINVAL;
	return events > INT32_MAX ? INT32_MAX : (int)events;
}
