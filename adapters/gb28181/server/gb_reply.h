/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SIP responses to a parsed request (RFC 3261 8.2.6): the request's Via headers (the top one with
 * received and rport filled in, RFC 3581, since devices sit behind NAT), From, To with a tag,
 * Call-ID and CSeq. */
#ifndef AGW_GB_REPLY_H
#define AGW_GB_REPLY_H

#include <stddef.h>

#include "gb_sip.h"

/* The standard phrase of a status code ("Unauthorized"), "Unknown" for others. */
const char *agw_gb_reason(int status);

/* Builds the response into *ret (malloc'd, NUL-terminated, length in *ret_len). to_tag is added
 * to To when the request's has none; src_ip/src_port (may be NULL/0) fill received/rport;
 * extra is more header lines, each ending in CRLF (may be NULL). Returns 0 or -ENOMEM/-EINVAL. */
int agw_gb_reply(const struct agw_gb_sip_msg *req, int status, const char *to_tag, const char *src_ip, int src_port,
		 const char *extra, char **ret, size_t *ret_len);

#endif
