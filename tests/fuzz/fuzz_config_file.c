/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon config file (libconfig syntax, gateway/config/config.c), as `alarmgw check` and the
 * daemon read it. Files it names are resolved beside /proc/self/fd and mostly absent: that is an
 * error path worth running too. */
#include <stdint.h>

#include "config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	agw_log_set_level(AGW_LOG_ERR);
	int fd;
	char path[64];
	agw_fuzz_memfile(data, size, &fd, path, sizeof(path));
	struct agw_config cfg;
	struct agw_errors errs = {0};
	agw_config_load(path, &cfg, &errs);
	agw_config_free(&cfg);
	agw_errors_clear(&errs);
	close(fd);
	return 0;
}
