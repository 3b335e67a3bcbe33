/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Normalization with a caller-owned gSOAP context (the adapter reuses one per loop), the helpers
 * the normalize command and the tests share, the fast PullMessagesResponse reader and the salvage
 * of answers that did not parse whole. */
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

/* onvif_fastpull.c: a PullMessagesResponse read without the gSOAP deserializer, for the common
 * shape only. The
 * generated reader costs about 200 k instructions per answer in gSOAP's per-document bookkeeping
 * (id tables cleared, walked and resolved for multi-ref data that document/literal SOAP never
 * has) and 450 k in all; this reader about 55 k. It accepts only what it fully understands and gives
 * exactly the alerts the gSOAP path gives (tests/unit/onvif/test_onvif_fastpull.c proves it on
 * every fixture, fuzz_onvif_fastpull on any input); on anything else it declines and the caller
 * reads the document with gSOAP. */
/* The alerts of one answer, in document order, and its times. */
struct agw_onvif_fast_batch {
	struct agw_alert *v;
	size_t n, cap;
	struct agw_onvif_pull_info info;
};

/* Reads a document that agw_onvif_xml_check() accepted. Returns 0 with *ret filled (the caller
 * clears it), -ENOTSUP when the document is not one this reader takes (*ret untouched: read it
 * with gSOAP), or -ENOMEM. */
int agw_onvif_fast_read(const char *xml, size_t len, const struct agw_onvif_topic_table *table,
			struct agw_onvif_fast_batch *ret);
void agw_onvif_fast_batch_clear(struct agw_onvif_fast_batch *b);

/* onvif_salvage.c: what can be read of a PullMessages answer that did not parse whole (cut short, broken XML, over
 * the size limit): its events already left the camera, so every NotificationMessage that is
 * complete and well-formed on its own is read, and the rest is counted for an events_lost alert. */
struct agw_onvif_salvage {
	int read;          /* NotificationMessages read and passed to fn */
	int unreadable;    /* NotificationMessage elements seen but not readable (cut, broken) */
	bool complete;     /* the document ends with its root's end tag: no message can lie beyond */
	size_t bytes_read; /* bytes of the messages that were read */
	size_t first_bad;  /* offset of the first unreadable message, or the document's length */
};

/* Reads each NotificationMessage of buf on its own, with the namespace declarations of the
 * elements before it, and calls fn for its alerts (as agw_onvif_normalize_soap does). Fills
 * *ret and returns the number of messages read, or fn's negative return. Never reads past len;
 * at most AGW_ONVIF_SALVAGE_MAX_MESSAGES messages are looked at (the rest count as unreadable). */
#define AGW_ONVIF_SALVAGE_MAX_MESSAGES 10000
/* skip: messages a first attempt already passed to fn (counted as read, not passed again). */
int agw_onvif_salvage(struct soap *soap, const char *buf, size_t len, const struct agw_onvif_topic_table *table,
		      int skip, int (*fn)(void *arg, struct agw_alert *alert), void *arg, struct agw_onvif_salvage *ret);

#endif
