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
