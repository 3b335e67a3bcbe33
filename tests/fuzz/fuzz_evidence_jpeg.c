/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JPEG frame header reader (gateway/evidence/evidence_jpeg.c): every snapshot a camera sends
 * goes through it. A size it gives must be non-zero and its error must name an offset inside the
 * input. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence_jpeg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned w = 0, h = 0;
	char err[160] = "";
	int rc = agw_jpeg_size(data, size, &w, &h, err, sizeof(err));
	if (rc == 0 && (w == 0 || h == 0 || w > 65535 || h > 65535)) {
		fprintf(stderr, "size %ux%u accepted\n", w, h);
		abort();
	}
	unsigned long off = 0;
	if (rc < 0 && (sscanf(err, "offset %lu:", &off) != 1 || off > size)) {
		fprintf(stderr, "error \"%s\" names no offset inside %zu bytes\n", err, size);
		abort();
	}
	if (rc < 0 && rc != -EINVAL && rc != -ENODATA)
		abort();
	return 0;
}
