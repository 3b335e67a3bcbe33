/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Validation of a loaded configuration and the files it references (used by `check` and by reload,
 * which refuses a configuration with errors and keeps the running one). */
#ifndef ALARMGW_CHECK_H
#define ALARMGW_CHECK_H

#include "config.h"

int agw_check_config(struct agw_config *cfg, struct agw_errors *errs);

#endif
