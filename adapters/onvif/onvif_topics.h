/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals of the topic table (the public part is in onvif_normalize.h). */
#ifndef AGW_ONVIF_TOPICS_H
#define AGW_ONVIF_TOPICS_H

#include <stdbool.h>
#include <stddef.h>

#include "alarmgw/alert.h"
#include "onvif_normalize.h"

/* Parses table text; origin names it in errors ("origin:line: message"). The table falls back to
 * `fallback` (may be NULL) for topics it does not map. */
int agw_onvif_topic_table_parse(const char *text, size_t len, const char *origin,
				const struct agw_onvif_topic_table *fallback, struct agw_onvif_topic_table **ret,
				char *err, size_t errlen);
/* The kind of a topic as written ("tns1:RuleEngine/CellMotionDetector/Motion") whose message
 * carries the Data items `data` (NULL: none; rules with an item condition, "PATTERN[Item]" or
 * "PATTERN[Item=Value]", then never match); AGW_KIND_OTHER when nothing matches. */
enum agw_alert_kind agw_onvif_topic_kind_of(const struct agw_onvif_topic_table *t, const char *topic,
					    const struct agw_items *data);
enum agw_alert_kind agw_onvif_topic_kind(const struct agw_onvif_topic_table *t, const char *topic);
/* Whether a Data item of that name is known to carry the event's on/off state ("state" lines). */
bool agw_onvif_topic_state_item(const struct agw_onvif_topic_table *t, const char *name);
/* Whether a Data item of that name is never the state, even with a 0/1 value ("nostate" lines:
 * ids, counters). */
bool agw_onvif_topic_nostate_item(const struct agw_onvif_topic_table *t, const char *name);
/* Number of pattern lines (tests). */
size_t agw_onvif_topic_table_size(const struct agw_onvif_topic_table *t);

#endif
