/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SIP messages as GB/T 28181 devices send them: framing, limits and the checks libosip2 does not do
 * (Content-Length against the bytes, header count, LF-only line ends, where a message is broken),
 * then libosip2 for the headers. Bytes in, a message out; no state between calls (fuzzable). */
#ifndef AGW_GB_SIP_H
#define AGW_GB_SIP_H

#include <osipparser2/osip_parser.h>
#include <stdbool.h>
#include <stddef.h>

#define AGW_GB_SIP_MAX_MESSAGE (64u * 1024u) /* a whole message: start line, headers, body */
#define AGW_GB_SIP_MAX_HEADERS 64u           /* header lines (folded continuation lines included) */

/* Flags of agw_gb_sip_parse. */
enum {
	/* The message came over a stream (TCP): Content-Length is required, and bytes after the body
	 * are an error (the framer hands over exactly one message). Without it (UDP, a file), a
	 * missing Content-Length means "the rest", and bytes after the body are discarded
	 * (RFC 3261 18.3). */
	AGW_GB_SIP_STREAM = 1u << 0,
};

struct agw_gb_sip_msg {
	osip_message_t *osip;   /* the parsed message (headers the server needs later: Via, Contact...) */
	const char *method;     /* request method ("MESSAGE"), NULL for a response */
	int status;             /* response status code, 0 for a request */
	const char *from_user;  /* user part of From (the sender's GB ID), "" when absent */
	const char *to_user;    /* user part of To, "" when absent */
	const char *call_id;    /* Call-ID as written, "" when absent */
	unsigned long cseq;     /* CSeq number */
	const char *content_type; /* "type/subtype" as written, "" when there is none */
	const char *body;       /* the body's bytes as received (NUL-terminated copy), "" when none */
	size_t body_len;
	size_t body_offset;     /* where the body starts in the input */
	unsigned body_line;     /* the input line the body starts on (1-based) */
	bool lf_only;           /* the header lines ended in LF without CR */
	size_t discarded;       /* bytes after Content-Length that were discarded */
	char *buf_;             /* private: the normalized copy libosip2 parsed */
	char *ct_;              /* private */
	char *cid_;             /* private */
};

/* Whether buf starts like a SIP message (request or status line), after leading blank lines. */
bool agw_gb_sip_looks_like(const char *buf, size_t len);

/* Stream framing (TCP, RFC 3261 18.3): looks for the first whole message in buf. Returns 1 with
 * *ret_skip (CR/LF keep-alive bytes before it) and *ret_len (the message's length after them),
 * 0 when more bytes are needed (with *ret_skip set: those may already be dropped), or a negative
 * errno with err ("offset N: what"): -EMSGSIZE over the size limit, -E2BIG too many header lines,
 * -EBADMSG no or a bad Content-Length. */
int agw_gb_sip_frame(const char *buf, size_t len, size_t *ret_skip, size_t *ret_len, char *err, size_t errlen);

/* Parses one whole message. On success *ret is a new message (agw_gb_sip_msg_free). On failure
 * returns a negative errno with err = "line N: what" (or "offset N: what"): -EMSGSIZE over the
 * size limit, -E2BIG too many header lines, -EBADMSG a Content-Length that does not match the
 * bytes, -EINVAL anything else malformed, -ENOMEM. */
int agw_gb_sip_parse(const char *buf, size_t len, unsigned flags, struct agw_gb_sip_msg **ret, char *err,
		     size_t errlen);
void agw_gb_sip_msg_free(struct agw_gb_sip_msg *m);

#endif
