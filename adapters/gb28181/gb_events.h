/* SPDX-License-Identifier: GPL-2.0-or-later */
/* AlarmMethod / AlarmType / EventType to alert kind: data, not code (syntax in
 * gb28181-events.conf). The default table is that file, embedded at build time and parsed once;
 * a table loaded from the config falls back to it. Read-only once built: thread-safe. */
#ifndef AGW_GB_EVENTS_H
#define AGW_GB_EVENTS_H

#include <stddef.h>

#include "alarmgw/alert.h"

struct agw_gb_event_table;

/* Parses table text; origin names it in errors ("origin:line: message"). fallback (may be NULL)
 * is consulted for alarms no line of this table matches; it must outlive the table. */
int agw_gb_event_table_parse(const char *text, size_t len, const char *origin,
			     const struct agw_gb_event_table *fallback, struct agw_gb_event_table **ret, char *err,
			     size_t errlen);
/* Loads a table file whose lines are tried before the default table's. */
int agw_gb_event_table_load(const char *path, struct agw_gb_event_table **ret, char *err, size_t errlen);
const struct agw_gb_event_table *agw_gb_event_table_default(void);
void agw_gb_event_table_free(struct agw_gb_event_table *t); /* NULL and the default are no-ops */

/* The kind of an alarm; NULL or "" for what the document does not have. AGW_KIND_OTHER when no
 * line matches. t NULL means the default table. */
enum agw_alert_kind agw_gb_event_kind(const struct agw_gb_event_table *t, const char *method, const char *type,
				      const char *event_type);
/* Lines in the table and its fallbacks (tests). */
size_t agw_gb_event_table_size(const struct agw_gb_event_table *t);

#endif
