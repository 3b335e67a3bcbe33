/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The case engine: schedules, lifecycle, dedup, flood, clear timeout, ids, restore, resync. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <regex.h>

#include "engine_fx.h"

static void test_schedule_across_midnight(void **state)
{
	(void)state;
	struct agw_ruleset *rs;
	struct agw_rule *r;
	assert_int_equal(agw_ruleset_new(&rs), 0);
	assert_int_equal(rs->tz_offset_min, 480);
	assert_int_equal(agw_ruleset_add(rs, "night", &r), 0);
	uint8_t mon;
	assert_int_equal(agw_days_parse("mon", &mon), 0);
	r->days = mon;
	struct agw_time_window w;
	assert_int_equal(agw_time_window_parse("22:00-06:00", &w), 0);
	assert_int_equal(agw_rule_add_window(r, w.start_min, w.end_min), 0);
	int tz = rs->tz_offset_min;
	assert_true(agw_rule_schedule_matches(r, tz, local(0, 22, 0)));
	assert_true(agw_rule_schedule_matches(r, tz, local(0, 23, 59)));
	assert_true(agw_rule_schedule_matches(r, tz, local(1, 0, 0)));  /* Tuesday 00:00, Monday's night */
	assert_true(agw_rule_schedule_matches(r, tz, local(1, 5, 59)));
	assert_false(agw_rule_schedule_matches(r, tz, local(1, 6, 0)));  /* end is exclusive */
	assert_false(agw_rule_schedule_matches(r, tz, local(0, 5, 0)));  /* Monday morning = Sunday's night */
	assert_false(agw_rule_schedule_matches(r, tz, local(0, 21, 59)));
	assert_false(agw_rule_schedule_matches(r, tz, local(1, 22, 30))); /* Tuesday evening */
	/* The same instant in UTC terms: Monday 23:00 +08:00 is Monday 15:00Z; with tz 0 it is a day window miss */
	assert_false(agw_rule_schedule_matches(r, 0, local(0, 23, 0)));
	/* a day window and whole days */
	struct agw_rule *d;
	assert_int_equal(agw_ruleset_add(rs, "office", &d), 0);
	assert_int_equal(agw_days_parse("weekdays", &d->days), 0);
	assert_int_equal(agw_time_window_parse("08:30-18:00", &w), 0);
	agw_rule_add_window(d, w.start_min, w.end_min);
	assert_true(agw_rule_schedule_matches(d, tz, local(4, 8, 30)));   /* Friday */
	assert_false(agw_rule_schedule_matches(d, tz, local(5, 9, 0)));   /* Saturday */
	assert_false(agw_rule_schedule_matches(d, tz, local(2, 18, 0)));
	struct agw_rule *we;
	assert_int_equal(agw_ruleset_add(rs, "weekend", &we), 0);
	assert_int_equal(agw_days_parse("weekend", &we->days), 0);
	assert_true(agw_rule_schedule_matches(we, tz, local(6, 23, 59)));
	assert_false(agw_rule_schedule_matches(we, tz, local(7, 0, 0)));  /* next Monday */
	assert_int_equal(agw_time_window_parse("24:00-01:00", &w), -EINVAL);
	assert_int_equal(agw_time_window_parse("23:00-24:00", &w), 0);
	assert_int_equal(w.end_min, 0);
	assert_int_equal(agw_time_window_parse("7:00-9:00", &w), -EINVAL);
	agw_ruleset_free(rs);
}

/* ---- engine fixtures ---- */

static void test_cells_and_fallbacks(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	struct agw_engine_cam *c = agw_engine_camera(f.e, "cam-a1");
	assert_string_equal(c->cell_code, "110105001001001");
	assert_int_equal(c->cell_source, AGW_CELL_LOCATED);
	assert_string_equal(agw_engine_camera(f.e, "cam-b")->cell_code, "110105001001002");
	c = agw_engine_camera(f.e, "cam-owner");
	assert_string_equal(c->cell_code, "110105001001002");
	assert_int_equal(c->cell_source, AGW_CELL_OWNER);
	assert_non_null(c->cell);
	c = agw_engine_camera(f.e, "cam-lost");
	assert_string_equal(c->cell_code, "UNASSIGNED");
	assert_int_equal(c->cell_source, AGW_CELL_UNASSIGNED);
	/* A GCJ-02 location near the A/B border: converted before locating. The WGS-84 point
	 * 116.499,39.2 is in A; its GCJ-02 form lies east of 116.5 but must still land in A. */
	double gx, gy;
	agw_wgs84_to_gcj02(116.499, 39.2, &gx, &gy);
	assert_true(gx > 116.5);
	assert_int_equal(agw_engine_camera_set(f.e, "cam-gcj", NULL, NULL, NULL, NULL, true, gx, gy, AGW_CRS_GCJ02), 0);
	assert_string_equal(agw_engine_camera(f.e, "cam-gcj")->cell_code, "110105001001001");
	/* never dropped: an alert from an unknown camera opens a case in the unassigned queue */
	assert_int_equal(on(&f, "cam-never-seen", local(0, 10, 0)), AGW_DECISION_OPEN);
	assert_string_equal(f.d.incident->cam->cell_code, "UNASSIGNED");
	fx_free(&f);
}

static void test_start_end_pairing_and_dedup(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.r->dedup_window_ms = 5 * MIN;
	int64_t t = local(0, 10, 0);
	assert_int_equal(off(&f, "cam-a1", t), AGW_DECISION_DROP);
	assert_non_null(strstr(f.d.reason, "without an active case"));
	assert_int_equal(on(&f, "cam-a1", t), AGW_DECISION_OPEN);
	char id[AGW_CASE_ID_SIZE];
	strcpy(id, f.d.incident->id);
	assert_string_equal(f.d.rule, "all");
	assert_string_equal(f.d.incident->title, "intrusion at Gate A1 in Grid A (110105)");
	assert_true(f.d.incident->active);
	assert_int_equal(on(&f, "cam-a1", t + 1000), AGW_DECISION_UPDATE); /* repeat active */
	assert_int_equal(f.d.incident->count, 2);
	assert_int_equal(off(&f, "cam-a1", t + 30000), AGW_DECISION_CLOSE);
	assert_string_equal(f.d.incident->id, id);
	assert_false(f.d.incident->active);
	assert_int_equal(f.d.incident->cleared_ms, t + 30000);
	assert_int_equal(off(&f, "cam-a1", t + 31000), AGW_DECISION_DROP); /* a second inactive edge */
	/* within the dedup window after the clear: the same case again */
	assert_int_equal(on(&f, "cam-a1", t + 4 * MIN), AGW_DECISION_UPDATE);
	assert_string_equal(f.d.incident->id, id);
	assert_int_equal(f.d.incident->cleared_ms, 0);
	assert_int_equal(off(&f, "cam-a1", t + 5 * MIN), AGW_DECISION_CLOSE);
	/* another camera, same cell: dedup by camera keeps them apart */
	assert_int_equal(on(&f, "cam-a2", t + 5 * MIN), AGW_DECISION_OPEN);
	assert_string_not_equal(f.d.incident->id, id);
	/* past the window: a new case with a new id */
	assert_int_equal(on(&f, "cam-a1", t + 11 * MIN), AGW_DECISION_OPEN);
	assert_string_not_equal(f.d.incident->id, id);
	assert_int_equal(f.d.incident->count, 1);
	fx_free(&f);
}

static void test_dedup_by_cell(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.r->dedup_by = AGW_DEDUP_CELL;
	int64_t t = local(0, 10, 0);
	assert_int_equal(on(&f, "cam-a1", t), AGW_DECISION_OPEN);
	struct agw_case *c = f.d.incident;
	assert_string_equal(c->key, "cell/110105001001001/intrusion");
	assert_int_equal(on(&f, "cam-a2", t + 1000), AGW_DECISION_UPDATE);
	assert_ptr_equal(f.d.incident, c);
	assert_int_equal(c->count, 2);
	assert_int_equal(on(&f, "cam-b", t + 2000), AGW_DECISION_OPEN); /* other cell */
	/* the case clears only when the last active camera ends */
	assert_int_equal(off(&f, "cam-a1", t + 3000), AGW_DECISION_UPDATE);
	assert_true(c->active);
	assert_int_equal(off(&f, "cam-a2", t + 4000), AGW_DECISION_CLOSE);
	assert_ptr_equal(f.d.incident, c);
	/* cameras in the unassigned queue share no place: each keeps its own case */
	assert_int_equal(on(&f, "cam-lost", t + 5000), AGW_DECISION_OPEN);
	assert_string_equal(f.d.incident->key, "camera/cam-lost/intrusion");
	assert_int_equal(on(&f, "cam-unknown", t + 6000), AGW_DECISION_OPEN);
	assert_string_equal(f.d.incident->cam->cell_code, "UNASSIGNED");
	fx_free(&f);
}

static void test_clear_timeout(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.r->clear_timeout_ms = 2 * MIN;
	f.r->dedup_window_ms = 5 * MIN;
	int64_t t = local(0, 10, 0);
	assert_int_equal(on(&f, "cam-a1", t), AGW_DECISION_OPEN);
	char id[AGW_CASE_ID_SIZE];
	strcpy(id, f.d.incident->id);
	assert_int_equal(agw_engine_tick(f.e, t + 2 * MIN - 1, record, &f), 0);
	assert_int_equal(f.emitted, 0);
	assert_int_equal(on(&f, "cam-a1", t + MIN), AGW_DECISION_UPDATE); /* refreshes the timeout */
	assert_int_equal(agw_engine_tick(f.e, t + 2 * MIN + 1, record, &f), 0);
	assert_int_equal(agw_engine_tick(f.e, t + 3 * MIN, record, &f), 1);
	assert_int_equal(f.last_emit.action, AGW_DECISION_CLOSE);
	assert_string_equal(f.last_emit_case, id);
	assert_non_null(strstr(f.last_emit.reason, "clear timeout"));
	assert_int_equal(agw_engine_tick(f.e, t + 3 * MIN + 1, record, &f), 0); /* once */
	/* the late inactive edge finds nothing active */
	assert_int_equal(off(&f, "cam-a1", t + 4 * MIN), AGW_DECISION_DROP);
	/* the window expires: the incident is forgotten */
	assert_int_equal(agw_engine_open_incidents(f.e), 1);
	agw_engine_tick(f.e, t + 20 * MIN, record, &f);
	assert_int_equal(agw_engine_open_incidents(f.e), 0);
	fx_free(&f);
}

static void test_initialized_never_opens(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	int64_t t = local(0, 10, 0);
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED, t),
			 AGW_DECISION_DROP);
	assert_non_null(strstr(f.d.reason, "initialized"));
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_INTRUSION, AGW_ACTIVE_NONE, AGW_OP_INITIALIZED, t),
			 AGW_DECISION_DROP);
	assert_int_equal(on(&f, "cam-a1", t + 1), AGW_DECISION_OPEN);
	/* an Initialized "false" after a reconnect ends the active incident */
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_INTRUSION, AGW_ACTIVE_FALSE, AGW_OP_INITIALIZED, t + 2),
			 AGW_DECISION_CLOSE);
	fx_free(&f);
}

static void test_flood_per_camera_and_cell(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.r->dedup_window_ms = 0; /* every pulse is a new incident */
	f.rs->flood_camera = (struct agw_flood){3, 10 * MIN};
	int64_t t = local(0, 10, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(alert(&f, "cam-a1", AGW_KIND_MOTION, AGW_ACTIVE_NONE, AGW_OP_NONE, t + i * 1000),
				 AGW_DECISION_OPEN);
		assert_false(f.d.incident->aggregate);
	}
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_MOTION, AGW_ACTIVE_NONE, AGW_OP_NONE, t + 3000), AGW_DECISION_OPEN);
	assert_true(f.d.incident->aggregate);
	assert_non_null(strstr(f.d.reason, "flood: camera cam-a1"));
	char agg[AGW_CASE_ID_SIZE];
	strcpy(agg, f.d.incident->id);
	for (int i = 4; i < 10; i++) {
		assert_int_equal(alert(&f, "cam-a1", AGW_KIND_MOTION, AGW_ACTIVE_NONE, AGW_OP_NONE, t + i * 1000),
				 AGW_DECISION_UPDATE);
		assert_string_equal(f.d.incident->id, agg);
	}
	assert_int_equal(f.d.incident->count, 7);
	/* an active alert joins the aggregate without making it an active (never expiring) case */
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_TAMPER, AGW_ACTIVE_TRUE, AGW_OP_CHANGED, t + 10000),
			 AGW_DECISION_UPDATE);
	assert_true(f.d.incident->aggregate);
	assert_false(f.d.incident->active);
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_TAMPER, AGW_ACTIVE_FALSE, AGW_OP_CHANGED, t + 10001),
			 AGW_DECISION_DROP);
	/* other cameras are not affected */
	assert_int_equal(alert(&f, "cam-a2", AGW_KIND_MOTION, AGW_ACTIVE_NONE, AGW_OP_NONE, t + 10000), AGW_DECISION_OPEN);
	assert_false(f.d.incident->aggregate);
	/* after the window: the aggregate expires, normal cases again */
	assert_int_equal(agw_engine_feedback(f.e, agg, AGW_CASE_ACCEPTED, NULL), 0);
	agw_engine_tick(f.e, t + 10 * MIN + 10000, record, &f);
	assert_int_equal(agw_engine_feedback(f.e, agg, AGW_CASE_ACCEPTED, NULL), 0); /* not yet */
	agw_engine_tick(f.e, t + 10 * MIN + 10002, record, &f);
	assert_int_equal(agw_engine_feedback(f.e, agg, AGW_CASE_ACCEPTED, NULL), -ENOENT);
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_MOTION, AGW_ACTIVE_NONE, AGW_OP_NONE, t + 11 * MIN),
			 AGW_DECISION_OPEN);
	assert_false(f.d.incident->aggregate);
	fx_free(&f);

	fx_init(&f);
	f.r->dedup_window_ms = 0;
	f.rs->flood_cell = (struct agw_flood){2, 10 * MIN};
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_MOTION, AGW_ACTIVE_NONE, AGW_OP_NONE, t), AGW_DECISION_OPEN);
	assert_int_equal(alert(&f, "cam-a2", AGW_KIND_MOTION, AGW_ACTIVE_NONE, AGW_OP_NONE, t + 1), AGW_DECISION_OPEN);
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_TAMPER, AGW_ACTIVE_NONE, AGW_OP_NONE, t + 2), AGW_DECISION_OPEN);
	assert_true(f.d.incident->aggregate);
	assert_string_equal(f.d.incident->key, "flood/cell/110105001001001");
	assert_int_equal(alert(&f, "cam-a2", AGW_KIND_LOITERING, AGW_ACTIVE_NONE, AGW_OP_NONE, t + 3),
			 AGW_DECISION_UPDATE);
	assert_true(f.d.incident->aggregate);
	assert_int_equal(alert(&f, "cam-b", AGW_KIND_MOTION, AGW_ACTIVE_NONE, AGW_OP_NONE, t + 4), AGW_DECISION_OPEN);
	assert_false(f.d.incident->aggregate);
	fx_free(&f);
}

static void test_min_duration(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.r->min_duration_ms = 10000;
	int64_t t = local(0, 10, 0);
	assert_int_equal(on(&f, "cam-a1", t), AGW_DECISION_DROP);
	assert_non_null(strstr(f.d.reason, "pending"));
	assert_int_equal(off(&f, "cam-a1", t + 4000), AGW_DECISION_DROP);
	assert_non_null(strstr(f.d.reason, "shorter than min_duration 10s"));
	assert_int_equal(agw_engine_tick(f.e, t + 60000, record, &f), 0);
	/* held long enough: the tick opens it, first seen at the start */
	assert_int_equal(on(&f, "cam-a1", t + 100000), AGW_DECISION_DROP);
	int64_t seq = f.seq;
	assert_int_equal(agw_engine_tick(f.e, t + 105000, record, &f), 0);
	assert_int_equal(agw_engine_tick(f.e, t + 110000, record, &f), 1);
	assert_int_equal(f.last_emit.action, AGW_DECISION_OPEN);
	assert_int_equal(f.last_emit.alert_seq, seq);
	struct agw_case *c = f.last_emit.incident;
	assert_int_equal(c->first_seen, t + 100000);
	assert_true(c->active);
	assert_int_equal(off(&f, "cam-a1", t + 120000), AGW_DECISION_CLOSE);
	/* or a repeated active edge past the duration opens it without waiting for the tick */
	assert_int_equal(alert(&f, "cam-b", AGW_KIND_TAMPER, AGW_ACTIVE_TRUE, AGW_OP_CHANGED, t), AGW_DECISION_DROP);
	assert_int_equal(alert(&f, "cam-b", AGW_KIND_TAMPER, AGW_ACTIVE_TRUE, AGW_OP_CHANGED, t + 10000),
			 AGW_DECISION_OPEN);
	assert_int_equal(f.d.incident->first_seen, t);
	fx_free(&f);
}

static void test_repeat_and_drop_rules(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	/* rule order: drop motion at gates, repeat 3 in 1 min for loitering, the catch-all */
	struct agw_ruleset *rs;
	struct agw_rule *r;
	assert_int_equal(agw_ruleset_new(&rs), 0);
	assert_int_equal(agw_ruleset_add(rs, "gate-motion", &r), 0);
	r->kinds = 1u << AGW_KIND_MOTION;
	agw_strv_add(&r->tags, "gate");
	r->action = AGW_RULE_DROP;
	agw_rule_set_text(&r->reason, "gates see people all day");
	assert_int_equal(agw_ruleset_add(rs, "loiter", &r), 0);
	r->kinds = 1u << AGW_KIND_LOITERING;
	r->repeat_count = 3;
	r->repeat_window_ms = MIN;
	assert_int_equal(agw_ruleset_add(rs, "district-only", &r), 0);
	agw_strv_add(&r->cells, "110105001001002");
	r->kinds = 1u << AGW_KIND_MOTION;
	r->priority = 1;
	fx_free(&f);
	struct agw_engine_config cfg = {.gateway_id = "gw-test"};
	assert_int_equal(agw_engine_new(&cfg, rs, two_cells(), &f.e), 0);
	agw_engine_camera_set(f.e, "cam-a1", NULL, NULL, "school,gate", NULL, true, 116.2, 39.2, AGW_CRS_WGS84);
	agw_engine_camera_set(f.e, "cam-b", NULL, NULL, NULL, NULL, true, 116.7, 39.2, AGW_CRS_WGS84);
	int64_t t = local(0, 10, 0);
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_MOTION, AGW_ACTIVE_NONE, AGW_OP_NONE, t), AGW_DECISION_DROP);
	assert_string_equal(f.d.rule, "gate-motion");
	assert_string_equal(f.d.reason, "gates see people all day");
	assert_int_equal(alert(&f, "cam-b", AGW_KIND_MOTION, AGW_ACTIVE_NONE, AGW_OP_NONE, t), AGW_DECISION_OPEN);
	assert_string_equal(f.d.rule, "district-only");
	assert_int_equal(f.d.incident->priority, 1);
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_TAMPER, AGW_ACTIVE_NONE, AGW_OP_NONE, t), AGW_DECISION_DROP);
	assert_null(f.d.rule);
	assert_string_equal(f.d.reason, "no rule matched");
	/* repeat: 3 within a minute; the first of a stale series does not count */
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_LOITERING, AGW_ACTIVE_NONE, AGW_OP_NONE, t), AGW_DECISION_DROP);
	assert_string_equal(f.d.reason, "repeat 1/3 within 1m");
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_LOITERING, AGW_ACTIVE_NONE, AGW_OP_NONE, t + 61000),
			 AGW_DECISION_DROP);
	assert_string_equal(f.d.reason, "repeat 1/3 within 1m");
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_LOITERING, AGW_ACTIVE_NONE, AGW_OP_NONE, t + 70000),
			 AGW_DECISION_DROP);
	assert_string_equal(f.d.reason, "repeat 2/3 within 1m");
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_LOITERING, AGW_ACTIVE_NONE, AGW_OP_NONE, t + 80000),
			 AGW_DECISION_OPEN);
	assert_string_equal(f.d.rule, "loiter");
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_LOITERING, AGW_ACTIVE_NONE, AGW_OP_NONE, t + 90000),
			 AGW_DECISION_UPDATE);
	fx_free(&f);
}

static void test_feedback_and_deterministic_ids(void **state)
{
	(void)state;
	struct fx f, g;
	fx_init(&f);
	fx_init(&g);
	int64_t t = local(0, 10, 0);
	assert_int_equal(on(&f, "cam-a1", t), AGW_DECISION_OPEN);
	assert_int_equal(on(&g, "cam-a1", t), AGW_DECISION_OPEN);
	char id[AGW_CASE_ID_SIZE];
	strcpy(id, f.d.incident->id);
	assert_string_equal(id, g.d.incident->id); /* same incident, same id */
	assert_int_equal(strncmp(id, "agw-", 4), 0);
	assert_int_equal(strlen(id), 20);
	char manual[AGW_CASE_ID_SIZE];
	agw_case_id_make("gw-test", "camera/cam-a1/intrusion", t - 1500, manual); /* the camera's time */
	assert_string_equal(manual, id);
	agw_case_id_make("gw-other", "camera/cam-a1/intrusion", t, manual);
	assert_string_not_equal(manual, id);
	struct agw_case *c;
	assert_int_equal(agw_engine_feedback(f.e, id, AGW_CASE_ACCEPTED, &c), 0);
	assert_int_equal(c->status, AGW_CASE_ACCEPTED);
	assert_int_equal(on(&f, "cam-a1", t + 1000), AGW_DECISION_UPDATE);
	assert_int_equal(f.d.incident->status, AGW_CASE_ACCEPTED);
	/* closed by the platform: the dedup window ends, the next alert opens a new case */
	assert_int_equal(agw_engine_feedback(f.e, id, AGW_CASE_CLOSED, NULL), 0);
	assert_int_equal(agw_engine_feedback(f.e, id, AGW_CASE_CLOSED, NULL), -ENOENT);
	assert_int_equal(on(&f, "cam-a1", t + 2000), AGW_DECISION_OPEN);
	assert_string_not_equal(f.d.incident->id, id);
	/* the camera's old active state went with the closed case: its inactive edge closes the new one */
	assert_int_equal(off(&f, "cam-a1", t + 3000), AGW_DECISION_CLOSE);
	fx_free(&f);
	fx_free(&g);
}

static void test_restore(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	int64_t t = local(0, 10, 0);
	struct agw_case_restore r = {
		.id = "agw-0123456789abcdef", .key = "camera/cam-a1/intrusion", .rule = "all", .category = "A01",
		.title = "restored", .camera_id = "cam-a1", .kind = AGW_KIND_INTRUSION, .priority = 2,
		.status = AGW_CASE_DISPATCHED, .active = true, .has_state = true, .first_seen = t - MIN,
		.last_seen = t - 1000, .created_ms = t - MIN, .updated_ms = t - 1000, .count = 4,
		.first_camera_time = AGW_TIME_UNKNOWN, .last_camera_time = AGW_TIME_UNKNOWN,
	};
	assert_int_equal(agw_engine_restore(f.e, &r), 0);
	assert_int_equal(agw_engine_restore(f.e, &r), -EEXIST);
	assert_int_equal(on(&f, "cam-a1", t), AGW_DECISION_UPDATE);
	assert_string_equal(f.d.incident->id, "agw-0123456789abcdef");
	assert_int_equal(f.d.incident->count, 5);
	assert_int_equal(f.d.incident->status, AGW_CASE_DISPATCHED);
	assert_int_equal(off(&f, "cam-a1", t + 1000), AGW_DECISION_CLOSE);
	fx_free(&f);
}

/* Issue 12: a restored active incident's clear timeout counts from its last alert, not from the end
 * of its dedup window (the due time was computed before the incident was marked active). */
static void test_restore_clear_timeout(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.r->clear_timeout_ms = 2 * MIN;
	f.r->dedup_window_ms = 30 * MIN;
	int64_t t = local(0, 10, 0);
	struct agw_case_restore r = {
		.id = "agw-00000000000000aa", .key = "camera/cam-a1/intrusion", .rule = "all", .category = "A01",
		.title = "restored", .camera_id = "cam-a1", .kind = AGW_KIND_INTRUSION, .priority = 2,
		.status = AGW_CASE_OPEN, .active = true, .has_state = true, .first_seen = t - MIN,
		.last_seen = t - 1000, .created_ms = t - MIN, .updated_ms = t - 1000, .count = 2,
		.first_camera_time = AGW_TIME_UNKNOWN, .last_camera_time = AGW_TIME_UNKNOWN,
	};
	assert_int_equal(agw_engine_restore(f.e, &r), 0);
	assert_int_equal(agw_engine_tick(f.e, t + 2 * MIN - 1001, record, &f), 0);
	assert_int_equal(agw_engine_tick(f.e, t + 2 * MIN - 1000, record, &f), 1);
	assert_int_equal(f.last_emit.action, AGW_DECISION_CLOSE);
	assert_string_equal(f.last_emit_case, "agw-00000000000000aa");
	fx_free(&f);
}

/* Issue 11 item 5: an alarm that started while nobody listened (last known inactive, now
 * Initialized active) opens a case marked found on resynchronisation; its inactive edge closes it. */
static void test_resync_opens_missed_alarm(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	int64_t t = local(0, 10, 0);
	assert_int_equal(on(&f, "cam-a1", t), AGW_DECISION_OPEN);
	assert_false(f.d.incident->resync);
	assert_int_equal(off(&f, "cam-a1", t + 1000), AGW_DECISION_CLOSE);
	/* resubscribed an hour later: the state is active */
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED, t + HOUR),
			 AGW_DECISION_OPEN);
	assert_true(f.d.incident->resync);
	assert_non_null(strstr(f.d.reason, "found on resynchronisation"));
	char *json;
	size_t len;
	assert_int_equal(agw_case_message(f.e, f.d.incident, f.d.action, NULL, 0, &json, &len), 0);
	assert_non_null(strstr(json, "\"found_on_resync\":true"));
	free(json);
	/* the same state reported again (another resubscribe): the same alarm going on */
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED, t + HOUR + 1000),
			 AGW_DECISION_DROP);
	/* its end closes it */
	assert_int_equal(off(&f, "cam-a1", t + HOUR + 5000), AGW_DECISION_CLOSE);
	/* found active again within the incident's dedup window: it joins it, and says how */
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED, t + HOUR + 9000),
			 AGW_DECISION_UPDATE);
	assert_true(f.d.incident->resync && f.d.incident->active);
	assert_non_null(strstr(f.d.reason, "found on resynchronisation"));
	/* last known active: an Initialized active state is the same alarm going on */
	assert_int_equal(on(&f, "cam-a2", t + 2 * HOUR), AGW_DECISION_OPEN);
	assert_int_equal(alert(&f, "cam-a2", AGW_KIND_TAMPER, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED, t + 2 * HOUR),
			 AGW_DECISION_DROP); /* tamper never known, camera just heard: unknown, not long enough */
	fx_free(&f);
}

/* Unknown state: a case only when the camera has been heard for resync_unknown_after. */
static void test_resync_unknown_state(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	assert_int_equal(f.rs->resync_unknown_after_ms, 10 * MIN);
	int64_t t = local(0, 10, 0);
	/* first contact: the camera's states on subscription are not cases */
	assert_int_equal(alert(&f, "cam-b", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED, t),
			 AGW_DECISION_DROP);
	assert_int_equal(alert(&f, "cam-b", AGW_KIND_TAMPER, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED, t + 9 * MIN),
			 AGW_DECISION_DROP);
	/* heard for 10 minutes, never told about motion: now active on resubscription */
	assert_int_equal(alert(&f, "cam-b", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED, t + 10 * MIN),
			 AGW_DECISION_OPEN);
	assert_true(f.d.incident->resync);
	assert_non_null(strstr(f.d.reason, "state unknown"));
	/* 0 turns it off */
	f.rs->resync_unknown_after_ms = 0;
	assert_int_equal(alert(&f, "cam-b", AGW_KIND_LOITERING, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED, t + 20 * MIN),
			 AGW_DECISION_DROP);
	fx_free(&f);
}

/* Cluster takeover: a camera taken over from another instance was heard by the cluster, so its
 * Initialized active state is found on resynchronisation at once (a gap's alarm opens its case). */
static void test_resync_cluster_heard(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	int64_t t = local(0, 10, 0);
	assert_int_equal(agw_engine_camera_heard(f.e, "no-such-camera", true), -ENOENT);
	assert_int_equal(alert(&f, "cam-c", AGW_KIND_TAMPER, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED, t),
			 AGW_DECISION_DROP); /* registered by its first alert; heard here just now */
	assert_int_equal(agw_engine_camera_heard(f.e, "cam-c", true), 0);
	assert_int_equal(alert(&f, "cam-c", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED, t + 1000),
			 AGW_DECISION_OPEN);
	assert_true(f.d.incident->resync);
	assert_non_null(strstr(f.d.reason, "state unknown"));
	/* an Initialized inactive state is still no case, and the inactive edge closes the one found */
	assert_int_equal(alert(&f, "cam-c", AGW_KIND_MOTION, AGW_ACTIVE_FALSE, AGW_OP_INITIALIZED, t + 2000),
			 AGW_DECISION_DROP);
	assert_int_equal(alert(&f, "cam-c", AGW_KIND_INTRUSION, AGW_ACTIVE_FALSE, AGW_OP_CHANGED, t + 3000),
			 AGW_DECISION_CLOSE);
	/* given back: heard here for a second only, unknown again */
	assert_int_equal(agw_engine_camera_heard(f.e, "cam-c", false), 0);
	assert_int_equal(alert(&f, "cam-c", AGW_KIND_LOITERING, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED, t + 4000),
			 AGW_DECISION_DROP);
	assert_non_null(strstr(f.d.reason, "initialized"));
	/* 0 still means never, taken over or not */
	assert_int_equal(agw_engine_camera_heard(f.e, "cam-c", true), 0);
	f.rs->resync_unknown_after_ms = 0;
	assert_int_equal(alert(&f, "cam-c", AGW_KIND_LINE_CROSSING, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED, t + 5000),
			 AGW_DECISION_DROP);
	assert_non_null(strstr(f.d.reason, "initialized"));
	fx_free(&f);
}

/* Issue 11 item 6: windows and timeouts run on the monotonic clock; a wall clock step (forward or
 * back) moves none of them. The wall time only stamps the case. */
static enum agw_decision_action alert_at(struct fx *f, const char *cam, enum agw_alert_kind kind, enum agw_active active,
					 int64_t wall, int64_t mono)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = (char *)cam;
	a.kind = kind;
	a.active = active;
	a.operation = AGW_OP_CHANGED;
	a.gateway_time_ms = wall;
	a.camera_time_ms = AGW_TIME_UNKNOWN;
	assert_int_equal(agw_engine_decide_at(f->e, &a, ++f->seq, wall, mono, &f->d), 0);
	return f->d.action;
}

static void test_windows_ignore_wall_clock_steps(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	f.r->dedup_window_ms = 5 * MIN;
	f.r->clear_timeout_ms = 2 * MIN;
	int64_t t = local(0, 10, 0), m = 1000000;
	assert_int_equal(alert_at(&f, "cam-a1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, t, m), AGW_DECISION_OPEN);
	char id[AGW_CASE_ID_SIZE];
	strcpy(id, f.d.incident->id);
	/* the wall clock jumps an hour ahead; one minute passed: the same incident */
	assert_int_equal(alert_at(&f, "cam-a1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, t + HOUR + MIN, m + MIN),
			 AGW_DECISION_UPDATE);
	assert_string_equal(f.d.incident->id, id);
	assert_int_equal(f.d.incident->last_seen, t + HOUR + MIN); /* the message carries the wall time */
	/* 90 s after its last alert: the clear timeout (2 min) has not run out, whatever the wall says */
	assert_int_equal(agw_engine_tick_at(f.e, t + 3 * HOUR, m + MIN + 90000, record, &f), 0);
	assert_int_equal(agw_engine_tick_at(f.e, t - HOUR, m + 3 * MIN, record, &f), 1);
	assert_int_equal(f.last_emit.action, AGW_DECISION_CLOSE);
	assert_int_equal(f.last_emit.incident->cleared_ms, t - HOUR); /* stamped with the wall clock */
	/* the wall clock steps back an hour: the dedup window still ends 5 min after the last alert */
	assert_int_equal(alert_at(&f, "cam-a1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, t - HOUR, m + 5 * MIN),
			 AGW_DECISION_UPDATE);
	assert_int_equal(alert_at(&f, "cam-a1", AGW_KIND_INTRUSION, AGW_ACTIVE_FALSE, t - HOUR, m + 5 * MIN), AGW_DECISION_CLOSE);
	assert_int_equal(alert_at(&f, "cam-a1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, t - HOUR + 10 * MIN, m + 10 * MIN + 1),
			 AGW_DECISION_OPEN);
	assert_int_equal(alert_at(&f, "cam-a1", AGW_KIND_INTRUSION, AGW_ACTIVE_FALSE, t, m + 10 * MIN + 2), AGW_DECISION_CLOSE);
	/* minimum duration across a backward step */
	f.r->min_duration_ms = 10000;
	f.r->kinds = 0;
	assert_int_equal(alert_at(&f, "cam-b", AGW_KIND_TAMPER, AGW_ACTIVE_TRUE, t, m + HOUR), AGW_DECISION_DROP);
	f.emitted = 0;
	assert_int_equal(agw_engine_tick_at(f.e, t - HOUR, m + HOUR + 9999, record, &f), 0);
	assert_int_equal(agw_engine_tick_at(f.e, t - HOUR, m + HOUR + 10000, record, &f), 1);
	assert_int_equal(f.last_emit.action, AGW_DECISION_OPEN);
	assert_int_equal(f.last_emit.incident->first_seen, t); /* the first alert's wall time */
	fx_free(&f);
}

/* ---- transactions: a rollback puts back the very state of begin ---- */

static void test_default_policy(void **state)
{
	(void)state;
	struct agw_ruleset *rs;
	struct agw_engine *e;
	assert_int_equal(agw_ruleset_default(&rs), 0);
	assert_true(rs->is_default);
	assert_int_equal(agw_engine_new(NULL, rs, NULL, &e), 0);
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = (char *)"c1";
	a.kind = AGW_KIND_OTHER;
	a.gateway_time_ms = local(0, 3, 0);
	struct agw_decision d;
	assert_int_equal(agw_engine_decide(e, &a, 1, 0, &d), 0);
	assert_int_equal(d.action, AGW_DECISION_DROP);
	a.kind = AGW_KIND_VIDEO_LOSS;
	assert_int_equal(agw_engine_decide(e, &a, 2, 0, &d), 0);
	assert_int_equal(d.action, AGW_DECISION_OPEN);
	assert_int_equal(d.incident->priority, 3);
	assert_string_equal(d.incident->cam->cell_code, "unassigned");
	agw_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule_across_midnight),
		cmocka_unit_test(test_cells_and_fallbacks),
		cmocka_unit_test(test_start_end_pairing_and_dedup),
		cmocka_unit_test(test_dedup_by_cell),
		cmocka_unit_test(test_clear_timeout),
		cmocka_unit_test(test_initialized_never_opens),
		cmocka_unit_test(test_flood_per_camera_and_cell),
		cmocka_unit_test(test_min_duration),
		cmocka_unit_test(test_repeat_and_drop_rules),
		cmocka_unit_test(test_feedback_and_deterministic_ids),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_restore_clear_timeout),
		cmocka_unit_test(test_resync_opens_missed_alarm),
		cmocka_unit_test(test_resync_unknown_state),
		cmocka_unit_test(test_resync_cluster_heard),
		cmocka_unit_test(test_windows_ignore_wall_clock_steps),
		cmocka_unit_test(test_default_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
