/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "mqtt_topic.h"

static const char *lookup(const struct agw_mqtt_topic_vars *vars, const char *key, size_t n)
{
	if (n == 6 && memcmp(key, "prefix", 6) == 0)
		return vars->prefix;
	if (n == 7 && memcmp(key, "gateway", 7) == 0)
		return vars->gateway;
	if (n == 6 && memcmp(key, "camera", 6) == 0)
		return vars->camera;
	return NULL;
}

int agw_mqtt_topic_expand(const char *tmpl, const struct agw_mqtt_topic_vars *vars, char *buf, size_t len)
{
	size_t o = 0;
	if (!tmpl || !len)
		return -EINVAL;
	for (const char *p = tmpl; *p;) {
		if (*p != '{') {
			if (o + 1 >= len)
				return -ENAMETOOLONG;
			buf[o++] = *p++;
			continue;
		}
		const char *end = strchr(p, '}');
		if (!end)
			return -EINVAL;
		const char *v = lookup(vars, p + 1, (size_t)(end - p - 1));
		if (!v)
			return -EINVAL;
		for (; *v; v++) {
			if (o + 1 >= len)
				return -ENAMETOOLONG;
			unsigned char c = (unsigned char)*v;
			buf[o++] = (c == '/' || c == '+' || c == '#' || c < 0x20 || c == 0x7f) ? '_' : (char)c;
		}
		p = end + 1;
	}
	buf[o] = '\0';
	return (int)o;
}

bool agw_mqtt_topic_publishable(const char *topic)
{
	if (!topic || !*topic)
		return false;
	size_t n = strlen(topic);
	return n <= 65535 && !strpbrk(topic, "+#");
}

long long agw_mqtt_backoff_ms(unsigned attempt, long long min_ms, long long max_ms, unsigned rnd)
{
	if (min_ms < 1)
		min_ms = 1;
	if (max_ms < min_ms)
		max_ms = min_ms;
	long long d = min_ms;
	for (unsigned i = 0; i < attempt && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	long long half = d / 2;
	d = half + (long long)(rnd % (unsigned long long)(d - half + 1));
	return d < min_ms ? min_ms : d;
}
