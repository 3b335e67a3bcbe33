/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The camera ledger CSV (gateway/store/ledger.c), read from a file as `alarmgw cameras import` and
 * the daemon's reload read it. */
#include <stdint.h>

#include "fuzz_util.h"
#include "ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd;
	char path[64];
	agw_fuzz_memfile(data, size, &fd, path, sizeof(path));
	struct agw_camera *cams = NULL;
	size_t n = 0;
	struct agw_errors errs = {0};
	if (agw_ledger_parse(path, &cams, &n, &errs) >= 0)
		agw_cameras_free(cams, n);
	agw_errors_clear(&errs);
	close(fd);
	return 0;
}
