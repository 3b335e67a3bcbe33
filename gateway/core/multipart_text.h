/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Text helpers of the multipart parser (gateway/core/multipart*.c): lines and header fields as
 * firmware writes them. Stateless; every function reads [s, s+len) and nothing past it. */
#ifndef AGW_CORE_MULTIPART_TEXT_H
#define AGW_CORE_MULTIPART_TEXT_H

#include <stdbool.h>
#include <stddef.h>

bool multipart_is_ws(char c);
/* [s, s+len) without leading and trailing white space. */
void multipart_trim(const char **s, size_t *len);
bool multipart_is_blank(const char *s, size_t len);
/* Length of a line without its line break. */
size_t multipart_line_len(const char *s, size_t n);
/* An HTTP status line, or the request line of a captured push ("POST /path HTTP/1.1"). */
bool multipart_is_http_line(const char *s, size_t len);
/* Value of header `name` in [s, s+len) ("Name: value" or "Name:value"), trimmed; false when the
 * line is another header. */
bool multipart_header_value(const char *s, size_t len, const char *name, const char **ret_v, size_t *ret_n);
/* "Token:" at the start of a line: a header. Anything else (XML, "Code=...", JSON) is body. */
bool multipart_looks_like_header(const char *s, size_t len);

#endif
