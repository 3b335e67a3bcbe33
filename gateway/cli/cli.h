/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Subcommands. Each lives in gateway/cmd_<name>.c as `int agw_cmd_<name>(int argc, char **argv)`
 * (argv[0] is the command name; parse with getopt_long; --help prints usage and returns 0) and has
 * one line in the table in gateway/cli_commands.c. Exit codes: 0 ok, 1 failure, 2 usage error. */
#ifndef ALARMGW_CLI_H
#define ALARMGW_CLI_H

#include "config.h"
#include "store.h"

struct agw_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

extern const struct agw_command agw_commands[]; /* terminated by {NULL} */

/* Loads the configuration for a command that takes `-c FILE` or `--db PATH`: with a config path it
 * reads and validates the file (printing every error as file:line: message to stderr); with only a
 * db path it uses defaults with that database. Returns 0, or 1 (errors printed) as an exit code. */
int agw_cli_load_config(const char *config_path, const char *db_path, struct agw_config *cfg);
/* Opens the configured store, printing the reason on failure. Returns 0 or exit code 1. */
int agw_cli_open_store(const struct agw_config *cfg, struct agw_store **ret_store);
/* Both of the above for a command that works on the store; on failure nothing is left to free.
 * Returns 0 or the exit code. Pair with agw_cli_close. */
int agw_cli_open(const char *config_path, const char *db_path, struct agw_config *cfg, struct agw_store **ret_store);
void agw_cli_close(struct agw_config *cfg, struct agw_store *store);

int agw_cmd_run(int argc, char **argv);
int agw_cmd_check(int argc, char **argv);
int agw_cmd_version(int argc, char **argv);
int agw_cmd_cameras(int argc, char **argv);
int agw_cmd_grid(int argc, char **argv);
int agw_cmd_rules(int argc, char **argv);
int agw_cmd_status(int argc, char **argv);
int agw_cmd_normalize(int argc, char **argv);
int agw_cmd_cluster(int argc, char **argv);
int agw_cmd_outbox(int argc, char **argv);
int agw_cmd_channels(int argc, char **argv);
int agw_cmd_cases(int argc, char **argv);

#endif
