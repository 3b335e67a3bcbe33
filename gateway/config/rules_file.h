/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rules file (libconfig syntax, documented in docs/rules.md) -> struct agw_ruleset. */
#ifndef AGW_RULES_FILE_H
#define AGW_RULES_FILE_H

#include "config.h"
#include "ruleset.h"

/* Reads and validates path. Every problem goes into errs as "file:line: message" (all of them, not
 * just the first). Returns 0 with *ret_rules, -ENOENT when the file does not exist (one error
 * added), -EINVAL when it has errors, -ENOMEM. */
int agw_rules_file_load(const char *path, struct agw_ruleset **ret_rules, struct agw_errors *errs);

#endif
