/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `alarmgw status`: the status page in the terminal (or as the JSON of /api/status). It reads the
 * store directly, so it works whether or not the daemon is running. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alarmgw/alert.h"
#include "cli.h"
#include "status.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: alarmgw status (-c FILE | --db PATH) [--json] [--recent N]\n"
		     "Prints cameras with their state and last event, recent cases and alerts, and the outbox.\n"
		     "  -c, --config FILE  the daemon configuration (its database is read)\n"
		     "      --db PATH      read this database instead\n"
		     "      --json         print the JSON document that GET /api/status serves\n"
		     "  -n, --recent N     how many recent alerts and cases (default %d, at most %d)\n",
		AGW_STATUS_RECENT_DEFAULT, AGW_STATUS_RECENT_MAX);
}

int agw_cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},         {"recent", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL, *db_path = NULL;
	bool json = false;
	long recent = AGW_STATUS_RECENT_DEFAULT;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:n:h", options, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'd': db_path = optarg; break;
		case 'j': json = true; break;
		case 'n':
			recent = strtol(optarg, &end, 10);
			if (*end || end == optarg || recent < 0 || recent > AGW_STATUS_RECENT_MAX) {
				fprintf(stderr, "alarmgw status: --recent takes 0 to %d\n", AGW_STATUS_RECENT_MAX);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || (!config_path && !db_path)) {
		usage(stderr);
		return 2;
	}
	struct agw_config cfg;
	int ret = agw_cli_load_config(config_path, db_path, &cfg);
	if (ret)
		return ret;
	struct agw_store *store = NULL;
	char *path = agw_config_db_path(&cfg);
	/* Opening would create an empty database: a status of nothing is not what was asked for. */
	if (!path || access(path, F_OK) != 0) {
		fprintf(stderr, "alarmgw status: no database at %s\n", path ? path : "?");
		ret = 1;
		goto out;
	}
	ret = agw_cli_open_store(&cfg, &store);
	if (ret)
		goto out;
	struct agw_status *st = NULL;
	char err[256];
	if (agw_status_collect(agw_store_db(store), NULL, (size_t)recent, agw_now_ms(), &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "alarmgw status: %s\n", err);
		ret = 1;
		goto out;
	}
	if (json) {
		char *text = NULL;
		size_t len;
		if (agw_status_to_json(st, &text, &len) < 0) {
			fprintf(stderr, "alarmgw status: out of memory\n");
			ret = 1;
		} else {
			printf("%s\n", text);
			free(text);
		}
	} else if (agw_status_print(st, stdout) < 0) {
		ret = 1;
	}
	agw_status_free(st);
out:
	free(path);
	agw_store_close(store);
	agw_config_free(&cfg);
	return ret;
}
