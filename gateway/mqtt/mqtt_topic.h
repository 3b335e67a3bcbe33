/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small MQTT helpers of the publisher: topic checks and the reconnect backoff. Templates are
 * expanded by gateway/topic.h (agw_topic_expand). */
#ifndef ALARMGW_MQTT_TOPIC_H
#define ALARMGW_MQTT_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#define AGW_MQTT_TOPIC_MAX 512

/* True for a topic one may publish to: 1..65535 bytes, no '+' or '#', no NUL inside. */
bool agw_mqtt_topic_publishable(const char *topic);

/* Reconnect delay for the attempt-th consecutive failure (0 = first): min doubled per attempt,
 * capped at max, then jittered down to a random point in [d/2, d] (never below min) so that a
 * fleet of gateways does not reconnect in step after a broker restart. rnd: any random value. */
long long agw_mqtt_backoff_ms(unsigned attempt, long long min_ms, long long max_ms, unsigned rnd);

#endif
