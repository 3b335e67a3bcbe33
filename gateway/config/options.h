/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An adapter's option table: parses its config section into its private struct and prints help. */
#ifndef ALARMGW_OPTIONS_H
#define ALARMGW_OPTIONS_H

#include <libconfig.h>
#include <stdio.h>

#include "alarmgw/adapter.h"
#include "config.h"

/* Sets defaults, then every key of section (may be NULL). Unknown keys, wrong types, values out
 * of range and missing required options are errors in errs (file:line). Returns 0 or -EINVAL. */
int agw_options_parse(const struct agw_adapter *adapter, config_setting_t *section, void *priv, const char *file,
		      struct agw_errors *errs);
/* Frees the strings the options own. */
void agw_options_free(const struct agw_adapter *adapter, void *priv);
/* True when two parsed option sets of the same adapter hold the same values (reload keeps it). */
bool agw_options_equal(const struct agw_adapter *adapter, const void *a, const void *b);
void agw_options_print_help(const struct agw_adapter *adapter, FILE *out);

#endif
