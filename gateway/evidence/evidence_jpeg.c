/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JPEG frame header reader (ITU-T T.81 B.1): markers are 0xFF then a code; fill bytes 0xFF may
 * precede a code; SOI, EOI, RSTn and TEM stand alone; every other marker has a big-endian 16-bit
 * length that counts itself. The frame header is SOFn (C0-CF but DHT C4, JPG C8, DAC CC):
 * length, precision, height, width, components. A height of 0 (DNL defines it later) is refused:
 * cameras do not write it, and the platform needs a size. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "evidence_jpeg.h"

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

__attribute__((format(printf, 5, 6))) static int fail(char *err, size_t errlen, int rc, size_t off,
							 const char *fmt, ...)
{
	if (err && errlen) {
		char msg[160];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(err, errlen, "offset %zu: %s", off, msg);
	}
	return rc;
}

static int is_sof(uint8_t code)
{
	return code >= 0xC0 && code <= 0xCF && code != 0xC4 && code != 0xC8 && code != 0xCC;
}

int agw_jpeg_size(const void *buf, size_t len, unsigned *ret_width, unsigned *ret_height, char *err, size_t errlen)
{
	const uint8_t *p = buf;
	if (len < 2 || p[0] != 0xFF || p[1] != 0xD8)
		return fail(err, errlen, -EINVAL, 0, "not a JPEG (no SOI marker FFD8)");
	size_t off = 2;
	for (;;) {
		if (off >= len)
			return fail(err, errlen, -ENODATA, off, "ends before a frame header (%zu bytes)", len);
		if (p[off] != 0xFF)
			return fail(err, errlen, -EINVAL, off, "byte 0x%02x where a marker was expected", p[off]);
		while (off < len && p[off] == 0xFF) /* fill bytes */
			off++;
		if (off >= len)
			return fail(err, errlen, -ENODATA, off, "ends before a frame header (%zu bytes)", len);
		uint8_t code = p[off++];
		if (code == 0xD8 || code == 0xD9 || code == 0x01 || (code >= 0xD0 && code <= 0xD7)) {
			if (code == 0xD9)
				return fail(err, errlen, -ENODATA, off - 2, "EOI before a frame header");
			continue;
		}
		if (code == 0x00)
			return fail(err, errlen, -EINVAL, off - 1, "stuffed byte FF00 outside entropy data");
		if (code == 0xDA)
			return fail(err, errlen, -EINVAL, off - 2, "scan (SOS) before a frame header");
		if (len - off < 2)
			return fail(err, errlen, -ENODATA, off, "segment length cut short (%zu bytes)", len);
		size_t seg = be16(p + off);
		if (seg < 2)
			return fail(err, errlen, -EINVAL, off, "segment length %zu is below 2", seg);
		if (seg > len - off)
			/* a cut picture and a lying length look the same from here */
			return fail(err, errlen, -ENODATA, off, "segment length %zu runs past the end (%zu bytes)", seg, len);
		if (is_sof(code)) {
			/* length(2) precision(1) height(2) width(2) components(1) */
			if (seg < 8)
				return fail(err, errlen, -EINVAL, off, "frame header of %zu bytes, 8 at least", seg);
			unsigned h = be16(p + off + 3), w = be16(p + off + 5);
			if (w == 0 || h == 0)
				return fail(err, errlen, -EINVAL, off, "frame header gives a size of %ux%u", w, h);
			*ret_width = w;
			*ret_height = h;
			return 0;
		}
		off += seg;
	}
}
