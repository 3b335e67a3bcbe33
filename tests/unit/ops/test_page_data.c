/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control-room page's data: cameras placed in the grid, "since when" of each trouble, open
 * cases, filters and paging, counts per district/street/community, and the grid read again only
 * when its version changes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alarmgw/alert.h"
#include "alarmgw/metrics.h"
#include "grid_import.h"
#include "ops_store.h"
#include "status.h"
#include "status_page.h"
#include "store.h"

#define T0 1795000000000LL

struct fixture {
	char path[64], grid[64];
	struct agw_store *store;
};

/* Four cells 0.01 degrees wide in a row: district 110105 has street 110105001 with communities
 * 110105001001 (cells 1, 2) and 110105001002 (cell 3); district 110106 has cell 4. */
static const char grid_text[] =
	"{\"type\":\"FeatureCollection\",\"features\":["
	"{\"type\":\"Feature\",\"properties\":{\"code\":\"110105001001001\",\"name\":\"一号网格\",\"parents\":[\"110105\","
	"\"110105001\",\"110105001001\"],\"workers\":[\"张三\"]},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
	"[[[116.30,39.90],[116.31,39.90],[116.31,39.91],[116.30,39.91],[116.30,39.90]]]}},"
	"{\"type\":\"Feature\",\"properties\":{\"code\":\"110105001001002\",\"name\":\"二号网格\",\"parents\":[\"110105\","
	"\"110105001\",\"110105001001\"]},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
	"[[[116.31,39.90],[116.32,39.90],[116.32,39.91],[116.31,39.91],[116.31,39.90]]]}},"
	"{\"type\":\"Feature\",\"properties\":{\"code\":\"110105001002001\",\"parents\":[\"110105\",\"110105001\","
	"\"110105001002\"]},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
	"[[[116.32,39.90],[116.33,39.90],[116.33,39.91],[116.32,39.91],[116.32,39.90]]]}},"
	"{\"type\":\"Feature\",\"properties\":{\"code\":\"110106001001001\",\"parents\":[\"110106\",\"110106001\","
	"\"110106001001\"]},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
	"[[[116.33,39.90],[116.34,39.90],[116.34,39.91],[116.33,39.91],[116.33,39.90]]]}}]}";

static void journal(struct agw_store *store, const char *camera, enum agw_alert_kind kind, enum agw_active active,
		    int64_t at_ms)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = strdup(camera);
	a.adapter = strdup("onvif");
	a.kind = kind;
	a.active = active;
	a.camera_time_ms = AGW_TIME_UNKNOWN;
	a.gateway_time_ms = at_ms;
	assert_int_equal(agw_store_journal_alert(store, &a, NULL), 0);
	agw_alert_clear(&a);
}

static void add_case(struct agw_store *store, const char *id, const char *camera, const char *cell, int priority,
		     int64_t opened, const char *closed)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO cases(id, incident_key, camera_id, kind, cell_code, status, priority, count, opened_at,"
		 " updated_at, closed_at) VALUES('%s', '%s', '%s', 'intrusion', '%s', '%s', %d, 1, %lld, %lld, %s)",
		 id, id, camera, cell, closed ? "closed" : "open", priority, (long long)opened, (long long)opened,
		 closed ? closed : "NULL");
	assert_int_equal(sqlite3_exec(agw_store_db(store), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void import_grid(struct fixture *f)
{
	struct agw_grid_import_result res;
	char err[256] = "";
	int r = agw_grid_import_file(f->store, "default", NULL, f->grid, &res, err, sizeof(err));
	if (r < 0)
		fail_msg("grid import: %s", err);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->store = ops_store_open(f->path, sizeof(f->path), "/tmp/agw-ops-page");
	snprintf(f->grid, sizeof(f->grid), "/tmp/agw-ops-grid-XXXXXX");
	int fd = mkstemp(f->grid);
	assert_int_equal(write(fd, grid_text, strlen(grid_text)), (ssize_t)strlen(grid_text));
	close(fd);
	import_grid(f);
	/* cam-a in cell 1, cam-b in cell 2, cam-c in cell 3 given as GCJ-02 (converted before it is
	 * placed), cam-d outside every cell with an owner cell, cam-e without a location. */
	struct agw_camera cams[5];
	static const char *const ids[] = {"cam-a", "cam-b", "cam-c", "cam-d", "cam-e"};
	static const char *const names[] = {"东门", "Yard", "Lobby", "Far", "Nowhere"};
	static const double lon[] = {116.305, 116.315, 116.3311, 100.0, NAN}, lat[] = {39.905, 39.905, 39.9044, 30.0, NAN};
	for (int i = 0; i < 5; i++)
		cams[i] = (struct agw_camera){.id = (char *)ids[i], .name = (char *)names[i], .protocol = (char *)"onvif",
					      .address = (char *)"192.0.2.1", .vendor = (char *)(i % 2 ? "dahua" : "hikvision"),
					      .crs = (char *)(i == 2 ? "gcj02" : "wgs84"), .lon = lon[i], .lat = lat[i],
					      .owner_cell = (char *)(i == 3 ? "110106001001001" : NULL)};
	assert_int_equal(agw_store_cameras_replace(f->store, cams, 5), 0);
	journal(f->store, "cam-a", AGW_KIND_CAMERA_OFFLINE, AGW_ACTIVE_TRUE, T0 + 1000);
	journal(f->store, "cam-a", AGW_KIND_CAMERA_OFFLINE, AGW_ACTIVE_TRUE, T0 + 3000); /* still: since stays */
	journal(f->store, "cam-b", AGW_KIND_EVENT_CHANNEL_LOST, AGW_ACTIVE_TRUE, T0 + 2000);
	journal(f->store, "cam-c", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, T0 + 2500);
	journal(f->store, "cam-c", AGW_KIND_EVENTS_LOST, AGW_ACTIVE_NONE, T0 + 4000);
	journal(f->store, "cam-d", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, T0 + 2500);
	add_case(f->store, "k-3", "cam-c", "110105001002001", 3, T0 + 100, NULL);
	add_case(f->store, "k-1", "cam-c", "110105001002001", 1, T0 + 200, NULL);
	add_case(f->store, "k-2", "cam-d", "110106001001001", 1, T0 + 50, NULL);
	add_case(f->store, "k-x", "cam-a", "110105001001001", 1, T0, "1795000000500");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ops_store_remove(f->store, f->path);
	unlink(f->grid);
	free(f);
	return 0;
}

static struct agw_status *collect(struct fixture *f, struct agw_health_tracker *t)
{
	struct agw_status *s = NULL;
	char err[256];
	assert_int_equal(agw_status_collect(agw_store_db(f->store), t, 10, T0 + 10000, &s, err, sizeof(err)), 0);
	return s;
}

static const struct agw_status_camera *cam(const struct agw_status *s, const char *id)
{
	for (size_t i = 0; i < s->n_cameras; i++)
		if (strcmp(s->cameras[i].id, id) == 0)
			return &s->cameras[i];
	fail_msg("no camera %s", id);
	abort(); /* fail_msg jumps out but is not noreturn: a release build's -Wnull-dereference */
}

static void test_placed(void **state)
{
	struct fixture *f = *state;
	struct agw_health_tracker *t;
	assert_int_equal(agw_health_tracker_new(&t), 0);
	assert_int_equal(agw_health_tracker_set_layer(t, "default"), 0);
	struct agw_status *s = collect(f, t);
	assert_non_null(s->grid);
	assert_int_equal(s->grid->version, 1);
	assert_string_equal(cam(s, "cam-a")->cell_code, "110105001001001");
	assert_string_equal(cam(s, "cam-b")->cell_code, "110105001001002");
	/* 116.3311, 39.9044 in GCJ-02 is about 116.325, 39.903 in WGS-84: cell 3, not cell 4 */
	assert_string_equal(cam(s, "cam-c")->cell_code, "110105001002001");
	assert_true(cam(s, "cam-c")->lon < 116.33);
	assert_string_equal(cam(s, "cam-d")->cell_code, "110106001001001");
	assert_non_null(cam(s, "cam-d")->cell);
	assert_null(cam(s, "cam-e")->cell_code);
	assert_false(cam(s, "cam-e")->located);
	/* since when */
	assert_int_equal(cam(s, "cam-a")->state, AGW_CAMERA_OFFLINE);
	assert_int_equal(cam(s, "cam-a")->since_ms, T0 + 1000);
	assert_int_equal(cam(s, "cam-b")->since_ms, T0 + 2000);
	assert_int_equal(cam(s, "cam-c")->since_ms, AGW_TIME_UNKNOWN);
	assert_int_equal(cam(s, "cam-c")->events_lost_ms, T0 + 4000);
	/* open cases: the closed one left out, priority then age */
	assert_int_equal(s->n_open, 3);
	assert_int_equal(s->open_total, 3);
	assert_string_equal(s->open[0].id, "k-2");
	assert_string_equal(s->open[1].id, "k-1");
	assert_string_equal(s->open[2].id, "k-3");
	assert_int_equal(cam(s, "cam-c")->open_cases, 2);
	assert_int_equal(cam(s, "cam-a")->open_cases, 0);
	/* The same version: the grid is shared, not read again. A re-import: read again. */
	struct agw_status *s2 = collect(f, t);
	assert_ptr_equal(s2->grid, s->grid);
	agw_status_free(s2);
	import_grid(f);
	s2 = collect(f, t);
	assert_ptr_not_equal(s2->grid, s->grid);
	assert_int_equal(s2->grid->version, 2);
	agw_status_free(s);
	agw_status_free(s2);
	agw_health_tracker_free(t);
}

static void count_row(const struct agw_status_camera *c, void *arg)
{
	char *ids = arg;
	strcat(ids, c->id);
	strcat(ids, " ");
}

static const char *page(const struct agw_status *s, struct agw_status_filter f, size_t offset, size_t limit,
			size_t *total)
{
	static char ids[256];
	ids[0] = '\0';
	*total = agw_status_cameras_page(s, &f, offset, limit, count_row, ids);
	return ids;
}

static void test_filters(void **state)
{
	struct fixture *f = *state;
	struct agw_health_tracker *t;
	assert_int_equal(agw_health_tracker_new(&t), 0);
	assert_int_equal(agw_health_tracker_set_layer(t, "default"), 0);
	struct agw_status *s = collect(f, t);
	size_t n;
	assert_string_equal(page(s, (struct agw_status_filter){0}, 0, 10, &n), "cam-a cam-b cam-c cam-d cam-e ");
	assert_int_equal(n, 5);
	assert_string_equal(page(s, (struct agw_status_filter){0}, 1, 2, &n), "cam-b cam-c ");
	assert_int_equal(n, 5);
	assert_string_equal(page(s, (struct agw_status_filter){0}, 9, 2, &n), "");
	assert_string_equal(page(s, (struct agw_status_filter){.state = "problem"}, 0, 10, &n), "cam-a cam-b cam-e ");
	assert_string_equal(page(s, (struct agw_status_filter){.state = "events_lost"}, 0, 10, &n), "cam-c ");
	assert_string_equal(page(s, (struct agw_status_filter){.q = "东"}, 0, 10, &n), "cam-a ");
	assert_string_equal(page(s, (struct agw_status_filter){.q = "CAM-B"}, 0, 10, &n), "cam-b ");
	assert_string_equal(page(s, (struct agw_status_filter){.cell = "110105"}, 0, 10, &n), "cam-a cam-b cam-c ");
	assert_string_equal(page(s, (struct agw_status_filter){.cell = "110105001001"}, 0, 10, &n), "cam-a cam-b ");
	assert_string_equal(page(s, (struct agw_status_filter){.cell = "二号"}, 0, 10, &n), "cam-b ");
	assert_string_equal(page(s, (struct agw_status_filter){.vendor = "DAHUA", .protocol = "onvif"}, 0, 10, &n),
			    "cam-b cam-d ");
	assert_string_equal(page(s, (struct agw_status_filter){.vendor = "dahua", .state = "offline"}, 0, 10, &n), "");
	/* Cases by cell (a level above counts) and by camera. */
	char *text;
	size_t len;
	assert_int_equal(agw_page_cases(s, "110105", NULL, 0, 10, &text, &len), 0);
	json_t *root = json_loads(text, 0, NULL);
	free(text);
	assert_int_equal(json_integer_value(json_object_get(root, "total")), 2);
	json_t *first = json_array_get(json_object_get(root, "cases"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "id")), "k-1");
	assert_string_equal(json_string_value(json_object_get(first, "camera_name")), "Lobby");
	json_decref(root);
	assert_int_equal(agw_page_cases(s, NULL, "cam-d", 0, 10, &text, &len), 0);
	root = json_loads(text, 0, NULL);
	free(text);
	assert_int_equal(json_integer_value(json_object_get(root, "total")), 1);
	json_decref(root);
	agw_status_free(s);
	agw_health_tracker_free(t);
}

static json_t *level(json_t *summary, const char *name, const char *code)
{
	size_t i;
	json_t *row;
	json_array_foreach(json_object_get(json_object_get(summary, "levels"), name), i, row)
		if (strcmp(json_string_value(json_object_get(row, "code")), code) == 0)
			return row;
	fail_msg("no %s %s", name, code);
	return NULL;
}

static void test_summary(void **state)
{
	struct fixture *f = *state;
	struct agw_health_tracker *t;
	assert_int_equal(agw_health_tracker_new(&t), 0);
	assert_int_equal(agw_health_tracker_set_layer(t, "default"), 0);
	struct agw_status *s = collect(f, t);
	struct agw_page_context ctx = {.time_zone = "Asia/Shanghai", .lang = "zh", .map = true, .broker = true,
				       .broker_connected = false, .broker_down_ms = T0 + 500};
	char *text;
	size_t len;
	assert_int_equal(agw_page_summary(s, &ctx, &text, &len), 0);
	json_t *root = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(root);
	/* Problems: the gateway's first, then the cameras', each with since when. */
	json_t *p = json_object_get(root, "problems");
	assert_int_equal(json_array_size(p), 5);
	const char *kinds[] = {"broker", "offline", "channel_lost", "events_lost", "never_heard"};
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(json_string_value(json_object_get(json_array_get(p, i), "kind")), kinds[i]);
	assert_string_equal(json_string_value(json_object_get(json_array_get(p, 1), "since")), "2026-11-18T11:06:41.000Z");
	assert_true(json_is_null(json_object_get(json_array_get(p, 4), "since")));
	/* Counts per level: district 110105 holds cam-a (offline), cam-b (lost), cam-c and 2 open cases. */
	json_t *d = level(root, "district", "110105");
	assert_int_equal(json_integer_value(json_object_get(d, "cameras")), 3);
	assert_int_equal(json_integer_value(json_object_get(d, "offline")), 1);
	assert_int_equal(json_integer_value(json_object_get(d, "channel_lost")), 1);
	assert_int_equal(json_integer_value(json_object_get(d, "open")), 2);
	assert_int_equal(json_integer_value(json_object_get(level(root, "district", "110106"), "open")), 1);
	assert_int_equal(json_integer_value(json_object_get(level(root, "community", "110105001001"), "cameras")), 2);
	assert_int_equal(json_array_size(json_object_get(json_object_get(root, "levels"), "street")), 2);
	/* Per cell, for the map: [cameras, problems, open cases]. */
	json_t *cell = json_object_get(json_object_get(root, "cells"), "110105001002001");
	assert_int_equal(json_integer_value(json_array_get(cell, 0)), 1);
	assert_int_equal(json_integer_value(json_array_get(cell, 1)), 0);
	assert_int_equal(json_integer_value(json_array_get(cell, 2)), 2);
	assert_string_equal(json_string_value(json_object_get(root, "time_zone")), "Asia/Shanghai");
	json_decref(root);
	/* Points: the located cameras only. */
	assert_int_equal(agw_page_points(s, &text, &len), 0);
	root = json_loads(text, 0, NULL);
	free(text);
	assert_int_equal(json_array_size(json_object_get(root, "points")), 4);
	json_decref(root);
	agw_status_free(s);
	agw_health_tracker_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_placed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
