/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "soap.h"
#include "util.h"
#include "wsse.h"

#define PASSWORD_DIGEST_SUFFIX "#PasswordDigest"

int camsim_wsse_extract(xmlNode *header, struct camsim_wsse_token *ret)
{
	struct camsim_wsse_token t = {0};
	xmlNode *sec = camsim_soap_find(header, CAMSIM_NS_WSSE, "Security");
	xmlNode *tok = camsim_soap_find(sec, CAMSIM_NS_WSSE, "UsernameToken");
	if (!tok)
		return -ENOENT;
	if (!camsim_soap_text(tok, CAMSIM_NS_WSSE, "Username", t.username, sizeof(t.username)))
		return -EINVAL;
	xmlNode *pw = camsim_soap_find(tok, CAMSIM_NS_WSSE, "Password");
	if (!pw || !camsim_soap_text(tok, CAMSIM_NS_WSSE, "Password", t.password, sizeof(t.password)))
		return -EINVAL;
	xmlChar *type = xmlGetProp(pw, (const xmlChar *)"Type");
	if (type) {
		size_t n = strlen((const char *)type), s = strlen(PASSWORD_DIGEST_SUFFIX);
		t.is_digest = n >= s && strcmp((const char *)type + n - s, PASSWORD_DIGEST_SUFFIX) == 0;
		xmlFree(type);
	}
	if (!camsim_soap_text(tok, CAMSIM_NS_WSSE, "Nonce", t.nonce, sizeof(t.nonce)))
		t.nonce[0] = '\0';
	if (!camsim_soap_text(tok, CAMSIM_NS_WSU, "Created", t.created, sizeof(t.created)))
		t.created[0] = '\0';
	if (t.is_digest && (!t.nonce[0] || !t.created[0]))
		return -EINVAL;
	*ret = t;
	return 0;
}

int camsim_wsse_digest(const char *nonce_b64, const char *created, const char *password, char *out, size_t len)
{
	unsigned char nonce[192];
	int n = camsim_base64_decode(nonce_b64, nonce, sizeof(nonce));
	if (n < 0 || len < 29)
		return -EINVAL;
	size_t clen = strlen(created), plen = strlen(password);
	unsigned char *text = malloc((size_t)n + clen + plen + 1);
	if (!text)
		return -ENOMEM;
	memcpy(text, nonce, (size_t)n);
	memcpy(text + n, created, clen);
	memcpy(text + n + clen, password, plen);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_Digest(text, (size_t)n + clen + plen, md, &mdlen, EVP_sha1(), NULL);
	free(text);
	camsim_base64_encode(md, mdlen, out);
	return 0;
}

int camsim_wsse_verify(const struct camsim_wsse_token *t, const char *user, const char *password, double camera_now)
{
	if (strcmp(t->username, user) != 0)
		return -EACCES;
	if (t->created[0]) {
		double created;
		if (camsim_time_parse(t->created, &created) < 0 || fabs(created - camera_now) > CAMSIM_WSSE_MAX_SKEW)
			return -ETIME;
	}
	if (!t->is_digest)
		return strcmp(t->password, password) == 0 ? 0 : -EACCES;
	char expect[64];
	if (camsim_wsse_digest(t->nonce, t->created, password, expect, sizeof(expect)) < 0)
		return -EACCES;
	size_t n = strlen(expect);
	if (strlen(t->password) != n || CRYPTO_memcmp(expect, t->password, n) != 0)
		return -EACCES;
	return 0;
}
