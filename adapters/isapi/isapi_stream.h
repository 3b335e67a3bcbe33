/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An ISAPI alertStream (or a multipart push, or a single document) as alerts: the multipart
 * parser's parts go through isapi_event.h; image parts belong to the event before them. Pure: no
 * I/O, no logging, no global state, so the live adapter, `alarmgw normalize` and a fuzzer share it.
 *
 * Pictures: an event that announces binary pictures (isapi_event.h) is held until they have come,
 * or until the next non-image part or the end of the input; it then carries data items
 * "pictures" (how many came) and "picture_bytes" (their sizes, comma separated). An event that
 * announces none is passed on at once. Images that follow no waiting event are counted, not kept. */
#ifndef AGW_ISAPI_STREAM_H
#define AGW_ISAPI_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "alarmgw/alert.h"
#include "alarmgw/vendor_table.h"

struct agw_isapi_stream;

struct agw_isapi_stream_stats {
	uint64_t events, heartbeats, other_documents, pictures, orphan_pictures, errors;
};

struct agw_isapi_stream_config {
	const char *content_type;               /* of the HTTP response; NULL for a capture */
	const struct agw_vendor_table *table;   /* NULL: every type is "other" */
	size_t max_part;                        /* 0: 4 MiB (pictures) */
	/* Each event in order; the alert is cleared after the call. A negative return stops the
	 * stream and comes back from feed()/finish(). */
	int (*on_alert)(void *arg, struct agw_alert *alert);
	/* Each problem: where it starts in the input and what it is. Optional. */
	void (*on_error)(void *arg, uint64_t offset, const char *what);
	/* Each picture attached to an event, before the event goes to on_alert: index from 0, the
	 * part's Content-Type and bytes (valid during the call). For evidence files. Optional. */
	void (*on_picture)(void *arg, const struct agw_alert *event, unsigned index, const char *content_type,
			   const void *data, size_t len);
	void *arg;
};

int agw_isapi_stream_new(const struct agw_isapi_stream_config *cfg, struct agw_isapi_stream **ret);
void agw_isapi_stream_free(struct agw_isapi_stream *s);
/* Returns 0, on_alert's negative return, or -ENOMEM. */
int agw_isapi_stream_feed(struct agw_isapi_stream *s, const void *buf, size_t len);
int agw_isapi_stream_finish(struct agw_isapi_stream *s);
const struct agw_isapi_stream_stats *agw_isapi_stream_stats(const struct agw_isapi_stream *s);

/* A whole captured input (the normalize hook, a fuzzer): returns the number of events, fn's
 * negative return, or -EINVAL with err = "offset N: what" for the first problem (the events
 * around it have been passed to fn). */
int agw_isapi_normalize(const char *buf, size_t len, const struct agw_vendor_table *table,
			int (*fn)(void *arg, struct agw_alert *alert), void *arg, char *err, size_t errlen);

#endif
