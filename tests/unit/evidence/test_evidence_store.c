/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The evidence table (gateway/evidence/evidence_store.c): numbering and the per-case limit, a
 * stored picture and its outbox row (payload, MQTT 5 properties) in one transaction, failures
 * without one, rows a crash left pending, pruning by age and by bytes oldest first, and file names
 * that never collide. */
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

#include "alarmgw/alert.h"
#include "evidence_internal.h"
#include "store.h"

static struct agw_store *open_store(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/agw-evstore-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char path[600], err[256];
	snprintf(path, sizeof(path), "%s/t.db", dir);
	struct agw_store *s = NULL;
	assert_int_equal(agw_store_open(path, &s, err, sizeof(err)), 0);
	return s;
}

static int64_t scalar(struct agw_store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(agw_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
	int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return v;
}

static void stage(struct agw_store *s, const char *case_id, int64_t max, int expect_rc, int64_t expect_n)
{
	int64_t n = -1;
	assert_int_equal(agw_store_begin(s), 0);
	assert_int_equal(evidence_db_stage(s, case_id, "cam-1", 7, 1000, max, &n), expect_rc);
	assert_int_equal(agw_store_commit(s), 0);
	if (expect_rc == 0)
		assert_int_equal(n, expect_n);
	else
		assert_int_equal(n, -1); /* untouched */
}

static void test_stage_numbers_and_limit(void **state)
{
	(void)state;
	char dir[64];
	struct agw_store *s = open_store(dir, sizeof(dir));
	stage(s, "case-a", 2, 0, 1);
	stage(s, "case-b", 2, 0, 1);
	stage(s, "case-a", 2, 0, 2);
	stage(s, "case-a", 2, -EEXIST, 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM evidence WHERE status = 'pending'"), 3);
	/* a crash leaves them pending: the next start says so */
	assert_int_equal(evidence_db_recover(s), 3);
	assert_int_equal(scalar(s, "SELECT count(*) FROM evidence WHERE status = 'failed' AND reason LIKE 'gateway stopped%'"), 3);
	agw_store_close(s);
}

static void test_finish_stored_and_failed(void **state)
{
	(void)state;
	char dir[64];
	struct agw_store *s = open_store(dir, sizeof(dir));
	stage(s, "case-a", 4, 0, 1);
	stage(s, "case-a", 4, 0, 2);
	const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xD9, 0x00};
	struct evidence_result r = {.case_id = "case-a", .n = 1, .camera_id = "cam-1", .status = "stored",
				    .type = "snapshot", .source = "http://10.0.0.1/snap.jpg", .camera_time = 1500,
				    .gateway_time = 2000, .bytes = sizeof(jpeg), .width = 640, .height = 480,
				    .path = "evidence-cases/x/case-a-1.jpg", .jpeg = jpeg, .topic = "agw/evidence/case-a/1"};
	strcpy(r.sha256, "ab");
	assert_int_equal(evidence_db_finish(s, &r, 100), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM evidence WHERE n = 1 AND status = 'stored' AND width = 640"
				   " AND height = 480 AND bytes = 5 AND captured_camera_time = 1500"
				   " AND topic = 'agw/evidence/case-a/1' AND path IS NOT NULL"), 1);
	assert_int_equal(scalar(s, "SELECT count(*) FROM outbox WHERE topic = 'agw/evidence/case-a/1'"
				   " AND case_id = 'case-a' AND length(payload) = 5"), 1);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(agw_store_db(s), "SELECT props FROM outbox", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	json_t *p = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
	sqlite3_finalize(st);
	assert_string_equal(json_string_value(json_object_get(p, "content_type")), "image/jpeg");
	json_t *user = json_object_get(p, "user");
	assert_string_equal(json_string_value(json_array_get(json_array_get(user, 0), 0)), "case_id");
	assert_string_equal(json_string_value(json_array_get(json_array_get(user, 5), 1)), "ab");
	assert_string_equal(json_string_value(json_array_get(json_array_get(user, 9), 1)), "1970-01-01T00:00:01.500Z");
	json_decref(p);

	struct evidence_result f = {.case_id = "case-a", .n = 2, .camera_id = "cam-1", .status = "failed",
				    .reason = "timeout: no picture within 5000 ms", .camera_time = AGW_TIME_UNKNOWN,
				    .gateway_time = 2100, .topic = "ignored"};
	assert_int_equal(evidence_db_finish(s, &f, 100), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM evidence WHERE n = 2 AND status = 'failed'"
				   " AND reason LIKE 'timeout%' AND path IS NULL AND topic IS NULL"), 1);
	assert_int_equal(scalar(s, "SELECT count(*) FROM outbox"), 1); /* nothing to publish */
	agw_store_close(s);
}

static void test_full_outbox_keeps_the_reason(void **state)
{
	(void)state;
	char dir[64];
	struct agw_store *s = open_store(dir, sizeof(dir));
	stage(s, "case-a", 4, 0, 1);
	assert_int_equal(agw_store_outbox_push(s, "x", "y", 1, 1, false, NULL, 0, NULL), 0);
	struct evidence_result r = {.case_id = "case-a", .n = 1, .camera_id = "cam-1", .status = "stored",
				    .camera_time = AGW_TIME_UNKNOWN, .gateway_time = 1, .bytes = 1, .jpeg = "j",
				    .path = "p", .topic = "agw/evidence/case-a/1"};
	assert_int_equal(evidence_db_finish(s, &r, 1), 0);
	assert_int_equal(scalar(s, "SELECT count(*) FROM evidence WHERE status = 'failed' AND reason LIKE 'outbox full%'"), 1);
	assert_int_equal(scalar(s, "SELECT count(*) FROM outbox"), 1);
	agw_store_close(s);
}

static void store_file(struct agw_store *s, const char *case_id, int64_t bytes, int64_t stored_at)
{
	int64_t n;
	assert_int_equal(agw_store_begin(s), 0);
	assert_int_equal(evidence_db_stage(s, case_id, "cam-1", 1, 1, 10, &n), 0);
	assert_int_equal(agw_store_commit(s), 0);
	char sql[256];
	snprintf(sql, sizeof(sql), "UPDATE evidence SET status='stored', path='f/%s', bytes=%lld, stored_at=%lld"
				   " WHERE case_id='%s'", case_id, (long long)bytes, (long long)stored_at, case_id);
	assert_int_equal(sqlite3_exec(agw_store_db(s), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_prune_age_then_bytes(void **state)
{
	(void)state;
	char dir[64];
	struct agw_store *s = open_store(dir, sizeof(dir));
	store_file(s, "c3", 100, 3000);
	store_file(s, "c1", 100, 1000);
	store_file(s, "c2", 100, 2000);
	store_file(s, "c4", 100, 4000);
	assert_int_equal(evidence_db_file_bytes(s), 400);
	struct evidence_prune_row *rows = NULL;
	size_t n = 0;
	/* by age: only c1 is older than 1500 */
	assert_int_equal(evidence_db_prune(s, 1500, 400, -1, 10, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].path, "f/c1");
	free(rows[0].path);
	free(rows);
	/* by bytes: 300 left, keep 150: the two oldest go (c2, c3) */
	assert_int_equal(evidence_db_prune(s, INT64_MIN, 300, 150, 10, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].path, "f/c2");
	assert_string_equal(rows[1].path, "f/c3");
	for (size_t i = 0; i < n; i++)
		free(rows[i].path);
	free(rows);
	assert_int_equal(evidence_db_file_bytes(s), 100);
	assert_int_equal(scalar(s, "SELECT count(*) FROM evidence WHERE status = 'pruned' AND path IS NULL"), 3);
	/* nothing more to do */
	assert_int_equal(evidence_db_prune(s, INT64_MIN, 100, 150, 10, &rows, &n), 0);
	assert_int_equal(n, 0);
	free(rows);
	agw_store_close(s);
}

static void test_file_names(void **state)
{
	(void)state;
	char a[256], b[256];
	assert_int_equal(evidence_file_name("gw-1/x", 1, 86400000, a, sizeof(a)), 0);
	assert_string_equal(a, "1970-01-02/gw-1%2Fx-1.jpg");
	/* "a%2F" written plainly would meet "a/" escaped: '%' is escaped too */
	assert_int_equal(evidence_file_name("a%2F", 1, 0, a, sizeof(a)), 0);
	assert_int_equal(evidence_file_name("a/", 1, 0, b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(evidence_file_name("..", 1, 0, a, sizeof(a)), 0);
	assert_null(strstr(a, "/.."));
	assert_int_equal(evidence_file_name("case", 1, 0, a, 12), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage_numbers_and_limit),
		cmocka_unit_test(test_finish_stored_and_failed),
		cmocka_unit_test(test_full_outbox_keeps_the_reason),
		cmocka_unit_test(test_prune_age_then_bytes),
		cmocka_unit_test(test_file_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
