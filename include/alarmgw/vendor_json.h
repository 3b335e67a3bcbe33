/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Vendor JSON as flat name/value items (the ISAPI and Dahua adapters share it). */
#ifndef AGW_VENDOR_JSON_H
#define AGW_VENDOR_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "alarmgw/alert.h"

/* Appends the leaves of v to items. The names are paths: an object member adds ".key" (no dot at
 * the top), an array of scalars is one value joined with ',' ("BoundingBox" = "4816,4552,5248,5272"),
 * an array holding objects or arrays adds "[i]" per element (0-based). Strings are kept as they
 * are, integers in decimal, reals with up to 15 significant digits, true/false as words, null as
 * "". At the top level, members for which skip() returns true are left out (skip may be NULL).
 * At most max_items items are added; the rest is counted in *ret_dropped. Returns 0 or -ENOMEM. */
int agw_vendor_json_flatten(const json_t *v, const char *prefix, bool (*skip)(const char *name, void *arg),
			    void *skip_arg, struct agw_items *items, size_t max_items, size_t *ret_dropped);
/* A scalar as text (the rules above) into buf; false for objects and arrays. */
bool agw_vendor_json_scalar(const json_t *v, char *buf, size_t len);

#endif
