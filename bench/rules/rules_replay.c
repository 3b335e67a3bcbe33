/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writes every decision and case message of a generated alert stream, to compare two builds of
 * rules/ byte for byte (a change meant to make the rule path faster must not change what it
 * decides or sends):
 *
 *   rules_replay ALERTS > new.txt;  <old build>/rules_replay ALERTS > old.txt;  cmp old.txt new.txt
 *
 * The city of bench_rules (bench_world.h), with what the bench leaves out so that every part of a
 * message is exercised: rules with flood limits, supervision and escalation, minimum durations,
 * repeat counts, cell and group dedup and expiry; cameras without a location (an owner cell, or
 * none: unassigned), names and vendors that need escaping or are not UTF-8; alerts with event ids,
 * unknown camera times, Initialized states and other topics; transactions of 100 alerts of which
 * every fifth is rolled back and decided again; platform feedback on some cases; cameras renamed
 * and moved half way; the tick every 1000 alerts. Prints one line per decision (seq, action, rule,
 * case id, reason) and the case message after it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_world.h"

static int print_decision(void *arg, const struct agw_decision *d)
{
	struct agw_engine *e = arg;
	printf("%" PRId64 " %s rule=%s case=%s reason=%s\n", d->alert_seq, agw_decision_action_name(d->action),
	       d->rule ? d->rule : "-", d->incident ? agw_case_id(d->incident) : "-", d->reason);
	if (!d->incident)
		return 0;
	char *json;
	size_t len;
	if (agw_case_message(e, d->incident, d->action, NULL, 0, &json, &len) < 0)
		exit(1);
	fwrite(json, 1, len, stdout);
	putchar('\n');
	free(json);
	return 0;
}

/* Flood limits, supervision, and rule variants the bench's rules do not have. */
static struct agw_ruleset *replay_rules(void)
{
	struct agw_ruleset *rs = bw_rules();
	rs->tz_offset_min = 480;
	rs->flood_camera = (struct agw_flood){.max_cases = 3, .window_ms = 60000};
	rs->flood_cell = (struct agw_flood){.max_cases = 4, .window_ms = 120000};
	rs->resync_unknown_after_ms = 30000;
	for (int l = 0; l < 5; l++) {
		rs->supervision.accept_ms[l] = 90000 + 30000 * l;
		rs->supervision.resolve_ms[l] = 600000;
	}
	rs->supervision.max_level = 3;
	struct agw_camera_group *g;
	if (agw_ruleset_add_group(rs, "gate \"north\"", &g) < 0)
		exit(1);
	for (int i = 0; i < BW_CAMERAS; i += 31) {
		char id[16];
		snprintf(id, sizeof(id), "cam-%05d", i);
		agw_strv_add(&g->cameras, id);
	}
	for (size_t i = 0; i < rs->n; i++) {
		struct agw_rule *r = &rs->rules[i];
		switch (i % 7) {
		case 1: r->dedup_by = AGW_DEDUP_CELL; break;
		case 2: r->min_duration_ms = 1500; break;
		case 3: r->repeat_count = 2; r->repeat_window_ms = 20000; break;
		case 4: r->dedup_by = AGW_DEDUP_GROUP; r->dedup_any_kind = true; break;
		case 5: r->end_on_clear = true; r->expire_after_ms = 45000; r->clear_timeout_ms = 8000; break;
		default: break;
		}
		r->dedup_window_ms = 5000 + 1000 * (int64_t)(i % 5);
	}
	return rs;
}

static void set_camera(struct agw_engine *e, const struct bw_cam *c, int i, bool second_half)
{
	char name[64], tags[16];
	const char *vendor = i % 11 == 0 ? NULL : "bench";
	if (i % 13 == 0)
		snprintf(name, sizeof(name), "Gate \"%d\" \\ \xe5\x8c\x97\xe9\x97\xa8\t%s", i, second_half ? "new" : "old");
	else if (i % 17 == 0)
		snprintf(name, sizeof(name), "bad \xff\xfe utf-8 %d", i);
	else
		snprintf(name, sizeof(name), "%s%s", c->id, second_half && i % 50 == 0 ? " (renamed)" : "");
	snprintf(tags, sizeof(tags), "tag-%02d", i % 50);
	bool located = i % 97 != 0 && i % 89 != 0;
	double dlon = second_half && i % 100 == 0 ? 0.01 : 0;
	if (agw_engine_camera_set(e, c->id, name, vendor, tags, i % 97 == 0 ? "110101000001" : NULL, located,
				  c->lon + dlon, c->lat, AGW_CRS_GCJ02) < 0)
		exit(1);
}

static const char *const topics[] = {"tns1:RuleEngine/FieldDetector/ObjectsInside",
				     "tns1:VideoSource/MotionAlarm", "tns1:RuleEngine/LineDetector/Crossed"};

static void decide_batch(struct agw_engine *e, const struct bw_cam *cams, const struct bw_alert *alerts, size_t from,
			 size_t to)
{
	struct agw_alert a;
	char event_id[32];
	agw_alert_init(&a);
	a.adapter = (char *)"onvif";
	for (size_t i = from; i < to; i++) {
		const struct bw_alert *al = &alerts[i];
		a.camera_id = (char *)cams[al->cam].id;
		a.kind = (enum agw_alert_kind)al->kind;
		a.active = (enum agw_active)al->active;
		a.operation = i % 401 == 0 ? AGW_OP_INITIALIZED : AGW_OP_CHANGED;
		a.topic = (char *)topics[i % 3];
		a.gateway_time_ms = BW_T0 + (int64_t)i * 7;
		a.camera_time_ms = i % 7 == 0 ? AGW_TIME_UNKNOWN : a.gateway_time_ms - 300;
		snprintf(event_id, sizeof(event_id), i % 9 == 0 ? "ev-\"%zu\"" : "ev-%zu", i);
		a.event_id = i % 2 ? NULL : event_id;
		struct agw_decision d;
		if (agw_engine_decide(e, &a, (int64_t)i + 1, a.gateway_time_ms, &d) < 0)
			exit(1);
		print_decision(e, &d);
		if (d.incident && i % 333 == 0) {
			static const enum agw_case_status fb[] = {AGW_CASE_ACCEPTED, AGW_CASE_DISPATCHED, AGW_CASE_RESOLVED,
								  AGW_CASE_CLOSED};
			char why[128] = "";
			struct agw_feedback_from who = {.by = i % 2 ? "w-0201" : NULL, .note = "on \"site\""};
			int r = agw_engine_feedback_from(e, agw_case_id(d.incident), fb[(i / 333) % 4], &who,
							 a.gateway_time_ms, a.gateway_time_ms, print_decision, e, why,
							 sizeof(why));
			printf("feedback %d %s\n", r, why);
		}
		if (i % 1000 == 999)
			agw_engine_tick(e, a.gateway_time_ms, print_decision, e);
	}
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)atol(argv[1]) : 200000;
	if (n < 100) {
		fprintf(stderr, "usage: rules_replay [ALERTS (>= 100)]\n");
		return 2;
	}
	struct bw_cam *cams = bw_cameras();
	struct bw_alert *alerts = bw_alerts(n);
	struct agw_engine *e;
	struct agw_engine_config cfg = {.gateway_id = "gw-replay"};
	struct agw_grid *g = bw_grid();
	if (agw_engine_new(&cfg, replay_rules(), g, &e) < 0)
		return 1;
	for (int i = 0; i < BW_CAMERAS; i++)
		set_camera(e, &cams[i], i, false);
	for (size_t b = 0; b * 100 < n; b++) {
		size_t from = b * 100, to = from + 100 < n ? from + 100 : n;
		if (from == n / 200 * 100)
			for (int i = 0; i < BW_CAMERAS; i++)
				if (i % 50 == 0 || i % 100 == 0 || i % 13 == 0)
					set_camera(e, &cams[i], i, true);
		agw_engine_txn_begin(e);
		if (b % 5 == 4) {
			decide_batch(e, cams, alerts, from, to);
			printf("rollback %d\n", agw_engine_txn_rollback(e));
			agw_engine_txn_begin(e);
		}
		decide_batch(e, cams, alerts, from, to);
		agw_engine_txn_commit(e);
	}
	printf("cases %zu open %zu\n", agw_engine_cases(e), agw_engine_open_incidents(e));
	agw_engine_free(e);
	free(alerts);
	free(cams);
	return 0;
}
