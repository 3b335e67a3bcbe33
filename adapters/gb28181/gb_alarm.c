/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Alarm Notify to alert, and the per-device zones its AlarmTime is read in (see gb_alarm.h). */
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

/* ---- per-device zones: the utc_offsets option (see gb_alarm.h), a sorted array looked up by
 * binary search on each alarm and registration ---- */

#define MAX_ENTRIES 100000
#define MAX_OFFSET_MIN 840

struct zone {
	char id[21];
	int offset_min;
};

struct agw_gb_zones {
	struct zone *v;
	size_t n;
};

static int zone_cmp(const void *a, const void *b)
{
	return strcmp(((const struct zone *)a)->id, ((const struct zone *)b)->id);
}

/* "420", "-60", "+07:00", "-0330", "Z" into minutes east of UTC. */
static int offset_read(const char *s, int *ret)
{
	if (!strcmp(s, "Z") || !strcmp(s, "UTC")) {
		*ret = 0;
		return 0;
	}
	int sign = *s == '-' ? -1 : 1;
	const char *p = *s == '-' || *s == '+' ? s + 1 : s;
	size_t digits = strspn(p, "0123456789");
	int v;
	if (strchr(p, ':') || ((*s == '+' || *s == '-') && digits == 4 && !p[4])) {
		unsigned h, m;
		char tail;
		bool colon = strchr(p, ':') != NULL;
		if ((colon ? sscanf(p, "%2u:%2u%c", &h, &m, &tail) : sscanf(p, "%2u%2u%c", &h, &m, &tail)) != 2 || m > 59)
			return -EINVAL;
		v = (int)(h * 60 + m);
	} else {
		if (!digits || p[digits] || digits > 4)
			return -EINVAL;
		v = atoi(p);
	}
	if (v > MAX_OFFSET_MIN)
		return -EINVAL;
	*ret = sign * v;
	return 0;
}

static int entry_read(const char *e, size_t len, struct zone *z)
{
	char buf[64];
	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, e, len);
	buf[len] = '\0';
	char *eq = strchr(buf, '=');
	if (!eq || eq - buf != 20)
		return -EINVAL;
	for (int i = 0; i < 20; i++)
		if (!isdigit((unsigned char)buf[i]))
			return -EINVAL;
	memcpy(z->id, buf, 20);
	z->id[20] = '\0';
	return offset_read(eq + 1, &z->offset_min);
}

static size_t trim(const char **s, size_t len)
{
	while (len && isspace((unsigned char)**s))
		(*s)++, len--;
	while (len && isspace((unsigned char)(*s)[len - 1]))
		len--;
	return len;
}

int agw_gb_zones_parse(const char *text, struct agw_gb_zones **ret, char *err, size_t errlen)
{
	struct agw_gb_zones *z = calloc(1, sizeof(*z));
	size_t cap = 0;
	int rc = z ? 0 : -ENOMEM;
	for (const char *p = text ? text : ""; rc == 0 && *p;) {
		size_t len = strcspn(p, ",;");
		const char *e = p;
		size_t elen = trim(&e, len);
		p += len + (p[len] ? 1 : 0);
		if (!elen)
			continue;
		if (z->n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct zone *v = ncap <= MAX_ENTRIES ? realloc(z->v, ncap * sizeof(*v)) : NULL;
			if (!v) {
				rc = ncap <= MAX_ENTRIES ? -ENOMEM : -E2BIG;
				break;
			}
			z->v = v;
			cap = ncap;
		}
		if (entry_read(e, elen, &z->v[z->n]) < 0) {
			snprintf(err, errlen, "utc_offsets: entry %zu (%.*s): not ID=OFFSET with a 20-digit ID and an "
					      "offset in minutes (-840..840) or +HH:MM",
				 z->n + 1, (int)(elen > 48 ? 48 : elen), e);
			rc = -EINVAL;
		} else {
			z->n++;
		}
	}
	if (rc == -E2BIG)
		snprintf(err, errlen, "utc_offsets: more than %d entries", MAX_ENTRIES);
	else if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc < 0) {
		agw_gb_zones_free(z);
		return rc;
	}
	if (z->n)
		qsort(z->v, z->n, sizeof(*z->v), zone_cmp);
	*ret = z;
	return 0;
}

void agw_gb_zones_free(struct agw_gb_zones *z)
{
	if (!z)
		return;
	free(z->v);
	free(z);
}

static const struct zone *find(const struct agw_gb_zones *z, const char *id)
{
	if (!z || !z->n || !id || strlen(id) != 20)
		return NULL;
	struct zone key;
	memcpy(key.id, id, 21);
	return bsearch(&key, z->v, z->n, sizeof(*z->v), zone_cmp);
}

int agw_gb_zones_offset(const struct agw_gb_zones *z, const char *channel, const char *device, int dflt)
{
	const struct zone *hit = find(z, channel);
	if (!hit)
		hit = find(z, device);
	return hit ? hit->offset_min : dflt;
}
