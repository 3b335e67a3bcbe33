/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulators' picture: a real 32x24 baseline JPEG (jpeg.c says how it was made). camsim serves
 * it as the ONVIF snapshot, vendorsim in ISAPI event parts and as the Dahua snapshot. */
#ifndef CAMSIM_JPEG_H
#define CAMSIM_JPEG_H

#include <stddef.h>

extern const unsigned char vsim_jpeg[];
extern const size_t vsim_jpeg_len;

#endif
