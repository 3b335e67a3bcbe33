/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A push parser for never-ending multipart HTTP bodies: the Hikvision ISAPI alertStream, the Dahua
 * eventManager attach stream, and multipart pushes. Fed arbitrary chunks (down to one byte at a
 * time), it calls on_part for each complete part (headers + body). Pure: no I/O, no logging, no
 * global state; every size it keeps is bounded by its limits.
 *
 * What real firmware sends, and what the parser therefore accepts:
 *  - the boundary from the Content-Type, quoted or not, with any spacing around '=' and ';'
 *    ("multipart/mixed; boundary=boundary", "multipart/x-mixed-replace;boundary = myboundary",
 *    "boundary=\"MIME_boundary\""); without a Content-Type it is taken from the first line that
 *    starts with "--";
 *  - delimiter lines compared without their leading dashes (and spaces): "--myboundary",
 *    "myboundary", "-- myboundary" and "----myboundary" all delimit a part whose boundary token is
 *    "myboundary" or "--myboundary"; "--" after the token closes the body;
 *  - CRLF or LF-only framing, anywhere;
 *  - parts with or without Content-Length ("Content-Length:9" without a space too); with it, the
 *    part is emitted as soon as its bytes are there (no wait for the next delimiter), without it
 *    the part ends at the next delimiter line. A delimiter line before Content-Length bytes ends
 *    the part early (captures whose CRs were lost) and the part says so (short);
 *  - repeated delimiter lines (empty parts), blank lines between parts, a missing blank line after
 *    the part headers (the first line that is not a header starts the body);
 *  - a captured stream that starts with the HTTP response head (status line and headers: the
 *    boundary comes from its Content-Type; a chunked body is de-chunked unless it was already),
 *    directly with the first delimiter, or a single document that is not multipart at all.
 *
 * Problems in the stream (oversize headers or parts, garbage between parts, a stream cut inside a
 * part, an HTTP error status) go to on_error with the byte offset in the input where the
 * problem starts; the parser then resynchronises on the next delimiter line. */
#ifndef ALARMGW_MULTIPART_H
#define ALARMGW_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGW_MULTIPART_MAX_BOUNDARY 200

struct agw_multipart;

struct agw_multipart_part {
	const char *content_type;   /* the part's Content-Type value, trimmed; "" when absent */
	int64_t content_length;     /* -1 when absent */
	const char *headers;        /* the raw header block (without the blank line), not NUL-terminated */
	size_t headers_len;
	const char *body;           /* NUL-terminated after len bytes (the body itself may hold NULs) */
	size_t len;
	uint64_t offset;            /* input offset of the part's delimiter line (of the document in single mode) */
	uint64_t body_offset;       /* input offset of the body's first byte */
	bool short_body;            /* a delimiter came before content_length bytes */
	bool unterminated;          /* the input ended without a delimiter after this part (no Content-Length) */
};

struct agw_multipart_config {
	/* The Content-Type of the HTTP response (live streams), or NULL: the boundary is then taken
	 * from an HTTP head at the start of the input, or from the first "--" line, and input that is
	 * neither is one single document. A Content-Type that is not multipart makes the whole input
	 * one document of that type. */
	const char *content_type;
	size_t max_header;          /* bytes of one part's header block (and of the HTTP head); 0 = 16 KiB */
	size_t max_part;            /* bytes of one part's body; 0 = 4 MiB */
	/* Called for each complete part, in order. A negative return stops the parser: feed() and
	 * finish() return it from then on. The part is valid during the call only. */
	int (*on_part)(void *arg, const struct agw_multipart_part *part);
	/* Called for each problem in the input; offset is where it starts, what says what it is. The
	 * parser goes on. Optional. */
	void (*on_error)(void *arg, uint64_t offset, const char *what);
	void *arg;
};

/* Returns 0, -EINVAL when content_type is multipart but names no usable boundary, or -ENOMEM. */
int agw_multipart_new(const struct agw_multipart_config *cfg, struct agw_multipart **ret);
void agw_multipart_free(struct agw_multipart *m);

/* Pushes the next len bytes of the input. Returns 0, or on_part's negative return, or -ENOMEM. */
int agw_multipart_feed(struct agw_multipart *m, const void *buf, size_t len);
/* The input has ended: emits a last part that ends at the end of the input (without
 * Content-Length: unterminated; a single document), reports a part cut short. Returns like feed. */
int agw_multipart_finish(struct agw_multipart *m);

/* Bytes of input fed so far. */
uint64_t agw_multipart_offset(const struct agw_multipart *m);
/* The boundary token in use (without leading dashes), or NULL while none is known. */
const char *agw_multipart_boundary(const struct agw_multipart *m);
/* The HTTP status of a captured head, or 0 when the input had none. */
int agw_multipart_http_status(const struct agw_multipart *m);

/* Extracts the boundary token of a Content-Type value into out (leading dashes kept). Returns 0,
 * -ENOENT when the type is not multipart or has no boundary parameter, -EINVAL when the token is
 * empty or longer than AGW_MULTIPART_MAX_BOUNDARY. */
int agw_multipart_boundary_parse(const char *content_type, char *out, size_t outlen);

#endif
