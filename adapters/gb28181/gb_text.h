/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bytes of a MANSCDP body to UTF-8 text. Devices declare GB2312 (sometimes GBK, UTF-8 or
 * nothing) and do not always send what they declare, and some write declarations an XML parser
 * refuses (standalone="true", encoding-"gb2312"). The declaration is read leniently here, the
 * bytes are checked against it, and the XML parser gets UTF-8 without a declaration.
 * GB2312 and GBK are read as GB18030 (their superset) with glibc's iconv. */
#ifndef AGW_GB_TEXT_H
#define AGW_GB_TEXT_H

#include <stddef.h>

struct agw_gb_text {
	char *utf8;          /* the document in UTF-8 without its XML declaration; NUL-terminated */
	size_t len;
	char declared[32];   /* the declared encoding as written, "" when none */
	const char *read_as; /* "UTF-8" or "GB18030" (or the declared name when iconv knew it) */
	char note[200];      /* why the bytes were not read as declared; "" when they were */
};

/* Returns 0, or a negative errno with err = "offset N: what" (offsets into buf): -EILSEQ bytes
 * that are valid in no encoding tried, -EINVAL an XML declaration that does not end, -ENOMEM.
 * ret is filled only on success (agw_gb_text_clear frees it). Line ends are kept, so line numbers
 * in the UTF-8 text are those of the input. */
int agw_gb_text_to_utf8(const char *buf, size_t len, struct agw_gb_text *ret, char *err, size_t errlen);
void agw_gb_text_clear(struct agw_gb_text *t);

/* Strict UTF-8 (no overlong forms, surrogates or code points above U+10FFFF): the offset of the
 * first byte that is not part of a valid sequence, or len when all are. */
size_t agw_gb_utf8_check(const char *s, size_t len);

#endif
