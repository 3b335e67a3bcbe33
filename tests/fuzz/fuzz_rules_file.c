/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rules file (libconfig syntax, gateway/config/rules_file.c). */
#include <stdint.h>

#include "fuzz_util.h"
#include "rules_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd;
	char path[64];
	agw_fuzz_memfile(data, size, &fd, path, sizeof(path));
	struct agw_ruleset *rs = NULL;
	struct agw_errors errs = {0};
	if (agw_rules_file_load(path, &rs, &errs) == 0)
		agw_ruleset_free(rs);
	agw_errors_clear(&errs);
	close(fd);
	return 0;
}
