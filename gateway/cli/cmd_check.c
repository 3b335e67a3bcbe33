/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `alarmgw check -c FILE`: validates the configuration and everything it references, printing
 * every error as file:line: message; exit 0 only when all is clean. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "ledger.h"
#include "options.h"

static void check_readable(const struct agw_config *cfg, const char *key, const char *path, struct agw_errors *errs)
{
	if (!path)
		return;
	char *full = agw_config_resolve(cfg, path);
	if (full && access(full, R_OK) != 0)
		agw_errors_add(errs, cfg->path, 0, "%s: cannot read %s: %s", key, full, strerror(errno));
	free(full);
}

/* Parses every enabled adapter section through its option table. */
static int check_adapters(struct agw_config *cfg, struct agw_errors *errs)
{
	size_t before = errs->n;
	for (size_t i = 0; i < cfg->n_adapters; i++) {
		config_setting_t *section = agw_config_adapter_section(cfg, cfg->adapters[i]);
		const struct agw_adapter *a = agw_adapter_find(cfg->adapters[i]);
		if (!a) {
			agw_errors_add(errs, cfg->path, section ? (int)config_setting_source_line(section) : 0,
				       "unknown adapter \"%s\"", cfg->adapters[i]);
			continue;
		}
		void *priv = calloc(1, a->priv_size ? a->priv_size : 1);
		if (!priv)
			return -ENOMEM;
		agw_options_parse(a, section, priv, cfg->path, errs);
		agw_options_free(a, priv);
		free(priv);
	}
	return errs->n > before ? -EINVAL : 0;
}

int agw_check_config(struct agw_config *cfg, struct agw_errors *errs)
{
	size_t before = errs->n;
	check_adapters(cfg, errs);
	check_readable(cfg, "mqtt.ca_file", cfg->mqtt.ca_file, errs);
	check_readable(cfg, "mqtt.cert_file", cfg->mqtt.cert_file, errs);
	check_readable(cfg, "mqtt.key_file", cfg->mqtt.key_file, errs);
	check_readable(cfg, "rules.file", cfg->rules_file, errs);
	char *dir = agw_config_resolve(cfg, cfg->state_dir);
	struct stat st;
	if (dir && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		agw_errors_add(errs, cfg->path, 0, "gateway.state_dir: %s is not a directory", dir);
	else if (dir && access(dir, W_OK) != 0)
		agw_errors_add(errs, cfg->path, 0, "gateway.state_dir: %s is not writable", dir);
	free(dir);
	if (cfg->ledger_file) {
		char *ledger = agw_config_resolve(cfg, cfg->ledger_file);
		struct agw_camera *cams = NULL;
		size_t n = 0;
		if (ledger && agw_ledger_parse(ledger, &cams, &n, errs) >= 0)
			agw_cameras_free(cams, n);
		free(ledger);
	}
	agw_check_extra(cfg, errs);
	return errs->n > before ? -EINVAL : 0;
}

int agw_cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'h':
			printf("usage: alarmgw check -c FILE\nValidates the configuration and the files it references "
			       "(ledger, rules, topic table, TLS files, state directory) and prints every error as "
			       "file:line: message. Exit 0 only when there is none.\n");
			return 0;
		default: return 2;
		}
	}
	if (!config_path || optind != argc) {
		fprintf(stderr, "usage: alarmgw check -c FILE\n");
		return 2;
	}
	struct agw_config cfg;
	struct agw_errors errs = {0};
	int r = agw_config_load(config_path, &cfg, &errs);
	/* Unless the file could not be parsed at all, go on and report the referenced files' errors too. */
	if (cfg.has_tree && config_error_type(&cfg.tree) == CONFIG_ERR_NONE)
		agw_check_config(&cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.v[i]);
	if (errs.n)
		fprintf(stderr, "%zu error%s\n", errs.n, errs.n == 1 ? "" : "s");
	else
		printf("%s: ok\n", config_path);
	r = errs.n ? 1 : 0;
	agw_errors_clear(&errs);
	agw_config_free(&cfg);
	return r;
}
