/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The case engine tests' fixture (engine_fx.h). */
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

int64_t local(int day, int h, int m)
{
	return MONDAY_LOCAL_MIDNIGHT + day * 24 * HOUR + h * HOUR + m * MIN;
}


struct agw_grid *two_cells(void)
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
void fx_init(struct fx *f)
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

void fx_free(struct fx *f)
{
	agw_engine_free(f->e);
}

enum agw_decision_action alert(struct fx *f, const char *cam, enum agw_alert_kind kind, enum agw_active active,
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

enum agw_decision_action on(struct fx *f, const char *cam, int64_t t)
{
	return alert(f, cam, AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, AGW_OP_CHANGED, t);
}

enum agw_decision_action off(struct fx *f, const char *cam, int64_t t)
{
	return alert(f, cam, AGW_KIND_INTRUSION, AGW_ACTIVE_FALSE, AGW_OP_CHANGED, t);
}

int record(void *arg, const struct agw_decision *d)
{
	struct fx *f = arg;
	f->emitted++;
	f->last_emit = *d;
	snprintf(f->last_emit_case, sizeof(f->last_emit_case), "%s", d->incident ? d->incident->id : "");
	return 0;
}
