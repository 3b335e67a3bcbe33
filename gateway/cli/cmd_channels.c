/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `alarmgw channels`: the channels devices reported (a catalog) or sent alarms from, as their
 * adapters stored them: adapter state under the key "channel" with a JSON value (device, name,
 * status, longitude, latitude, first_unmatched_alarm_ms; the gb28181 adapter, and the NVR
 * channels no ledger row names of onvif, isapi and dahua: vendor_unmatched.h),
 * each with the ledger camera that has its ID as address or names its device and channel (or
 * token), or none: those are what an integrator adds to the ledger. Reads the store, so it works whether or not the daemon runs. The core names
 * no adapter: --adapter narrows the list to one. */
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "cli.h"
#include "status.h"
#include "store.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: alarmgw channels (-c FILE | --db PATH) [--adapter NAME] [--unmatched] [--json]\n\n"
		     "Lists the channels devices reported: from their catalogs (GB/T 28181: queried after\n"
		     "registration and every adapters.gb28181.catalog_interval) and from their alarms. CAMERA is\n"
		     "the ledger camera whose address is the channel ID (GB/T 28181), or whose device and channel\n"
		     "(or source_token) are the channel's (NVR channels: ONVIF video sources, ISAPI and Dahua\n"
		     "channels); --unmatched lists only channels without one (add them to the ledger: GB alarms of\n"
		     "such channels are not journaled, NVR ones stay on the device); --adapter only one adapter's.\n"
		     "docs/gb28181.md, docs/onvif.md, docs/isapi.md.\n");
}

static const char *text(json_t *o, const char *name)
{
	const char *v = json_string_value(json_object_get(o, name));
	return v ? v : "";
}

static void print_row(sqlite3_stmt *st, bool as_json, size_t row)
{
	const char *id = (const char *)sqlite3_column_text(st, 0);
	const char *value = (const char *)sqlite3_column_text(st, 1);
	const char *camera = (const char *)sqlite3_column_text(st, 2);
	json_t *o = json_loads(value ? value : "{}", 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	if (as_json) {
		json_t *out = json_pack("{s:s, s:o}", "channel", id ? id : "", "camera", camera ? json_string(camera) : json_null());
		json_object_update(out, o);
		char *s = out ? json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(out);
		json_decref(o);
		return;
	}
	if (row == 0)
		printf("%-20s %-20s %-16s %-24s %-6s %-22s %s\n", "CHANNEL", "DEVICE", "CAMERA", "NAME", "STATUS",
		       "LOCATION", "FIRST UNMATCHED ALARM");
	char loc[48] = "-", when[32] = "-";
	json_t *lon = json_object_get(o, "longitude"), *lat = json_object_get(o, "latitude");
	if (json_is_number(lon) && json_is_number(lat))
		snprintf(loc, sizeof(loc), "%.6f,%.6f", json_number_value(lon), json_number_value(lat));
	json_t *first = json_object_get(o, "first_unmatched_alarm_ms");
	if (json_is_integer(first)) {
		time_t t = (time_t)(json_integer_value(first) / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	printf("%-20s %-20s %-16s %-24s %-6s %-22s %s\n", id ? id : "", text(o, "device"), camera ? camera : "-",
	       text(o, "name"), text(o, "status"), loc, when);
	json_decref(o);
}

static int list(sqlite3 *db, const char *adapter, bool unmatched, bool as_json)
{
	/* ?1 NULL: every adapter's channels. The camera of a channel (AGW_CHANNEL_CAMERA_SQL): the row
	 * whose address is its ID (GB/T 28181), or the row that names its device and its channel or
	 * token (NVRs). */
	const char *sql = unmatched ? "SELECT s.camera_id, s.value, NULL FROM adapter_state s WHERE (?1 IS NULL OR "
				      "s.adapter = ?1) AND s.key = 'channel' AND " AGW_CHANNEL_CAMERA_SQL " IS NULL"
				      " ORDER BY s.camera_id"
				    : "SELECT s.camera_id, s.value, " AGW_CHANNEL_CAMERA_SQL " FROM adapter_state s WHERE "
				      "(?1 IS NULL OR s.adapter = ?1) AND s.key = 'channel' ORDER BY s.camera_id";
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "alarmgw: cannot read the channels: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	if (adapter)
		sqlite3_bind_text(st, 1, adapter, -1, SQLITE_STATIC);
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		print_row(st, as_json, n++);
	if (rc != SQLITE_DONE)
		fprintf(stderr, "alarmgw: cannot read the channels: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (!as_json)
		fprintf(stderr, "%zu %schannels\n", n, unmatched ? "unmatched " : "");
	return rc == SQLITE_DONE ? 0 : 1;
}

int agw_cmd_channels(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},         {"unmatched", no_argument, NULL, 'u'},
		{"adapter", required_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL, *db_path = NULL, *adapter = NULL;
	bool as_json = false, unmatched = false;
	int c;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'd': db_path = optarg; break;
		case 'j': as_json = true; break;
		case 'u': unmatched = true; break;
		case 'a': adapter = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	struct agw_config cfg;
	struct agw_store *store = NULL;
	int rc = agw_cli_open(config_path, db_path, &cfg, &store);
	if (rc)
		return rc;
	rc = list(agw_store_db(store), adapter, unmatched, as_json);
	agw_cli_close(&cfg, store);
	return rc;
}
