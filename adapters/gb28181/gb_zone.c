/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The utc_offsets option (see gb_zone.h): a sorted array, looked up by binary search on each
 * alarm and registration. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb_zone.h"

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
