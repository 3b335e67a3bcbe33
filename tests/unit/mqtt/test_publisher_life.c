/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The publisher's lifecycle without a broker (a closed loopback port): argument checks, stop
 * before and after start, free without stop, rows never deleted without a PUBACK. ASan checks that every path releases what it took. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "publisher.h"
#include "store.h"

struct fixture {
	char dir[64];
	char uri[64];
	struct agw_store *store;
	struct agw_config cfg;
	uv_loop_t loop;
};

static char s_gw[] = "gw-life", s_prefix[] = "agw", s_status[] = "{prefix}/gateways/{gateway}/status",
	    s_health[] = "{prefix}/cameras/{camera}/health", s_fb[] = "{prefix}/case-status/{gateway}";

/* A loopback port nobody listens on: bound, then closed. */
static int closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/agw-publife-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char db[128], err[256];
	snprintf(db, sizeof(db), "%s/a.db", f->dir);
	assert_int_equal(agw_store_open(db, &f->store, err, sizeof(err)), 0);
	snprintf(f->uri, sizeof(f->uri), "tcp://127.0.0.1:%d", closed_port());
	f->cfg.gateway_id = s_gw;
	f->cfg.mqtt.uri = f->uri;
	f->cfg.mqtt.version = 4;
	f->cfg.mqtt.keepalive_ms = 10000;
	f->cfg.mqtt.topic_prefix = s_prefix;
	f->cfg.mqtt.status_topic = s_status;
	f->cfg.mqtt.health_topic = s_health;
	f->cfg.mqtt.feedback_topic = s_fb;
	f->cfg.mqtt.inflight = 8;
	f->cfg.mqtt.reconnect_min_ms = 100;
	f->cfg.mqtt.reconnect_max_ms = 200;
	uv_loop_init(&f->loop);
	agw_log_set_level(AGW_LOG_ERR);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	agw_store_close(f->store);
	char path[160];
	const char *files[] = {"a.db", "a.db-wal", "a.db-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		unlink(path);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void test_bad_config(void **state)
{
	struct fixture *f = *state;
	struct agw_publisher *p = (struct agw_publisher *)0x1;
	f->cfg.mqtt.version = 3;
	assert_int_equal(agw_publisher_new(&f->loop, &f->cfg, f->store, &p), -EINVAL);
	assert_ptr_equal(p, (struct agw_publisher *)0x1); /* untouched on failure */
	f->cfg.mqtt.version = 5;
	char tls[] = "ssl://127.0.0.1:8883";
	f->cfg.mqtt.uri = tls; /* TLS without a CA file */
	assert_int_equal(agw_publisher_new(&f->loop, &f->cfg, f->store, &p), -EINVAL);
	f->cfg.mqtt.uri = f->uri;
	char bad[] = "{prefix}/{nope}/status";
	f->cfg.mqtt.status_topic = bad;
	assert_int_equal(agw_publisher_new(&f->loop, &f->cfg, f->store, &p), -EINVAL);
	f->cfg.mqtt.status_topic = s_status;
	char wild[] = "{prefix}/case-status/#";
	f->cfg.mqtt.feedback_topic = wild;
	assert_int_equal(agw_publisher_new(&f->loop, &f->cfg, f->store, &p), -EINVAL);
	f->cfg.mqtt.feedback_topic = s_fb;
	assert_int_equal(agw_publisher_new(&f->loop, &f->cfg, f->store, &p), 0);
	agw_publisher_free(p);
	agw_publisher_free(NULL);
}

static int done_calls;
static void on_done(void *arg)
{
	done_calls++;
}

static void test_stop_before_start(void **state)
{
	struct fixture *f = *state;
	struct agw_publisher *p;
	assert_int_equal(agw_publisher_new(&f->loop, &f->cfg, f->store, &p), 0);
	agw_publisher_kick(p); /* not started: nothing happens */
	done_calls = 0;
	agw_publisher_stop(p, on_done, NULL);
	assert_int_equal(done_calls, 1);
	agw_publisher_free(p);
}

static void stop_timer_cb(uv_timer_t *t)
{
	agw_publisher_stop(t->data, on_done, NULL);
	uv_close((uv_handle_t *)t, NULL);
}

static void test_rows_kept_without_broker(void **state)
{
	struct fixture *f = *state;
	struct agw_publisher *p;
	assert_int_equal(agw_store_begin(f->store), 0);
	for (int i = 0; i < 25; i++) {
		char id[16];
		snprintf(id, sizeof(id), "c-%d", i);
		assert_int_equal(agw_store_outbox_push(f->store, "agw/cases/d/g", "{}", 2, 1, false, id, 0, NULL), 0);
	}
	assert_int_equal(agw_store_commit(f->store), 0);
	assert_int_equal(agw_publisher_new(&f->loop, &f->cfg, f->store, &p), 0);
	assert_int_equal(agw_publisher_start(p), 0);
	assert_int_equal(agw_publisher_start(p), -EALREADY);
	agw_publisher_kick(p);
	uv_timer_t t;
	uv_timer_init(&f->loop, &t);
	t.data = p;
	uv_timer_start(&t, stop_timer_cb, 700, 0); /* a few failed reconnects first */
	done_calls = 0;
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(done_calls, 1);
	assert_false(agw_publisher_connected(p));
	assert_int_equal(agw_publisher_acked(p), 0);
	assert_int_equal(agw_store_outbox_count(f->store), 25);
	assert_int_equal(agw_metric_get("agw_outbox_depth", NULL), 25);
	assert_true(agw_metric_get("agw_mqtt_connect_errors_total", "reason=\"network\"") >= 2);
	agw_publisher_free(p);
}

static void free_timer_cb(uv_timer_t *t)
{
	/* free while started and not stopped: the handles close and the memory goes with them */
	agw_publisher_free(t->data);
	uv_close((uv_handle_t *)t, NULL);
}

static void test_free_without_stop(void **state)
{
	struct fixture *f = *state;
	struct agw_publisher *p;
	assert_int_equal(agw_publisher_new(&f->loop, &f->cfg, f->store, &p), 0);
	assert_int_equal(agw_publisher_start(p), 0);
	uv_timer_t t;
	uv_timer_init(&f->loop, &t);
	t.data = p;
	uv_timer_start(&t, free_timer_cb, 300, 0);
	uv_run(&f->loop, UV_RUN_DEFAULT); /* returns only once every handle is closed */
}

static int fb_calls, fb_fail;
static char fb_last[128];

static int record_feedback(void *arg, const char *case_id, const char *status, const char *by, const char *note)
{
	(void)arg;
	fb_calls++;
	if (fb_fail)
		return -EIO;
	snprintf(fb_last, sizeof(fb_last), "%s %s%s%s%s%s", case_id, status, *by ? " by " : "", by, *note ? ": " : "", note);
	return 0;
}

static int64_t inbox_rows(struct fixture *f)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	if (sqlite3_prepare_v2(agw_store_db(f->store), "SELECT count(*) FROM feedback_inbox", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* A feedback written to the inbox (by paho's thread, or left by a crash before it was applied) is
 * applied by the loop and leaves the inbox in the same transaction; while its case cannot be
 * updated (the callback fails) it stays, and is applied on a later tick. */
static void test_feedback_inbox(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(sqlite3_exec(agw_store_db(f->store),
				      "INSERT INTO feedback_inbox(case_id, status, received_at) VALUES('c-9', 'closed', 0);"
				      "INSERT INTO feedback_inbox(case_id, status, received_at, by_whom, note)"
				      "  VALUES('c-10', 'on_site', 0, 'W-7', 'at the gate')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	struct agw_publisher *p;
	assert_int_equal(agw_publisher_new(&f->loop, &f->cfg, f->store, &p), 0);
	agw_publisher_set_feedback(p, record_feedback, NULL);
	fb_calls = 0;
	fb_fail = 1;
	fb_last[0] = '\0';
	assert_int_equal(agw_publisher_start(p), 0);
	uv_timer_t t;
	uv_timer_init(&f->loop, &t);
	t.data = p;
	uv_timer_start(&t, stop_timer_cb, 700, 0); /* a few ticks (250 ms) */
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_true(fb_calls >= 2);   /* retried on later ticks */
	assert_int_equal(inbox_rows(f), 2); /* kept while they cannot be applied */
	agw_publisher_free(p);
	uv_run(&f->loop, UV_RUN_DEFAULT);

	assert_int_equal(agw_publisher_new(&f->loop, &f->cfg, f->store, &p), 0);
	agw_publisher_set_feedback(p, record_feedback, NULL);
	fb_fail = 0;
	assert_int_equal(agw_publisher_start(p), 0);
	uv_timer_init(&f->loop, &t);
	t.data = p;
	uv_timer_start(&t, stop_timer_cb, 400, 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_string_equal(fb_last, "c-10 on_site by W-7: at the gate"); /* who and note from the inbox */
	assert_int_equal(inbox_rows(f), 0);
	agw_publisher_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_before_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_kept_without_broker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_without_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feedback_inbox, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
