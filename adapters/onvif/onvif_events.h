/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Normalization with a caller-owned gSOAP context (the adapter reuses one per loop), and the
 * helpers the normalize command and the tests share. */
#ifndef AGW_ONVIF_EVENTS_H
#define AGW_ONVIF_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "onvif_normalize.h"
#include "onvif_soap.h"

/* What a PullMessagesResponse says besides its messages (empty strings when absent). */
struct agw_onvif_pull_info {
	char current_time[48];
	char termination_time[48];
};

/* agw_onvif_normalize() on a caller's context, for answers to PullMessages: there, an envelope that
 * answers another operation is an error (-EINVAL, "line N: not a PullMessagesResponse, ..."). */
int agw_onvif_normalize_soap(struct soap *soap, const char *xml, size_t len, const struct agw_onvif_topic_table *table,
			     int (*fn)(void *arg, struct agw_alert *alert), void *arg, struct agw_onvif_pull_info *info,
			     char *err, size_t errlen);

/* true/false/1/0/active/inactive/on/off/yes/no in any case, trimmed: 1, 0, or -1 for anything else. */
int agw_onvif_bool_parse(const char *text);

/* The gSOAP reading alone (agw_onvif_normalize_soap tries onvif_fastpull.c first): the reference
 * the fast reader is compared with. */
int agw_onvif_normalize_gsoap(struct soap *soap, const char *xml, size_t len, const struct agw_onvif_topic_table *table,
			      int (*fn)(void *arg, struct agw_alert *alert), void *arg, struct agw_onvif_pull_info *info,
			      char *err, size_t errlen);

/* Shared by both readers, so that they build alerts the same way. */
/* A copy of s (NULL reads as "") without leading and trailing white space. */
char *agw_onvif_dup_trimmed(const char *s);
/* Appends name = value, both trimmed; an item without a name is left out. */
int agw_onvif_item_add(struct agw_items *items, const char *name, const char *value);
/* From a tt:Message's UtcTime and PropertyOperation (either NULL) and its Data items (already in
 * a): camera_time_ms, operation and active. */
void agw_onvif_message_fill(struct agw_alert *a, const char *utc_time, const char *operation,
			    const struct agw_onvif_topic_table *table);
/* From the topic and items already in a: kind and event_id. -ENOMEM. */
int agw_onvif_alert_finish(struct agw_alert *a, const struct agw_onvif_topic_table *table);

#endif
