/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The RTSP metadata-track reassembly (adapters/rtsp/rtsp_meta.c). The input is a packet sequence:
 * each packet is a 3-byte header (length high, length low, timestamp step) then its payload, so
 * the fuzzer controls packet boundaries, lost packets (timestamp changes) and sizes. A small
 * max_doc (first byte) reaches the oversize paths quickly. */
#include <stdint.h>

#include "fuzz_util.h"
#include "rtsp_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_doc(void *arg, const char *doc, size_t len)
{
	size_t *total = arg;
	if (strlen(doc) > len) /* doc must be NUL-terminated at len (it may hold NULs before) */
		abort();
	*total += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct agw_rtsp_meta m;
	size_t total = 0;
	agw_rtsp_meta_init(&m, 64 + (size_t)data[0] * 64);
	int64_t pts = 0;
	size_t i = 1;
	while (i + 3 <= size) {
		size_t len = ((size_t)data[i] << 8 | data[i + 1]) % 4096;
		uint8_t step = data[i + 2];
		i += 3;
		if (len > size - i)
			len = size - i;
		if (step == 255)
			pts = AGW_RTSP_META_NO_PTS;
		else if (pts == AGW_RTSP_META_NO_PTS)
			pts = step;
		else
			pts += step;
		if (agw_rtsp_meta_push(&m, data + i, len, pts, on_doc, &total) < 0)
			break;
		i += len;
	}
	if (m.len > m.max_doc)
		abort(); /* the buffer must stay bounded by the document limit */
	agw_rtsp_meta_free(&m);
	return 0;
}
