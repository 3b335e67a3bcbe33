/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The gateway glue of the rules: rules file errors with lines, topic templates, GeoJSON import
 * (atomic, versioned, errors naming the feature) and the decider against a real store. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alarmgw/metrics.h"
#include "decider.h"
#include "grid_import.h"
#include "retention.h"
#include "rules_file.h"
#include "topic.h"

#define FIX AGW_FIXTURES

/* The decider measures windows on the monotonic clock and keeps wall-clock times in the store:
 * tests that restart a decider give it the real monotonic reading of their wall times. */
static int64_t mono_of(int64_t wall)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return wall - (agw_now_ms() - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
}
#define MINUTE (60 * 1000LL)
#define S(x) ((char *)(x)) /* ledger fields are char * */
/* 2026-11-23T00:00:00+08:00, a Monday */
#define MONDAY_LOCAL_MIDNIGHT 1795363200000LL

static bool has_error(const struct agw_errors *errs, int line, const char *text)
{
	char want[64];
	snprintf(want, sizeof(want), ":%d: ", line);
	for (size_t i = 0; i < errs->n; i++)
		if (strstr(errs->v[i], want) && strstr(errs->v[i], text))
			return true;
	return false;
}

static void test_rules_file(void **state)
{
	(void)state;
	struct agw_errors errs = {0};
	struct agw_ruleset *rs = NULL;
	assert_int_equal(agw_rules_file_load(FIX "/rules/rules.conf", &rs, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(rs->n, 5);
	assert_int_equal(rs->tz_offset_min, 480);
	const struct agw_rule *r = agw_ruleset_find(rs, "night-intrusion");
	assert_non_null(r);
	assert_int_equal(r->priority, 1);
	assert_int_equal(r->days, AGW_DAYS_ALL);
	assert_int_equal(r->n_windows, 1);
	assert_int_equal(r->windows[0].start_min, 22 * 60);
	assert_int_equal(r->line, 12);
	r = agw_ruleset_find(rs, "tamper");
	assert_int_equal(r->min_duration_ms, 10000);
	assert_int_equal(r->dedup_by, AGW_DEDUP_CELL);
	assert_int_equal(r->dedup_window_ms, 5 * MINUTE); /* from defaults */
	r = agw_ruleset_find(rs, "loitering-chaoyang");
	assert_int_equal(r->repeat_count, 3);
	assert_int_equal(r->repeat_window_ms, MINUTE);
	assert_int_equal(agw_ruleset_find(rs, "day-intrusion")->clear_timeout_ms, 2 * MINUTE);
	assert_int_equal(agw_ruleset_find(rs, "ignore-gate-motion")->action, AGW_RULE_DROP);
	agw_ruleset_free(rs);

	rs = NULL;
	assert_int_equal(agw_rules_file_load(FIX "/rules/rules_bad.conf", &rs, &errs), -EINVAL);
	assert_null(rs);
	for (size_t i = 0; i < errs.n; i++)
		printf("# %s\n", errs.v[i]);
	assert_true(has_error(&errs, 2, "timezone"));
	assert_true(has_error(&errs, 4, "teleport"));
	assert_true(has_error(&errs, 5, "priority"));
	assert_true(has_error(&errs, 6, "needs a \"reason\""));
	assert_true(has_error(&errs, 7, "25:00-06:00"));
	assert_true(has_error(&errs, 8, "colour"));
	assert_true(has_error(&errs, 9, "earlier rule"));
	assert_true(has_error(&errs, 10, "escalate"));
	assert_true(has_error(&errs, 10, "dedup_window"));
	assert_int_equal(errs.n, 9);
	agw_errors_clear(&errs);

	assert_int_equal(agw_rules_file_load(FIX "/rules/does-not-exist.conf", &rs, &errs), -ENOENT);
	assert_int_equal(errs.n, 1);
	agw_errors_clear(&errs);
}

/* Feedback as the daemon applies it: in a store transaction, the engine following its outcome. */
static int feedback(struct agw_decider *d, struct agw_store *store, const char *id, const char *status)
{
	char why[160];
	assert_int_equal(agw_store_begin(store), 0);
	int r = agw_decider_case_feedback(d, store, id, status, NULL, why, sizeof(why));
	assert_int_equal(agw_store_commit(store), 0);
	agw_decider_feedback_done(d, true);
	return r;
}

/* groups, supervision and the correlation keys of a rule; every mistake in them named with its line */
static void test_rules_file_lifecycle(void **state)
{
	(void)state;
	struct agw_errors errs = {0};
	struct agw_ruleset *rs = NULL;
	assert_int_equal(agw_rules_file_load(FIX "/rules/rules_life.conf", &rs, &errs), 0);
	assert_string_equal(agw_ruleset_group_of(rs, "cam-1-rtsp"), "gate");
	assert_string_equal(agw_ruleset_group_of(rs, "cam-3"), "yard");
	assert_null(agw_ruleset_group_of(rs, "cam-2"));
	assert_int_equal(rs->supervision.accept_ms[1], 5 * MINUTE);
	assert_int_equal(rs->supervision.accept_ms[3], 120 * MINUTE);
	assert_int_equal(rs->supervision.resolve_ms[1], 60 * MINUTE);
	assert_int_equal(rs->supervision.resolve_ms[2], 0);
	assert_int_equal(rs->supervision.max_level, 2);
	assert_string_equal(rs->supervision.topic, "{prefix}/escalations/{level}/{code}");
	const struct agw_rule *r = agw_ruleset_find(rs, "gate");
	assert_int_equal(r->dedup_by, AGW_DEDUP_GROUP);
	assert_true(r->dedup_any_kind && r->end_on_clear);
	assert_int_equal(r->expire_after_ms, 24 * 60 * MINUTE);
	agw_ruleset_free(rs);
	rs = NULL;
	assert_int_equal(agw_rules_file_load(FIX "/rules/rules_life_bad.conf", &rs, &errs), -EINVAL);
	for (size_t i = 0; i < errs.n; i++)
		printf("# %s\n", errs.v[i]);
	assert_true(has_error(&errs, 2, "already in group gate"));
	assert_true(has_error(&errs, 3, "p5"));
	assert_true(has_error(&errs, 3, "levels"));
	assert_true(has_error(&errs, 3, "when"));
	assert_true(has_error(&errs, 5, "spot"));
	assert_true(has_error(&errs, 5, "some"));
	assert_true(has_error(&errs, 5, "end_on_clear"));
	assert_int_equal(errs.n, 7);
	agw_errors_clear(&errs);
}

static void test_topic(void **state)
{
	(void)state;
	struct agw_topic_vars v = {"agw", "gw-1", "110105", "110105001", "110105001001", "110105001001001", "intrusion",
				   "cam/1+#", "case-1", "2", NULL, NULL};
	char buf[256];
	assert_int_equal(agw_topic_expand("{prefix}/{gateway}/cases/{district}/{grid}", &v, buf, sizeof(buf)),
			 (int)strlen("agw/gw-1/cases/110105/110105001001001"));
	assert_string_equal(buf, "agw/gw-1/cases/110105/110105001001001");
	assert_true(agw_topic_expand("{prefix}/{camera}/{kind}", &v, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "agw/cam_1__/intrusion"); /* a value stays one level, no wildcards */
	assert_true(agw_topic_expand("{prefix}/evidence/{case}/{n}", &v, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "agw/evidence/case-1/2");
	assert_true(agw_topic_expand("{prefix}/{street}/{community}", &v, buf, sizeof(buf)) > 0);
	assert_int_equal(agw_topic_expand("agw/+/cases", &v, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(agw_topic_expand("agw/cases/#", &v, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(agw_topic_expand("agw//cases", &v, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(agw_topic_expand("/agw/cases", &v, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(agw_topic_expand("agw/cases/", &v, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(agw_topic_expand("{prefix}/{nope}", &v, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(agw_topic_expand("{prefix}/{grid", &v, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(agw_topic_expand("", &v, buf, sizeof(buf)), -EINVAL);
	v.district = "";
	assert_int_equal(agw_topic_expand("{prefix}/{district}/x", &v, buf, sizeof(buf)), -EINVAL);
	v.district = NULL;
	assert_int_equal(agw_topic_expand("{prefix}/{district}/x", &v, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(agw_topic_expand("{prefix}/{grid}", &v, buf, 10), -ENAMETOOLONG);
}

struct env {
	char dir[64];
	struct agw_config cfg;
	struct agw_store *store;
};

static void env_open(struct env *e, const char *rules_file)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/agw-rules-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	agw_config_defaults(&e->cfg);
	free(e->cfg.state_dir);
	e->cfg.state_dir = strdup(e->dir);
	free(e->cfg.gateway_id);
	e->cfg.gateway_id = strdup("gw-test");
	free(e->cfg.grid_layer);
	e->cfg.grid_layer = strdup("cells");
	free(e->cfg.mqtt.case_topic);
	e->cfg.mqtt.case_topic = strdup("{prefix}/{gateway}/cases/{district}/{grid}");
	if (rules_file)
		e->cfg.rules_file = strdup(rules_file);
	char *path = agw_config_db_path(&e->cfg), err[256];
	assert_int_equal(agw_store_open(path, &e->store, err, sizeof(err)), 0);
	free(path);
}

static void env_reopen(struct env *e)
{
	agw_store_close(e->store);
	char *path = agw_config_db_path(&e->cfg), err[256];
	assert_int_equal(agw_store_open(path, &e->store, err, sizeof(err)), 0);
	free(path);
}

static void env_close(struct env *e)
{
	agw_store_close(e->store);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
	agw_config_free(&e->cfg);
}

static int64_t count(struct agw_store *s, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(agw_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_grid_import(void **state)
{
	(void)state;
	struct env e;
	env_open(&e, NULL);
	struct agw_grid_import_result res;
	char err[512];
	assert_int_equal(agw_grid_import_file(e.store, "cells", NULL, FIX "/grid/cells.geojson", &res, err, sizeof(err)), 0);
	assert_int_equal(res.version, 1);
	assert_int_equal(res.cells, 4);
	assert_int_equal(agw_grid_import_file(e.store, "cells", "gcj02", FIX "/grid/cells.geojson", &res, err, sizeof(err)), 0);
	assert_int_equal(res.version, 2);
	/* bad files: the error names the feature; the layer stays as it was */
	assert_int_equal(agw_grid_import_file(e.store, "cells", NULL, FIX "/grid/bad_unclosed.geojson", &res, err,
					      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "feature 1"));
	assert_non_null(strstr(err, "not closed"));
	assert_int_equal(agw_grid_import_file(e.store, "cells", NULL, FIX "/grid/bad_nocode.geojson", &res, err,
					      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "feature 2"));
	assert_non_null(strstr(err, "code"));
	assert_int_equal(agw_grid_import_file(e.store, "cells", NULL, FIX "/grid/bad_hole.geojson", &res, err,
					      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "feature 0"));
	assert_int_equal(agw_grid_import_file(e.store, "cells", "bd09", FIX "/grid/cells.geojson", &res, err,
					      sizeof(err)), -EINVAL);
	assert_int_equal(count(e.store, "SELECT count(*) FROM grid_cells WHERE layer = 'cells'"), 4);
	assert_int_equal(count(e.store, "SELECT version FROM grid_layers WHERE name = 'cells'"), 2);

	struct agw_grid *g;
	assert_int_equal(agw_grid_load(e.store, "cells", &g, err, sizeof(err)), 0);
	assert_int_equal(agw_grid_version(g), 2);
	assert_int_equal(agw_grid_crs(g), AGW_CRS_GCJ02);
	assert_int_equal(agw_grid_count(g), 4);
	const struct agw_cell *c = agw_grid_locate(g, 116.41, 39.91);
	assert_non_null(c);
	assert_string_equal(c->code, "110105001001001");
	assert_int_equal(c->n_workers, 2);
	assert_int_equal(c->n_path, 4);
	assert_string_equal(agw_grid_locate(g, 116.425, 39.925)->code, "110105001001003"); /* in the hole */
	assert_string_equal(agw_grid_locate(g, 116.45, 39.92)->code, "110105001001002");   /* shared edge: east */
	assert_string_equal(agw_grid_locate(g, 116.52, 39.92)->code, "110105002001001");   /* second part */
	assert_string_equal(agw_grid_locate(g, 116.42, 39.95)->code, "110105002001001");   /* edge: north */
	assert_null(agw_grid_locate(g, 116.6, 39.92));
	assert_string_equal(agw_grid_find(g, "110105001001002")->path[1], "110105001"); /* per-level properties */
	agw_grid_free(g);
	assert_int_equal(agw_grid_load(e.store, "nope", &g, err, sizeof(err)), -ENOENT);

	/* the collection's own "crs" member declares the system when --crs is not given */
	char path[128];
	snprintf(path, sizeof(path), "%s/crs.geojson", e.dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
	      "\"urn:ogc:def:crs:EPSG::4490\"}},\"features\":[{\"type\":\"Feature\",\"properties\":{\"code\":110105},"
	      "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[116,39],[117,39],[117,40],[116,40],[116,39]]]}}]}",
	      f);
	fclose(f);
	assert_int_equal(agw_grid_import_file(e.store, "c2000", NULL, path, &res, err, sizeof(err)), 0);
	assert_int_equal(agw_grid_load(e.store, "c2000", &g, err, sizeof(err)), 0);
	assert_int_equal(agw_grid_crs(g), AGW_CRS_CGCS2000);
	assert_string_equal(agw_grid_locate(g, 116.5, 39.5)->code, "110105"); /* a numeric code as digits */
	agw_grid_free(g);

	/* from text, without the store: errors name the feature */
	static const char two[] =
		"{\"type\":\"FeatureCollection\",\"features\":["
		"{\"type\":\"Feature\",\"properties\":{\"code\":\"A\"},\"geometry\":{\"type\":\"Polygon\","
		"\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},"
		"{\"type\":\"Feature\",\"properties\":{\"code\":\"A\"},\"geometry\":{\"type\":\"Polygon\","
		"\"coordinates\":[[[1,0],[2,0],[2,1],[1,1],[1,0]]]}},"
		"{\"type\":\"Feature\",\"properties\":{\"code\":\"B\"},\"geometry\":{\"type\":\"Point\","
		"\"coordinates\":[0,0]}}]}";
	assert_int_equal(agw_grid_from_geojson(two, sizeof(two) - 1, "t", AGW_CRS_WGS84, 1, &g, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "feature 2"));
	assert_non_null(strstr(err, "Point"));
	/* without the Point: the duplicate code is named */
	char *cut = strdup(two);
	strcpy(strstr(cut, ",{\"type\":\"Feature\",\"properties\":{\"code\":\"B\""), "]}");
	assert_int_equal(agw_grid_from_geojson(cut, strlen(cut), "t", AGW_CRS_WGS84, 1, &g, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "feature 1: code A is already used by feature 0"));
	free(cut);
	env_close(&e);
}

static void add_cameras(struct env *e)
{
	struct agw_camera cams[] = {
		{.id = S("cam-1"), .name = S("Gate 1"), .vendor = S("hik"), .protocol = S("onvif"), .address = S("10.0.0.1"),
		 .lon = 116.41, .lat = 39.91, .crs = S("wgs84"), .tags = S("gate;school")},
		{.id = S("cam-2"), .name = S("Road 2"), .vendor = S("dahua"), .protocol = S("onvif"), .address = S("10.0.0.2"),
		 .lon = 116.46, .lat = 39.91, .crs = S("wgs84"), .tags = S("")},
		{.id = S("cam-3"), .name = S("Yard 3"), .vendor = S("uniview"), .protocol = S("rtsp"), .address = S("rtsp://10.0.0.3/"),
		 .lon = 116.47, .lat = 39.92, .crs = S("wgs84")},
		{.id = S("cam-out"), .name = S("Far away"), .protocol = S("onvif"), .address = S("10.0.0.9"), .lon = NAN, .lat = NAN,
		 .owner_cell = S("110105002001001")},
	};
	assert_int_equal(agw_store_begin(e->store), 0);
	assert_int_equal(agw_store_cameras_replace(e->store, cams, 4), 0);
	assert_int_equal(agw_store_commit(e->store), 0);
}

static int decide(struct agw_decider *d, struct agw_store *s, const char *cam, enum agw_alert_kind kind,
		  enum agw_active active, int64_t t)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = (char *)cam;
	a.kind = kind;
	a.active = active;
	a.operation = AGW_OP_CHANGED;
	a.gateway_time_ms = t;
	a.topic = (char *)"tns1:RuleEngine/FieldDetector/ObjectsInside";
	int64_t seq;
	assert_int_equal(agw_store_journal_alert(s, &a, &seq), 0);
	return agw_decider_decide(d, s, seq, &a, mono_of(t));
}

/* The lifecycle through the decider on the open case id (cam-3's): each move journaled and
 * published, a duplicate ignored, a move back refused, a closed case reopened from the store. */
static void check_feedback(struct agw_decider *d, struct agw_store *store, const char *id)
{
	int64_t out0 = count(store, "SELECT count(*) FROM outbox");
	assert_int_equal(feedback(d, store, id, "dispatched"), 0);
	/* journaled, and published to every subscriber as a case message */
	assert_int_equal(count(store, "SELECT count(*) FROM decisions WHERE action = 'status' AND reason ="
					" 'feedback: dispatched (was open)'"),
			 1);
	assert_int_equal(count(store, "SELECT count(*) FROM outbox") - out0, 1);
	assert_int_equal(count(store, "SELECT count(*) FROM outbox WHERE json_extract(payload, '$.action') = 'status'"
					" AND json_extract(payload, '$.status') = 'dispatched'"),
			 1);
	assert_int_equal(feedback(d, store, id, "dispatched"), 0); /* delivered twice: nothing new */
	assert_int_equal(count(store, "SELECT count(*) FROM outbox") - out0, 1);
	assert_int_equal(feedback(d, store, id, "accepted"), -EPERM); /* back in the chain: refused, journaled */
	assert_int_equal(count(store, "SELECT count(*) FROM decisions WHERE action = 'refused'"), 1);
	assert_int_equal(count(store, "SELECT count(*) FROM cases WHERE status = 'dispatched'"), 1);
	assert_int_equal(feedback(d, store, id, "bogus"), -EINVAL);
	assert_int_equal(feedback(d, store, "agw-nope", "closed"), -ENOENT);
	assert_int_equal(feedback(d, store, id, "closed"), 0);
	assert_int_equal(count(store, "SELECT count(*) FROM cases WHERE status = 'closed' AND closed_at IS NOT NULL"), 1);
	/* a closed case left the engine; reopened reads it back from the store, closed again ends it */
	assert_int_equal(feedback(d, store, id, "reopened"), 0);
	assert_int_equal(count(store, "SELECT count(*) FROM cases WHERE status = 'reopened' AND closed_at IS NULL"), 1);
	assert_int_equal(feedback(d, store, id, "closed"), 0);
}

/* The decider over the fixture's grid ("cells") and add_cameras' ledger. */
static struct agw_decider *gridded_decider(struct env *e)
{
	char err[512];
	struct agw_grid_import_result res;
	assert_int_equal(agw_grid_import_file(e->store, "cells", NULL, FIX "/grid/cells.geojson", &res, err, sizeof(err)), 0);
	add_cameras(e);
	struct agw_errors errs = {0};
	struct agw_decider *d;
	assert_int_equal(agw_decider_new(&e->cfg, e->store, &d, &errs), 0);
	assert_int_equal(errs.n, 0);
	return d;
}

/* A position an adapter reports for a ledger camera without one (a GB/T 28181 catalog's) locates
 * it in the grid like a ledger position; off-earth positions are refused. */
static void test_decider_locate(void **state)
{
	(void)state;
	struct env e;
	env_open(&e, NULL);
	struct agw_decider *d = gridded_decider(&e);
	struct agw_camera_view gate, out;
	assert_int_equal(agw_engine_camera_view(agw_decider_engine(d), "cam-1", &gate), 0);
	assert_int_equal(agw_engine_camera_view(agw_decider_engine(d), "cam-out", &out), 0);
	assert_int_equal(out.cell_source, AGW_CELL_OWNER);
	struct agw_camera cam_out = {.id = S("cam-out"), .name = S("Far away"), .lon = NAN, .lat = NAN,
				     .owner_cell = S("110105002001001")};
	assert_int_equal(agw_decider_locate(d, &cam_out, 200, 39.91, AGW_CRS_WGS84), -EINVAL);
	assert_int_equal(agw_decider_locate(d, &cam_out, 116.41, 39.91, AGW_CRS_WGS84), 0);
	assert_int_equal(agw_engine_camera_view(agw_decider_engine(d), "cam-out", &out), 0);
	assert_int_equal(out.cell_source, AGW_CELL_LOCATED);
	assert_string_equal(out.cell_code, gate.cell_code); /* where cam-1 stands */
	assert_string_equal(out.name, "Far away");
	agw_decider_free(d);
	env_close(&e);
}

static void test_decider_store(void **state)
{
	(void)state;
	struct env e;
	env_open(&e, FIX "/rules/rules.conf");
	struct agw_decider *d = gridded_decider(&e);
	int64_t day = MONDAY_LOCAL_MIDNIGHT + 10 * 60 * MINUTE; /* 10:00 local */
	assert_int_equal(agw_store_begin(e.store), 0);
	assert_int_equal(decide(d, e.store, "cam-1", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, day), 0);        /* drop: gate */
	assert_int_equal(decide(d, e.store, "cam-2", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, day), 0);     /* open */
	assert_int_equal(decide(d, e.store, "cam-2", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, day + 1000), 0); /* update */
	assert_int_equal(decide(d, e.store, "cam-out", AGW_KIND_INTRUSION, AGW_ACTIVE_NONE, day), 0);   /* owner cell */
	assert_int_equal(agw_store_commit(e.store), 0);
	assert_int_equal(count(e.store, "SELECT count(*) FROM decisions"), 4);
	assert_int_equal(count(e.store, "SELECT count(*) FROM decisions WHERE action = 'drop' AND rule = "
					"'ignore-gate-motion' AND reason = 'gate cameras see people all day'"), 1);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases"), 2);
	assert_int_equal(count(e.store, "SELECT count FROM cases WHERE camera_id = 'cam-2'"), 2);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE camera_id = 'cam-out' AND "
					"cell_code = '110105002001001'"), 1);
	assert_int_equal(count(e.store, "SELECT count(*) FROM outbox"), 3);
	assert_int_equal(count(e.store, "SELECT count(*) FROM outbox WHERE topic = "
					"'agw/gw-test/cases/110105/110105001001002'"), 2);
	/* the decision row names the case the outbox rows carry */
	assert_int_equal(count(e.store, "SELECT count(*) FROM decisions d JOIN outbox o ON o.case_id = d.case_id"
					" WHERE d.action = 'update'"), 2);

	/* clear timeout through the tick (day-intrusion: 2 minutes) */
	assert_int_equal(agw_store_begin(e.store), 0);
	assert_int_equal(agw_decider_tick(d, e.store, day + 3 * MINUTE, mono_of(day + 3 * MINUTE)), 0);
	assert_int_equal(agw_store_commit(e.store), 0);
	assert_int_equal(count(e.store, "SELECT count(*) FROM decisions WHERE action = 'close' AND reason LIKE "
					"'clear timeout%' AND alert_seq IS NULL"), 1);
	assert_int_equal(count(e.store, "SELECT count(*) FROM outbox"), 4);

	/* A restart keeps dedup. Restoring looks at cases seen recently by the wall clock, so the
	 * fixed-date cases above go, and the rest of the test runs at the real time. */
	agw_decider_free(d);
	assert_int_equal(sqlite3_exec(agw_store_db(e.store), "DELETE FROM cases", NULL, NULL, NULL), SQLITE_OK);
	int64_t now = agw_now_ms();
	struct agw_errors errs = {0};
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	assert_int_equal(agw_store_begin(e.store), 0);
	assert_int_equal(decide(d, e.store, "cam-3", AGW_KIND_TAMPER, AGW_ACTIVE_NONE, now), 0);
	assert_int_equal(agw_store_commit(e.store), 0);
	agw_decider_free(d);
	env_reopen(&e);
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	assert_int_equal(agw_engine_open_incidents(agw_decider_engine(d)), 1);
	assert_int_equal(agw_store_begin(e.store), 0);
	assert_int_equal(decide(d, e.store, "cam-2", AGW_KIND_TAMPER, AGW_ACTIVE_NONE, now + 1000), 0); /* same cell */
	assert_int_equal(agw_store_commit(e.store), 0);
	assert_int_equal(count(e.store, "SELECT count FROM cases WHERE camera_id = 'cam-3' AND kind = 'tamper'"), 2);

	/* platform feedback: closed ends the window */
	char id[64];
	sqlite3_stmt *st;
	sqlite3_prepare_v2(agw_store_db(e.store), "SELECT id FROM cases WHERE camera_id = 'cam-3'", -1, &st, NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(id, sizeof(id), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	check_feedback(d, e.store, id);
	assert_int_equal(agw_store_begin(e.store), 0);
	assert_int_equal(decide(d, e.store, "cam-3", AGW_KIND_TAMPER, AGW_ACTIVE_NONE, now + 2000), 0);
	assert_int_equal(agw_store_commit(e.store), 0);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE camera_id = 'cam-3'"), 2);

	/* a full outbox: counted, the decision and the case stay */
	agw_decider_free(d);
	e.cfg.mqtt.outbox_max_rows = count(e.store, "SELECT count(*) FROM outbox");
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	int64_t full0 = agw_metric_get("agw_outbox_full_total", NULL);
	int64_t dec0 = count(e.store, "SELECT count(*) FROM decisions");
	assert_int_equal(agw_store_begin(e.store), 0);
	assert_int_equal(decide(d, e.store, "cam-1", AGW_KIND_LOITERING, AGW_ACTIVE_NONE, now), 0);
	assert_int_equal(decide(d, e.store, "cam-1", AGW_KIND_LOITERING, AGW_ACTIVE_NONE, now + 1), 0);
	assert_int_equal(decide(d, e.store, "cam-1", AGW_KIND_LOITERING, AGW_ACTIVE_NONE, now + 2), 0);
	assert_int_equal(agw_store_commit(e.store), 0);
	assert_int_equal(agw_metric_get("agw_outbox_full_total", NULL) - full0, 1);
	assert_int_equal(count(e.store, "SELECT count(*) FROM decisions") - dec0, 3);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE camera_id = 'cam-1' AND kind = 'loitering'"), 1);
	agw_decider_free(d);

	/* check: a bad rules file and a bad topic template are reported */
	free(e.cfg.rules_file);
	e.cfg.rules_file = strdup(FIX "/rules/rules_bad.conf");
	free(e.cfg.mqtt.case_topic);
	e.cfg.mqtt.case_topic = strdup("{prefix}/cases/+/{grid}");
	assert_int_equal(agw_decider_check(&e.cfg, &errs), -EINVAL);
	assert_int_equal(errs.n, 10);
	agw_errors_clear(&errs);
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), -EINVAL);
	agw_errors_clear(&errs);
	env_close(&e);
}

static void test_decider_default_policy(void **state)
{
	(void)state;
	struct env e;
	env_open(&e, NULL); /* no rules file, no grid layer imported */
	struct agw_errors errs = {0};
	struct agw_decider *d;
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	assert_true(agw_engine_rules(agw_decider_engine(d))->is_default);
	assert_int_equal(agw_decider_check(&e.cfg, &errs), 0);
	int64_t now = agw_now_ms();
	assert_int_equal(agw_store_begin(e.store), 0);
	assert_int_equal(decide(d, e.store, "cam-x", AGW_KIND_OTHER, AGW_ACTIVE_TRUE, now), 0);
	assert_int_equal(decide(d, e.store, "cam-x", AGW_KIND_CAMERA_OFFLINE, AGW_ACTIVE_TRUE, now), 0);
	assert_int_equal(agw_store_commit(e.store), 0);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE priority = 3 AND cell_code = 'unassigned'"), 1);
	assert_int_equal(count(e.store, "SELECT count(*) FROM outbox WHERE topic = 'agw/gw-test/cases/_/unassigned'"), 1);
	agw_decider_free(d);
	env_close(&e);
}

static void decide_committed(struct agw_decider *d, struct agw_store *s, int64_t t)
{
	assert_int_equal(agw_store_begin(s), 0);
	assert_int_equal(decide(d, s, "cam-e", AGW_KIND_INTRUSION, AGW_ACTIVE_NONE, t), 0);
	assert_int_equal(agw_store_commit(s), 0);
}

/* Two pictures of every case, as a capture writes them (n 2 failed, n 1 stored). */
static void insert_evidence(struct agw_store *s)
{
	assert_int_equal(
		sqlite3_exec(agw_store_db(s),
			     "INSERT INTO evidence SELECT id, 2, 'cam-e', NULL, 'snapshot', NULL, NULL, NULL, NULL, NULL,"
			     " NULL, NULL, NULL, 'failed', 'timed out after 5s', NULL, 0, NULL, NULL, NULL FROM cases;"
			     "INSERT INTO evidence SELECT id, 1, 'cam-e', NULL, 'snapshot', 'onvif', 1795363200000,"
			     " 1795363200100, 48213, 'ab12', 1920, 1080, 'agw/evidence/x/1', 'stored', NULL, 'p', 0, 0, NULL, NULL"
			     " FROM cases;",
			     NULL, NULL, NULL),
		SQLITE_OK);
}

static int64_t evidence_in_message(struct agw_store *s)
{
	return count(s, "SELECT json_array_length(json, '$.evidence') FROM cases");
}

/* The case message's evidence comes from the evidence table (the capture's), in the order of n,
 * failed entries with their reason; a case without rows has none. */
static void test_case_message_evidence(void **state)
{
	(void)state;
	struct env e;
	env_open(&e, NULL);
	e.cfg.evidence.enabled = true;
	struct agw_errors errs = {0};
	struct agw_decider *d;
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	int64_t now = agw_now_ms();
	decide_committed(d, e.store, now);
	assert_int_equal(evidence_in_message(e.store), 0);
	insert_evidence(e.store);
	decide_committed(d, e.store, now + 1);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE json_array_length(json, '$.evidence') = 2"
					" AND json_extract(json, '$.evidence[0].bytes') = 48213"
					" AND json_extract(json, '$.evidence[0].width') = 1920"
					" AND json_extract(json, '$.evidence[0].captured_at') = '2026-11-22T16:00:00.100Z'"
					" AND json_extract(json, '$.evidence[1].reason') = 'timed out after 5s'"
					" AND json_extract(json, '$.evidence[1].bytes') IS NULL"),
			 1);
	agw_decider_free(d);
	env_close(&e);
}

/* Evidence off: the decider does not read the evidence table for every case message (issue #16,
 * a sqlite query per alert), unless the store held pictures when it opened: cases captured
 * before evidence was turned off keep them in their updates. */
static void test_case_message_evidence_off(void **state)
{
	(void)state;
	struct env e;
	env_open(&e, NULL);
	e.cfg.evidence.enabled = false;
	struct agw_errors errs = {0};
	struct agw_decider *d;
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	int64_t now = agw_now_ms();
	decide_committed(d, e.store, now);
	insert_evidence(e.store); /* not expected while off: proves the table is not read */
	decide_committed(d, e.store, now + 1);
	assert_int_equal(evidence_in_message(e.store), 0);
	agw_decider_free(d);
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	decide_committed(d, e.store, now + 2);
	assert_int_equal(evidence_in_message(e.store), 2);
	agw_decider_free(d);
	env_close(&e);
}

/* One batch as the pipeline writes it: the engine's transaction around the store's. */
static void batch_begin(struct agw_decider *d, struct agw_store *s)
{
	assert_int_equal(agw_store_begin(s), 0);
	assert_int_equal(agw_decider_txn(d, s, AGW_TXN_BEGIN), 0);
}

static void batch_commit(struct agw_decider *d, struct agw_store *s)
{
	assert_int_equal(agw_decider_txn(d, s, AGW_TXN_PRECOMMIT), 0);
	assert_int_equal(agw_store_commit(s), 0);
	assert_int_equal(agw_decider_txn(d, s, AGW_TXN_COMMITTED), 0);
}

static int decide_op(struct agw_decider *d, struct agw_store *s, const char *cam, enum agw_alert_kind kind,
		     enum agw_active active, enum agw_operation op, int64_t t)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = (char *)cam;
	a.kind = kind;
	a.active = active;
	a.operation = op;
	a.gateway_time_ms = t;
	int64_t seq;
	assert_int_equal(agw_store_journal_alert(s, &a, &seq), 0);
	return agw_decider_decide(d, s, seq, &a, mono_of(t));
}

/* Issue 11 item 5: pending minimum-duration starts, repeat counters and last known states survive
 * a restart (kept in the store with the decisions). */
static void test_rule_state_survives_restart(void **state)
{
	(void)state;
	struct env e;
	char rules[128];
	env_open(&e, NULL);
	snprintf(rules, sizeof(rules), "%s/rules.conf", e.dir);
	FILE *f = fopen(rules, "w");
	fputs("version = 1;\nrules = (\n"
	      "  { name = \"tamper\"; kinds = [\"tamper\"]; min_duration = \"30s\"; action = \"open\"; },\n"
	      "  { name = \"loiter\"; kinds = [\"loitering\"]; repeat = { count = 3; window = \"10m\"; }; action = \"open\"; },\n"
	      "  { name = \"intrusion\"; kinds = [\"intrusion\"]; action = \"open\"; }\n);\n",
	      f);
	fclose(f);
	e.cfg.rules_file = strdup(rules);
	struct agw_errors errs = {0};
	struct agw_decider *d;
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	int64_t now = agw_now_ms();
	batch_begin(d, e.store);
	assert_int_equal(decide_op(d, e.store, "cam-1", AGW_KIND_TAMPER, AGW_ACTIVE_TRUE, AGW_OP_CHANGED, now), 0);
	assert_int_equal(decide_op(d, e.store, "cam-2", AGW_KIND_LOITERING, AGW_ACTIVE_NONE, AGW_OP_NONE, now), 0);
	assert_int_equal(decide_op(d, e.store, "cam-2", AGW_KIND_LOITERING, AGW_ACTIVE_NONE, AGW_OP_NONE, now + 1000), 0);
	assert_int_equal(decide_op(d, e.store, "cam-3", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, AGW_OP_CHANGED, now), 0);
	assert_int_equal(decide_op(d, e.store, "cam-3", AGW_KIND_INTRUSION, AGW_ACTIVE_FALSE, AGW_OP_CHANGED, now + 2000),
			 0);
	batch_commit(d, e.store);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases"), 1);

	/* restart */
	agw_decider_free(d);
	env_reopen(&e);
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	batch_begin(d, e.store);
	/* the pending tamper start opens once 30 s passed since its first alert */
	assert_int_equal(agw_decider_tick(d, e.store, now + 29000, mono_of(now + 29000)), 0);
	assert_int_equal(agw_decider_tick(d, e.store, now + 30500, mono_of(now + 30500)), 0);
	/* the third loitering alert reaches the repeat count */
	assert_int_equal(decide_op(d, e.store, "cam-2", AGW_KIND_LOITERING, AGW_ACTIVE_NONE, AGW_OP_NONE, now + 31000), 0);
	/* the intrusion, last known inactive, is active on resubscription after its dedup window: it
	 * started while we were down (within the window it would update the incident it ended) */
	assert_int_equal(decide_op(d, e.store, "cam-3", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, AGW_OP_INITIALIZED,
				   now + 10 * MINUTE), 0);
	batch_commit(d, e.store);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE camera_id = 'cam-1' AND kind = 'tamper'"), 1);
	char q[200];
	snprintf(q, sizeof(q), "SELECT count(*) FROM cases WHERE camera_id = 'cam-1' AND first_seen = %lld", (long long)now);
	assert_int_equal(count(e.store, q), 1); /* its start is the first alert's time */
	assert_int_equal(count(e.store, "SELECT count(*) FROM decisions WHERE reason LIKE 'active for 30s%'"), 1);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE camera_id = 'cam-2'"), 1);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE camera_id = 'cam-3' AND status = 'open' AND"
					" json LIKE '%\"found_on_resync\":true%'"),
			 1);
	assert_int_equal(count(e.store, "SELECT count(*) FROM outbox WHERE CAST(payload AS TEXT) LIKE '%\"found_on_resync\":true%'"), 1);
	/* its inactive edge closes it */
	batch_begin(d, e.store);
	assert_int_equal(decide_op(d, e.store, "cam-3", AGW_KIND_INTRUSION, AGW_ACTIVE_FALSE, AGW_OP_CHANGED,
				   now + 10 * MINUTE + 8000), 0);
	batch_commit(d, e.store);
	assert_int_equal(count(e.store, "SELECT count(*) FROM decisions WHERE action = 'close' AND case_id IN"
					" (SELECT id FROM cases WHERE camera_id = 'cam-3' AND json LIKE '%found_on_resync\":true%')"),
			 1);
	agw_decider_free(d);
	agw_errors_clear(&errs);
	env_close(&e);
}

/* Item 1 of issue 12: a case nobody answers ends as expired after gateway.case_retention without
 * activity, driven from the cases table: once per case (a rolled-back batch and a restart in the
 * middle neither lose nor repeat an end), a case with recent feedback or a recent alert is kept,
 * the engine never holds the old cases (its case count does not grow with them), and journal
 * retention deletes the expired cases later. */
#define OLD_CASES 250
static int64_t expiry_tick(struct agw_decider *d, struct agw_store *s, int64_t now)
{
	batch_begin(d, s);
	assert_int_equal(agw_decider_tick(d, s, now, mono_of(now)), 0);
	batch_commit(d, s);
	return count(s, "SELECT count(*) FROM cases WHERE status = 'closed'");
}

/* After the expiry of test_case_expiry: a row the engine cannot take back (no camera) does not
 * stay at the head of every batch (it is closed in the store alone, counted), and journal
 * retention deletes the expired cases like any closed case. */
static void check_broken_row_and_prune(struct agw_decider *d, struct agw_store *store, int64_t now)
{
	assert_int_equal(sqlite3_exec(agw_store_db(store),
				      "INSERT INTO cases(id, incident_key, status, opened_at, updated_at) VALUES"
				      " ('agw-broken', 'camera/x/intrusion', 'open', 1, 1)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	int64_t errors0 = agw_metric_get("agw_case_expiry_errors_total", NULL);
	assert_int_equal(expiry_tick(d, store, now + 2000), OLD_CASES + 1);
	assert_int_equal(expiry_tick(d, store, now + 3000), OLD_CASES + 1);
	assert_int_equal(agw_metric_get("agw_case_expiry_errors_total", NULL) - errors0, 1);
	assert_int_equal(count(store, "SELECT count(*) FROM decisions WHERE action = 'end' AND case_id = 'agw-broken'"), 1);
	struct agw_retention policy = {.max_age_ms = 30 * 24 * 60 * MINUTE};
	while (agw_retention_prune(store, &policy, now + 31 * 24 * 60 * MINUTE) > 0)
		;
	assert_int_equal(count(store, "SELECT count(*) FROM cases"), 2); /* the two still open */
}

static void test_case_expiry(void **state)
{
	(void)state;
	struct env e;
	env_open(&e, NULL);
	e.cfg.case_retention_ms = 60 * MINUTE;
	struct agw_errors errs = {0};
	struct agw_decider *d;
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	int64_t now = agw_now_ms(), old = now - 3 * 60 * MINUTE;
	batch_begin(d, e.store);
	char cam[32];
	for (int i = 0; i < OLD_CASES; i++) {
		snprintf(cam, sizeof(cam), "cam-old-%d", i);
		assert_int_equal(decide(d, e.store, cam, AGW_KIND_INTRUSION, AGW_ACTIVE_NONE, old + i), 0);
	}
	assert_int_equal(decide(d, e.store, "cam-fb", AGW_KIND_INTRUSION, AGW_ACTIVE_NONE, old), 0);
	assert_int_equal(decide(d, e.store, "cam-new", AGW_KIND_INTRUSION, AGW_ACTIVE_NONE, now - MINUTE), 0);
	batch_commit(d, e.store);
	char id[64];
	sqlite3_stmt *st;
	sqlite3_prepare_v2(agw_store_db(e.store), "SELECT id FROM cases WHERE camera_id = 'cam-fb'", -1, &st, NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(id, sizeof(id), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	assert_int_equal(feedback(d, e.store, id, "accepted"), 0); /* answered now: kept */
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE status <> 'closed'"), OLD_CASES + 2);

	/* a restart holds none of the old cases in memory */
	agw_decider_free(d);
	env_reopen(&e);
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	size_t held = agw_engine_cases(agw_decider_engine(d));
	assert_true(held <= 1); /* cam-new's incident, still in its dedup window */
	/* a batch that rolls back (the process dies before the commit) ends nothing, in the store or
	 * in the engine */
	batch_begin(d, e.store);
	assert_int_equal(agw_decider_tick(d, e.store, now, mono_of(now)), 0);
	assert_true(count(e.store, "SELECT count(*) FROM cases WHERE status = 'closed'") > 0);
	assert_int_equal(agw_store_rollback(e.store), 0);
	assert_int_equal(agw_decider_txn(d, e.store, AGW_TXN_ROLLED_BACK), 0);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE status = 'closed'"), 0);
	assert_int_equal(agw_engine_cases(agw_decider_engine(d)), held);
	/* one committed batch, a restart, then the rest: a batch at a time, the engine never holding
	 * more than it did */
	int64_t closed = expiry_tick(d, e.store, now);
	assert_true(closed > 0 && closed < OLD_CASES);
	agw_decider_free(d);
	env_reopen(&e);
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	for (int i = 0; i < 10 && closed < OLD_CASES; i++) {
		closed = expiry_tick(d, e.store, now);
		assert_true(agw_engine_cases(agw_decider_engine(d)) <= held);
	}
	assert_int_equal(expiry_tick(d, e.store, now + 1000), OLD_CASES); /* nothing more to end */
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE status = 'closed' AND camera_id LIKE 'cam-old-%'"
					" AND json_extract(json, '$.lifecycle.ended.by') = 'expired' AND closed_at IS NOT NULL"),
			 OLD_CASES);
	assert_int_equal(count(e.store, "SELECT count(*) FROM decisions WHERE action = 'end' AND reason LIKE"
					" 'expired: no alert, feedback or escalation for 3600s%'"),
			 OLD_CASES);
	/* each end message in the outbox exactly once */
	assert_int_equal(count(e.store, "SELECT count(*) FROM outbox WHERE json_extract(payload, '$.action') = 'end'"),
			 OLD_CASES);
	assert_int_equal(count(e.store, "SELECT count(DISTINCT case_id) FROM outbox WHERE"
					" json_extract(payload, '$.action') = 'end'"),
			 OLD_CASES);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE camera_id IN ('cam-fb', 'cam-new') AND"
					" status IN ('accepted', 'open')"),
			 2);
	check_broken_row_and_prune(d, e.store, now);
	agw_decider_free(d);
	env_close(&e);
}

/* A rule's expire_after is driven from the store too: a restart keeps none of the cases waiting
 * for it in memory (on the old code every one was restored for its expiry, whatever its age), and
 * each ends once it is due, with the rule's reason. */
static void test_rule_expiry_from_store(void **state)
{
	(void)state;
	struct env e;
	env_open(&e, NULL);
	char rules[128];
	snprintf(rules, sizeof(rules), "%s/rules.conf", e.dir);
	FILE *f = fopen(rules, "w");
	assert_non_null(f);
	fputs("version = 1;\nrules = ( { name = \"intr\"; kinds = \"intrusion\"; action = \"open\"; expire_after = \"1h\";"
	      " dedup_window = \"1m\"; } );\n",
	      f);
	fclose(f);
	e.cfg.rules_file = strdup(rules);
	e.cfg.case_retention_ms = 0; /* only the rule's expiry */
	struct agw_errors errs = {0};
	struct agw_decider *d;
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	int64_t now = agw_now_ms();
	batch_begin(d, e.store);
	char cam[32];
	for (int i = 0; i < 50; i++) {
		snprintf(cam, sizeof(cam), "cam-x-%d", i);
		assert_int_equal(decide(d, e.store, cam, AGW_KIND_INTRUSION, AGW_ACTIVE_NONE, now - 2 * 60 * MINUTE + i), 0);
	}
	assert_int_equal(decide(d, e.store, "cam-recent", AGW_KIND_INTRUSION, AGW_ACTIVE_NONE, now - 30 * MINUTE), 0);
	batch_commit(d, e.store);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE expire_at IS NOT NULL"), 51);
	agw_decider_free(d);
	env_reopen(&e);
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	assert_int_equal(agw_engine_cases(agw_decider_engine(d)), 0);
	assert_int_equal(expiry_tick(d, e.store, now), 50);
	assert_int_equal(agw_engine_cases(agw_decider_engine(d)), 0);
	assert_int_equal(count(e.store, "SELECT count(*) FROM decisions WHERE action = 'end' AND reason ="
					" 'expired: not ended within 1h of opening'"),
			 50);
	assert_int_equal(count(e.store, "SELECT count(DISTINCT case_id) FROM outbox WHERE"
					" json_extract(payload, '$.action') = 'end'"),
			 50);
	assert_int_equal(count(e.store, "SELECT count(*) FROM cases WHERE camera_id = 'cam-recent' AND status = 'open'"), 1);
	assert_int_equal(expiry_tick(d, e.store, now + 30 * MINUTE + 1), 51);
	assert_int_equal(count(e.store, "SELECT count(*) FROM outbox WHERE json_extract(payload, '$.action') = 'end'"), 51);
	agw_decider_free(d);
	env_close(&e);
}

int main(void)
{
	agw_log_set_level(AGW_LOG_WARNING);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_file),
		cmocka_unit_test(test_rules_file_lifecycle),
		cmocka_unit_test(test_case_message_evidence),
		cmocka_unit_test(test_case_message_evidence_off),
		cmocka_unit_test(test_topic),
		cmocka_unit_test(test_grid_import),
		cmocka_unit_test(test_decider_locate), cmocka_unit_test(test_decider_store),
		cmocka_unit_test(test_rule_state_survives_restart),
		cmocka_unit_test(test_decider_default_policy),
		cmocka_unit_test(test_case_expiry),
		cmocka_unit_test(test_rule_expiry_from_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
