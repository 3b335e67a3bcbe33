/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The size of a JPEG picture, read from its frame header (SOFn) without decoding it. The bytes come
 * from cameras: every length is checked against the buffer, and the walk is bounded by it. */
#ifndef AGW_EVIDENCE_JPEG_H
#define AGW_EVIDENCE_JPEG_H

#include <stddef.h>

/* Walks the markers from SOI to the first SOFn (baseline, progressive, lossless, arithmetic) and
 * reads its width and height. Returns 0 with *ret_width / *ret_height set, or -EINVAL with err
 * saying where and what ("offset 2: byte 0x12 where a marker was expected"); -ENODATA when the
 * picture ends before its frame header ("offset 4: segment length 9000 runs past the end (4096
 * bytes)": cut short, or a length that lies). */
int agw_jpeg_size(const void *buf, size_t len, unsigned *ret_width, unsigned *ret_height, char *err, size_t errlen);

#endif
