/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `alarmgw cases list|show`: the cases and the full history of one: the alerts it folded (with
 * their camera and adapter), every decision on it (open, update, close, feedback moves and the
 * refused ones, escalations, ends), the messages queued for MQTT and those still in the outbox,
 * and its evidence. It reads the database directly, beside a running daemon or without one. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/alert.h"
#include "cli.h"
#include "evidence_list.h"

#define LIST_DEFAULT 50
#define LIST_MAX 100000

static void usage(FILE *out)
{
	fprintf(out, "usage: alarmgw cases list (-c FILE | --db PATH) [--status STATUS] [--limit N] [--json]\n"
		     "       alarmgw cases show (-c FILE | --db PATH) ID [--json]\n"
		     "list: the latest cases (most recently updated first) with status, priority and escalation.\n"
		     "show: one case with its full history: alerts, decisions, feedback (accepted and refused),\n"
		     "  escalations, its end, the messages queued for MQTT, those still in the outbox, evidence.\n"
		     "  -c, --config FILE  the daemon configuration (its database is used)\n"
		     "      --db PATH      this database instead\n"
		     "      --status S     list cases in this status only (open, accepted, ... closed)\n"
		     "  -n, --limit N      list at most N cases (default %d, at most %d)\n"
		     "      --json         as JSON\n",
		LIST_DEFAULT, LIST_MAX);
}

static const char *fmt_time(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	return agw_time_format_ms(sqlite3_column_int64(st, col), buf, len);
}

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int print_doc(json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	if (!text)
		return 1;
	printf("%s\n", text);
	free(text);
	return 0;
}

static int cmd_list(struct agw_store *store, const char *status, long limit, bool json)
{
	sqlite3_stmt *st = agw_store_stmt(store, "SELECT id, status, priority, esc_level, camera_id, kind, count, updated_at,"
						 " json_extract(json, '$.title') FROM cases WHERE ?1 IS NULL OR status = ?1"
						 " ORDER BY updated_at DESC LIMIT ?2");
	if (!st)
		return 1;
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, limit);
	json_t *arr = json ? json_array() : NULL;
	if (!json)
		printf("%-24s %-10s %3s %3s %-16s %-14s %6s %-24s %s\n", "CASE", "STATUS", "P", "ESC", "CAMERA", "KIND",
		       "COUNT", "UPDATED", "TITLE");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char upd[40];
		const char *u = fmt_time(st, 7, upd, sizeof(upd));
		if (json) {
			json_array_append_new(arr, json_pack("{s:s?, s:s?, s:i, s:i, s:s?, s:s?, s:I, s:s?, s:s?}", "id",
							     col(st, 0), "status", col(st, 1), "priority",
							     sqlite3_column_int(st, 2), "escalation_level",
							     sqlite3_column_int(st, 3), "camera", col(st, 4), "kind",
							     col(st, 5), "count", (json_int_t)sqlite3_column_int64(st, 6),
							     "updated", u, "title", col(st, 8)));
			continue;
		}
		printf("%-24s %-10s %3d %3d %-16s %-14s %6" PRId64 " %-24s %s\n", col(st, 0), col(st, 1),
		       sqlite3_column_int(st, 2), sqlite3_column_int(st, 3), col(st, 4) ? col(st, 4) : "-",
		       col(st, 5) ? col(st, 5) : "-", (int64_t)sqlite3_column_int64(st, 6), u ? u : "-",
		       col(st, 8) ? col(st, 8) : "");
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		fprintf(stderr, "alarmgw cases: %s\n", sqlite3_errmsg(agw_store_db(store)));
		return 1;
	}
	return json ? print_doc(arr) : 0;
}

/* Every decision on the case, with the alert behind it when there is one. */
static int history(struct agw_store *store, const char *id, json_t *out, int64_t *ret_messages)
{
	sqlite3_stmt *st = agw_store_stmt(
		store, "SELECT d.seq, d.at, d.action, d.rule, d.reason, a.seq, a.camera_id, a.adapter, a.kind, a.active,"
		       " a.event_id FROM decisions d LEFT JOIN alerts a ON a.seq = d.alert_seq WHERE d.case_id = ?"
		       " ORDER BY d.seq");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc;
	*ret_messages = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char at[40];
		const char *action = col(st, 2);
		json_t *o = json_pack("{s:I, s:s?, s:s?, s:s?, s:s?}", "decision", (json_int_t)sqlite3_column_int64(st, 0),
				      "at", fmt_time(st, 1, at, sizeof(at)), "action", action, "rule", col(st, 3),
				      "reason", col(st, 4));
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			json_object_set_new(o, "alert",
					    json_pack("{s:I, s:s?, s:s?, s:s?, s:o, s:s?}", "journal_seq",
						      (json_int_t)sqlite3_column_int64(st, 5), "camera", col(st, 6),
						      "adapter", col(st, 7), "kind", col(st, 8), "active",
						      sqlite3_column_type(st, 9) == SQLITE_NULL
							      ? json_null()
							      : json_boolean(sqlite3_column_int(st, 9)),
						      "event_id", col(st, 10)));
		/* every decision on a case but a refused feedback queued one case message */
		*ret_messages += action && strcmp(action, "refused") != 0;
		json_array_append_new(out, o);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int outbox_rows(struct agw_store *store, const char *id, json_t *out)
{
	sqlite3_stmt *st = agw_store_stmt(store, "SELECT seq, state, topic, reason, created_at, json_extract(payload,"
						 " '$.action') FROM outbox WHERE case_id = ? ORDER BY seq");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char at[40];
		json_array_append_new(out, json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s?}", "row",
						     (json_int_t)sqlite3_column_int64(st, 0), "state", col(st, 1), "topic",
						     col(st, 2), "action", col(st, 5), "reason", col(st, 3), "queued",
						     fmt_time(st, 4, at, sizeof(at))));
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static json_t *evidence(struct agw_store *store, const char *id)
{
	struct agw_evidence_list l;
	if (agw_evidence_list(store, id, &l) < 0)
		return NULL;
	json_t *arr = json_array();
	for (size_t i = 0; i < l.n; i++) {
		const struct agw_evidence_entry *e = &l.v[i];
		char at[40];
		json_array_append_new(arr, json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:I, s:s?, s:I, s:I, s:s?}", "n",
						     (json_int_t)e->n, "type", e->type, "status", e->status, "reason",
						     e->reason, "captured_at",
						     e->captured_at == AGW_TIME_UNKNOWN
							     ? NULL
							     : agw_time_format_ms(e->captured_at, at, sizeof(at)),
						     "bytes", (json_int_t)e->bytes, "sha256", e->sha256, "width",
						     (json_int_t)e->width, "height", (json_int_t)e->height, "topic", e->topic));
	}
	agw_evidence_list_clear(&l);
	return arr;
}

static const char *sget(json_t *o, const char *key, const char *def)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : def;
}

static void print_text(json_t *doc)
{
	json_t *c = json_object_get(doc, "case"), *life = json_object_get(c, "lifecycle"), *v;
	size_t i;
	printf("case %s  status %s  priority %" JSON_INTEGER_FORMAT "  escalation level %" JSON_INTEGER_FORMAT "\n",
	       sget(c, "case_id", "?"), sget(c, "status", "?"), json_integer_value(json_object_get(c, "priority")),
	       json_integer_value(json_object_get(c, "escalation_level")));
	printf("  %s  (rule %s, category %s)\n", sget(c, "title", ""), sget(c, "rule", "-"), sget(c, "category", "-"));
	printf("  created %s  updated %s  supervision due %s  ended %s\n", sget(c, "created", "-"),
	       sget(c, "updated", "-"), sget(life, "supervision_due", "-"),
	       sget(json_object_get(life, "ended"), "by", "-"));
	json_t *fb = json_object_get(life, "last_feedback");
	if (json_is_object(fb))
		printf("  last feedback %s at %s by %s%s%s\n", sget(fb, "status", "?"), sget(fb, "at", "-"),
		       sget(fb, "by", "(not given)"), json_is_string(json_object_get(fb, "note")) ? ": " : "",
		       sget(fb, "note", ""));
	printf("sources:\n");
	json_array_foreach(json_object_get(c, "sources"), i, v)
		printf("  %-20s %-10s %" JSON_INTEGER_FORMAT " alert(s)\n", sget(v, "camera", "?"), sget(v, "adapter", "-"),
		       json_integer_value(json_object_get(v, "count")));
	printf("history:\n");
	json_array_foreach(json_object_get(doc, "history"), i, v) {
		json_t *a = json_object_get(v, "alert");
		printf("  %s  %-8s %s", sget(v, "at", "-"), sget(v, "action", "?"), sget(v, "reason", ""));
		if (a)
			printf("  [alert %" JSON_INTEGER_FORMAT " %s/%s %s]", json_integer_value(json_object_get(a, "journal_seq")),
			       sget(a, "camera", "?"), sget(a, "adapter", "-"), sget(a, "kind", "?"));
		printf("\n");
	}
	printf("messages: %" JSON_INTEGER_FORMAT " queued for MQTT (escalations also up the grid path), %zu still in the"
	       " outbox\n",
	       json_integer_value(json_object_get(doc, "messages_queued")), json_array_size(json_object_get(doc, "outbox")));
	json_array_foreach(json_object_get(doc, "outbox"), i, v)
		printf("  row %" JSON_INTEGER_FORMAT " %s %s %s\n", json_integer_value(json_object_get(v, "row")),
		       sget(v, "state", "?"), sget(v, "action", "-"), sget(v, "topic", "?"));
	printf("evidence: %zu\n", json_array_size(json_object_get(doc, "evidence")));
	json_array_foreach(json_object_get(doc, "evidence"), i, v)
		printf("  %" JSON_INTEGER_FORMAT " %s %s %" JSON_INTEGER_FORMAT " bytes %s\n",
		       json_integer_value(json_object_get(v, "n")), sget(v, "type", "-"), sget(v, "status", "-"),
		       json_integer_value(json_object_get(v, "bytes")), sget(v, "reason", ""));
}

static int cmd_show(struct agw_store *store, const char *id, bool json)
{
	sqlite3_stmt *st = agw_store_stmt(store, "SELECT json FROM cases WHERE id = ?");
	if (!st)
		return 1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	json_t *msg = sqlite3_step(st) == SQLITE_ROW && col(st, 0) ? json_loads(col(st, 0), 0, NULL) : NULL;
	sqlite3_reset(st);
	if (!msg) {
		fprintf(stderr, "alarmgw cases show: no case %s\n", id);
		return 1;
	}
	json_t *hist = json_array(), *out = json_array(), *ev = evidence(store, id);
	int64_t queued = 0;
	json_t *doc = json_pack("{s:o, s:o, s:o, s:o*}", "case", msg, "history", hist, "outbox", out, "evidence", ev);
	if (!doc || history(store, id, hist, &queued) < 0 || outbox_rows(store, id, out) < 0 || !ev) {
		fprintf(stderr, "alarmgw cases show: %s\n", sqlite3_errmsg(agw_store_db(store)));
		json_decref(doc);
		return 1;
	}
	json_object_set_new(doc, "messages_queued", json_integer(queued));
	if (json)
		return print_doc(doc);
	print_text(doc);
	json_decref(doc);
	return 0;
}

int agw_cmd_cases(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, 'd'},
		{"status", required_argument, NULL, 's'}, {"limit", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc < 2 || (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "show") != 0)) {
		usage(stderr);
		return 2;
	}
	bool list = strcmp(argv[1], "list") == 0, json = false;
	const char *config_path = NULL, *db_path = NULL, *status = NULL;
	long limit = LIST_DEFAULT;
	int opt;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "c:n:h", options, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'd': db_path = optarg; break;
		case 's': status = optarg; break;
		case 'j': json = true; break;
		case 'n':
			limit = strtol(optarg, &end, 10);
			if (*end || end == optarg || limit < 1 || limit > LIST_MAX) {
				fprintf(stderr, "alarmgw cases: --limit takes 1 to %d\n", LIST_MAX);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((!config_path && !db_path) || (list ? optind != argc : optind != argc - 1 || status)) {
		usage(stderr);
		return 2;
	}
	struct agw_config cfg;
	struct agw_store *store = NULL;
	int ret = agw_cli_open(config_path, db_path, &cfg, &store);
	if (ret)
		return ret;
	ret = list ? cmd_list(store, status, limit, json) : cmd_show(store, argv[optind], json);
	agw_cli_close(&cfg, store);
	return ret;
}
