/* SPDX-License-Identifier: GPL-2.0-or-later */
/* WS-Security UsernameToken PasswordDigest (OASIS WSS UsernameToken Profile 1.0, section 3.1):
 * Password_Digest = Base64(SHA-1(nonce + created + password)), nonce as raw bytes. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "alarmgw/alert.h"
#include "onvif_wsse.h"

#define NONCE_LEN 16
#define PASSWORD_DIGEST_TYPE                                                                                           \
	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
#define BASE64_ENCODING                                                                                                \
	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"

int agw_onvif_wsse_digest(const unsigned char *nonce, size_t nonce_len, const char *created, const char *password,
			  char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	if (outlen < 29)
		return -EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	int ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) && EVP_DigestUpdate(ctx, nonce, nonce_len) &&
		 EVP_DigestUpdate(ctx, created, strlen(created)) && EVP_DigestUpdate(ctx, password, strlen(password)) &&
		 EVP_DigestFinal_ex(ctx, md, &md_len);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EINVAL;
	EVP_EncodeBlock((unsigned char *)out, md, (int)md_len);
	return 0;
}

int agw_onvif_wsse_add(struct soap *soap, const char *username, const char *password, int64_t camera_now_ms)
{
	unsigned char nonce[NONCE_LEN];
	char created[40], digest[32], nonce64[32];
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return -EIO;
	agw_time_format_ms(camera_now_ms, created, sizeof(created));
	int rc = agw_onvif_wsse_digest(nonce, sizeof(nonce), created, password ? password : "", digest, sizeof(digest));
	if (rc < 0)
		return rc;
	EVP_EncodeBlock((unsigned char *)nonce64, nonce, sizeof(nonce));
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
	pw->__item = soap_strdup(soap, digest);
	pw->Type = (char *)PASSWORD_DIGEST_TYPE;
	n->__item = soap_strdup(soap, nonce64);
	n->EncodingType = (char *)BASE64_ENCODING;
	tok->Username = soap_strdup(soap, username);
	tok->Password = pw;
	tok->Nonce = n;
	tok->wsu__Created = soap_strdup(soap, created);
	sec->UsernameToken = tok;
	soap->header->wsse__Security = sec;
	return 0;
}
