/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An evidence URL to the store's row and its file (http_evidence.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "alarmgw/alert.h"
#include "http_evidence.h"

static int hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int bad(const char **why, const char *text)
{
	*why = text;
	return -EINVAL;
}

int agw_http_evidence_parse(const char *path, size_t len, char *case_id, size_t case_len, int64_t *ret_n,
			    const char **why)
{
	const size_t plen = sizeof(AGW_HTTP_EVIDENCE_PREFIX) - 1;
	if (len < plen || memcmp(path, AGW_HTTP_EVIDENCE_PREFIX, plen) != 0)
		return bad(why, "not an evidence URL");
	const char *p = path + plen, *end = path + len;
	const char *slash = memchr(p, '/', (size_t)(end - p));
	if (!slash)
		return bad(why, "an evidence URL is /evidence/<case id>/<n>");
	char id[AGW_HTTP_EVIDENCE_ID_MAX + 1];
	size_t o = 0;
	for (const char *q = p; q < slash; q++) {
		int ch = (unsigned char)*q;
		if (ch == '%') {
			int hi = q + 2 < slash ? hex(q[1]) : -1, lo = q + 2 < slash ? hex(q[2]) : -1;
			if (hi < 0 || lo < 0)
				return bad(why, "the case id has a bad %-escape");
			ch = hi * 16 + lo;
			q += 2;
		}
		if (ch < 0x20 || ch == 0x7f || ch == '/')
			return bad(why, "the case id has a control byte or a '/'");
		if (o >= AGW_HTTP_EVIDENCE_ID_MAX || o + 1 >= case_len)
			return bad(why, "the case id is too long");
		id[o++] = (char)ch;
	}
	id[o] = '\0';
	if (o == 0 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return bad(why, "the case id is empty, \".\" or \"..\"");
	int64_t n = 0;
	size_t digits = (size_t)(end - slash - 1);
	if (digits == 0 || digits > 6)
		return bad(why, "the picture number must be 1 to 999999");
	for (const char *q = slash + 1; q < end; q++) {
		if (*q < '0' || *q > '9')
			return bad(why, "the picture number must be 1 to 999999");
		n = n * 10 + (*q - '0');
	}
	if (n < 1)
		return bad(why, "the picture number must be 1 to 999999");
	memcpy(case_id, id, o + 1);
	*ret_n = n;
	return 0;
}

/* The evidence capture writes "evidence-cases/<day>/<name>.jpg": anything else in a row (a
 * damaged or hand-edited database) is not served. */
static bool path_plausible(const char *path)
{
	static const char dir[] = "evidence-cases/";
	if (strncmp(path, dir, sizeof(dir) - 1) != 0)
		return false;
	for (const char *p = path; *p; p++) {
		if (*p == '\\' || (unsigned char)*p < 0x20)
			return false;
		if ((p == path || p[-1] == '/') && p[0] == '.' && (p[1] == '.' || p[1] == '/' || p[1] == '\0'))
			return false;
	}
	return true;
}

static const char SQL[] = "SELECT status, reason, path, sha256, bytes, captured_gateway_time,"
			  " (SELECT count(*) FROM evidence WHERE case_id = ?1),"
			  " (SELECT count(*) FROM cases WHERE id = ?1)"
			  " FROM (SELECT 1) LEFT JOIN evidence ON case_id = ?1 AND n = ?2";

/* The row says why there is no file: a sentence for the 404. */
static int no_file(sqlite3_stmt *st, const char *case_id, int64_t n, char *err, size_t errlen)
{
	const char *status = (const char *)sqlite3_column_text(st, 0);
	const char *reason = (const char *)sqlite3_column_text(st, 1);
	if (!status && sqlite3_column_int64(st, 7) == 0 && sqlite3_column_int64(st, 6) == 0)
		snprintf(err, errlen, "no case %s", case_id);
	else if (!status)
		snprintf(err, errlen, "case %s has %lld pictures, not a number %lld", case_id,
			 (long long)sqlite3_column_int64(st, 6), (long long)n);
	else if (strcmp(status, "pruned") == 0)
		snprintf(err, errlen, "picture %lld of case %s was pruned (evidence max_age or max_total_bytes)",
			 (long long)n, case_id);
	else if (strcmp(status, "pending") == 0)
		snprintf(err, errlen, "picture %lld of case %s is still being captured", (long long)n, case_id);
	else
		snprintf(err, errlen, "picture %lld of case %s: capture %s: %s", (long long)n, case_id, status,
			 reason ? reason : "no reason recorded");
	return -ENOENT;
}

int agw_http_evidence_lookup(sqlite3 *db, const char *case_id, int64_t n, struct agw_http_evidence *ret, char *err,
			     size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int ret_code = -EIO;
	if (sqlite3_prepare_v2(db, SQL, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "evidence query failed: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, n);
	if (sqlite3_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "evidence query failed: %s", sqlite3_errmsg(db));
		goto out;
	}
	const char *status = (const char *)sqlite3_column_text(st, 0);
	const char *path = (const char *)sqlite3_column_text(st, 2);
	if (!status || strcmp(status, "stored") != 0 || !path) {
		ret_code = no_file(st, case_id, n, err, errlen);
		goto out;
	}
	struct agw_http_evidence e = {.bytes = -1, .captured_ms = AGW_TIME_UNKNOWN};
	const char *sha = (const char *)sqlite3_column_text(st, 3);
	if (!path_plausible(path) || snprintf(e.path, sizeof(e.path), "%s", path) >= (int)sizeof(e.path)) {
		snprintf(err, errlen, "picture %lld of case %s: the store names an unexpected file", (long long)n, case_id);
		goto out;
	}
	snprintf(e.sha256, sizeof(e.sha256), "%s", sha && strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64 ? sha : "");
	if (sqlite3_column_type(st, 4) != SQLITE_NULL)
		e.bytes = sqlite3_column_int64(st, 4);
	if (sqlite3_column_type(st, 5) != SQLITE_NULL)
		e.captured_ms = sqlite3_column_int64(st, 5);
	*ret = e;
	ret_code = 0;
out:
	sqlite3_finalize(st);
	return ret_code;
}
