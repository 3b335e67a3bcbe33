/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Alarm Notify to alert (see gb_alarm.h). */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gb_alarm.h"

static int digits(const char **p, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int agw_gb_time_parse(const char *text, int offset_min, int64_t *ret_ms)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (!text)
		return -EINVAL;
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	int Y, M, D, h, m, s, ms = 0;
	if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' || digits(&p, 2, &D))
		return -EINVAL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m) || *p++ != ':' || digits(&p, 2, &s))
		return -EINVAL;
	if (*p == '.' || *p == ',') {
		p++;
		int n = 0, scale = 100;
		while (isdigit((unsigned char)*p)) {
			if (n++ < 3)
				ms += (*p - '0') * scale, scale /= 10;
			p++;
		}
		if (n == 0)
			return -EINVAL;
	}
	int off = offset_min;
	if (*p == 'Z' || *p == 'z') {
		off = 0;
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
		if (digits(&p, 2, &oh))
			return -EINVAL;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)*p) && digits(&p, 2, &om))
			return -EINVAL;
		if (oh > 14 || om > 59)
			return -EINVAL;
		off = sign * (oh * 60 + om);
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p)
		return -EINVAL;
	if (Y < 1971 || Y > 9999 || M < 1 || M > 12 || D < 1 || h > 23 || m > 59 || s > 60)
		return -EINVAL;
	if (D > mdays[M - 1] + (M == 2 && leap(Y)))
		return -EINVAL;
	struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = s};
	time_t t = timegm(&tm);
	*ret_ms = ((int64_t)t - (int64_t)off * 60) * 1000 + ms;
	return 0;
}

static const char *first_of(const struct agw_gb_doc *d, const char *a, const char *b)
{
	const char *v = agw_gb_doc_get(d, a);
	return v ? v : agw_gb_doc_get(d, b);
}

/* The fields that lead "data", in this order, and where each may be written. */
static const struct {
	const char *name, *path, *alt;
} leading[] = {
	{"AlarmPriority", "AlarmPriority", NULL},
	{"AlarmMethod", "AlarmMethod", NULL},
	{"AlarmType", "Info/AlarmType", "AlarmType"},
	{"AlarmDescription", "AlarmDescription", NULL},
	{"Longitude", "Longitude", NULL},
	{"Latitude", "Latitude", NULL},
	{"EventType", "Info/AlarmTypeParam/EventType", "AlarmTypeParam/EventType"},
};

static bool is_leading_or_header(const char *path)
{
	if (!strcasecmp(path, "CmdType") || !strcasecmp(path, "DeviceID"))
		return true;
	for (size_t i = 0; i < sizeof(leading) / sizeof(leading[0]); i++)
		if (!strcasecmp(path, leading[i].path) || (leading[i].alt && !strcasecmp(path, leading[i].alt)))
			return true;
	return false;
}

int agw_gb_alarm_alert(const struct agw_gb_doc *d, const struct agw_gb_event_table *t, int offset_min,
		       const char *payload, struct agw_alert *a)
{
	const char *method = agw_gb_doc_get(d, "AlarmMethod");
	const char *type = first_of(d, "Info/AlarmType", "AlarmType");
	const char *event = first_of(d, "Info/AlarmTypeParam/EventType", "AlarmTypeParam/EventType");
	a->kind = agw_gb_event_kind(t, method, type, event);
	a->active = AGW_ACTIVE_NONE;
	a->operation = AGW_OP_NONE;
	if (agw_gb_time_parse(agw_gb_doc_get(d, "AlarmTime"), offset_min, &a->camera_time_ms) < 0)
		a->camera_time_ms = AGW_TIME_UNKNOWN;
	int rc;
	if (type && *type)
		rc = asprintf(&a->topic, "%s/%s", method ? method : "", type);
	else
		rc = asprintf(&a->topic, "%s", method ? method : "");
	if (rc < 0) {
		a->topic = NULL;
		goto nomem;
	}
	if (agw_items_add(&a->source, "channel", d->device_id) < 0)
		goto nomem;
	for (size_t i = 0; i < sizeof(leading) / sizeof(leading[0]); i++) {
		const char *v = leading[i].alt ? first_of(d, leading[i].path, leading[i].alt) : agw_gb_doc_get(d, leading[i].path);
		if (v && agw_items_add(&a->data, leading[i].name, v) < 0)
			goto nomem;
	}
	for (size_t i = 0; i < d->fields.n; i++) {
		const struct agw_item *f = &d->fields.v[i];
		if (is_leading_or_header(f->name) || agw_items_get(&a->data, f->name))
			continue;
		if (agw_items_add(&a->data, f->name, f->value) < 0)
			goto nomem;
	}
	if ((d->sn[0] && !(a->event_id = strdup(d->sn))) || (payload && !(a->payload = strdup(payload))))
		goto nomem;
	return 0;
nomem:
	agw_alert_clear(a);
	return -ENOMEM;
}
