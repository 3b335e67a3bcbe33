/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text of an event table: bounded file, lines and words (alarmgw/table_text.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/table_text.h"

int agw_table_file_read(const char *path, char **ret_buf, size_t *ret_len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	char *buf = malloc(AGW_TABLE_FILE_MAX + 1);
	int rc = -ENOMEM;
	size_t n = 0;
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	n = fread(buf, 1, AGW_TABLE_FILE_MAX + 1, f);
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	} else if (n > AGW_TABLE_FILE_MAX) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: larger than %u bytes", path, AGW_TABLE_FILE_MAX);
	} else {
		rc = 0;
	}
out:
	fclose(f);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*ret_buf = buf;
	*ret_len = n;
	return 0;
}

int agw_table_lines(const char *text, size_t len, const char *origin, agw_table_line_fn fn, void *arg, char *err,
		    size_t errlen)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;
	while (p < end) {
		line++;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		char why[160] = "out of memory";
		int rc = fn(arg, p, e, why, sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "%s:%u: %s", origin, line, why);
			return rc;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

const char *agw_table_word(const char **p, const char *end, size_t *ret_len)
{
	const char *b = *p;
	while (b < end && isspace((unsigned char)*b))
		b++;
	const char *e = b;
	while (e < end && !isspace((unsigned char)*e))
		e++;
	*p = e;
	*ret_len = (size_t)(e - b);
	return e > b ? b : NULL;
}
