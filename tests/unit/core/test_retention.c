/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Journal retention deletes old alerts, their decisions and old closed cases, by age and by count,
 * a batch at a time; open cases and the outbox are never touched. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "retention.h"
#include "testutil.h"

static int64_t scalar(struct agw_store *s, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(agw_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* 100 alerts at gateway times 1000, 2000, ... 100000 ms, each with a decision; 3 cases. */
static struct agw_store *seeded(char **dir)
{
	*dir = temp_dir();
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/r.db", *dir);
	struct agw_store *s;
	assert_int_equal(agw_store_open(path, &s, err, sizeof(err)), 0);
	assert_int_equal(agw_store_begin(s), 0);
	for (int i = 1; i <= 100; i++) {
		struct agw_alert a;
		agw_alert_init(&a);
		a.camera_id = strdup("c");
		a.gateway_time_ms = i * 1000;
		int64_t seq;
		assert_int_equal(agw_store_journal_alert(s, &a, &seq), 0);
		assert_int_equal(agw_store_decision_add(s, seq, "drop", NULL, "t", NULL, i * 1000), 0);
		agw_alert_clear(&a);
	}
	assert_int_equal(agw_store_outbox_push(s, "t", "x", 1, 1, false, "old", 0, NULL), 0);
	assert_int_equal(sqlite3_exec(agw_store_db(s),
				      "INSERT INTO cases(id,incident_key,status,opened_at,updated_at,closed_at) VALUES"
				      "('old-closed','k1','closed',1,1,5000),('new-closed','k2','closed',1,1,90000),"
				      "('old-open','k3','open',1,1,NULL)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(agw_store_commit(s), 0);
	return s;
}

static void by_age_in_batches(void **state)
{
	(void)state;
	char *dir;
	struct agw_store *s = seeded(&dir);
	/* at t = 100 s with a 50.5 s retention, alerts 1..49 (times 1..49 s) are due */
	struct agw_retention p = {.max_age_ms = 50500, .batch = 20};
	int64_t total = 0, n;
	int calls = 0;
	while ((n = agw_retention_prune(s, &p, 100000)) > 0) {
		total += n;
		calls++;
		assert_true(n <= 20 * 3); /* alerts + decisions + cases, each at most one batch */
	}
	assert_int_equal(n, 0);
	assert_true(calls >= 3);
	assert_int_equal(scalar(s, "SELECT count(*) FROM alerts"), 51);
	assert_int_equal(scalar(s, "SELECT min(gateway_time) FROM alerts"), 50000);
	assert_int_equal(scalar(s, "SELECT count(*) FROM decisions"), 51);
	assert_int_equal(scalar(s, "SELECT count(*) FROM cases WHERE id='old-closed'"), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM cases WHERE id IN ('new-closed','old-open')"), 2);
	assert_int_equal(scalar(s, "SELECT count(*) FROM outbox"), 1);
	assert_int_equal(total, 49 + 49 + 1);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
}

static void by_count(void **state)
{
	(void)state;
	char *dir;
	struct agw_store *s = seeded(&dir);
	struct agw_retention p = {.max_rows = 30, .batch = 1000};
	assert_true(agw_retention_prune(s, &p, 100000) > 0);
	assert_int_equal(agw_retention_prune(s, &p, 100000), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM alerts"), 30);
	assert_int_equal(scalar(s, "SELECT min(gateway_time) FROM alerts"), 71000);
	assert_int_equal(scalar(s, "SELECT count(*) FROM decisions"), 30);
	assert_int_equal(scalar(s, "SELECT count(*) FROM cases"), 3); /* no age limit: cases stay */
	/* nothing configured: nothing deleted */
	struct agw_retention off = {0};
	assert_int_equal(agw_retention_prune(s, &off, 1000000000), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM alerts"), 30);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
}

/* Decisions of no alert (escalations, feedback, timers) are the history of their case: kept while
 * the case is, however old the alerts around them, and deleted with it. */
static void case_history_kept(void **state)
{
	(void)state;
	char *dir;
	struct agw_store *s = seeded(&dir);
	assert_int_equal(agw_store_decision_add(s, 0, "escalate", "r", "supervision", "old-open", 1500), 0);
	assert_int_equal(agw_store_decision_add(s, 0, "status", "r", "feedback: closed", "old-closed", 1600), 0);
	assert_int_equal(sqlite3_exec(agw_store_db(s),
				      "INSERT INTO cases(id,incident_key,status,opened_at,updated_at,closed_at) VALUES"
				      "('old-rejected','k4','rejected',1,1,5000)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	struct agw_retention p = {.max_age_ms = 50500, .batch = 1000};
	while (agw_retention_prune(s, &p, 100000) > 0)
		;
	assert_int_equal(scalar(s, "SELECT count(*) FROM decisions WHERE case_id = 'old-open'"), 1);
	assert_int_equal(scalar(s, "SELECT count(*) FROM decisions WHERE case_id = 'old-closed'"), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM cases WHERE id IN ('old-closed','old-rejected')"), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM decisions WHERE alert_seq IS NOT NULL"), 51);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(case_history_kept),
		cmocka_unit_test(by_age_in_batches),
		cmocka_unit_test(by_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
