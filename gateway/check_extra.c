/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Validation that other modules own: one call per module that reads a file the config names. */
#include "check.h"

void agw_check_extra(struct agw_config *cfg, struct agw_errors *errs)
{
	(void)cfg;
	(void)errs;
}
