/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Validation that other modules own: one call per module that reads a file the config names.
 * Compiled into the binary (it reaches into adapter libraries the core does not link). */
#include <stdlib.h>

#include "check.h"
#include "decider.h"
#include "onvif_normalize.h"

void agw_check_extra(struct agw_config *cfg, struct agw_errors *errs)
{
	agw_decider_check(cfg, errs);
	char *path = agw_config_adapter_path(cfg, "onvif", "topic_table");
	if (path) {
		struct agw_onvif_topic_table *t = NULL;
		char err[512];
		/* the loader's message carries the file and line of the bad entry */
		if (agw_onvif_topic_table_load(path, &t, err, sizeof(err)) < 0)
			agw_errors_add(errs, NULL, 0, "adapters.onvif.topic_table: %s", err);
		agw_onvif_topic_table_free(t);
		free(path);
	}
}
