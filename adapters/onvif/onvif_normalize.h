/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ONVIF event normalization, shared by the ONVIF adapter (PullMessages responses) and the RTSP
 * adapter (the application/vnd.onvif.metadata track): XML in, struct agw_alert out.
 * Thread-safe: every call uses its own gSOAP context; tables are read-only once loaded. */
#ifndef AGW_ONVIF_NORMALIZE_H
#define AGW_ONVIF_NORMALIZE_H

#include <stddef.h>

#include "alarmgw/alert.h"

/* Topic-to-kind mapping, kept as data (onvif-topics.conf documents the syntax). */
struct agw_onvif_topic_table;

/* Loads a table file whose entries are tried before the default table's. On failure writes
 * "path:line: message" into err. */
int agw_onvif_topic_table_load(const char *path, struct agw_onvif_topic_table **ret, char *err, size_t errlen);
/* The table compiled into the program (the same text as share/alarmgw/onvif-topics.conf). */
const struct agw_onvif_topic_table *agw_onvif_topic_table_default(void);
void agw_onvif_topic_table_free(struct agw_onvif_topic_table *t); /* NULL and the default are no-ops */

/* Parses a PullMessagesResponse envelope (or a wsnt:Notify), a bare wsnt:NotificationMessage or a
 * tt:MetadataStream document (or such a document behind the HTTP response head of a network
 * capture, chunked or not) and calls fn for each NotificationMessage in document order with an
 * alert whose kind, active, operation, camera_time_ms, topic, source, key, data, payload and
 * event_id (the Data or Key SimpleItem named EventId) are filled; camera_id, adapter and the
 * gateway times are left for the caller. The alert is cleared after fn returns. table NULL means
 * the default table. Returns the number of notifications (0 also for a well-formed SOAP envelope
 * that answers another operation: GetSystemDateAndTime, CreatePullPointSubscription, Renew, ...),
 * or fn's negative return, or -EPROTO for a SOAP Fault (err = "fault: <code>: <reason>"), -EINVAL
 * for malformed XML or a document that is neither SOAP nor one of the above (err starts with
 * "line N:"), -EMSGSIZE over a size limit, -ENOMEM. */
int agw_onvif_normalize(const char *xml, size_t len, const struct agw_onvif_topic_table *table,
			int (*fn)(void *arg, struct agw_alert *alert), void *arg, char *err, size_t errlen);

/* onvif_xmlcheck.c: checks that buf is one well-formed XML document with declared prefixes and no
 * DTD. Returns 0, -EINVAL ("line N: what" in err) or -EMSGSIZE (nesting or attribute limits). */
int agw_onvif_xml_check(const char *buf, size_t len, char *err, size_t errlen);

/* An undeclared prefix is let through (gSOAP then matches it by its usual name, "SOAP-ENV:");
 * everything else is checked the same. For device responses only, never for events. */
#define AGW_XMLCHECK_UNDECLARED_OK 1u
int agw_onvif_xml_check_flags(const char *buf, size_t len, unsigned flags, char *err, size_t errlen);

#endif
