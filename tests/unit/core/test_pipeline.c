/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pipeline writes each loop turn's alerts in one transaction with their decisions; a failing
 * decider rolls the batch back and nothing is lost; a full queue refuses with -ENOBUFS. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alarmgw/metrics.h"
#include "pipeline.h"
#include "testutil.h"

struct probe {
	int decided;
	int fail_next; /* fail this many decide calls */
	int committed;
	int in_txn_violations;
	struct agw_store *store;
};

static int decide(void *arg, struct agw_store *store, int64_t seq, const struct agw_alert *a)
{
	struct probe *p = arg;
	if (sqlite3_get_autocommit(agw_store_db(store)))
		p->in_txn_violations++;
	if (p->fail_next > 0) {
		p->fail_next--;
		return -EIO;
	}
	p->decided++;
	return agw_store_decision_add(store, seq, "drop", "test", a->camera_id, NULL, 0);
}

static void committed(void *arg)
{
	((struct probe *)arg)->committed++;
}

static void on_wake(uv_timer_t *t)
{
	(void)t;
}

static struct agw_alert make_alert(int i)
{
	struct agw_alert a;
	agw_alert_init(&a);
	char id[32];
	snprintf(id, sizeof(id), "cam-%d", i);
	a.camera_id = strdup(id);
	a.kind = AGW_KIND_MOTION;
	return a;
}

static void batches_and_retries(void **state)
{
	(void)state;
	char *dir = temp_dir();
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/p.db", dir);
	struct agw_store *s;
	assert_int_equal(agw_store_open(path, &s, err, sizeof(err)), 0);
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct agw_pipeline *p;
	assert_int_equal(agw_pipeline_new(&loop, s, 100, &p), 0);
	struct probe probe = {.store = s};
	agw_pipeline_set_decider(p, decide, &probe);
	assert_int_equal(agw_pipeline_add_committed_hook(p, committed, &probe), 0);

	for (int i = 0; i < 100; i++) {
		struct agw_alert a = make_alert(i);
		assert_int_equal(agw_pipeline_submit(p, &a), 0);
		agw_alert_clear(&a);
	}
	struct agw_alert extra = make_alert(999);
	assert_int_equal(agw_pipeline_submit(p, &extra), -ENOBUFS);
	assert_true(agw_metric_get("agw_alerts_refused_total", "reason=\"queue_full\"") >= 1);

	/* The decider fails once in the middle: the whole batch rolls back and is written again. */
	probe.fail_next = 1;
	assert_true(agw_pipeline_flush(p) < 0);
	assert_int_equal(agw_store_journal_count(s), 0);
	assert_int_equal(agw_pipeline_queued(p), 100);
	assert_int_equal(agw_pipeline_flush(p), 100);
	assert_int_equal(agw_store_journal_count(s), 100);
	assert_int_equal(probe.decided, 100);
	assert_int_equal(probe.committed, 1);
	assert_int_equal(probe.in_txn_violations, 0);
	assert_true(agw_pipeline_healthy(p));

	/* Through the loop: queued alerts are written on the next turn without an explicit flush. */
	assert_int_equal(agw_pipeline_submit(p, &extra), 0);
	uv_timer_t wake; /* a loop turn needs something alive, as an adapter's handle is in the daemon */
	uv_timer_init(&loop, &wake);
	uv_timer_start(&wake, on_wake, 1, 0);
	uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wake, NULL);
	assert_int_equal(agw_store_journal_count(s), 101);
	agw_alert_clear(&extra);

	agw_pipeline_free(p);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(batches_and_retries)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
