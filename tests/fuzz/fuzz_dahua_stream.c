/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a camera sends on the dahua event channel, as one captured input through the adapter's own
 * stream parser (agw_dahua_normalize: the same parser the live stream feeds, chunk by chunk), with
 * the default event table. */
#include <stdint.h>

#include "dahua_stream.h"
#include "dahua_table.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_alert(void *arg, struct agw_alert *a)
{
	size_t *sum = arg;
	*sum += strlen(a->camera_id ? a->camera_id : "") + (a->topic ? strlen(a->topic) : 0) + (size_t)a->kind;
	for (size_t i = 0; i < a->data.n; i++)
		*sum += strlen(a->data.v[i].name) + strlen(a->data.v[i].value);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	size_t sum = 0;
	agw_dahua_normalize((const char *)data, size, agw_dahua_table_default(), on_alert, &sum, err, sizeof(err));
	return 0;
}
