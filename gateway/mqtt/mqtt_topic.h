/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small MQTT helpers of the publisher: topic checks. Templates are
 * expanded by gateway/mqtt/topic.h (agw_topic_expand); the reconnect backoff is alarmgw/backoff.h. */
#ifndef ALARMGW_MQTT_TOPIC_H
#define ALARMGW_MQTT_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#define AGW_MQTT_TOPIC_MAX 512

/* True for a topic one may publish to: 1..65535 bytes, no '+' or '#', no NUL inside. */
bool agw_mqtt_topic_publishable(const char *topic);

#endif

