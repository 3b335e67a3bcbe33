/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GET /evidence/<case_id>/<n>: a case's picture. The URL only names a row of the evidence table;
 * the file is the one that row names (written by gateway/evidence/), never a path made from the
 * URL. These two functions are the whole of that mapping, kept apart from the sockets so that the
 * signed, expiring URLs built on top of them check the same thing. Pure code: no logging. */
#ifndef ALARMGW_HTTP_EVIDENCE_H
#define ALARMGW_HTTP_EVIDENCE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define AGW_HTTP_EVIDENCE_PREFIX "/evidence/"
#define AGW_HTTP_EVIDENCE_ID_MAX 128          /* bytes of a case id in a URL, decoded */
#define AGW_HTTP_EVIDENCE_MAX_BYTES (16 << 20) /* a picture file served at most */

/* What the store says about one picture. */
struct agw_http_evidence {
	char path[512];       /* the file, relative to the state directory, as the row names it */
	char sha256[65];      /* "" when unknown */
	int64_t bytes;        /* as stored, -1 when unknown */
	int64_t captured_ms;  /* gateway time of the capture, AGW_TIME_UNKNOWN when unknown */
};

/* Splits the path of an evidence URL ("/evidence/c-1a2b/1", the case id %-escaped as the page
 * writes it) into the case id (decoded into case_id, at most AGW_HTTP_EVIDENCE_ID_MAX bytes: no
 * NUL, '/', control byte, "." or "..") and n (decimal, 1 to 999999). Returns 0, or -EINVAL with
 * *why saying what is wrong (a static string). */
int agw_http_evidence_parse(const char *path, size_t len, char *case_id, size_t case_len, int64_t *ret_n,
			    const char **why);

/* Looks the picture up in the store (db: a connection the caller owns, any thread). Returns 0
 * with *ret filled when the row has a file; -ENOENT when there is no such case or picture, when
 * the capture failed, was skipped, is still pending or its file was pruned: err says which, with
 * the row's reason ("capture failed: timeout after 5000 ms"); -EIO when the store cannot be read
 * (err says why). *ret is untouched on failure. */
int agw_http_evidence_lookup(sqlite3 *db, const char *case_id, int64_t n, struct agw_http_evidence *ret, char *err,
			     size_t errlen);

#endif
