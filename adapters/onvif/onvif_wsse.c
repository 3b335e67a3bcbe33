/* SPDX-License-Identifier: GPL-2.0-or-later */
/* WS-Security UsernameToken PasswordDigest (OASIS WSS UsernameToken Profile 1.0, section 3.1):
 * Password_Digest = Base64(SHA-1(nonce + created + password)), nonce as raw bytes. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "alarmgw/alert.h"
#include "onvif_requests.h"

#define NONCE_LEN 16
#define PASSWORD_DIGEST_TYPE                                                                                           \
	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
#define BASE64_ENCODING                                                                                                \
	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"

/* One SHA-1 and one digest context per thread, kept: fetching the algorithm and allocating a context
 * cost more than hashing the 60 bytes of a request (OpenSSL 3 fetches by name every time). */
static _Thread_local EVP_MD *sha1;
static _Thread_local EVP_MD_CTX *sha1_ctx;

int agw_onvif_wsse_digest(const unsigned char *nonce, size_t nonce_len, const char *created, const char *password,
			  char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	if (outlen < 29)
		return -EINVAL;
	if (!sha1 && !(sha1 = EVP_MD_fetch(NULL, "SHA1", NULL)))
		return -EINVAL;
	if (!sha1_ctx && !(sha1_ctx = EVP_MD_CTX_new()))
		return -ENOMEM;
	int ok = EVP_DigestInit_ex(sha1_ctx, sha1, NULL) && EVP_DigestUpdate(sha1_ctx, nonce, nonce_len) &&
		 EVP_DigestUpdate(sha1_ctx, created, strlen(created)) &&
		 EVP_DigestUpdate(sha1_ctx, password, strlen(password)) && EVP_DigestFinal_ex(sha1_ctx, md, &md_len);
	if (!ok)
		return -EINVAL;
	EVP_EncodeBlock((unsigned char *)out, md, (int)md_len);
	return 0;
}

/* Nonces from the CSPRNG 64 at a time: one RAND_bytes call per request was a tenth of a request's
 * cost (locking and reseed checks), for 16 bytes. */
#define NONCE_POOL (NONCE_LEN * 64)
static _Thread_local unsigned char nonce_pool[NONCE_POOL];
static _Thread_local size_t nonce_left;

static int nonce_take(unsigned char *nonce)
{
	if (!nonce_left) {
		if (RAND_bytes(nonce_pool, sizeof(nonce_pool)) != 1)
			return -EIO;
		nonce_left = sizeof(nonce_pool);
	}
	nonce_left -= NONCE_LEN;
	memcpy(nonce, nonce_pool + nonce_left, NONCE_LEN);
	OPENSSL_cleanse(nonce_pool + nonce_left, NONCE_LEN); /* a nonce handed out leaves no copy behind */
	return 0;
}

int agw_onvif_wsse_make(const char *password, int64_t camera_now_ms, struct agw_onvif_wsse *ret)
{
	unsigned char nonce[NONCE_LEN];
	struct agw_onvif_wsse f;
	if (nonce_take(nonce) < 0)
		return -EIO;
	agw_time_format_ms(camera_now_ms, f.created, sizeof(f.created));
	int rc = agw_onvif_wsse_digest(nonce, sizeof(nonce), f.created, password ? password : "", f.digest,
				       sizeof(f.digest));
	if (rc == 0)
		EVP_EncodeBlock((unsigned char *)f.nonce, nonce, sizeof(nonce));
	OPENSSL_cleanse(nonce, sizeof(nonce));
	if (rc < 0)
		return rc;
	*ret = f;
	return 0;
}

int agw_onvif_wsse_add(struct soap *soap, const char *username, const struct agw_onvif_wsse *f)
{
	if (!soap->header) {
		soap->header = soap_malloc(soap, sizeof(*soap->header));
		if (!soap->header)
			return -ENOMEM;
		soap_default_SOAP_ENV__Header(soap, soap->header);
	}
	struct _wsse__Security *sec = soap_malloc(soap, sizeof(*sec));
	struct _wsse__UsernameToken *tok = soap_malloc(soap, sizeof(*tok));
	struct wsse__PasswordString *pw = soap_malloc(soap, sizeof(*pw));
	struct wsse__EncodedString *n = soap_malloc(soap, sizeof(*n));
	if (!sec || !tok || !pw || !n)
		return -ENOMEM;
	soap_default__wsse__Security(soap, sec);
	soap_default__wsse__UsernameToken(soap, tok);
	soap_default_wsse__PasswordString(soap, pw);
	soap_default_wsse__EncodedString(soap, n);
	pw->__item = soap_strdup(soap, f->digest);
	pw->Type = (char *)PASSWORD_DIGEST_TYPE;
	n->__item = soap_strdup(soap, f->nonce);
	n->EncodingType = (char *)BASE64_ENCODING;
	tok->Username = soap_strdup(soap, username);
	tok->Password = pw;
	tok->Nonce = n;
	tok->wsu__Created = soap_strdup(soap, f->created);
	sec->UsernameToken = tok;
	soap->header->wsse__Security = sec;
	return 0;
}
