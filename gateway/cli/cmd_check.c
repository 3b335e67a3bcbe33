/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `alarmgw check -c FILE`: validates the configuration and everything it references, printing
 * every error as file:line: message; exit 0 only when all is clean. */
#include <getopt.h>
#include <stdio.h>

#include "check.h"
#include "cli.h"

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
