/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A PullMessagesResponse read without the gSOAP deserializer, for the common shape only. The
 * generated reader costs about 200 k instructions per answer in gSOAP's per-document bookkeeping
 * (id tables cleared, walked and resolved for multi-ref data that document/literal SOAP never
 * has); this reader costs a tenth of that. It accepts only what it fully understands and gives
 * exactly the alerts the gSOAP path gives (tests/unit/onvif/test_onvif_fastpull.c proves it on
 * every fixture, fuzz_onvif_fastpull on any input); on anything else it declines and the caller
 * reads the document with gSOAP. */
#ifndef AGW_ONVIF_FASTPULL_H
#define AGW_ONVIF_FASTPULL_H

#include <stddef.h>

#include "onvif_events.h"

/* The alerts of one answer, in document order, and its times. */
struct agw_onvif_fast_batch {
	struct agw_alert *v;
	size_t n, cap;
	struct agw_onvif_pull_info info;
};

/* Reads a document that agw_onvif_xml_check() accepted. Returns 0 with *ret filled (the caller
 * clears it), -ENOTSUP when the document is not one this reader takes (*ret untouched: read it
 * with gSOAP), or -ENOMEM. */
int agw_onvif_fast_read(const char *xml, size_t len, const struct agw_onvif_topic_table *table,
			struct agw_onvif_fast_batch *ret);
void agw_onvif_fast_batch_clear(struct agw_onvif_fast_batch *b);

#endif
