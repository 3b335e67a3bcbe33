/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The well-formedness check every camera document passes first (onvif_xmlcheck.c), with and
 * without AGW_XMLCHECK_UNDECLARED_OK. */
#include <stdint.h>

#include "fuzz_util.h"
#include "onvif_normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	agw_onvif_xml_check((const char *)data, size, err, sizeof(err));
	agw_onvif_xml_check_flags((const char *)data, size, AGW_XMLCHECK_UNDECLARED_OK, err, sizeof(err));
	return 0;
}
