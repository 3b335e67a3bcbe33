/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one JSON writer of the project: the journal's alert JSON (gateway/core/alert.c) and the case
 * message (rules/casemsg.c) are written with it. It appends to one growing buffer, with no tree
 * and no printf on the hot path, because it runs for every alert and every case message.
 *
 * Strings are escaped as they are copied; text that is not valid UTF-8 (camera-supplied topics and
 * names) is written as U+FFFD, so the output is always valid JSON. Keys are string literals
 * without characters that need escaping. Out of memory is sticky: every later call is a no-op
 * and agw_jw_finish returns -ENOMEM.
 *
 *   struct agw_jw w = {0};
 *   agw_jw_raw(&w, "{", 1); agw_jw_key(&w, "id"); agw_jw_str(&w, id); agw_jw_raw(&w, "}", 1);
 *   r = agw_jw_finish(&w, &json, &len);   // json malloc'd, NUL-terminated; free()
 */
#ifndef ALARMGW_JSON_WRITER_H
#define ALARMGW_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct agw_jw {
	char *p;
	size_t len, cap;
	bool oom;
	/* the calendar date of the last time written (a message's times are mostly on one day) */
	bool has_day;
	int64_t day;
	char date[10];
	/* the last AGW_JW_RECENT times written, quoted: a case message writes a dozen, mostly the
	 * same few (created and first_seen, updated and last_seen and gateway_time) */
#define AGW_JW_RECENT 4
	unsigned n_recent;
	int64_t recent_ms[AGW_JW_RECENT];
	char recent[AGW_JW_RECENT][26];
};

/* Room for n more bytes and the NUL, or oom set: the slow path of the inline writers below. */
void agw_jw_grow(struct agw_jw *w, size_t n);

/* Inline: most calls write a literal or a key whose length the compiler knows, so the copy is a
 * few stores (a case message has about 90 keys). */
static inline void agw_jw_raw(struct agw_jw *w, const char *s, size_t n)
{
	if (w->len + n + 1 > w->cap)
		agw_jw_grow(w, n);
	if (w->oom)
		return;
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = '\0';
}

/* Keys are literals without escapes: written as they are, after a ',' unless first in an object or
 * array. */
static inline void agw_jw_keyn(struct agw_jw *w, const char *k, size_t n)
{
	if (w->len + n + 5 > w->cap)
		agw_jw_grow(w, n + 4);
	if (w->oom)
		return;
	char *o = w->p + w->len;
	if (w->len && o[-1] != '{' && o[-1] != '[')
		*o++ = ',';
	*o++ = '"';
	memcpy(o, k, n);
	o += n;
	*o++ = '"';
	*o++ = ':';
	*o = '\0';
	w->len = (size_t)(o - w->p);
}
/* A string literal written as it is (only a literal compiles: "" s ""). */
#define agw_jw_lit(w, s) agw_jw_raw(w, "" s "", sizeof(s) - 1)
/* A JSON string, or null for NULL. */
void agw_jw_str(struct agw_jw *w, const char *s);
/* An object key: a comma first unless it opens its object. k: a literal needing no escapes. */
#define agw_jw_key(w, k) agw_jw_keyn(w, k, sizeof(k) - 1)
void agw_jw_int(struct agw_jw *w, int64_t v);
void agw_jw_bool(struct agw_jw *w, bool v);
/* An RFC 3339 UTC time with milliseconds, or null for AGW_TIME_UNKNOWN. */
void agw_jw_time(struct agw_jw *w, int64_t ms);
/* An array of strings. */
void agw_jw_strs(struct agw_jw *w, char *const *v, size_t n);
/* A comma before an array element or object member that is not the first. */
void agw_jw_sep(struct agw_jw *w);
/* Hands the text over (*ret malloc'd, NUL-terminated; *ret_len without the NUL) or frees it and
 * returns -ENOMEM. The writer is empty afterwards. */
int agw_jw_finish(struct agw_jw *w, char **ret, size_t *ret_len);

/* The time format of the writer ("2026-11-22T16:21:08.123Z"), printf-free; buf of
 * AGW_JW_TIME_LEN bytes. "invalid" outside years 0..9999. */
#define AGW_JW_TIME_LEN 32
const char *agw_jw_time_format(int64_t ms, char *buf);

#endif
