/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `alarmgw cameras import|list`: the camera ledger in the store. Passwords are never printed. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "alarmgw/log.h"
#include "cli.h"
#include "ledger.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: alarmgw cameras import (-c FILE | --db PATH) LEDGER.csv\n"
		     "       alarmgw cameras list (-c FILE | --db PATH) [--json]\n\n"
		     "import replaces the whole ledger with the CSV's cameras, all or nothing: a bad row aborts\n"
		     "the import with its line number and reason. Columns: id,name,vendor,protocol,address,\n"
		     "username,password,longitude,latitude,crs,tags[,owner_cell][,device,channel]\n"
		     "(docs/configuration.md; device and channel: NVR channels, docs/isapi.md).\n");
}

static int list(struct agw_store *store, bool as_json)
{
	struct agw_camera *cams = NULL;
	size_t n = 0;
	if (agw_store_cameras_load(store, &cams, &n) < 0) {
		fprintf(stderr, "alarmgw: cannot read the cameras\n");
		return 1;
	}
	char url[1024];
	for (size_t i = 0; i < n; i++) {
		const struct agw_camera *c = &cams[i];
		agw_url_redact(c->address, url, sizeof(url));
		if (as_json) {
			json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "id", c->id, "name", c->name,
					      "vendor", c->vendor ? c->vendor : "", "protocol", c->protocol, "address", url,
					      "credentials", c->username != NULL, "crs", c->crs ? c->crs : "wgs84", "tags",
					      c->tags ? c->tags : "");
			if (o && !isnan(c->lon)) {
				json_object_set_new(o, "longitude", json_real(c->lon));
				json_object_set_new(o, "latitude", json_real(c->lat));
			}
			if (o && c->owner_cell)
				json_object_set_new(o, "owner_cell", json_string(c->owner_cell));
			if (o && c->device)
				json_object_set_new(o, "device", json_string(c->device));
			if (o && c->channel > 0)
				json_object_set_new(o, "channel", json_integer(c->channel));
			char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
			if (s)
				printf("%s\n", s);
			free(s);
			json_decref(o);
		} else {
			if (i == 0)
				printf("%-16s %-20s %-10s %-6s %-44s %s\n", "ID", "NAME", "VENDOR", "PROTO", "ADDRESS",
				       "LOCATION");
			char loc[64] = "-";
			if (!isnan(c->lon))
				snprintf(loc, sizeof(loc), "%.6f,%.6f %s", c->lon, c->lat, c->crs ? c->crs : "");
			/* a channel row's events come over its device's connection: say which */
			if (c->device)
				snprintf(url, sizeof(url), "%s channel %d", c->device, c->channel);
			printf("%-16s %-20s %-10s %-6s %-44s %s\n", c->id, c->name, c->vendor ? c->vendor : "", c->protocol,
			       url, loc);
		}
	}
	if (!as_json)
		fprintf(stderr, "%zu cameras\n", n);
	agw_cameras_free(cams, n);
	return 0;
}

int agw_cmd_cameras(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *action = argv[1];
	const char *config_path = NULL, *db_path = NULL;
	bool as_json = false;
	int c;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'd': db_path = optarg; break;
		case 'j': as_json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	bool is_import = strcmp(action, "import") == 0;
	if ((!is_import && strcmp(action, "list") != 0) || (is_import && optind != argc - 1) ||
	    (!is_import && optind != argc)) {
		usage(stderr);
		return 2;
	}
	struct agw_config cfg;
	struct agw_store *store = NULL;
	int rc = agw_cli_open(config_path, db_path, &cfg, &store);
	if (rc)
		return rc;
	if (is_import) {
		struct agw_errors errs = {0};
		int n = agw_ledger_import(store, argv[optind], &errs);
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.v[i]);
		if (n < 0) {
			fprintf(stderr, "alarmgw: import aborted, the ledger is unchanged\n");
			rc = 1;
		} else {
			printf("imported %d cameras from %s\n", n, argv[optind]);
		}
		agw_errors_clear(&errs);
	} else {
		rc = list(store, as_json);
	}
	agw_cli_close(&cfg, store);
	return rc;
}
