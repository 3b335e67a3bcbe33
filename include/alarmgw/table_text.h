/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text of an event table (ONVIF topics, GB/T 28181 alarms, vendor event types): read from a
 * bounded file, cut into lines and words, each error named "origin:line: what". Each table keeps
 * its own line syntax; this is what they read the same way. */
#ifndef ALARMGW_TABLE_TEXT_H
#define ALARMGW_TABLE_TEXT_H

#include <stddef.h>

/* The largest table file read (1 MiB): the shipped tables are a few KiB. */
#define AGW_TABLE_FILE_MAX (1u << 20)

/* Reads the whole file at path (at most AGW_TABLE_FILE_MAX bytes) into a malloc'd, NUL-terminated
 * *ret_buf. 0, or a negative errno with err "path: what" (-EFBIG when it is larger). */
int agw_table_file_read(const char *path, char **ret_buf, size_t *ret_len, char *err, size_t errlen);

/* One line [b, e) without its '\n'. Returns 0, or negative with why set (why starts as "out of
 * memory", so a bare -ENOMEM needs nothing more). */
typedef int (*agw_table_line_fn)(void *arg, const char *b, const char *e, char *why, size_t whylen);

/* Calls fn for each line of [text, text + len) until one fails; err is then "origin:LINE: why". */
int agw_table_lines(const char *text, size_t len, const char *origin, agw_table_line_fn fn, void *arg, char *err,
		    size_t errlen);

/* The next white-space-separated word of [*p, end), *p moved past it; NULL at the end. */
const char *agw_table_word(const char **p, const char *end, size_t *ret_len);

#endif
