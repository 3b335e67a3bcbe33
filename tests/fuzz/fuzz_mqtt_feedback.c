/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A case-status feedback message as it arrives from the broker (gateway/mqtt/feedback.c). */
#include <stdint.h>

#include "feedback.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agw_feedback fb;
	const char *reason = NULL;
	char detail[256];
	if (agw_feedback_parse(data, size, &fb, &reason, detail, sizeof(detail)) == 0) {
		if (strnlen(fb.case_id, sizeof(fb.case_id)) >= sizeof(fb.case_id) || !fb.status)
			abort();
	} else if (!reason) {
		abort(); /* every reject is counted under a reason label */
	}
	return 0;
}
