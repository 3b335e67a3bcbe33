/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The outbox counts rows, not a span of sequence numbers: one row that never leaves (refused by
 * the broker, parked) must not make new rows fail with -ENOSPC once later rows have come and gone,
 * and the depth metric is the number of rows waiting, exactly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "publisher.h"
#include "store.h"

struct fixture {
	char dir[64];
	struct agw_store *store;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/agw-outbox-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char db[128], err[256];
	snprintf(db, sizeof(db), "%s/o.db", f->dir);
	assert_int_equal(agw_store_open(db, &f->store, err, sizeof(err)), 0);
	agw_log_set_level(AGW_LOG_ERR);
	agw_metrics_reset();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	agw_store_close(f->store);
	char path[160];
	const char *files[] = {"o.db", "o.db-wal", "o.db-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		unlink(path);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static int push(struct fixture *f, const char *id, int64_t max_rows)
{
	return agw_store_outbox_push(f->store, "agw/cases/d/g", "{}", 2, 1, false, id, max_rows, NULL);
}

static void delete_seq(struct fixture *f, int64_t seq)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "DELETE FROM outbox WHERE seq = %lld", (long long)seq);
	assert_int_equal(sqlite3_exec(agw_store_db(f->store), sql, NULL, NULL, NULL), SQLITE_OK);
}

/* Row 1 never leaves; rows after it come and go. With a limit of 3 rows there is always room for
 * a second row; the old span (max(seq) - min(seq) + 1) refused it after a few round trips. */
static void test_limit_counts_rows(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(push(f, "stuck", 3), 0);
	for (int64_t seq = 2; seq < 50; seq++) {
		char id[16];
		snprintf(id, sizeof(id), "c-%lld", (long long)seq);
		assert_int_equal(push(f, id, 3), 0);
		delete_seq(f, seq);
	}
	assert_int_equal(agw_store_outbox_count(f->store), 1);
	/* the limit still holds: rows 1, 50, 51 fill it */
	assert_int_equal(push(f, "c-50", 3), 0);
	assert_int_equal(push(f, "c-51", 3), 0);
	assert_int_equal(push(f, "c-52", 3), -ENOSPC);
	assert_int_equal(agw_store_outbox_count(f->store), 3);
}

static void stop_timer_cb(uv_timer_t *t)
{
	agw_publisher_stop(t->data, NULL, NULL);
	uv_close((uv_handle_t *)t, NULL);
}

/* The depth metric is the number of rows waiting (2 here), not the span of their seqs (100). */
static void test_depth_counts_rows(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(push(f, "first", 0), 0);
	for (int64_t seq = 2; seq < 100; seq++) {
		assert_int_equal(push(f, "gone", 0), 0);
		delete_seq(f, seq);
	}
	assert_int_equal(push(f, "last", 0), 0);
	uv_loop_t loop;
	uv_loop_init(&loop);
	static char gw[] = "gw-rows", prefix[] = "agw", uri[] = "tcp://127.0.0.1:1";
	struct agw_config cfg = {.gateway_id = gw};
	cfg.mqtt.uri = uri;
	cfg.mqtt.version = 5;
	cfg.mqtt.keepalive_ms = 10000;
	cfg.mqtt.topic_prefix = prefix;
	cfg.mqtt.inflight = 8;
	cfg.mqtt.reconnect_min_ms = 100;
	cfg.mqtt.reconnect_max_ms = 200;
	struct agw_publisher *p;
	assert_int_equal(agw_publisher_new(&loop, &cfg, f->store, &p), 0);
	assert_int_equal(agw_publisher_start(p), 0);
	uv_timer_t t;
	uv_timer_init(&loop, &t);
	t.data = p;
	uv_timer_start(&t, stop_timer_cb, 400, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(agw_metric_get("agw_outbox_depth", NULL), 2);
	agw_publisher_free(p);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_limit_counts_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depth_counts_rows, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
