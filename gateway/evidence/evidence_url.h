/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Signed, expiring URLs for the platform to fetch a case's picture from the gateway without the
 * bearer token: GET <url_base>/evidence/<case_id>/<n>?exp=<unix seconds>&sig=<hex>, where sig is
 * HMAC-SHA256, keyed with the contents of gateway.evidence_url_key_file, over the path and the
 * expiry as "<path>\n<exp>" (path as sent, without the query: "/evidence/agw-…/1"). The check
 * compares in constant time and refuses an expired link before looking at the signature.
 * docs/case-message.md "Signed links" says how a platform uses them. The status server checks them
 * (http_request.c, signed_link); the decider and the evidence scheduler put ready links in the
 * evidence entries of case messages and in the pictures' MQTT properties (agw_evidence_links,
 * evidence.url_base). */
#ifndef AGW_EVIDENCE_URL_H
#define AGW_EVIDENCE_URL_H

#include <stddef.h>
#include <stdint.h>

#define AGW_EVIDENCE_URL_KEY_MIN 32   /* bytes: the HMAC's own strength */
#define AGW_EVIDENCE_URL_KEY_MAX 1024

struct agw_evidence_url_key {
	uint8_t bytes[AGW_EVIDENCE_URL_KEY_MAX];
	size_t len;
};

/* Reads the key file: its bytes, a trailing newline dropped; 32 to 1024 bytes. Returns 0, or a
 * negative errno with err saying what is wrong ("path: 12 bytes, a key needs at least 32"). */
int agw_evidence_url_key_load(const char *path, struct agw_evidence_url_key *ret, char *err, size_t errlen);

/* The signature of path valid until exp (unix seconds): 64 hex digits and a NUL into hex. */
void agw_evidence_url_sign(const struct agw_evidence_url_key *key, const char *path, int64_t exp, char hex[65]);

/* base + "/evidence/<case_id>/<n>?exp=<exp>&sig=<hex>", malloc'd; NULL when out of memory or the
 * case id is not a plain id (printable ASCII without '/', '?', '%', '#', space). */
char *agw_evidence_url_make(const struct agw_evidence_url_key *key, const char *base, const char *case_id, int n,
			    int64_t exp);

/* Checks a request: path without the query, query without the '?'. Returns 0 when it carries a
 * valid signature not expired at now (unix seconds); -EINVAL (no or malformed exp/sig), -EKEYEXPIRED
 * (expired), -EPERM (wrong signature), each with why set ("link expired 120 s ago"). */
int agw_evidence_url_check(const struct agw_evidence_url_key *key, const char *path, const char *query, int64_t now,
			   char *why, size_t whylen);

#endif
