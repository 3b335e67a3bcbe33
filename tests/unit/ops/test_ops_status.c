/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The status snapshot from a seeded store, and its JSON, HTML, Prometheus and terminal forms. */
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
#include "ops_store.h"
#include "status.h"
#include "store.h"

#define T0 1795000000000LL /* a fixed gateway time, 2026-11-18 */

struct fixture {
	char path[64];
	struct agw_store *store;
};

static void journal(struct agw_store *store, const char *camera, enum agw_alert_kind kind, enum agw_active active,
		    int64_t at_ms, const char *topic)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = strdup(camera);
	a.adapter = strdup("replay");
	a.kind = kind;
	a.active = active;
	a.camera_time_ms = AGW_TIME_UNKNOWN;
	a.gateway_time_ms = at_ms;
	a.topic = topic ? strdup(topic) : NULL;
	assert_int_equal(agw_store_journal_alert(store, &a, NULL), 0);
	agw_alert_clear(&a);
}

static void add_case(struct agw_store *store, const char *id, const char *camera, const char *status, int64_t updated)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(agw_store_db(store),
					    "INSERT INTO cases(id, incident_key, camera_id, kind, cell_code, status, priority,"
					    " count, opened_at, updated_at) VALUES(?1, ?1, ?2, 'intrusion', 'C-01', ?3, 2, 3,"
					    " ?4, ?4)",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, camera, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, updated);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->store = ops_store_open(f->path, sizeof(f->path), "/tmp/agw-ops-status");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ops_store_remove(f->store, f->path);
	free(f);
	return 0;
}

static struct agw_camera camera(const char *id, const char *name)
{
	return (struct agw_camera){.id = (char *)id, .name = (char *)name, .protocol = (char *)"onvif",
				   .address = (char *)"192.0.2.1", .vendor = (char *)"acme", .crs = (char *)"wgs84"};
}

/* Five cameras, one in each state and one with a hostile name. */
static void seed(struct agw_store *store)
{
	struct agw_camera cams[] = {
		camera("cam-1", "Gate north"),  camera("cam-2", "Yard"),    camera("cam-3", "Lobby"),
		camera("cam-4", "Never heard"), camera("cam-5", "<script>alert(1)</script> & \"x\""),
	};
	for (size_t i = 0; i < 5; i++)
		cams[i].lon = cams[i].lat = NAN;
	assert_int_equal(agw_store_begin(store), 0);
	assert_int_equal(agw_store_cameras_replace(store, cams, 5), 0);
	journal(store, "cam-1", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, T0 + 1000, "tns1:VideoSource/MotionAlarm");
	journal(store, "cam-1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, T0 + 5000, "tns1:RuleEngine/FieldDetector");
	journal(store, "cam-2", AGW_KIND_CAMERA_OFFLINE, AGW_ACTIVE_TRUE, T0 + 2000, NULL);
	journal(store, "cam-3", AGW_KIND_CAMERA_OFFLINE, AGW_ACTIVE_TRUE, T0 + 1000, NULL);
	journal(store, "cam-3", AGW_KIND_CAMERA_OFFLINE, AGW_ACTIVE_FALSE, T0 + 3000, NULL);
	journal(store, "cam-3", AGW_KIND_EVENT_CHANNEL_LOST, AGW_ACTIVE_TRUE, T0 + 4000, NULL);
	journal(store, "cam-5", AGW_KIND_TAMPER, AGW_ACTIVE_NONE, T0 + 6000, "tns1:VideoSource/<b>");
	/* cameras outside the ledger are journaled too but are not listed */
	journal(store, "ghost", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, T0 + 7000, NULL);
	add_case(store, "agw-1", "cam-1", "open", T0 + 5000);
	add_case(store, "agw-2", "cam-5", "open", T0 + 6000);
	add_case(store, "agw-3", "cam-1", "closed", T0 + 1000);
	int64_t seq;
	assert_int_equal(agw_store_outbox_push(store, "agw/cases/x", "{}", 2, 1, false, "agw-1", 0, &seq), 0);
	assert_int_equal(agw_store_outbox_push(store, "agw/cases/y", "{}", 2, 1, false, "agw-2", 0, &seq), 0);
	assert_int_equal(sqlite3_exec(agw_store_db(store),
				      "UPDATE outbox SET created_at = 1795000002500 WHERE case_id = 'agw-1';"
				      "UPDATE outbox SET created_at = 1795000009000 WHERE case_id = 'agw-2';",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(agw_store_commit(store), 0);
}

/* A snapshot taken 10 s after T0 with up to recent alerts and cases, through tracker t (or none). */
static struct agw_status *collect(struct fixture *f, struct agw_health_tracker *t, size_t recent)
{
	struct agw_status *s = NULL;
	char err[256];
	assert_int_equal(agw_status_collect(agw_store_db(f->store), t, recent, T0 + 10000, &s, err, sizeof(err)), 0);
	return s;
}

static void test_collect(void **state)
{
	struct fixture *f = *state;
	seed(f->store);
	struct agw_status *s = collect(f, NULL, 3);
	assert_int_equal(s->n_cameras, 5);
	assert_int_equal(s->cameras_by_state[AGW_CAMERA_OFFLINE], 1);
	assert_int_equal(s->cameras_by_state[AGW_CAMERA_CHANNEL_LOST], 1);
	assert_int_equal(s->cameras_by_state[AGW_CAMERA_ONLINE], 2);
	assert_int_equal(s->cameras_by_state[AGW_CAMERA_UNKNOWN], 1);
	/* worst state first, then by id */
	assert_string_equal(s->cameras[0].id, "cam-2");
	assert_string_equal(s->cameras[1].id, "cam-3");
	assert_string_equal(s->cameras[2].id, "cam-1");
	assert_string_equal(s->cameras[3].id, "cam-5");
	assert_string_equal(s->cameras[4].id, "cam-4");
	assert_string_equal(s->cameras[2].last_kind, "intrusion");
	assert_int_equal(s->cameras[2].last_event_ms, T0 + 5000);
	assert_null(s->cameras[4].last_kind);
	assert_int_equal(s->cameras[4].last_event_ms, AGW_TIME_UNKNOWN);
	assert_string_equal(s->cameras[1].last_kind, "event_channel_lost");
	/* recent = 3: the three newest alerts, newest first */
	assert_int_equal(s->n_alerts, 3);
	assert_string_equal(s->alerts[0].camera_id, "ghost");
	assert_string_equal(s->alerts[1].camera_id, "cam-5");
	assert_int_equal(s->alerts[1].active, -1);
	assert_true(s->alerts[0].seq > s->alerts[1].seq);
	assert_int_equal(s->journal_last_seq, 8);
	assert_int_equal(s->n_cases, 3);
	assert_string_equal(s->cases[0].id, "agw-2");
	assert_string_equal(s->cases[2].id, "agw-3");
	assert_int_equal(s->cases[0].count, 3);
	assert_int_equal(s->n_cases_by_status, 2);
	assert_string_equal(s->cases_by_status[0].name, "closed");
	assert_int_equal(s->cases_by_status[0].n, 1);
	assert_string_equal(s->cases_by_status[1].name, "open");
	assert_int_equal(s->cases_by_status[1].n, 2);
	assert_int_equal(s->outbox_depth, 2);
	assert_int_equal(s->outbox_oldest_ms, T0 + 2500);
	assert_int_equal(agw_status_outbox_age_ms(s), 7500);
	assert_int_equal(s->schema_version, agw_store_latest_schema_version());
	agw_status_free(s);
}

static void test_empty_store(void **state)
{
	struct fixture *f = *state;
	struct agw_status *s = NULL;
	char err[256];
	assert_int_equal(agw_status_collect(agw_store_db(f->store), NULL, 50, T0, &s, err, sizeof(err)), 0);
	assert_int_equal(s->n_cameras + s->n_alerts + s->n_cases + s->n_cases_by_status, 0);
	assert_int_equal(s->outbox_depth, 0);
	assert_int_equal(agw_status_outbox_age_ms(s), 0);
	char *text;
	size_t len;
	assert_int_equal(agw_status_to_html(s, 10, 100, &text, &len), 0);
	assert_non_null(strstr(text, "id=\"cameras-offline\">0<"));
	free(text);
	assert_int_equal(agw_status_to_json(s, &text, &len), 0);
	json_t *root = json_loads(text, 0, NULL);
	assert_non_null(root);
	assert_int_equal(json_array_size(json_object_get(root, "cameras")), 0);
	assert_true(json_is_null(json_object_get(json_object_get(root, "outbox"), "oldest")));
	json_decref(root);
	free(text);
	agw_status_free(s);
}

/* The daemon's own connection may be inside a batch transaction: collect reads its view. */
static void test_inside_transaction(void **state)
{
	struct fixture *f = *state;
	seed(f->store);
	assert_int_equal(agw_store_begin(f->store), 0);
	journal(f->store, "cam-4", AGW_KIND_CAMERA_OFFLINE, AGW_ACTIVE_TRUE, T0 + 8000, NULL);
	struct agw_status *s = collect(f, NULL, 5);
	assert_int_equal(s->cameras_by_state[AGW_CAMERA_OFFLINE], 2);
	assert_int_equal(s->cameras_by_state[AGW_CAMERA_UNKNOWN], 0);
	assert_false(sqlite3_get_autocommit(agw_store_db(f->store)));
	agw_status_free(s);
	assert_int_equal(agw_store_rollback(f->store), 0);
}

/* A tracker kept across snapshots reads only what was journaled since, and starts over when the
 * journal goes backwards. */
static void test_tracker(void **state)
{
	struct fixture *f = *state;
	seed(f->store);
	struct agw_health_tracker *t = NULL;
	sqlite3 *db = agw_store_db(f->store);
	assert_int_equal(agw_health_tracker_new(&t), 0);
	struct agw_status *s = collect(f, t, 5);
	assert_int_equal(s->cameras_by_state[AGW_CAMERA_OFFLINE], 1);
	agw_status_free(s);
	/* cam-2 comes back, cam-1 goes offline */
	assert_int_equal(agw_store_begin(f->store), 0);
	journal(f->store, "cam-2", AGW_KIND_CAMERA_OFFLINE, AGW_ACTIVE_FALSE, T0 + 9000, NULL);
	journal(f->store, "cam-1", AGW_KIND_CAMERA_OFFLINE, AGW_ACTIVE_TRUE, T0 + 9000, NULL);
	journal(f->store, "cam-3", AGW_KIND_EVENT_CHANNEL_LOST, AGW_ACTIVE_FALSE, T0 + 9000, NULL);
	assert_int_equal(agw_store_commit(f->store), 0);
	s = collect(f, t, 5);
	assert_string_equal(s->cameras[0].id, "cam-1");
	assert_int_equal(s->cameras[0].state, AGW_CAMERA_OFFLINE);
	assert_int_equal(s->cameras_by_state[AGW_CAMERA_OFFLINE], 1);
	assert_int_equal(s->cameras_by_state[AGW_CAMERA_CHANNEL_LOST], 0);
	assert_int_equal(s->cameras_by_state[AGW_CAMERA_ONLINE], 3);
	agw_status_free(s);
	/* the journal is replaced by an older one: the tracker reads it again */
	assert_int_equal(sqlite3_exec(db, "DELETE FROM alerts WHERE seq > 3", NULL, NULL, NULL), SQLITE_OK);
	s = collect(f, t, 5);
	assert_int_equal(s->journal_last_seq, 3);
	assert_int_equal(s->cameras_by_state[AGW_CAMERA_OFFLINE], 1); /* cam-2 from seq 3 */
	assert_string_equal(s->cameras[0].id, "cam-2");
	agw_status_free(s);
	agw_health_tracker_free(t);
}

static void test_json(void **state)
{
	struct fixture *f = *state;
	seed(f->store);
	struct agw_status *s = collect(f, NULL, 50);
	char *text;
	size_t len;
	assert_int_equal(agw_status_to_json(s, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr);
	assert_non_null(root);
	json_t *cams = json_object_get(root, "cameras");
	assert_int_equal(json_array_size(cams), 5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(cams, 0), "state")), "offline");
	assert_string_equal(json_string_value(json_object_get(json_array_get(cams, 4), "name")), "Never heard");
	assert_string_equal(json_string_value(json_object_get(json_array_get(cams, 2), "last_event")),
			    "2026-11-18T11:06:45.000Z");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "cameras_by_state"), "online")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "cases_by_status"), "open")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "outbox"), "depth")), 2);
	assert_true(json_real_value(json_object_get(json_object_get(root, "outbox"), "age_seconds")) == 7.5);
	assert_int_equal(json_array_size(json_object_get(root, "recent_alerts")), 8);
	assert_int_equal(json_array_size(json_object_get(root, "recent_cases")), 3);
	json_decref(root);
	free(text);
	agw_status_free(s);
}

static void test_html(void **state)
{
	struct fixture *f = *state;
	seed(f->store);
	struct agw_status *s = collect(f, NULL, 50);
	char *text;
	size_t len;
	assert_int_equal(agw_status_to_html(s, 10, 1000, &text, &len), 0);
	assert_non_null(strstr(text, "<meta http-equiv=\"refresh\" content=\"10\">"));
	/* a camera name never becomes markup */
	assert_null(strstr(text, "<script>"));
	assert_non_null(strstr(text, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
	assert_non_null(strstr(text, "tns1:VideoSource/&lt;b&gt;"));
	assert_non_null(strstr(text, "id=\"cameras-offline\">1<"));
	assert_non_null(strstr(text, "id=\"outbox-depth\">2<"));
	assert_non_null(strstr(text, "<td>agw-2</td>"));
	/* no external resources: nothing is fetched from anywhere */
	assert_null(strstr(text, "src="));
	assert_null(strstr(text, "<link"));
	assert_null(strstr(text, "http://"));
	assert_null(strstr(text, "https://"));
	/* no NVR channel outside the ledger yet: no such table */
	assert_null(strstr(text, "id=\"unrouted\""));
	free(text);
	/* an adapter counted alerts of a channel no ledger row names: listed */
	agw_metric_add("agw_unrouted_channel_alerts_total", "adapter=\"isapi\",device=\"nvr-1\",channel=\"7\"", 3);
	assert_int_equal(agw_status_to_html(s, 10, 1000, &text, &len), 0);
	assert_non_null(strstr(text, "id=\"unrouted\""));
	assert_non_null(strstr(text, "<tr><td>isapi</td><td>nvr-1</td><td>7</td><td>3</td></tr>"));
	free(text);
	assert_int_equal(agw_status_to_json(s, &text, &len), 0);
	assert_non_null(strstr(text, "\"unrouted_channels\":[{\"adapter\":\"isapi\",\"device\":\"nvr-1\",\"channel\":\"7\",\"alerts\":3}]"));
	free(text);
	/* a camera limit shows the worst first and says what it left out */
	assert_int_equal(agw_status_to_html(s, 0, 2, &text, &len), 0);
	assert_null(strstr(text, "http-equiv"));
	assert_non_null(strstr(text, "<td>cam-2</td>"));
	assert_null(strstr(text, "<td>cam-4</td>"));
	assert_non_null(strstr(text, "3 more cameras not shown"));
	free(text);
	agw_status_free(s);
}

static void test_prometheus(void **state)
{
	struct fixture *f = *state;
	seed(f->store);
	agw_metric_add("agw_parse_errors_total", "adapter=\"onvif\",reason=\"xml\"", 3);
	agw_metric_add("agw_parse_errors_total", "adapter=\"rtsp\",reason=\"sdp\"", 1);
	agw_metric_set("agw_mqtt_connected", NULL, 1);
	/* a module's own copies of store families (the daemon's camera count, the publisher's depth) */
	agw_metric_set("agw_cameras", NULL, 5);
	agw_metric_set("agw_outbox_depth", NULL, 9);
	agw_metric_add("agw_publish_latency_ms_sum", NULL, 120);
	struct agw_status *s = collect(f, NULL, 50);
	char *text;
	size_t len;
	assert_int_equal(agw_status_to_prometheus(s, &text, &len), 0);
	const char *want[] = {
		"# TYPE agw_mqtt_connected gauge\nagw_mqtt_connected 1\n",
		"# TYPE agw_parse_errors_total counter\nagw_parse_errors_total{adapter=\"onvif\",reason=\"xml\"} 3\n"
		"agw_parse_errors_total{adapter=\"rtsp\",reason=\"sdp\"} 1\n",
		"agw_cameras{state=\"offline\"} 1\n",
		"agw_cameras{state=\"channel_lost\"} 1\n",
		"agw_cameras{state=\"online\"} 2\n",
		"agw_cameras{state=\"unknown\"} 1\n",
		"agw_cases{status=\"open\"} 2\n",
		"agw_outbox_depth 2\n",
		"agw_outbox_oldest_age_seconds 7.500\n",
		"agw_journal_last_seq 8\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(text, want[i]))
			fail_msg("missing in /metrics: %s\n--- got:\n%s", want[i], text);
	}
	/* one TYPE line per family, also where a module keeps its own copy of a store family */
	const char *fams[] = {"agw_parse_errors_total", "agw_cameras", "agw_outbox_depth"};
	for (size_t i = 0; i < 3; i++) {
		char t[96];
		snprintf(t, sizeof(t), "# TYPE %s ", fams[i]);
		const char *p = strstr(text, t);
		assert_non_null(p);
		assert_null(strstr(p + 1, t));
	}
	assert_null(strstr(text, "agw_outbox_depth 9"));
	assert_null(strstr(text, "agw_cameras 5"));
	assert_non_null(strstr(text, "# TYPE agw_publish_latency_ms_sum counter\nagw_publish_latency_ms_sum 120\n"));
	free(text);
	/* without a snapshot the counters are still served, and the modules' own gauges */
	assert_int_equal(agw_status_to_prometheus(NULL, &text, &len), 0);
	assert_non_null(strstr(text, "agw_parse_errors_total{adapter=\"onvif\",reason=\"xml\"} 3\n"));
	assert_non_null(strstr(text, "agw_outbox_depth 9\n"));
	assert_null(strstr(text, "agw_cameras{"));
	free(text);
	agw_status_free(s);
}

static void test_print(void **state)
{
	struct fixture *f = *state;
	seed(f->store);
	struct agw_status *s = collect(f, NULL, 50);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_int_equal(agw_status_print(s, out), 0);
	fclose(out);
	assert_non_null(strstr(text, "cameras: 5  offline 1  channel_lost 1  never_subscribed 0  online 2  unknown 1"));
	assert_non_null(strstr(text, "outbox: depth 2, oldest 7.5 s"));
	assert_non_null(strstr(text, "cases:  closed 1  open 2"));
	assert_non_null(strstr(text, "cam-2                  offline"));
	assert_non_null(strstr(text, "agw-2"));
	free(text);
	agw_status_free(s);
}

/* "Never subscribed" (tried, never opened: wins over offline, not over events that came) against
 * "never heard from" (subscribed, nothing since: since the subscription); a channel row follows
 * its device's subscription. */
static void test_subscribed(void **state)
{
	struct fixture *f = *state;
	struct agw_camera cams[] = {camera("closed", "Closed port"), camera("quiet", "Quiet"), camera("nvr", "NVR"),
				    camera("nvr-ch2", "NVR channel 2"), camera("busy", "Busy"), camera("other", "Other")};
	cams[3].device = (char *)"nvr";
	cams[3].channel = 2;
	for (size_t i = 0; i < 6; i++)
		cams[i].lon = cams[i].lat = NAN;
	struct agw_store *st = f->store;
	assert_int_equal(agw_store_cameras_replace(st, cams, 6), 0);
	const char *tried[] = {"closed", "quiet", "nvr", "nvr-ch2", "busy"};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(agw_store_channel_tried(st, tried[i], T0 + 100), 0);
	assert_int_equal(agw_store_channel_tried(st, "closed", T0 + 900), 0); /* the first try is kept */
	assert_int_equal(agw_store_channel_subscribed(st, "quiet", T0 + 200), 0);
	assert_int_equal(agw_store_channel_subscribed(st, "nvr", T0 + 300), 0);
	assert_int_equal(agw_store_channel_subscribed(st, "nvr", T0 + 800), 0); /* again: the first is kept */
	journal(st, "closed", AGW_KIND_CAMERA_OFFLINE, AGW_ACTIVE_TRUE, T0 + 500, NULL);
	journal(st, "busy", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, T0 + 600, NULL);
	struct agw_status *s = collect(f, NULL, 10);
	const struct {
		const char *id;
		enum agw_camera_state state;
		int64_t since;
	} want[] = {{"busy", AGW_CAMERA_ONLINE, AGW_TIME_UNKNOWN},
		    {"closed", AGW_CAMERA_NEVER_SUBSCRIBED, T0 + 100},
		    {"nvr", AGW_CAMERA_UNKNOWN, T0 + 300},
		    {"nvr-ch2", AGW_CAMERA_UNKNOWN, T0 + 300},
		    {"other", AGW_CAMERA_UNKNOWN, AGW_TIME_UNKNOWN},
		    {"quiet", AGW_CAMERA_UNKNOWN, T0 + 200}};
	for (size_t i = 0; i < 6; i++) {
		/* by index, not a pointer left NULL: cmocka's asserts are not noreturn, and a release
		 * build's -Wnull-dereference would see the NULL reach c->state */
		size_t k = 0;
		while (k < s->n_cameras && strcmp(s->cameras[k].id, want[i].id) != 0)
			k++;
		assert_true(k < s->n_cameras);
		const struct agw_status_camera *c = &s->cameras[k];
		assert_string_equal(agw_camera_state_name(c->state), agw_camera_state_name(want[i].state));
		assert_int_equal(c->since_ms, want[i].since);
	}
	assert_int_equal(s->cameras_by_state[AGW_CAMERA_NEVER_SUBSCRIBED], 1);
	assert_int_equal(s->cameras_by_state[AGW_CAMERA_OFFLINE], 0);
	agw_status_free(s);
}

/* An open case's pictures in the snapshot, in order, with the reason of those that failed. */
static void test_pictures(void **state)
{
	struct fixture *f = *state;
	seed(f->store);
	assert_int_equal(sqlite3_exec(agw_store_db(f->store),
				      "INSERT INTO evidence(case_id, n, camera_id, status, reason, captured_gateway_time,"
				      " requested_at, path) VALUES"
				      " ('agw-1', 2, 'cam-1', 'failed', 'timeout after 5000 ms', NULL, 1, NULL),"
				      " ('agw-1', 1, 'cam-1', 'stored', NULL, 1795000005100, 1, 'evidence-cases/x-1.jpg'),"
				      " ('agw-3', 1, 'cam-1', 'stored', NULL, 1795000001100, 1, 'evidence-cases/y-1.jpg');",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	struct agw_status *s = collect(f, NULL, 10);
	assert_int_equal(s->n_open, 2);
	const struct agw_status_case *c = strcmp(s->open[0].id, "agw-1") == 0 ? &s->open[0] : &s->open[1];
	assert_string_equal(c->id, "agw-1");
	assert_int_equal(c->n_pictures, 2);
	assert_int_equal(c->pictures_total, 2);
	assert_int_equal(c->pictures[0].n, 1);
	assert_string_equal(c->pictures[0].status, "stored");
	assert_int_equal(c->pictures[0].captured_ms, T0 + 5100);
	assert_string_equal(c->pictures[1].status, "failed");
	assert_string_equal(c->pictures[1].reason, "timeout after 5000 ms");
	const struct agw_status_case *other = c == &s->open[0] ? &s->open[1] : &s->open[0];
	assert_int_equal(other->n_pictures, 0); /* agw-2 has none; closed agw-3's are not read */
	agw_status_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_collect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inside_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tracker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prometheus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pictures, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
