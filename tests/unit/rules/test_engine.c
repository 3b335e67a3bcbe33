/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The case engine: schedules, lifecycle, dedup, flood, clear timeout, ids, messages vs schema. */
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

#include "case_engine.h"
#include "case_engine_internal.h" /* the transaction test compares the whole state */

#define MIN (60 * 1000LL)
#define HOUR (60 * MIN)
/* 2026-11-23T00:00:00+08:00 is a Monday: 2026-11-22T16:00:00Z */
#define MONDAY_LOCAL_MIDNIGHT 1795363200000LL

static int64_t local(int day, int h, int m)
{
	return MONDAY_LOCAL_MIDNIGHT + day * 24 * HOUR + h * HOUR + m * MIN;
}

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

struct fx {
	struct agw_engine *e;
	struct agw_ruleset *rs;
	struct agw_rule *r;
	int64_t seq;
	struct agw_decision d;
	int emitted;
	struct agw_decision last_emit;
	char last_emit_case[AGW_CASE_ID_SIZE];
};

static struct agw_grid *two_cells(void)
{
	static const double a[] = {116.0, 39.0, 116.5, 39.0, 116.5, 39.5, 116.0, 39.5, 116.0, 39.0};
	static const double b[] = {116.5, 39.0, 117.0, 39.0, 117.0, 39.5, 116.5, 39.5, 116.5, 39.0};
	struct agw_grid *g;
	const char *pa[] = {"110105", "110105001", "110105001001"};
	const char *workers[] = {"w-01", "w-02"};
	assert_int_equal(agw_grid_new("cells", AGW_CRS_WGS84, 7, &g), 0);
	struct agw_ring ra = {a, 5}, rb = {b, 5};
	assert_int_equal(agw_grid_add_cell(g, "110105001001001", "Grid A", pa, 3, workers, 2, &ra, 1), 0);
	assert_int_equal(agw_grid_add_cell(g, "110105001001002", "Grid B", pa, 3, NULL, 0, &rb, 1), 0);
	assert_int_equal(agw_grid_build(g, NULL), 0);
	return g;
}

/* One open rule for every kind; tests tune fx->r before the first alert. */
static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(agw_ruleset_new(&f->rs), 0);
	assert_int_equal(agw_ruleset_add(f->rs, "all", &f->r), 0);
	agw_rule_set_text(&f->r->category, "A01");
	agw_rule_set_text(&f->r->title, "{kind} at {camera_name} in {cell_name} ({district})");
	f->r->priority = 2;
	f->rs->flood_camera.max_cases = 0;
	f->rs->flood_cell.max_cases = 0;
	struct agw_engine_config cfg = {.gateway_id = "gw-test", .unassigned_cell = "UNASSIGNED"};
	assert_int_equal(agw_engine_new(&cfg, f->rs, two_cells(), &f->e), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-a1", "Gate A1", "hik", "school;gate", NULL, true, 116.2, 39.2,
					       AGW_CRS_WGS84), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-a2", "Gate A2", "dahua", "gate", NULL, true, 116.3, 39.3,
					       AGW_CRS_WGS84), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-b", "Road B", NULL, NULL, NULL, true, 116.7, 39.2,
					       AGW_CRS_WGS84), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-owner", NULL, NULL, NULL, "110105001001002", true, 10, 10,
					       AGW_CRS_WGS84), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-lost", NULL, NULL, NULL, NULL, false, 0, 0, AGW_CRS_WGS84), 0);
}

static void fx_free(struct fx *f)
{
	agw_engine_free(f->e);
}

static enum agw_decision_action alert(struct fx *f, const char *cam, enum agw_alert_kind kind, enum agw_active active,
				      enum agw_operation op, int64_t t)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = (char *)cam;
	a.kind = kind;
	a.active = active;
	a.operation = op;
	a.gateway_time_ms = t;
	a.camera_time_ms = t - 1500;
	a.topic = (char *)"tns1:RuleEngine/FieldDetector/ObjectsInside";
	char id[32];
	snprintf(id, sizeof(id), "ev-%lld", (long long)f->seq + 1);
	a.event_id = id;
	assert_int_equal(agw_engine_decide(f->e, &a, ++f->seq, t, &f->d), 0);
	return f->d.action;
}

static enum agw_decision_action on(struct fx *f, const char *cam, int64_t t)
{
	return alert(f, cam, AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, AGW_OP_CHANGED, t);
}

static enum agw_decision_action off(struct fx *f, const char *cam, int64_t t)
{
	return alert(f, cam, AGW_KIND_INTRUSION, AGW_ACTIVE_FALSE, AGW_OP_CHANGED, t);
}

static int record(void *arg, const struct agw_decision *d)
{
	struct fx *f = arg;
	f->emitted++;
	f->last_emit = *d;
	snprintf(f->last_emit_case, sizeof(f->last_emit_case), "%s", d->incident ? d->incident->id : "");
	return 0;
}

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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every piece of the engine's state as sorted text, so two engines (or one engine before and after
 * a rollback) compare with strcmp. */
static char *engine_dump(struct agw_engine *e)
{
	size_t cap = 4096, n = 0;
	char **lines = calloc(cap, sizeof(*lines));
	char *line;
	size_t len;
	FILE *f;
#define LINE(...)                                                                                          \
	do {                                                                                               \
		f = open_memstream(&line, &len);                                                           \
		fprintf(f, __VA_ARGS__);                                                                   \
		fclose(f);                                                                                 \
		assert_true(n < cap);                                                                      \
		lines[n++] = line;                                                                         \
	} while (0)
	for (size_t i = agw_strmap_next(&e->incidents, 0); i < e->incidents.cap; i = agw_strmap_next(&e->incidents, i + 1)) {
		struct agw_case *c = e->incidents.slots[i].value;
		char ev[512] = "";
		for (size_t k = 0; k < c->n_evidence; k++)
			snprintf(ev + strlen(ev), sizeof(ev) - strlen(ev), "%lld/%s,", (long long)c->evidence[k].alert_seq,
				 c->evidence[k].event_id ? c->evidence[k].event_id : "-");
		char **act = calloc(c->n_active_ks + 1, sizeof(*act));
		for (size_t k = 0; k < c->n_active_ks; k++)
			act[k] = c->active_ks[k]->cam->id;
		qsort(act, c->n_active_ks, sizeof(*act), cmp_str);
		char as[512] = "";
		for (size_t k = 0; k < c->n_active_ks; k++)
			snprintf(as + strlen(as), sizeof(as) - strlen(as), "%s,", act[k]);
		free(act);
		LINE("case %s key=%s st=%d act=%d hs=%d fs=%lld ls=%lld fct=%lld lct=%lld cr=%lld up=%lld cl=%lld la=%lld n=%lld "
		     "topic=%s ev=%s next=%zu aks=%s due=%lld heap=%d idx=%d ids=%d sm=%lld am=%lld rs=%d",
		     c->id, c->key, c->status, c->active, c->has_state, (long long)c->first_seen, (long long)c->last_seen,
		     (long long)c->first_camera_time, (long long)c->last_camera_time, (long long)c->created_ms,
		     (long long)c->updated_ms, (long long)c->cleared_ms, (long long)c->last_active_ms, (long long)c->count,
		     c->topic ? c->topic : "-", ev, c->evidence_next, as, c->heap_pos != SIZE_MAX ? (long long)c->due : -1LL,
		     c->heap_pos != SIZE_MAX && c->heap_pos < e->heap_n && e->heap[c->heap_pos] == c, c->in_index,
		     agw_strmap_get(&e->ids, c->id) == c, (long long)c->seen_m, (long long)c->active_m, c->resync);
	}
	size_t pend = 0;
	for (struct agw_kind_state *kind_state = e->pending; kind_state; kind_state = kind_state->pnext)
		pend++;
	LINE("heap_n=%zu pending=%zu", e->heap_n, pend);
	for (size_t i = agw_strmap_next(&e->cams, 0); i < e->cams.cap; i = agw_strmap_next(&e->cams, i + 1)) {
		struct agw_engine_cam *c = e->cams.slots[i].value;
		/* Objects a batch creates empty (unknown cameras, kind states, cell counters) are the same
		 * as none: the retry creates them again. */
		if (c->flood_start || c->flood_count || c->watch_since)
			LINE("cam %s flood=%lld/%lld watch=%lld", c->id, (long long)c->flood_start, (long long)c->flood_count,
			     (long long)c->watch_since);
		for (int k = 0; k < AGW_KIND__COUNT; k++) {
			struct agw_kind_state *kind_state = c->kind_state[k];
			if (!kind_state || (!kind_state->inc && !kind_state->pending && !kind_state->rep_rule && !kind_state->last_state))
				continue;
			char rep[2048] = "";
			for (uint32_t j = 0; kind_state->rep && j < kind_state->rep_n; j++)
				snprintf(rep + strlen(rep), sizeof(rep) - strlen(rep), "%lld,",
					 (long long)kind_state->rep[(kind_state->rep_head + AGW_REPEAT_MAX - 1 - j) % AGW_REPEAT_MAX]);
			LINE("kind_state %s/%d inc=%s pend=%d rule=%s since=%lld/%lld seq=%lld ct=%lld topic=%s ev=%s rep=%s/%s last=%d/%lld",
			     c->id, k, kind_state->inc ? kind_state->inc->id : "-", kind_state->pending,
			     kind_state->pending_rule ? kind_state->pending_rule->name : "-", (long long)kind_state->pending_since,
			     (long long)kind_state->pending_since_m,
			     (long long)kind_state->pending_seq, (long long)kind_state->pending_camera_time,
			     kind_state->pending_topic ? kind_state->pending_topic : "-", kind_state->pending_event_id ? kind_state->pending_event_id : "-",
			     kind_state->rep_rule ? kind_state->rep_rule->name : "-", rep, kind_state->last_state, (long long)kind_state->last_state_ms);
		}
	}
	for (size_t i = agw_strmap_next(&e->floods, 0); i < e->floods.cap; i = agw_strmap_next(&e->floods, i + 1)) {
		struct cell_flood *fl = e->floods.slots[i].value;
		if (fl->start || fl->count)
			LINE("flood %s %lld/%lld", fl->code, (long long)fl->start, (long long)fl->count);
	}
#undef LINE
	qsort(lines, n, sizeof(*lines), cmp_str);
	f = open_memstream(&line, &len);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s\n", lines[i]);
		free(lines[i]);
	}
	fclose(f);
	free(lines);
	return line;
}

struct txn_log {
	char text[1 << 16];
};

static int txn_record(void *arg, const struct agw_decision *d)
{
	struct txn_log *l = arg;
	snprintf(l->text + strlen(l->text), sizeof(l->text) - strlen(l->text), "tick %s %s %lld %s|",
		 agw_decision_action_name(d->action), d->incident ? d->incident->id : "-", d->incident ? (long long)d->incident->count : 0LL,
		 d->reason);
	return 0;
}

/* One batch of pseudo-random alerts (and a tick) on engine e; the decisions go into l. */
static void txn_batch(struct agw_engine *e, unsigned *seed, int64_t *t, int64_t *seq, struct txn_log *l)
{
	static const char *const cams[] = {"cam-a1", "cam-a2", "cam-b", "cam-owner", "cam-lost", "cam-unknown"};
	static const enum agw_alert_kind kinds[] = {AGW_KIND_INTRUSION, AGW_KIND_MOTION, AGW_KIND_TAMPER};
	int n = 1 + rand_r(seed) % 12;
	for (int i = 0; i < n; i++) {
		struct agw_alert a;
		agw_alert_init(&a);
		a.camera_id = (char *)cams[rand_r(seed) % 6];
		a.kind = kinds[rand_r(seed) % 3];
		int r = rand_r(seed) % 10;
		a.active = r < 5 ? AGW_ACTIVE_TRUE : r < 9 ? AGW_ACTIVE_FALSE : AGW_ACTIVE_NONE;
		a.operation = rand_r(seed) % 8 == 0 ? AGW_OP_INITIALIZED : AGW_OP_CHANGED;
		*t += rand_r(seed) % 8000;
		a.gateway_time_ms = *t;
		a.camera_time_ms = *t - 700;
		char ev[32], topic[32];
		snprintf(ev, sizeof(ev), "ev-%lld", (long long)*seq + 1);
		snprintf(topic, sizeof(topic), "topic-%d", rand_r(seed) % 3);
		a.event_id = ev;
		a.topic = topic;
		struct agw_decision d;
		assert_int_equal(agw_engine_decide(e, &a, ++*seq, *t, &d), 0);
		snprintf(l->text + strlen(l->text), sizeof(l->text) - strlen(l->text), "%s %s %lld %s|",
			 agw_decision_action_name(d.action), d.incident ? d.incident->id : "-", d.incident ? (long long)d.incident->count : 0LL,
			 d.reason);
		if (rand_r(seed) % 40 == 0 && d.incident)
			agw_engine_feedback(e, d.incident->id, rand_r(seed) % 2 ? AGW_CASE_CLOSED : AGW_CASE_ACCEPTED, NULL);
	}
	assert_true(agw_engine_tick(e, *t, txn_record, l) >= 0);
}

static void txn_fx(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(agw_ruleset_new(&f->rs), 0);
	struct agw_rule *t;
	assert_int_equal(agw_ruleset_add(f->rs, "tamper", &t), 0);
	t->kinds = 1u << AGW_KIND_TAMPER;
	t->repeat_count = 3;
	t->repeat_window_ms = MIN;
	t->dedup_by = AGW_DEDUP_CELL;
	t->dedup_window_ms = MIN;
	assert_int_equal(agw_ruleset_add(f->rs, "all", &f->r), 0);
	f->r->dedup_window_ms = 2 * MIN;
	f->r->clear_timeout_ms = 90 * 1000;
	f->r->min_duration_ms = 15 * 1000;
	f->rs->flood_camera.max_cases = 2;
	f->rs->flood_camera.window_ms = 5 * MIN;
	f->rs->flood_cell.max_cases = 3;
	f->rs->flood_cell.window_ms = 5 * MIN;
	struct agw_engine_config cfg = {.gateway_id = "gw-test", .unassigned_cell = "UNASSIGNED"};
	assert_int_equal(agw_engine_new(&cfg, f->rs, two_cells(), &f->e), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-a1", "Gate A1", "hik", "school;gate", NULL, true, 116.2, 39.2,
					       AGW_CRS_WGS84), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-a2", "Gate A2", "dahua", "gate", NULL, true, 116.3, 39.3,
					       AGW_CRS_WGS84), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-b", "Road B", NULL, NULL, NULL, true, 116.7, 39.2,
					       AGW_CRS_WGS84), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-owner", NULL, NULL, NULL, "110105001001002", true, 10, 10,
					       AGW_CRS_WGS84), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-lost", NULL, NULL, NULL, NULL, false, 0, 0, AGW_CRS_WGS84), 0);
}

/* Engine A rolls every batch back once, then decides it again and commits; engine B never fails.
 * After every rollback A is byte for byte what it was at begin; after every commit A equals B, and
 * so do their decisions. */
static void test_txn_rollback_restores_everything(void **state)
{
	(void)state;
	struct fx a, b;
	txn_fx(&a);
	txn_fx(&b);
	static struct txn_log la, lb, lr;
	unsigned sa = 7, sb = 7;
	int64_t ta = local(0, 10, 0), tb = ta, qa = 0, qb = 0;
	int seen[9] = {0};
	static const char *const seen_what_all[] = {"open ", "update ", "close ", "tick open", "tick close",
						    "flood:", "repeat ", "pending:", "shorter than min_duration"};
	for (int batch = 0; batch < 400; batch++) {
		char *before = engine_dump(a.e);
		unsigned s0 = sa;
		int64_t t0 = ta, q0 = qa;
		agw_engine_txn_begin(a.e);
		lr.text[0] = '\0';
		txn_batch(a.e, &sa, &ta, &qa, &lr);
		assert_int_equal(agw_engine_txn_rollback(a.e), 0);
		char *after = engine_dump(a.e);
		if (strcmp(before, after) != 0)
			fail_msg("batch %d: rollback left a different state\n--- before\n%s--- after\n%s", batch, before, after);
		free(after);
		free(before);
		sa = s0, ta = t0, qa = q0;
		la.text[0] = lb.text[0] = '\0';
		agw_engine_txn_begin(a.e);
		txn_batch(a.e, &sa, &ta, &qa, &la);
		agw_engine_txn_commit(a.e);
		txn_batch(b.e, &sb, &tb, &qb, &lb);
		assert_string_equal(la.text, lb.text);
		assert_string_equal(lr.text, la.text); /* the failed attempt decided the same too */
		for (size_t k = 0; k < 9; k++)
			seen[k] += strstr(la.text, seen_what_all[k]) != NULL;
		char *da = engine_dump(a.e), *db = engine_dump(b.e);
		assert_string_equal(da, db);
		free(da);
		free(db);
	}
	/* the batches went through every path a rollback must undo */
	for (size_t k = 0; k < 9; k++)
		if (seen[k] == 0)
			fail_msg("no batch went through \"%s\"", seen_what_all[k]);
	fx_free(&a);
	fx_free(&b);
}

/* A small validator for the keywords docs/case-message.schema.json uses: $ref (#/$defs/...), type,
 * const, enum, required, properties, items, minItems, maxItems, minLength, minimum, maximum,
 * pattern (POSIX ERE) and oneOf. Fails the test with the JSON path of the first violation. */
static bool type_is(const char *t, json_t *v)
{
	if (strcmp(t, "string") == 0)
		return json_is_string(v);
	if (strcmp(t, "integer") == 0)
		return json_is_integer(v);
	if (strcmp(t, "number") == 0)
		return json_is_number(v);
	if (strcmp(t, "boolean") == 0)
		return json_is_boolean(v);
	if (strcmp(t, "null") == 0)
		return json_is_null(v);
	if (strcmp(t, "object") == 0)
		return json_is_object(v);
	if (strcmp(t, "array") == 0)
		return json_is_array(v);
	fail_msg("schema uses unknown type %s", t);
	return false;
}

static const char *validate(json_t *schema, json_t *doc, json_t *defs, const char *path, char *why, size_t len)
{
	json_t *ref = json_object_get(schema, "$ref");
	if (json_is_string(ref)) {
		const char *name = strrchr(json_string_value(ref), '/');
		schema = json_object_get(defs, name ? name + 1 : "");
		if (!schema)
			fail_msg("unresolved $ref %s", json_string_value(ref));
	}
	json_t *type = json_object_get(schema, "type");
	if (type) {
		bool ok = false;
		if (json_is_string(type))
			ok = type_is(json_string_value(type), doc);
		size_t i;
		json_t *t;
		json_array_foreach(type, i, t) ok = ok || type_is(json_string_value(t), doc);
		if (!ok) {
			snprintf(why, len, "%s: wrong type", path);
			return why;
		}
	}
	json_t *c = json_object_get(schema, "const");
	if (c && !json_equal(c, doc)) {
		snprintf(why, len, "%s: not the constant", path);
		return why;
	}
	json_t *en = json_object_get(schema, "enum");
	if (en) {
		bool ok = false;
		size_t i;
		json_t *e;
		json_array_foreach(en, i, e) ok = ok || json_equal(e, doc);
		if (!ok) {
			snprintf(why, len, "%s: not one of the enum", path);
			return why;
		}
	}
	json_t *mn = json_object_get(schema, "minimum"), *mx = json_object_get(schema, "maximum");
	if (json_is_number(doc) && ((mn && json_number_value(doc) < json_number_value(mn)) ||
				    (mx && json_number_value(doc) > json_number_value(mx)))) {
		snprintf(why, len, "%s: out of range", path);
		return why;
	}
	json_t *minlen = json_object_get(schema, "minLength"), *pattern = json_object_get(schema, "pattern");
	if (json_is_string(doc) && minlen && (json_int_t)json_string_length(doc) < json_integer_value(minlen)) {
		snprintf(why, len, "%s: too short", path);
		return why;
	}
	if (json_is_string(doc) && pattern) {
		regex_t re;
		assert_int_equal(regcomp(&re, json_string_value(pattern), REG_EXTENDED | REG_NOSUB), 0);
		int m = regexec(&re, json_string_value(doc), 0, NULL, 0);
		regfree(&re);
		if (m != 0) {
			snprintf(why, len, "%s: does not match %s", path, json_string_value(pattern));
			return why;
		}
	}
	json_t *one = json_object_get(schema, "oneOf");
	if (one) {
		int n = 0;
		size_t i;
		json_t *sub;
		char ignored[256];
		json_array_foreach(one, i, sub) n += validate(sub, doc, defs, path, ignored, sizeof(ignored)) == NULL;
		if (n != 1) {
			snprintf(why, len, "%s: matches %d of oneOf", path, n);
			return why;
		}
	}
	if (json_is_object(doc)) {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(schema, "required"), i, v) {
			if (!json_object_get(doc, json_string_value(v))) {
				snprintf(why, len, "%s.%s: required member missing", path, json_string_value(v));
				return why;
			}
		}
		const char *k;
		json_object_foreach(json_object_get(schema, "properties"), k, v) {
			json_t *member = json_object_get(doc, k);
			char sub[256];
			snprintf(sub, sizeof(sub), "%s.%s", path, k);
			if (member && validate(v, member, defs, sub, why, len))
				return why;
		}
	}
	if (json_is_array(doc)) {
		json_t *minit = json_object_get(schema, "minItems"), *maxit = json_object_get(schema, "maxItems");
		if ((minit && (json_int_t)json_array_size(doc) < json_integer_value(minit)) ||
		    (maxit && (json_int_t)json_array_size(doc) > json_integer_value(maxit))) {
			snprintf(why, len, "%s: wrong number of items", path);
			return why;
		}
		json_t *items = json_object_get(schema, "items");
		size_t i;
		json_t *el;
		json_array_foreach(doc, i, el) {
			char sub[256];
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (items && validate(items, el, defs, sub, why, len))
				return why;
		}
	}
	return NULL;
}

static void check_schema(json_t *schema, json_t *doc)
{
	char why[512];
	if (validate(schema, doc, json_object_get(schema, "$defs"), "case", why, sizeof(why)))
		fail_msg("message does not validate: %s", why);
}

static void test_case_message_schema(void **state)
{
	(void)state;
	json_error_t jerr;
	json_t *schema = json_load_file(AGW_FIXTURES "/../../docs/case-message.schema.json", 0, &jerr);
	if (!schema)
		fail_msg("schema: %s", jerr.text);
	assert_string_equal(json_string_value(json_object_get(schema, "$schema")),
			    "https://json-schema.org/draft/2020-12/schema");
	assert_true(json_array_size(json_object_get(schema, "required")) >= 10);
	struct fx f;
	fx_init(&f);
	int64_t t = local(0, 10, 0);
	const char *cams[] = {"cam-a1", "cam-lost"};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(on(&f, cams[i], t), AGW_DECISION_OPEN);
		for (int step = 0; step < 2; step++) {
			char *json;
			size_t len;
			assert_int_equal(agw_case_message(f.e, f.d.incident, f.d.action, NULL, 0, &json, &len), 0);
			assert_int_equal(strlen(json), len);
			json_t *doc = json_loads(json, 0, &jerr);
			if (!doc)
				fail_msg("message is not JSON: %s: %s", jerr.text, json);
			check_schema(schema, doc);
			assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")), 2);
			json_t *ev = json_object_get(doc, "event");
			json_t *cell = json_object_get(doc, "cell");
			if (i == 0) {
				assert_string_equal(json_string_value(json_object_get(cell, "code")), "110105001001001");
				assert_int_equal(json_array_size(json_object_get(cell, "path")), 4);
				assert_int_equal(json_integer_value(json_object_get(cell, "layer_version")), 7);
				assert_int_equal(json_array_size(json_object_get(cell, "workers")), 2);
			} else {
				assert_string_equal(json_string_value(json_object_get(cell, "source")), "unassigned");
				assert_true(json_is_null(json_object_get(json_object_get(doc, "camera"), "location")));
			}
			assert_string_equal(json_string_value(json_object_get(ev, "raw_topic")),
					    "tns1:RuleEngine/FieldDetector/ObjectsInside");
			assert_int_equal(json_integer_value(json_object_get(ev, "count")), step + 1);
			assert_string_equal(json_string_value(json_object_get(doc, "action")), step ? "close" : "open");
			assert_true(json_is_boolean(json_object_get(ev, "active")));
			assert_true(step ? json_is_string(json_object_get(ev, "cleared"))
					 : json_is_null(json_object_get(ev, "cleared")));
			free(json);
			json_decref(doc);
			if (step == 0)
				assert_int_equal(off(&f, cams[i], t + 1000), AGW_DECISION_CLOSE);
		}
	}
	/* escaping: a camera name with quotes and control characters stays valid JSON */
	agw_engine_camera_set(f.e, "cam-q", "Gate \"North\"\n\\", NULL, NULL, NULL, false, 0, 0, AGW_CRS_WGS84);
	assert_int_equal(on(&f, "cam-q", t), AGW_DECISION_OPEN);
	char *json;
	size_t len;
	assert_int_equal(agw_case_message(f.e, f.d.incident, f.d.action, NULL, 0, &json, &len), 0);
	json_t *doc = json_loads(json, 0, &jerr);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "camera"), "name")),
			    "Gate \"North\"\n\\");
	json_decref(doc);
	free(json);
	/* invalid UTF-8 from a camera becomes U+FFFD; valid multi-byte text passes */
	agw_engine_camera_set(f.e, "cam-u", "\xe5\x8d\x97\xe9\x97\xa8 \xff\xc3(\xed\xa0\x80", NULL, NULL, NULL, false, 0, 0,
			      AGW_CRS_WGS84);
	assert_int_equal(on(&f, "cam-u", t), AGW_DECISION_OPEN);
	assert_int_equal(agw_case_message(f.e, f.d.incident, f.d.action, NULL, 0, &json, &len), 0);
	doc = json_loads(json, 0, &jerr);
	if (!doc)
		fail_msg("invalid UTF-8 made invalid JSON: %s", jerr.text);
	check_schema(schema, doc);
	{
		/* the validator itself must reject what the schema forbids */
		char why[512];
		json_t *defs = json_object_get(schema, "$defs"), *bad = json_deep_copy(doc);
		json_object_set_new(bad, "priority", json_integer(7));
		assert_non_null(validate(schema, bad, defs, "case", why, sizeof(why)));
		json_object_set_new(bad, "priority", json_integer(2));
		assert_null(validate(schema, bad, defs, "case", why, sizeof(why)));
		json_object_set_new(bad, "case_id", json_string("case-1"));
		assert_non_null(validate(schema, bad, defs, "case", why, sizeof(why)));
		json_object_set_new(bad, "case_id", json_string("agw-0123456789abcdef"));
		json_object_del(json_object_get(bad, "event"), "count");
		assert_non_null(validate(schema, bad, defs, "case", why, sizeof(why)));
		json_decref(bad);
	}
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "camera"), "name")),
			    "\xe5\x8d\x97\xe9\x97\xa8 \xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	json_decref(doc);
	free(json);
	fx_free(&f);
	json_decref(schema);
}

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
		cmocka_unit_test(test_windows_ignore_wall_clock_steps),
		cmocka_unit_test(test_txn_rollback_restores_everything),
		cmocka_unit_test(test_case_message_schema),
		cmocka_unit_test(test_default_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
