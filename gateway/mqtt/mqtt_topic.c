/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "mqtt_topic.h"

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
