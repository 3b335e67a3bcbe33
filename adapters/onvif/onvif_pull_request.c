/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PullMessages document of a subscription, written by gSOAP once and refreshed in place for
 * every later poll (see onvif_requests.h). Serializing it was 80 k instructions per poll (the
 * envelope declares every namespace of the bindings); a poll now rewrites 76 bytes and hashes 60. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "onvif_requests.h"

/* The nonce and digest are base64 of 16 and 20 bytes: always these lengths. */
#define NONCE_CHARS 24
#define DIGEST_CHARS 28

/* Where ">value<" occurs in xml, once and only once: the offset of the value, or -1. A value that
 * also appears elsewhere (a reference parameter echoing it, however unlikely) cannot be told apart,
 * so such a document is not reused. */
static long value_at(const char *xml, const char *value)
{
	size_t n = strlen(value);
	char pat[48];
	if (n == 0 || n + 3 > sizeof(pat))
		return -1;
	pat[0] = '>';
	memcpy(pat + 1, value, n);
	pat[n + 1] = '<';
	pat[n + 2] = '\0';
	const char *p = strstr(xml, pat);
	if (!p || strstr(p + 1, pat))
		return -1;
	return (long)(p + 1 - xml);
}

int agw_onvif_pull_doc_build(struct soap *soap, const struct agw_onvif_request *req, char **ret_xml,
			     struct agw_onvif_pull_doc *ret_doc)
{
	struct agw_onvif_request r = *req;
	struct agw_onvif_wsse fresh;
	struct agw_onvif_pull_doc doc = {0};
	const char *action;
	char *xml = NULL;
	if (req->op != AGW_ONVIF_PULL_MESSAGES)
		return -EINVAL;
	doc.wsse = req->username && *req->username;
	if (doc.wsse && !r.wsse) {
		int rc = agw_onvif_wsse_make(req->password, req->camera_now_ms, &fresh);
		if (rc < 0)
			return rc;
		r.wsse = &fresh;
	}
	int rc = agw_onvif_request_build(soap, &r, &xml, &action);
	if (rc < 0)
		return rc;
	if (doc.wsse) {
		long nonce = value_at(xml, r.wsse->nonce), created = value_at(xml, r.wsse->created);
		long digest = value_at(xml, r.wsse->digest);
		size_t created_len = strlen(r.wsse->created);
		if (strlen(r.wsse->nonce) != NONCE_CHARS || strlen(r.wsse->digest) != DIGEST_CHARS || nonce < 0 || created < 0 || digest < 0 || nonce > UINT16_MAX || created > UINT16_MAX ||
		    digest > UINT16_MAX || created_len > UINT8_MAX) {
			free(xml);
			return -EINVAL;
		}
		doc.nonce = (uint16_t)nonce;
		doc.created = (uint16_t)created;
		doc.digest = (uint16_t)digest;
		doc.created_len = (uint8_t)created_len;
	}
	*ret_xml = xml;
	*ret_doc = doc;
	return 0;
}

int agw_onvif_pull_doc_refresh(char *xml, const struct agw_onvif_pull_doc *doc, const struct agw_onvif_wsse *f)
{
	if (!doc->wsse)
		return 0;
	if (strlen(f->nonce) != NONCE_CHARS || strlen(f->digest) != DIGEST_CHARS || strlen(f->created) != doc->created_len)
		return -ERANGE;
	memcpy(xml + doc->nonce, f->nonce, NONCE_CHARS);
	memcpy(xml + doc->created, f->created, doc->created_len);
	memcpy(xml + doc->digest, f->digest, DIGEST_CHARS);
	return 0;
}
