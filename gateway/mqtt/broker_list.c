/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>
#include <stdint.h>
#include <stdlib.h>

#include "broker_list.h"

/* Counts the non-empty entries; the one numbered want (from 0) goes to *ret_start and *ret_len. */
static size_t walk(const char *list, size_t want, const char **ret_start, size_t *ret_len)
{
	size_t n = 0;
	const char *p = list ? list : "";
	while (*p) {
		p += strspn(p, ", \t");
		size_t len = strcspn(p, ",");
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len) {
			if (n == want && ret_start) {
				*ret_start = p;
				*ret_len = len;
			}
			n++;
		}
		p += strcspn(p, ",");
	}
	return n;
}

size_t agw_broker_list_count(const char *list)
{
	return walk(list, (size_t)-1, NULL, NULL);
}

char *agw_broker_list_get(const char *list, size_t i)
{
	size_t n = agw_broker_list_count(list);
	if (n == 0)
		return NULL;
	const char *start = NULL;
	size_t len = 0;
	walk(list, i % n, &start, &len);
	return start ? strndup(start, len) : NULL;
}

size_t agw_broker_list_first(const char *list, const char *instance_id)
{
	size_t n = agw_broker_list_count(list);
	if (n < 2 || !instance_id)
		return 0;
	/* FNV-1a: stable across runs and builds, so an instance always starts on the same broker */
	uint32_t h = 2166136261u;
	for (const unsigned char *s = (const unsigned char *)instance_id; *s; s++)
		h = (h ^ *s) * 16777619u;
	return h % n;
}
