/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int agw_cli_load_config(const char *config_path, const char *db_path, struct agw_config *cfg)
{
	if (!config_path && !db_path) {
		fprintf(stderr, "alarmgw: give -c FILE or --db PATH\n");
		return 2;
	}
	if (!config_path) {
		/* --db alone: defaults for everything, the state directory beside the database. */
		agw_config_defaults(cfg);
		char *copy = strdup(db_path);
		free(cfg->db_path);
		free(cfg->state_dir);
		cfg->db_path = strdup(db_path);
		cfg->state_dir = copy ? strdup(dirname(copy)) : NULL;
		free(copy);
		return (cfg->db_path && cfg->state_dir) ? 0 : 1;
	}
	struct agw_errors errs = {0};
	int r = agw_config_load(config_path, cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.v[i]);
	agw_errors_clear(&errs);
	if (r < 0)
		return 1;
	if (db_path) {
		free(cfg->db_path);
		cfg->db_path = strdup(db_path);
	}
	return 0;
}

int agw_cli_open_store(const struct agw_config *cfg, struct agw_store **ret_store)
{
	char *path = agw_config_db_path(cfg);
	if (!path) {
		fprintf(stderr, "alarmgw: out of memory\n");
		return 1;
	}
	/* Create the state directory on first use (its parent must exist). */
	char *dir = agw_config_resolve(cfg, cfg->state_dir);
	if (dir && strchr(cfg->db_path, '/') == NULL)
		mkdir(dir, 0750);
	free(dir);
	char err[512];
	int r = agw_store_open(path, ret_store, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "alarmgw: %s\n", err);
	free(path);
	return r < 0 ? 1 : 0;
}

int agw_cli_open(const char *config_path, const char *db_path, struct agw_config *cfg, struct agw_store **ret_store)
{
	int rc = agw_cli_load_config(config_path, db_path, cfg);
	if (rc == 0)
		rc = agw_cli_open_store(cfg, ret_store);
	if (rc)
		agw_config_free(cfg);
	return rc;
}

void agw_cli_close(struct agw_config *cfg, struct agw_store *store)
{
	agw_store_close(store);
	agw_config_free(cfg);
}
