/* SPDX-License-Identifier: GPL-2.0-or-later */
/* agw-gb-normalize FILE...: the gb28181 adapter's normalize hook on each file, one JSON alert per
 * line (agw_alert_to_json), errors on stderr. For looking at captures until `alarmgw normalize
 * --adapter gb28181` is wired, and as the fuzz harness's driver for crashes found elsewhere. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/adapter.h"

extern const struct agw_adapter agw_adapter_gb28181;

static int print(void *arg, struct agw_alert *a)
{
	(void)arg;
	char *json;
	if (agw_alert_to_json(a, &json) < 0)
		return -ENOMEM;
	puts(json);
	free(json);
	return 0;
}

int main(int argc, char **argv)
{
	const struct agw_adapter *ad = &agw_adapter_gb28181;
	void *opts = calloc(1, ad->priv_size);
	/* the defaults of the option table that matter here: utc_offset 480 */
	int64_t *utc = (int64_t *)((char *)opts + ad->options[1].offset);
	*utc = 480;
	int ret = 0;
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			ret = 1;
			continue;
		}
		static char buf[1 << 20];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		char err[512];
		int rc = ad->normalize(opts, buf, n, print, NULL, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], err);
			ret = 1;
		}
	}
	free(opts);
	return ret;
}
