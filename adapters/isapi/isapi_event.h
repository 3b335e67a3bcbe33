/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One ISAPI EventNotificationAlert document (XML in the ver10, ver20, psialliance, isapi.org or
 * no namespace, or JSON) as an alert. Pure: no I/O, no logging, no global state.
 *
 * What the alert holds (README.md has the full table):
 *   topic        eventType as written (trimmed)
 *   kind         from the event table; "duration" (a wrapper that reports how long another
 *                event lasts) takes the kind of its relationEvent when the table maps that one
 *   active       eventState active -> true, inactive -> false, anything else -> none
 *   camera_time  dateTime when it carries a zone (Z or an offset); a zoneless dateTime is the
 *                device's local time with an unknown offset: unknown, and dateTime stays in data
 *   source       channel = channelID, or dynChannelID when channelID is absent or empty
 *   data         every other element, flattened: nested elements joined with '.', repeated
 *                siblings numbered "[i]" from 0, text trimmed; JSON by vendor_json.h's rules
 *   payload      the document as received
 * Heartbeats (videoloss + inactive) are recognised and give no alert. */
#ifndef AGW_ISAPI_EVENT_H
#define AGW_ISAPI_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#include "alarmgw/alert.h"
#include "alarmgw/vendor_table.h"

#define AGW_ISAPI_MAX_DOCUMENT (1u << 20)
#define AGW_ISAPI_MAX_ITEMS 512
#define AGW_ISAPI_MAX_PICTURES 16

enum agw_isapi_doc_kind {
	AGW_ISAPI_DOC_EVENT,     /* *alert is filled */
	AGW_ISAPI_DOC_HEARTBEAT, /* videoloss/inactive: the stream is alive, nothing happened */
	AGW_ISAPI_DOC_OTHER,     /* well-formed, but not an EventNotificationAlert (ResponseStatus, ...) */
};

struct agw_isapi_doc {
	enum agw_isapi_doc_kind kind;
	unsigned pictures; /* binary pictures the event announces (detectionPicturesNumber with
			    * detectionPictureTransType binary, or picNum), at most AGW_ISAPI_MAX_PICTURES */
};

/* Parses one document. table NULL maps every type to "other". Fills *alert (initialized by the
 * caller, cleared on failure) and *info. Returns 0, -EINVAL for a malformed document (err = "line
 * N: what" for XML, "what" otherwise), -EMSGSIZE over AGW_ISAPI_MAX_DOCUMENT, -ENOMEM. */
int agw_isapi_parse_document(const char *doc, size_t len, const struct agw_vendor_table *table,
			     struct agw_alert *alert, struct agw_isapi_doc *info, char *err, size_t errlen);

#endif
