/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/adapter.h"
#include "cli.h"
#include "daemon.h"
#include "options.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: alarmgw run (-c FILE | --db PATH) [--help-adapter NAME]\n\n"
		     "Runs the gateway in the foreground (systemd runs it as Type=notify). SIGTERM or SIGINT\n"
		     "stop it gracefully; SIGHUP reloads the configuration, cameras, grid and rules.\n\nadapters:\n");
	for (size_t i = 0; agw_adapters[i]; i++)
		fprintf(out, "  %-10s %s\n", agw_adapters[i]->name, agw_adapters[i]->description);
}

int agw_cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"db", required_argument, NULL, 'd'},
		{"help-adapter", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL, *db_path = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'd': db_path = optarg; break;
		case 'a': {
			const struct agw_adapter *a = agw_adapter_find(optarg);
			if (!a) {
				fprintf(stderr, "alarmgw: unknown adapter \"%s\"\n", optarg);
				return 2;
			}
			agw_options_print_help(a, stdout);
			return 0;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* On the heap: the daemon keeps it (and modules keep pointers into it) until it exits. */
	struct agw_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return 1;
	int rc = agw_cli_load_config(config_path, db_path, cfg);
	if (rc) {
		agw_config_free(cfg);
		free(cfg);
		return rc;
	}
	return agw_daemon_run(cfg);
}
