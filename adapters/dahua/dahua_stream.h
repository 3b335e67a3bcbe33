/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A Dahua eventManager attach stream (or one part's text) as alerts: the multipart parser's text
 * parts through dahua_event.h. Pure: no I/O, no logging, no global state, so the live adapter,
 * `alarmgw normalize` and a fuzzer share it. Parts that are not text (pictures) are counted. */
#ifndef AGW_DAHUA_STREAM_H
#define AGW_DAHUA_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "alarmgw/alert.h"
#include "alarmgw/vendor_table.h"

struct agw_dahua_stream;

struct agw_dahua_stream_stats {
	uint64_t events, heartbeats, other_parts, errors;
};

struct agw_dahua_stream_config {
	const char *content_type;             /* of the HTTP response; NULL for a capture */
	const struct agw_vendor_table *table; /* NULL: every Code is "other" */
	size_t max_part;                      /* 0: 4 MiB */
	int (*on_alert)(void *arg, struct agw_alert *alert); /* cleared after; negative stops */
	void (*on_error)(void *arg, uint64_t offset, const char *what);
	void *arg;
};

int agw_dahua_stream_new(const struct agw_dahua_stream_config *cfg, struct agw_dahua_stream **ret);
void agw_dahua_stream_free(struct agw_dahua_stream *s);
int agw_dahua_stream_feed(struct agw_dahua_stream *s, const void *buf, size_t len);
int agw_dahua_stream_finish(struct agw_dahua_stream *s);
const struct agw_dahua_stream_stats *agw_dahua_stream_stats(const struct agw_dahua_stream *s);

/* A whole captured input: the number of events, fn's negative return, or -EINVAL with err =
 * "offset N: what" for the first problem (the events around it have been passed to fn). */
int agw_dahua_normalize(const char *buf, size_t len, const struct agw_vendor_table *table,
			int (*fn)(void *arg, struct agw_alert *alert), void *arg, char *err, size_t errlen);

#endif
