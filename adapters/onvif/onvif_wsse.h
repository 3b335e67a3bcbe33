/* SPDX-License-Identifier: GPL-2.0-or-later */
/* WS-Security UsernameToken with PasswordDigest, built in camera time with a fresh nonce. */
#ifndef AGW_ONVIF_WSSE_H
#define AGW_ONVIF_WSSE_H

#include <stddef.h>
#include <stdint.h>

#include "onvif_soap.h"

/* Base64(SHA1(nonce + created + password)) into out (at least 29 bytes). Returns 0 or -EINVAL. */
int agw_onvif_wsse_digest(const unsigned char *nonce, size_t nonce_len, const char *created, const char *password,
			  char *out, size_t outlen);

/* Adds a Security header with a UsernameToken to the next message serialized with soap: a fresh
 * 16-byte nonce and Created = camera_now_ms ("2026-11-22T08:15:01.123Z"). The strings live in
 * soap's memory. Returns 0 or negative errno. */
int agw_onvif_wsse_add(struct soap *soap, const char *username, const char *password, int64_t camera_now_ms);

#endif
