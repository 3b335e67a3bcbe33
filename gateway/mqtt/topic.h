/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MQTT topic templates: "{prefix}/{gateway}/cases/{district}/{grid}" and the like. */
#ifndef AGW_TOPIC_H
#define AGW_TOPIC_H

#include <stddef.h>

/* Values for the placeholders; a NULL value makes its placeholder an error (-EINVAL). */
struct agw_topic_vars {
	const char *prefix;
	const char *gateway;
	const char *district;
	const char *street;
	const char *community;
	const char *grid;
	const char *kind;
	const char *camera;
	const char *case_id; /* {case}: evidence topics */
	const char *n;       /* {n}: the evidence number in its case */
	const char *level;   /* {level}: an escalation's target: "community", "street", "district" or "cell" */
	const char *code;    /* {code}: and its cell code */
};

/* Expands {prefix} {gateway} {district} {street} {community} {grid} {kind} {camera} {case} {n}
 * {level} {code} into buf.
 * '/', '+', '#' and control characters inside a value become '_' so that a value is always exactly
 * one topic level (as gateway/mqtt_topic.c does). Returns the length, -EINVAL for an unknown or
 * unset placeholder, an unclosed brace, an MQTT wildcard ('+' or '#') in the template or an empty
 * level in the result (an empty value, leading, trailing or doubled '/', or an empty topic), and
 * -ENAMETOOLONG when the result does not fit in len (or passes the MQTT limit of 65535 bytes). */
int agw_topic_expand(const char *tmpl, const struct agw_topic_vars *vars, char *buf, size_t len);

#endif
