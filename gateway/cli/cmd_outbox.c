/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `alarmgw outbox list|retry`: the MQTT outbox for the operator. list shows rows with their state
 * (pending, parked) and, for parked rows, the reason the broker gave; retry requeues parked rows
 * at the end of the outbox, where a running daemon picks them up within a second. It works on the
 * database directly, beside the daemon or without it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alarmgw/alert.h"
#include "cli.h"

#define LIST_DEFAULT 100
#define LIST_MAX 100000

static void usage(FILE *out)
{
	fprintf(out, "usage: alarmgw outbox list (-c FILE | --db PATH) [--parked] [--limit N] [--json]\n"
		     "       alarmgw outbox retry (-c FILE | --db PATH) (ID | --all)\n"
		     "list: the outbox rows in send order with their state (pending: waiting for the broker's\n"
		     "  acknowledgement; parked: refused by the broker, with its reason, waiting for you) and the\n"
		     "  row counts. retry: after fixing the cause (an ACL, a message size limit), requeue one parked\n"
		     "  row (its new id is printed) or all of them; a running daemon sends them within a second.\n"
		     "  -c, --config FILE  the daemon configuration (its database is used)\n"
		     "      --db PATH      this database instead\n"
		     "      --parked       list parked rows only\n"
		     "  -n, --limit N      list at most N rows (default %d, at most %d)\n"
		     "      --json         list as JSON\n"
		     "      --all          retry every parked row\n",
		LIST_DEFAULT, LIST_MAX);
}

static int open_existing(const char *config_path, const char *db_path, struct agw_config *cfg,
			 struct agw_store **ret_store)
{
	int ret = agw_cli_load_config(config_path, db_path, cfg);
	if (ret)
		return ret;
	/* Opening would create an empty database: an empty outbox is not what was asked about. */
	char *path = agw_config_db_path(cfg);
	if (!path || access(path, F_OK) != 0) {
		fprintf(stderr, "alarmgw outbox: no database at %s\n", path ? path : "?");
		free(path);
		agw_config_free(cfg);
		return 1;
	}
	free(path);
	ret = agw_cli_open_store(cfg, ret_store);
	if (ret)
		agw_config_free(cfg);
	return ret;
}

static int print_json(const struct agw_outbox_counts *c, const struct agw_outbox_row *rows, size_t n)
{
	json_t *list = json_array();
	json_t *doc = json_pack("{s:I, s:I, s:I, s:o}", "rows", (json_int_t)(c->pending + c->parked), "pending",
				(json_int_t)c->pending, "parked", (json_int_t)c->parked, "listed", list);
	if (!doc)
		return 1;
	for (size_t i = 0; i < n; i++) {
		char created[40], parked[40];
		const struct agw_outbox_row *r = &rows[i];
		const char *parked_text =
			r->parked_at == AGW_TIME_UNKNOWN ? NULL : agw_time_format_ms(r->parked_at, parked, sizeof(parked));
		json_t *o = json_pack("{s:I, s:s, s:s?, s:s, s:s?, s:s, s:s?, s:I}", "id", (json_int_t)r->seq, "topic",
				      r->topic ? r->topic : "", "case_id", r->case_id, "state",
				      r->state ? r->state : "?", "reason", r->reason, "created",
				      agw_time_format_ms(r->created_at, created, sizeof(created)), "parked", parked_text,
				      "bytes", (json_int_t)r->bytes);
		if (!o || json_array_append_new(list, o) < 0) {
			json_decref(doc);
			return 1;
		}
	}
	char *text = json_dumps(doc, JSON_INDENT(2));
	json_decref(doc);
	if (!text)
		return 1;
	printf("%s\n", text);
	free(text);
	return 0;
}

static void print_text(const struct agw_outbox_counts *c, const struct agw_outbox_row *rows, size_t n, bool parked_only)
{
	printf("outbox: %" PRId64 " rows: %" PRId64 " pending, %" PRId64 " parked\n", c->pending + c->parked,
	       c->pending, c->parked);
	if (!n) {
		printf("%s\n", parked_only ? "no parked rows" : "no rows");
		return;
	}
	printf("%-10s %-8s %-24s %8s  %-24s %s\n", "ID", "STATE", "CREATED", "BYTES", "CASE", "TOPIC / REASON");
	for (size_t i = 0; i < n; i++) {
		char created[40];
		const struct agw_outbox_row *r = &rows[i];
		printf("%-10" PRId64 " %-8s %-24s %8" PRId64 "  %-24s %s%s%s\n", r->seq, r->state ? r->state : "?",
		       agw_time_format_ms(r->created_at, created, sizeof(created)), r->bytes,
		       r->case_id ? r->case_id : "-", r->topic ? r->topic : "", r->reason ? "  -- " : "",
		       r->reason ? r->reason : "");
	}
	if ((int64_t)n < (parked_only ? c->parked : c->pending + c->parked))
		printf("(first %zu shown; --limit N for more)\n", n);
}

static int cmd_list(const char *config_path, const char *db_path, bool parked_only, long limit, bool json)
{
	struct agw_config cfg;
	struct agw_store *store = NULL;
	int ret = open_existing(config_path, db_path, &cfg, &store);
	if (ret)
		return ret;
	struct agw_outbox_counts c;
	struct agw_outbox_row *rows = NULL;
	size_t n = 0;
	if (agw_outbox_counts(store, &c) < 0 || agw_outbox_list(store, parked_only, (size_t)limit, &rows, &n) < 0) {
		fprintf(stderr, "alarmgw outbox: cannot read the outbox: %s\n", sqlite3_errmsg(agw_store_db(store)));
		ret = 1;
	} else if (json) {
		ret = print_json(&c, rows, n);
	} else {
		print_text(&c, rows, n, parked_only);
	}
	agw_outbox_rows_free(rows, n);
	agw_cli_close(&cfg, store);
	return ret;
}

static int cmd_retry(const char *config_path, const char *db_path, const char *id, bool all)
{
	int64_t seq = 0;
	if (!all) {
		char *end;
		errno = 0;
		long long v = strtoll(id, &end, 10);
		if (errno || *end || end == id || v <= 0) {
			fprintf(stderr, "alarmgw outbox retry: \"%s\" is not a row id (a positive number from `outbox "
					"list`)\n", id);
			return 2;
		}
		seq = v;
	}
	struct agw_config cfg;
	struct agw_store *store = NULL;
	int ret = open_existing(config_path, db_path, &cfg, &store);
	if (ret)
		return ret;
	if (all) {
		int64_t n = agw_outbox_retry_all(store);
		if (n < 0) {
			fprintf(stderr, "alarmgw outbox retry: %s\n", strerror((int)-n));
			ret = 1;
		} else {
			printf("%" PRId64 " row%s requeued\n", n, n == 1 ? "" : "s");
		}
	} else {
		int64_t neu = 0;
		int r = agw_outbox_retry(store, seq, &neu);
		if (r == -ENOENT) {
			fprintf(stderr,
				"alarmgw outbox retry: row %" PRId64 " is not a parked row (see `alarmgw outbox list --parked`)\n",
				seq);
			ret = 1;
		} else if (r < 0) {
			fprintf(stderr, "alarmgw outbox retry: %s\n", strerror(-r));
			ret = 1;
		} else {
			printf("row %" PRId64 " requeued as row %" PRId64 "\n", seq, neu);
		}
	}
	agw_cli_close(&cfg, store);
	return ret;
}

int agw_cmd_outbox(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, 'd'},
		{"parked", no_argument, NULL, 'p'},       {"limit", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},         {"all", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc < 2 || (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "retry") != 0)) {
		usage(stderr);
		return 2;
	}
	bool list = strcmp(argv[1], "list") == 0;
	const char *config_path = NULL, *db_path = NULL;
	bool parked = false, json = false, all = false;
	long limit = LIST_DEFAULT;
	int opt;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "c:n:h", options, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'd': db_path = optarg; break;
		case 'p': parked = true; break;
		case 'j': json = true; break;
		case 'a': all = true; break;
		case 'n':
			limit = strtol(optarg, &end, 10);
			if (*end || end == optarg || limit < 1 || limit > LIST_MAX) {
				fprintf(stderr, "alarmgw outbox: --limit takes 1 to %d\n", LIST_MAX);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config_path && !db_path) {
		usage(stderr);
		return 2;
	}
	if (list) {
		if (optind < argc || all) {
			usage(stderr);
			return 2;
		}
		return cmd_list(config_path, db_path, parked, limit, json);
	}
	if (parked || json || (all ? optind != argc : optind != argc - 1)) {
		usage(stderr);
		return 2;
	}
	return cmd_retry(config_path, db_path, all ? NULL : argv[optind], all);
}
