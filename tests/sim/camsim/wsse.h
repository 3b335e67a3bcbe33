/* SPDX-License-Identifier: GPL-2.0-or-later */
/* WS-Security UsernameToken checking: PasswordDigest = Base64(SHA1(nonce + Created + password)),
 * Created compared with the camera's own clock. */
#ifndef CAMSIM_WSSE_H
#define CAMSIM_WSSE_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

/* Cameras refuse tokens whose Created is further than this from their clock. */
#define CAMSIM_WSSE_MAX_SKEW 5.0

struct camsim_wsse_token {
	char username[128];
	char password[256]; /* the digest (base64) or the clear text */
	bool is_digest;
	char nonce[256];    /* base64 */
	char created[64];
};

/* Reads wsse:Security/wsse:UsernameToken from a SOAP header: 0, -ENOENT (no token), -EINVAL (incomplete). */
int camsim_wsse_extract(xmlNode *header, struct camsim_wsse_token *ret);
/* The base64 PasswordDigest for a base64 nonce; out needs 29 bytes. Returns 0 or -EINVAL (bad nonce). */
int camsim_wsse_digest(const char *nonce_b64, const char *created, const char *password, char *out, size_t len);
/* 0; -EACCES wrong user or password; -ETIME Created too far from camera_now (or unreadable). */
int camsim_wsse_verify(const struct camsim_wsse_token *t, const char *user, const char *password, double camera_now);

#endif
