/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The device responses the ONVIF adapter parses through gSOAP (GetSystemDateAndTime, GetServices,
 * CreatePullPointSubscription, GetProfiles, ...): the first byte picks the operation, the rest is
 * the document. One gSOAP context serves every input, as the adapter keeps one per camera set. */
#include <stdint.h>

#include "fuzz_util.h"
#include "onvif_requests.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct soap *soap;
	if (!soap && !(soap = agw_onvif_soap_new()))
		abort();
	if (size < 1)
		return 0;
	enum agw_onvif_op op = (enum agw_onvif_op)(data[0] % AGW_ONVIF_OP__COUNT);
	if (op == AGW_ONVIF_PULL_MESSAGES)
		return 0; /* read by the normalizer: fuzz_onvif_normalize */
	struct agw_onvif_response r;
	memset(&r, 0, sizeof(r));
	char err[256];
	if (agw_onvif_response_parse(soap, op, (const char *)data + 1, size - 1, &r, err, sizeof(err)) == 0)
		agw_onvif_response_clear(&r);
	return 0;
}
