/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "topic.h"

#define MQTT_TOPIC_MAX 65535

static const char *lookup(const struct agw_topic_vars *v, const char *name, size_t n, int *known)
{
	static const struct {
		const char *name;
		size_t offset;
	} table[] = {
		{"prefix", offsetof(struct agw_topic_vars, prefix)},
		{"gateway", offsetof(struct agw_topic_vars, gateway)},
		{"district", offsetof(struct agw_topic_vars, district)},
		{"street", offsetof(struct agw_topic_vars, street)},
		{"community", offsetof(struct agw_topic_vars, community)},
		{"grid", offsetof(struct agw_topic_vars, grid)},
		{"kind", offsetof(struct agw_topic_vars, kind)},
		{"camera", offsetof(struct agw_topic_vars, camera)},
		{"case", offsetof(struct agw_topic_vars, case_id)},
		{"n", offsetof(struct agw_topic_vars, n)},
		{"level", offsetof(struct agw_topic_vars, level)},
		{"code", offsetof(struct agw_topic_vars, code)},
	};
	*known = 0;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strlen(table[i].name) == n && memcmp(table[i].name, name, n) == 0) {
			*known = 1;
			return *(const char *const *)((const char *)v + table[i].offset);
		}
	return NULL;
}

int agw_topic_expand(const char *tmpl, const struct agw_topic_vars *vars, char *buf, size_t len)
{
	size_t o = 0;
	if (!tmpl || !vars || !buf || !len)
		return -EINVAL;
	for (const char *p = tmpl; *p;) {
		if (*p != '{') {
			if (o + 1 >= len || o + 1 > MQTT_TOPIC_MAX)
				return -ENAMETOOLONG;
			buf[o++] = *p++;
			continue;
		}
		const char *end = strchr(p, '}');
		int known;
		if (!end)
			return -EINVAL;
		const char *val = lookup(vars, p + 1, (size_t)(end - p - 1), &known);
		if (!known || !val)
			return -EINVAL;
		size_t n = strlen(val);
		if (o + n >= len || o + n > MQTT_TOPIC_MAX)
			return -ENAMETOOLONG;
		/* A value is exactly one level: '/' would split it, '+' and '#' are wildcards. */
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)val[i];
			buf[o++] = (ch == '/' || ch == '+' || ch == '#' || ch < 0x20) ? '_' : (char)ch;
		}
		p = end + 1;
	}
	buf[o] = '\0';
	if (o == 0 || buf[0] == '/' || buf[o - 1] == '/' || strstr(buf, "//") || strpbrk(buf, "+#"))
		return -EINVAL;
	return (int)o;
}
