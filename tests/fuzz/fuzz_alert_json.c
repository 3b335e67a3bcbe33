/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One line of a replay file: the JSON form of an alert (agw_alert_from_json). An alert that
 * parses must serialize and parse again. */
#include <stdint.h>

#include "alarmgw/alert.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agw_alert a, b;
	char err[256];
	agw_alert_init(&a);
	agw_alert_init(&b);
	if (agw_alert_from_json((const char *)data, size, &a, err, sizeof(err)) == 0) {
		char *json = NULL;
		if (agw_alert_to_json(&a, &json) == 0) {
			if (agw_alert_from_json(json, strlen(json), &b, err, sizeof(err)) != 0) {
				fprintf(stderr, "re-parse of %s failed: %s\n", json, err);
				abort();
			}
			free(json);
		}
	}
	agw_alert_clear(&a);
	agw_alert_clear(&b);
	return 0;
}
