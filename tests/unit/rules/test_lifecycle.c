/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The case lifecycle in the engine: the feedback transitions, supervision timers and escalation up
 * the grid path, ends by clearing and by expiry, correlation of two cameras into one case, and a
 * rollback across all of these that leaves the engine exactly as it was. */
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

#include "alarmgw/evidence.h"
#include "case_engine.h"
#include "case_engine_internal.h" /* white-box: reads the case's lifecycle fields */

#define MIN (60 * 1000LL)
#define T0 1795363200000LL /* 2026-11-22T16:00:00Z */

struct fx {
	struct agw_engine *e;
	struct agw_ruleset *rs;
	struct agw_rule *r;
	int64_t seq;
	struct agw_decision d;
	int emitted;
	struct agw_decision last;
	char last_case[AGW_CASE_ID_SIZE];
	char last_reason[AGW_DECISION_REASON_SIZE];
};

static struct agw_grid *grid(void)
{
	static const double a[] = {116.0, 39.0, 116.5, 39.0, 116.5, 39.5, 116.0, 39.5, 116.0, 39.0};
	struct agw_grid *g;
	const char *path[] = {"110105", "110105001", "110105001001"};
	assert_int_equal(agw_grid_new("cells", AGW_CRS_WGS84, 1, &g), 0);
	struct agw_ring ra = {a, 5};
	assert_int_equal(agw_grid_add_cell(g, "110105001001001", "Grid A", path, 3, NULL, 0, &ra, 1), 0);
	assert_int_equal(agw_grid_build(g, NULL), 0);
	return g;
}

/* P1 rule; supervision P1: accepted within 5 min, resolved within 30 min, 3 levels. cam-onvif and
 * cam-rtsp are one camera over two protocols (group "gate"). */
static void fx_init(struct fx *f, bool any_kind)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(agw_ruleset_new(&f->rs), 0);
	assert_int_equal(agw_ruleset_add(f->rs, "gate", &f->r), 0);
	f->r->priority = 1;
	f->r->dedup_by = AGW_DEDUP_GROUP;
	f->r->dedup_any_kind = any_kind;
	f->rs->flood_camera.max_cases = 0;
	f->rs->flood_cell.max_cases = 0;
	f->rs->supervision.accept_ms[1] = 5 * MIN;
	f->rs->supervision.resolve_ms[1] = 30 * MIN;
	struct agw_camera_group *g;
	assert_int_equal(agw_ruleset_add_group(f->rs, "gate", &g), 0);
	assert_int_equal(agw_strv_add(&g->cameras, "cam-onvif"), 0);
	assert_int_equal(agw_strv_add(&g->cameras, "cam-rtsp"), 0);
	struct agw_engine_config cfg = {.gateway_id = "gw-life"};
	assert_int_equal(agw_engine_new(&cfg, f->rs, grid(), &f->e), 0);
	const char *cams[] = {"cam-onvif", "cam-rtsp", "cam-other"};
	for (int i = 0; i < 3; i++)
		assert_int_equal(agw_engine_camera_set(f->e, cams[i], NULL, NULL, NULL, NULL, true, 116.2, 39.2, AGW_CRS_WGS84),
				 0);
}

static enum agw_decision_action alert(struct fx *f, const char *cam, const char *adapter, enum agw_alert_kind kind,
				      enum agw_active active, int64_t t)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = (char *)cam;
	a.adapter = (char *)adapter;
	a.kind = kind;
	a.active = active;
	a.operation = AGW_OP_CHANGED;
	a.gateway_time_ms = t;
	assert_int_equal(agw_engine_decide(f->e, &a, ++f->seq, t, &f->d), 0);
	return f->d.action;
}

static int record(void *arg, const struct agw_decision *d)
{
	struct fx *f = arg;
	f->emitted++;
	f->last = *d;
	snprintf(f->last_case, sizeof(f->last_case), "%s", d->incident ? d->incident->id : "");
	snprintf(f->last_reason, sizeof(f->last_reason), "%s", d->reason);
	return 0;
}

static int tick(struct fx *f, int64_t t)
{
	f->emitted = 0;
	assert_true(agw_engine_tick(f->e, t, record, f) >= 0);
	return f->emitted;
}

static int feedback(struct fx *f, const char *id, enum agw_case_status s, int64_t t)
{
	char why[160];
	f->emitted = 0;
	return agw_engine_feedback_at(f->e, id, s, t, t, record, f, why, sizeof(why));
}

static json_t *message(struct fx *f, const struct agw_case *c, enum agw_decision_action a)
{
	char *text;
	size_t len;
	struct agw_evidence_entry ev = {.n = 1, .type = "snapshot", .captured_at = T0, .camera_time = T0 - 20,
					.bytes = 48213, .sha256 = "ab12", .width = 1920, .height = 1080,
					.topic = "agw/evidence/x/1", .status = "stored"};
	assert_int_equal(agw_case_message(f->e, c, a, &ev, 1, &text, &len), 0);
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	free(text);
	return j;
}

static void test_transitions(void **state)
{
	(void)state;
	char why[160];
	assert_true(agw_case_transition_ok(AGW_CASE_OPEN, AGW_CASE_DISPATCHED, why, sizeof(why))); /* a skip forward */
	assert_true(agw_case_transition_ok(AGW_CASE_ON_SITE, AGW_CASE_CLOSED, why, sizeof(why)));
	assert_true(agw_case_transition_ok(AGW_CASE_ACCEPTED, AGW_CASE_REJECTED, why, sizeof(why)));
	assert_true(agw_case_transition_ok(AGW_CASE_CLOSED, AGW_CASE_REOPENED, why, sizeof(why)));
	assert_true(agw_case_transition_ok(AGW_CASE_REOPENED, AGW_CASE_ACCEPTED, why, sizeof(why)));
	assert_false(agw_case_transition_ok(AGW_CASE_DISPATCHED, AGW_CASE_ACCEPTED, why, sizeof(why)));
	assert_string_equal(why, "dispatched -> accepted goes back in the handling chain");
	assert_false(agw_case_transition_ok(AGW_CASE_CLOSED, AGW_CASE_ACCEPTED, why, sizeof(why)));
	assert_false(agw_case_transition_ok(AGW_CASE_REJECTED, AGW_CASE_RESOLVED, why, sizeof(why)));
	assert_false(agw_case_transition_ok(AGW_CASE_OPEN, AGW_CASE_REOPENED, why, sizeof(why)));
	assert_false(agw_case_transition_ok(AGW_CASE_RESOLVED, AGW_CASE_REJECTED, why, sizeof(why)));
	assert_false(agw_case_transition_ok(AGW_CASE_ACCEPTED, AGW_CASE_OPEN, why, sizeof(why)));
	for (int s = 0; s < AGW_CASE__STATUS_COUNT; s++) {
		enum agw_case_status back;
		assert_int_equal(agw_case_status_parse(agw_case_status_name((enum agw_case_status)s), &back), 0);
		assert_int_equal(back, s);
	}
}

/* An unaccepted P1 case escalates at 5 min (community), again at 10 (street); accepted, the
 * resolve timer runs from then; resolved, no timer is left. The escalation outlives the case's
 * dedup window: a new alert then opens a new case while the old one stays supervised. */
static void test_supervision_escalates(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, false);
	assert_int_equal(alert(&f, "cam-onvif", "onvif", AGW_KIND_INTRUSION, AGW_ACTIVE_NONE, T0), AGW_DECISION_OPEN);
	struct agw_case *c = f.d.incident;
	char id[AGW_CASE_ID_SIZE];
	snprintf(id, sizeof(id), "%s", c->id);
	assert_int_equal(c->sup_due_ms, T0 + 5 * MIN);
	assert_int_equal(tick(&f, T0 + 5 * MIN - 1), 0);
	assert_int_equal(tick(&f, T0 + 5 * MIN), 1);
	assert_int_equal(f.last.action, AGW_DECISION_ESCALATE);
	assert_string_equal(f.last_case, id);
	assert_string_equal(f.last_reason,
			    "supervision: not accepted within 5m; escalated to level 1 (community 110105001001)");
	json_t *j = message(&f, f.last.incident, AGW_DECISION_ESCALATE);
	assert_int_equal(json_integer_value(json_object_get(j, "escalation_level")), 1);
	json_t *esc = json_object_get(json_object_get(j, "lifecycle"), "escalation");
	assert_string_equal(json_string_value(json_object_get(esc, "target_level")), "community");
	assert_int_equal(json_array_size(json_object_get(j, "evidence")), 1);
	json_decref(j);
	/* past the dedup window (5 min) the case leaves the incident key but keeps its timer */
	assert_int_equal(tick(&f, T0 + 10 * MIN), 1);
	assert_string_equal(f.last_reason,
			    "supervision: not accepted within 5m; escalated to level 2 (street 110105001)");
	assert_int_equal(alert(&f, "cam-onvif", "onvif", AGW_KIND_INTRUSION, AGW_ACTIVE_NONE, T0 + 11 * MIN),
			 AGW_DECISION_OPEN);
	assert_string_not_equal(f.d.incident->id, id);
	assert_int_equal(feedback(&f, id, AGW_CASE_ACCEPTED, T0 + 12 * MIN), 0);
	assert_int_equal(f.emitted, 1);
	assert_int_equal(f.last.action, AGW_DECISION_STATUS);
	c = f.last.incident;
	assert_int_equal(c->sup_due_ms, T0 + 42 * MIN); /* resolution, counted from acceptance */
	/* case 1 not resolved in 30 min: level 3; case 2 not accepted since 11 min: its level 1 */
	assert_int_equal(tick(&f, T0 + 42 * MIN), 2);
	assert_int_equal(feedback(&f, id, AGW_CASE_RESOLVED, T0 + 43 * MIN), 0);
	assert_int_equal(f.emitted, 1);
	/* resolved, past its window, no timer left: the engine lets it go (the store keeps it) */
	assert_int_equal(feedback(&f, id, AGW_CASE_CLOSED, T0 + 44 * MIN), -ENOENT);
	/* the level cap: case 2 escalates 3 times in all (at 16, 47, 52 min) and no more */
	int n = 0;
	for (int64_t m = 43; m <= 200; m++)
		n += tick(&f, T0 + m * MIN);
	assert_int_equal(n, 2);
	agw_engine_free(f.e);
}

/* The same camera over two protocols (two ledger rows in one group): one case, two sources. */
/* Feedback with who and a note: journaled in the STATUS decision's reason, in the case message
 * (lifecycle.last_feedback), replaced by the next feedback, null before any and for a feedback
 * without them. */
static void test_feedback_who_and_note(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, false);
	assert_int_equal(alert(&f, "cam-onvif", "onvif", AGW_KIND_INTRUSION, AGW_ACTIVE_NONE, T0), AGW_DECISION_OPEN);
	char id[AGW_CASE_ID_SIZE], why[160];
	snprintf(id, sizeof(id), "%s", f.d.incident->id);
	json_t *j = message(&f, f.d.incident, AGW_DECISION_OPEN);
	assert_true(json_is_null(json_object_get(json_object_get(j, "lifecycle"), "last_feedback")));
	json_decref(j);
	struct agw_feedback_from from = {.by = "W-0012", .note = "\xe5\xb7\xb2\xe5\x88\xb0\xe5\x9c\xba, gate 3"};
	f.emitted = 0;
	assert_int_equal(agw_engine_feedback_from(f.e, id, AGW_CASE_ON_SITE, &from, T0 + MIN, T0 + MIN, record, &f, why,
						  sizeof(why)),
			 0);
	assert_int_equal(f.emitted, 1);
	assert_string_equal(f.last_reason, "feedback: on_site (was open) by W-0012: \xe5\xb7\xb2\xe5\x88\xb0\xe5\x9c\xba, gate 3");
	j = message(&f, f.last.incident, AGW_DECISION_STATUS);
	json_t *fb = json_object_get(json_object_get(j, "lifecycle"), "last_feedback");
	assert_string_equal(json_string_value(json_object_get(fb, "status")), "on_site");
	assert_string_equal(json_string_value(json_object_get(fb, "by")), "W-0012");
	assert_string_equal(json_string_value(json_object_get(fb, "note")), from.note);
	assert_string_equal(json_string_value(json_object_get(fb, "at")), "2026-11-22T16:01:00.000Z");
	json_decref(j);
	/* the next one without who or note: both null, not the previous ones */
	assert_int_equal(feedback(&f, id, AGW_CASE_RESOLVED, T0 + 2 * MIN), 0);
	assert_string_equal(f.last_reason, "feedback: resolved (was on_site)");
	j = message(&f, f.last.incident, AGW_DECISION_STATUS);
	fb = json_object_get(json_object_get(j, "lifecycle"), "last_feedback");
	assert_string_equal(json_string_value(json_object_get(fb, "status")), "resolved");
	assert_true(json_is_null(json_object_get(fb, "by")));
	assert_true(json_is_null(json_object_get(fb, "note")));
	json_decref(j);
	agw_engine_free(f.e);
}

static void test_two_sources_fold(void **state)
{
	(void)state;
	for (int any = 0; any < 2; any++) {
		struct fx f;
		fx_init(&f, any);
		assert_int_equal(alert(&f, "cam-onvif", "onvif", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, T0), AGW_DECISION_OPEN);
		char id[AGW_CASE_ID_SIZE];
		snprintf(id, sizeof(id), "%s", f.d.incident->id);
		assert_int_equal(alert(&f, "cam-rtsp", "rtsp", any ? AGW_KIND_INTRUSION : AGW_KIND_MOTION, AGW_ACTIVE_TRUE,
				       T0 + 2000),
				 AGW_DECISION_UPDATE);
		assert_string_equal(f.d.incident->id, id);
		assert_int_equal(f.d.incident->n_sources, 2);
		assert_string_equal(f.d.reason, any ? "dedup: same group and any kind within 5m (count 2)"
						     : "dedup: same group and kind within 5m (count 2)");
		/* a camera outside the group stays its own case */
		assert_int_equal(alert(&f, "cam-other", "onvif", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, T0 + 3000),
				 AGW_DECISION_OPEN);
		/* the case clears when both sources ended */
		assert_int_equal(alert(&f, "cam-onvif", "onvif", AGW_KIND_MOTION, AGW_ACTIVE_FALSE, T0 + 4000),
				 AGW_DECISION_UPDATE);
		assert_int_equal(alert(&f, "cam-rtsp", "rtsp", any ? AGW_KIND_INTRUSION : AGW_KIND_MOTION,
				       AGW_ACTIVE_FALSE, T0 + 5000),
				 AGW_DECISION_CLOSE);
		json_t *j = message(&f, f.d.incident, f.d.action);
		json_t *src = json_object_get(j, "sources");
		assert_int_equal(json_array_size(src), 2);
		assert_string_equal(json_string_value(json_object_get(json_array_get(src, 1), "adapter")), "rtsp");
		assert_int_equal(json_integer_value(json_object_get(json_array_get(src, 1), "count")), 2);
		json_decref(j);
		/* a replay gives the same id */
		char manual[AGW_CASE_ID_SIZE];
		agw_case_id_make("gw-life", any ? "group/gate/any" : "group/gate/motion", T0, manual);
		assert_string_equal(manual, id);
		agw_engine_free(f.e);
	}
}

/* end_on_clear: the alarm's end ends the case; expire_after: a case nobody ended ends itself. */
static void test_ends(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, false);
	f.r->end_on_clear = true;
	assert_int_equal(alert(&f, "cam-onvif", "onvif", AGW_KIND_TAMPER, AGW_ACTIVE_TRUE, T0), AGW_DECISION_OPEN);
	char id[AGW_CASE_ID_SIZE];
	snprintf(id, sizeof(id), "%s", f.d.incident->id);
	assert_int_equal(alert(&f, "cam-onvif", "onvif", AGW_KIND_TAMPER, AGW_ACTIVE_FALSE, T0 + 1000), AGW_DECISION_CLOSE);
	assert_int_equal(f.d.incident->status, AGW_CASE_CLOSED);
	assert_int_equal(f.d.incident->end, AGW_END_CLEARED);
	json_t *j = message(&f, f.d.incident, f.d.action);
	json_t *ended = json_object_get(json_object_get(j, "lifecycle"), "ended");
	assert_string_equal(json_string_value(json_object_get(ended, "by")), "alarm_cleared");
	json_decref(j);
	assert_int_equal(tick(&f, T0 + 5 * MIN), 0); /* ended: no escalation */
	assert_int_equal(alert(&f, "cam-onvif", "onvif", AGW_KIND_TAMPER, AGW_ACTIVE_TRUE, T0 + 2000), AGW_DECISION_OPEN);
	assert_string_not_equal(f.d.incident->id, id);
	agw_engine_free(f.e);

	fx_init(&f, false);
	f.r->expire_after_ms = 60 * MIN;
	f.rs->supervision.accept_ms[1] = 0;
	assert_int_equal(alert(&f, "cam-onvif", "onvif", AGW_KIND_TAMPER, AGW_ACTIVE_NONE, T0), AGW_DECISION_OPEN);
	snprintf(id, sizeof(id), "%s", f.d.incident->id);
	assert_int_equal(tick(&f, T0 + 59 * MIN), 0);
	assert_int_equal(tick(&f, T0 + 60 * MIN), 1);
	assert_int_equal(f.last.action, AGW_DECISION_END);
	assert_string_equal(f.last_reason, "expired: not ended within 1h of opening");
	assert_int_equal(feedback(&f, id, AGW_CASE_ACCEPTED, T0 + 61 * MIN), -ENOENT); /* gone */
	agw_engine_free(f.e);
}

/* What a run publishes: every decision's message, in order. */
struct trace {
	struct fx *f;
	char *text;
};

static int trace_emit(void *arg, const struct agw_decision *d)
{
	struct trace *t = arg;
	char *json;
	size_t len;
	assert_int_equal(agw_case_message(t->f->e, d->incident, d->action, NULL, 0, &json, &len), 0);
	size_t old = t->text ? strlen(t->text) : 0;
	t->text = realloc(t->text, old + len + 2);
	memcpy(t->text + old, json, len);
	strcpy(t->text + old + len, "\n");
	free(json);
	return 0;
}

/* The same steps on an engine: escalations, feedback (a final one included), alerts. */
static void steps(struct fx *f, struct trace *t, const char *id, int64_t t0)
{
	char why[160];
	assert_true(agw_engine_tick(f->e, t0 + 5 * MIN, trace_emit, t) >= 0);
	assert_int_equal(agw_engine_feedback_at(f->e, id, AGW_CASE_DISPATCHED, t0 + 6 * MIN, t0 + 6 * MIN, trace_emit, t,
						why, sizeof(why)),
			 0);
	assert_int_equal(alert(f, "cam-rtsp", "rtsp", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, t0 + 7 * MIN), AGW_DECISION_OPEN);
	trace_emit(t, &f->d);
	assert_true(agw_engine_tick(f->e, t0 + 40 * MIN, trace_emit, t) >= 0);
	assert_int_equal(agw_engine_feedback_at(f->e, id, AGW_CASE_CLOSED, t0 + 41 * MIN, t0 + 41 * MIN, trace_emit, t,
						why, sizeof(why)),
			 0);
}

/* A batch rolled back in the middle of a case's lifecycle leaves the engine as it was: the retry
 * publishes exactly what a run without the failure publishes. */
static void test_rollback_is_exact(void **state)
{
	(void)state;
	struct fx a, b;
	struct trace ta = {&a, NULL}, tb = {&b, NULL}, junk = {&a, NULL};
	fx_init(&a, false);
	fx_init(&b, false);
	assert_int_equal(alert(&a, "cam-onvif", "onvif", AGW_KIND_MOTION, AGW_ACTIVE_NONE, T0), AGW_DECISION_OPEN);
	assert_int_equal(alert(&b, "cam-onvif", "onvif", AGW_KIND_MOTION, AGW_ACTIVE_NONE, T0), AGW_DECISION_OPEN);
	char id[AGW_CASE_ID_SIZE];
	snprintf(id, sizeof(id), "%s", a.d.incident->id);
	agw_engine_txn_begin(a.e);
	int64_t seq = a.seq;
	steps(&a, &junk, id, T0);
	assert_non_null(junk.text);
	assert_int_equal(agw_engine_txn_rollback(a.e), 0);
	a.seq = seq;
	agw_engine_txn_begin(a.e);
	steps(&a, &ta, id, T0);
	agw_engine_txn_commit(a.e);
	steps(&b, &tb, id, T0);
	assert_string_equal(ta.text, tb.text);
	assert_non_null(strstr(ta.text, "\"action\":\"escalate\""));
	free(ta.text);
	free(tb.text);
	free(junk.text);
	agw_engine_free(a.e);
	agw_engine_free(b.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_supervision_escalates),
		cmocka_unit_test(test_two_sources_fold),
		cmocka_unit_test(test_feedback_who_and_note),
		cmocka_unit_test(test_ends),
		cmocka_unit_test(test_rollback_is_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
