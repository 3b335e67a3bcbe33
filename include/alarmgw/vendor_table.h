/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Vendor event type -> alert kind, as data (the ISAPI and Dahua adapters share it; the syntax is
 * in isapi-events.conf). A table loaded from a file is tried before the default one it falls back
 * to. Read-only once built: safe to share between threads. */
#ifndef AGW_VENDOR_TABLE_H
#define AGW_VENDOR_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "alarmgw/alert.h"

struct agw_vendor_table;

/* Parses table text; origin names it in errors ("origin:line: message"). */
int agw_vendor_table_parse(const char *text, size_t len, const char *origin, const struct agw_vendor_table *fallback,
			   struct agw_vendor_table **ret, char *err, size_t errlen);
/* Loads a file whose lines are tried before `fallback`'s. */
int agw_vendor_table_load(const char *path, const struct agw_vendor_table *fallback, struct agw_vendor_table **ret,
			  char *err, size_t errlen);
void agw_vendor_table_free(struct agw_vendor_table *t);
/* The kind of an event type as written (case-insensitive; a pattern ending in '*' matches a
 * prefix). Returns false (and AGW_KIND_OTHER) when no line names it. */
bool agw_vendor_table_kind(const struct agw_vendor_table *t, const char *type, enum agw_alert_kind *ret_kind);
/* Number of lines, with the fallback's (tests). */
size_t agw_vendor_table_size(const struct agw_vendor_table *t);

#endif
