/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PullMessages response path: a PullMessagesResponse / Notify / NotificationMessage /
 * MetadataStream document through the XML check, gSOAP and the topic table into alerts
 * (agw_onvif_normalize), exactly as the ONVIF adapter and the RTSP metadata track call it. */
#include <stdint.h>

#include "fuzz_util.h"
#include "onvif_normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every field the pipeline reads, so a dangling or unterminated string shows up here. */
static int on_alert(void *arg, struct agw_alert *a)
{
	size_t *sum = arg;
	*sum += a->topic ? strlen(a->topic) : 0;
	*sum += a->event_id ? strlen(a->event_id) : 0;
	*sum += a->payload ? strlen(a->payload) : 0;
	const struct agw_items *lists[] = {&a->source, &a->key, &a->data};
	for (size_t l = 0; l < 3; l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			*sum += strlen(lists[l]->v[i].name) + strlen(lists[l]->v[i].value);
	*sum += (size_t)a->kind + (size_t)a->active;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	size_t sum = 0;
	agw_onvif_normalize((const char *)data, size, NULL, on_alert, &sum, err, sizeof(err));
	return 0;
}
