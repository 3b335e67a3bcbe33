/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Camera timestamps (gateway/core/time.c): every UtcTime attribute and JSON time goes through here.
 * A time that parses must format and parse back to itself. */
#include <stdint.h>

#include "alarmgw/alert.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = agw_fuzz_strdup(data, size);
	int64_t ms;
	if (agw_time_parse_ms(s, &ms) == 0) {
		char buf[64];
		int64_t again;
		if (agw_time_parse_ms(agw_time_format_ms(ms, buf, sizeof(buf)), &again) != 0 || again != ms) {
			fprintf(stderr, "\"%s\" -> %lld -> \"%s\" does not round-trip\n", s, (long long)ms, buf);
			abort();
		}
	}
	free(s);
	return 0;
}
