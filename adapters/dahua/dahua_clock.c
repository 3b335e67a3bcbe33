/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-device clock offsets (the utc_offsets option) and the whole-hours check: see dahua_clock.h.
 * A sorted array looked up by binary search on each event; rows are added only at start and when
 * a channel row inherits its device's. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dahua_clock.h"

#define MAX_ENTRIES 100000
#define MAX_ID 128
#define MAX_OFFSET_MS (14LL * 3600000)
#define HOUR_MS 3600000LL
#define WHOLE_HOUR_SLACK_MS (5 * 60000LL)
#define MAX_HOURS_OFF 26

struct clock_row {
	char *id;
	int64_t offset_ms;
};

struct agw_dahua_clocks {
	struct clock_row *v;
	size_t n, cap;
};

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct clock_row *)a)->id, ((const struct clock_row *)b)->id);
}

/* "+8h", "-90m", "5.5h", "0" into ms east of UTC. */
static int offset_read(const char *s, int64_t *ret)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || !isfinite(v))
		return -EINVAL;
	double unit = !*end ? (v == 0 ? 0 : -1) : !strcmp(end, "h") ? HOUR_MS : !strcmp(end, "m") ? 60000 : -1;
	if (unit < 0 || fabs(v * unit) > (double)MAX_OFFSET_MS)
		return -EINVAL;
	*ret = (int64_t)llround(v * unit);
	return 0;
}

static int row_add(struct agw_dahua_clocks *c, const char *id, size_t idlen, int64_t offset_ms)
{
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 8;
		struct clock_row *v = ncap <= MAX_ENTRIES ? realloc(c->v, ncap * sizeof(*v)) : NULL;
		if (!v)
			return ncap <= MAX_ENTRIES ? -ENOMEM : -E2BIG;
		c->v = v;
		c->cap = ncap;
	}
	char *copy = strndup(id, idlen);
	if (!copy)
		return -ENOMEM;
	c->v[c->n++] = (struct clock_row){.id = copy, .offset_ms = offset_ms};
	return 0;
}

/* One "ID=OFFSET" entry (trimmed, len > 0). */
static int entry_read(struct agw_dahua_clocks *c, const char *e, size_t len)
{
	char buf[MAX_ID + 32];
	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, e, len);
	buf[len] = '\0';
	char *eq = strchr(buf, '=');
	if (!eq || eq == buf || eq - buf > MAX_ID)
		return -EINVAL;
	char *id_end = eq;
	while (id_end > buf && isspace((unsigned char)id_end[-1]))
		id_end--;
	const char *off = eq + 1;
	while (isspace((unsigned char)*off))
		off++;
	int64_t ms;
	if (id_end == buf || offset_read(off, &ms) < 0)
		return -EINVAL;
	return row_add(c, buf, (size_t)(id_end - buf), ms);
}

int agw_dahua_clocks_parse(const char *text, struct agw_dahua_clocks **ret, char *err, size_t errlen)
{
	struct agw_dahua_clocks *c = calloc(1, sizeof(*c));
	int rc = c ? 0 : -ENOMEM;
	for (const char *p = text ? text : ""; rc == 0 && *p;) {
		size_t len = strcspn(p, ",;");
		const char *e = p;
		p += len + (p[len] ? 1 : 0);
		while (len && isspace((unsigned char)*e))
			e++, len--;
		while (len && isspace((unsigned char)e[len - 1]))
			len--;
		if (!len)
			continue;
		rc = entry_read(c, e, len);
		if (rc == -EINVAL)
			snprintf(err, errlen, "utc_offsets: entry %zu (%.*s): not ID=OFFSET with a camera id and an offset "
					      "like +8h or -90m (at most 14 h)", c->n + 1, (int)(len > 48 ? 48 : len), e);
	}
	if (rc == -E2BIG)
		snprintf(err, errlen, "utc_offsets: more than %d entries", MAX_ENTRIES);
	else if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc < 0) {
		agw_dahua_clocks_free(c);
		return rc == -E2BIG ? -EINVAL : rc;
	}
	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), row_cmp);
	*ret = c;
	return 0;
}

void agw_dahua_clocks_free(struct agw_dahua_clocks *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].id);
	free(c->v);
	free(c);
}

static const struct clock_row *find(const struct agw_dahua_clocks *c, const char *id)
{
	if (!c || !c->n || !id)
		return NULL;
	struct clock_row key = {.id = (char *)id};
	return bsearch(&key, c->v, c->n, sizeof(*c->v), row_cmp);
}

int agw_dahua_clocks_inherit(struct agw_dahua_clocks *c, const char *camera_id, const char *device_id)
{
	const struct clock_row *dev = find(c, device_id);
	if (!dev || find(c, camera_id))
		return 0;
	int64_t ms = dev->offset_ms;
	int rc = row_add(c, camera_id, strlen(camera_id), ms);
	if (rc == 0)
		qsort(c->v, c->n, sizeof(*c->v), row_cmp);
	return rc == -E2BIG ? 0 : rc; /* past the bound the channel keeps the time as written */
}

int64_t agw_dahua_clocks_offset_ms(const struct agw_dahua_clocks *c, const char *camera_id)
{
	const struct clock_row *r = find(c, camera_id);
	return r ? r->offset_ms : 0;
}

int agw_dahua_clock_hours_off(int64_t camera_ms, int64_t gateway_ms)
{
	int64_t skew = camera_ms - gateway_ms;
	int64_t hours = (skew >= 0 ? skew + HOUR_MS / 2 : skew - HOUR_MS / 2) / HOUR_MS;
	if (hours == 0 || hours > MAX_HOURS_OFF || hours < -MAX_HOURS_OFF)
		return 0;
	int64_t rest = skew - hours * HOUR_MS;
	return rest <= WHOLE_HOUR_SLACK_MS && rest >= -WHOLE_HOUR_SLACK_MS ? (int)hours : 0;
}
