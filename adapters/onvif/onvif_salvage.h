/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What can be read of a PullMessages answer that did not parse whole (cut short, broken XML, over
 * the size limit): its events already left the camera, so every NotificationMessage that is
 * complete and well-formed on its own is read, and the rest is counted for an events_lost alert. */
#ifndef AGW_ONVIF_SALVAGE_H
#define AGW_ONVIF_SALVAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "onvif_events.h"

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
