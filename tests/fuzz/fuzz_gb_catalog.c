/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a GB/T 28181 device's Catalog answer turns into: the message parsed as the SIP server does,
 * its Items read into bounded channel records and written as the JSON the gateway stores; and the
 * same bytes as the utc_offsets option (a configuration text, parsed on every start). */
#include <stdint.h>

#include "fuzz_util.h"
#include "gb_manscdp.h"
#include "gb_message.h"
#include "gb_alarm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct agw_gb_message m;
	if (agw_gb_message_parse((const char *)data, size, 0, &m, err, sizeof(err)) == 0) {
		struct agw_gb_channel *v = NULL;
		size_t skipped = 0;
		int n = m.has_doc ? agw_gb_catalog_read(&m.doc, "34020000001180000001", &v, &skipped) : 0;
		for (int i = 0; i < n; i++)
			free(agw_gb_channel_json(&v[i], i));
		if (n > 0)
			agw_gb_channels_free(v, (size_t)n);
		if (m.has_doc)
			(void)agw_gb_catalog_sum(&m.doc);
		agw_gb_message_clear(&m);
	}
	char *text = agw_fuzz_strdup(data, size);
	struct agw_gb_zones *z = NULL;
	if (agw_gb_zones_parse(text, &z, err, sizeof(err)) == 0) {
		(void)agw_gb_zones_offset(z, "34020000001310000001", "34020000001180000001", 480);
		agw_gb_zones_free(z);
	}
	free(text);
	return 0;
}
