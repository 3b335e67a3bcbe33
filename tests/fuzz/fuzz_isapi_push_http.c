/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the ISAPI push listener reads from the network before anything else
 * (adapters/isapi/isapi_push_http.c): the request head, cut where the listener finds its end, and
 * its Authorization header checked as Digest, with a fixed key and credentials. */
#include <errno.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "isapi_push_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0; /* the listener refuses longer heads before parsing */
	size_t len = agw_push_head_end((const char *)data, size);
	if (!len)
		len = size;
	/* the parser writes a NUL after the head: exactly one byte of room */
	char *head = malloc(len + 1);
	if (!head)
		abort();
	memcpy(head, data, len);
	struct agw_push_head h;
	const char *why = NULL;
	int code = agw_push_head_parse(head, len, &h, &why);
	if (code == 0) {
		if (!h.method || !h.target || h.target[0] != '/' || h.path_len > strlen(h.target) || !h.content_type)
			abort();
		static const unsigned char key[AGW_DIGEST_KEY_LEN] = {7};
		int rc = agw_digest_verify(key, "alarmgw", "hik", "s3cret", h.method, h.target, h.authorization, 1700000000,
					   300, &why);
		if (rc != 0 && rc != -EACCES && rc != -ESTALE)
			abort();
		if (rc != 0 && !why)
			abort();
	} else if (code < 400 || code > 505 || !why) {
		abort();
	}
	free(head);
	return 0;
}
