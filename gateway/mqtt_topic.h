/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Expansion of the publisher's own topic templates (status, camera health, feedback):
 * {prefix} {gateway} {camera}. Case topics are expanded by the decider, not here. */
#ifndef ALARMGW_MQTT_TOPIC_H
#define ALARMGW_MQTT_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#define AGW_MQTT_TOPIC_MAX 512

struct agw_mqtt_topic_vars {
	const char *prefix;
	const char *gateway;
	const char *camera; /* NULL where the template has no camera */
};

/* Writes the expanded template into buf. Values are made safe for a topic level: '/', '+', '#'
 * and control characters become '_' (a camera id must not add levels or wildcards).
 * Returns the length, -EINVAL for an unknown or unset {key} or an unclosed brace,
 * -ENAMETOOLONG when the result does not fit. */
int agw_mqtt_topic_expand(const char *tmpl, const struct agw_mqtt_topic_vars *vars, char *buf, size_t len);

/* True for a topic one may publish to: 1..65535 bytes, no '+' or '#', no NUL inside. */
bool agw_mqtt_topic_publishable(const char *topic);

/* Reconnect delay for the attempt-th consecutive failure (0 = first): min doubled per attempt,
 * capped at max, then jittered down to a random point in [d/2, d] (never below min) so that a
 * fleet of gateways does not reconnect in step after a broker restart. rnd: any random value. */
long long agw_mqtt_backoff_ms(unsigned attempt, long long min_ms, long long max_ms, unsigned rnd);

#endif
