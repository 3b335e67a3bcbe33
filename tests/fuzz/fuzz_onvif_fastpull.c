/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Differential: every input read by the fast PullMessagesResponse reader (gSOAP when it
 * declines) and by gSOAP alone must give the same return, error, times and alerts. A difference
 * aborts, so libFuzzer saves the input. The seeds are PullMessagesResponses (camsim's dialects,
 * real captures), so mutations stay near the shape the fast reader takes. */
#include <stdint.h>

#include "fastpull_diff.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct soap *soap;
	if (!soap && !(soap = agw_onvif_soap_new()))
		abort();
	bool taken;
	int stop_after = size > 0 ? data[0] % 4 : 0; /* the consumer refuses an alert, or none */
	if (agw_fastpull_diff(soap, "input", (const char *)data, size, stop_after, &taken) != 0) {
		fflush(stdout); /* the difference printed */
		abort();
	}
	return 0;
}
