/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `alarmgw rules test`: runs alerts from a JSONL file through the configured rules, grid and
 * cameras without writing anything, and prints one decision per alert. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "decider.h"

#define LINE_MAX_BYTES (1024 * 1024)

static void usage(FILE *out)
{
	fprintf(out, "usage: alarmgw rules test (-c FILE | --db PATH) ALERTS.jsonl\n\n"
		     "Decides each alert (one JSON object per line, the form of the alert journal: camera, kind,\n"
		     "active, operation, camera_time, gateway_time, topic, id, ...) with the configured rules file,\n"
		     "grid layer and cameras, and prints one JSON line per decision: the alert's line number, its\n"
		     "action (open, update, close, drop), rule, reason and case id. Timers (clear timeouts,\n"
		     "minimum durations) run at each alert's gateway_time and print with \"line\": null.\n"
		     "Nothing is written to the store. See docs/rules.md.\n");
}

static void print_decision(long line, const struct agw_alert *a, const struct agw_decision *d)
{
	struct agw_case_view c = {.camera_id = "", .kind = AGW_KIND_OTHER};
	if (d->incident)
		agw_case_view_get(d->incident, &c);
	json_t *o = json_object();
	json_object_set_new(o, "line", line > 0 ? json_integer(line) : json_null());
	json_object_set_new(o, "camera", json_string(a ? a->camera_id : c.camera_id));
	json_object_set_new(o, "kind", json_string(agw_alert_kind_name(a ? a->kind : c.kind)));
	json_object_set_new(o, "action", json_string(agw_decision_action_name(d->action)));
	json_object_set_new(o, "rule", d->rule ? json_string(d->rule) : json_null());
	json_object_set_new(o, "reason", json_string(d->reason));
	json_object_set_new(o, "case_id", d->incident ? json_string(c.id) : json_null());
	if (d->incident) {
		json_object_set_new(o, "cell", json_string(c.cell_code));
		json_object_set_new(o, "priority", json_integer(c.priority));
		json_object_set_new(o, "count", json_integer(c.count));
	}
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

static int print_tick(void *arg, const struct agw_decision *d)
{
	(void)arg;
	print_decision(0, NULL, d);
	return 0;
}

static int run_file(struct agw_decider *dec, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		fprintf(stderr, "alarmgw: %s: %s\n", path, strerror(errno));
		return 1;
	}
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	long line = 0;
	int rc = 0, bad = 0;
	while ((n = getline(&buf, &cap, f)) >= 0) {
		line++;
		if (n > LINE_MAX_BYTES) {
			fprintf(stderr, "%s:%ld: line longer than %d bytes\n", path, line, LINE_MAX_BYTES);
			bad++;
			continue;
		}
		size_t len = (size_t)n;
		while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
			len--;
		if (!len || buf[0] == '#')
			continue;
		struct agw_alert a;
		char err[256];
		agw_alert_init(&a);
		if (agw_alert_from_json(buf, len, &a, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s:%ld: %s\n", path, line, err);
			bad++;
			continue;
		}
		if (!a.gateway_time_ms)
			a.gateway_time_ms = agw_now_ms();
		struct agw_decision d;
		int r = agw_engine_tick(agw_decider_engine(dec), a.gateway_time_ms, print_tick, NULL);
		if (r >= 0)
			r = agw_decider_evaluate(dec, line, &a, &d);
		if (r < 0) {
			fprintf(stderr, "%s:%ld: %s\n", path, line, strerror(-r));
			agw_alert_clear(&a);
			rc = 1;
			break;
		}
		print_decision(line, &a, &d);
		agw_alert_clear(&a);
	}
	free(buf);
	if (f != stdin)
		fclose(f);
	if (bad) {
		fprintf(stderr, "alarmgw: %d line(s) were not alerts\n", bad);
		rc = 1;
	}
	return rc;
}

int agw_cmd_rules(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *action = argv[1], *config_path = NULL, *db_path = NULL;
	int c;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'd': db_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (strcmp(action, "test") != 0 || argc - optind != 1) {
		usage(stderr);
		return 2;
	}
	struct agw_config cfg;
	struct agw_store *store = NULL;
	struct agw_decider *dec = NULL;
	int rc = agw_cli_open(config_path, db_path, &cfg, &store);
	if (rc)
		return rc;
	struct agw_errors errs = {0};
	if (agw_decider_open(&cfg, store, AGW_DECIDER_NO_RESTORE, &dec, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.v[i]);
		if (!errs.n)
			fprintf(stderr, "alarmgw: cannot load the rules\n");
		rc = 1;
	}
	agw_errors_clear(&errs);
	if (rc == 0)
		rc = run_file(dec, argv[optind]);
	agw_decider_free(dec);
	agw_cli_close(&cfg, store);
	return rc;
}
