/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store: forward migration of an old database keeps its data; a newer database is refused;
 * journal and outbox writes, and the outbox limit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/stat.h>

#include <cmocka.h>

#include "store.h"
#include "testutil.h"

static int64_t scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void migrates_old_schema(void **state)
{
	(void)state;
	char *dir = temp_dir();
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/old.db", dir);
	/* A database as the first release wrote it: schema 1, with a camera and a journaled alert. */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(agw_store_migrate(db, 1, err, sizeof(err)), 0);
	assert_int_equal(scalar(db, "PRAGMA user_version"), 1);
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO cameras(id,name,protocol,address,updated_at) VALUES('c1','One','onvif','10.0.0.1',1);"
				      "INSERT INTO alerts(camera_id,kind,gateway_time,json) VALUES('c1','motion',5,'{}');",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	/* the newer tables do not exist yet */
	assert_int_not_equal(sqlite3_exec(db, "SELECT * FROM outbox", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	struct agw_store *s = NULL;
	assert_int_equal(agw_store_open(path, &s, err, sizeof(err)), 0);
	assert_int_equal(agw_store_schema_version(s), agw_store_latest_schema_version());
	assert_true(agw_store_latest_schema_version() >= 3);
	assert_int_equal(agw_store_journal_count(s), 1);
	assert_int_equal(scalar(agw_store_db(s), "SELECT count(*) FROM cameras WHERE id='c1'"), 1);
	assert_int_equal(scalar(agw_store_db(s), "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(scalar(agw_store_db(s), "SELECT count(*) FROM grid_cells"), 0);
	assert_int_equal(scalar(agw_store_db(s), "PRAGMA journal_mode='wal'") >= 0, 1);
	agw_store_close(s);
	/* opening again is a no-op */
	assert_int_equal(agw_store_open(path, &s, err, sizeof(err)), 0);
	assert_int_equal(agw_store_journal_count(s), 1);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
}

static void refuses_newer_schema(void **state)
{
	(void)state;
	char *dir = temp_dir();
	char path[512], err[256] = "";
	snprintf(path, sizeof(path), "%s/new.db", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=999", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct agw_store *s = NULL;
	assert_int_equal(agw_store_open(path, &s, err, sizeof(err)), -EPROTO);
	assert_null(s);
	assert_non_null(strstr(err, "newer than this alarmgw"));
	remove_tree(dir);
	free(dir);
}

static void journal_and_outbox(void **state)
{
	(void)state;
	char *dir = temp_dir();
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/j.db", dir);
	struct agw_store *s = NULL;
	assert_int_equal(agw_store_open(path, &s, err, sizeof(err)), 0);
	/* camera passwords live in it: owner only */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = strdup("c1");
	a.kind = AGW_KIND_TAMPER;
	a.active = AGW_ACTIVE_TRUE;
	a.gateway_time_ms = 1000;
	a.event_id = strdup("e-1");
	int64_t seq = 0;
	assert_int_equal(agw_store_begin(s), 0);
	assert_int_equal(agw_store_journal_alert(s, &a, &seq), 0);
	assert_true(seq > 0);
	assert_int_equal(agw_store_decision_add(s, seq, "drop", "r1", "test", NULL, 1000), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(agw_store_outbox_push(s, "t/x", "{}", 2, 1, false, "case-1", 3, NULL), 0);
	/* the fourth row is over the limit: refused, nothing written */
	assert_int_equal(agw_store_outbox_push(s, "t/x", "{}", 2, 1, false, "case-1", 3, NULL), -ENOSPC);
	assert_int_equal(agw_store_commit(s), 0);
	assert_int_equal(agw_store_outbox_count(s), 3);
	assert_int_equal(scalar(agw_store_db(s), "SELECT active FROM alerts WHERE event_id='e-1'"), 1);
	/* a rolled back batch leaves nothing */
	assert_int_equal(agw_store_begin(s), 0);
	assert_int_equal(agw_store_journal_alert(s, &a, &seq), 0);
	assert_int_equal(agw_store_rollback(s), 0);
	assert_int_equal(agw_store_journal_count(s), 1);
	agw_alert_clear(&a);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
}

/* The adapters' durable per-camera values: put, replace, get, delete, survive a reopen. */
static void adapter_state(void **state)
{
	(void)state;
	char *dir = temp_dir();
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/j.db", dir);
	struct agw_store *s = NULL;
	assert_int_equal(agw_store_open(path, &s, err, sizeof(err)), 0);
	char *v = NULL;
	assert_int_equal(agw_store_adapter_state_get(s, "onvif", "c1", "subscription", &v), -ENOENT);
	assert_int_equal(agw_store_adapter_state_put(s, "onvif", "c1", "subscription", "one", 5), 0);
	assert_int_equal(agw_store_adapter_state_put(s, "onvif", "c1", "subscription", "two\nlines", 6), 0);
	assert_int_equal(agw_store_adapter_state_put(s, "rtsp", "c1", "subscription", "other adapter", 6), 0);
	agw_store_close(s);
	assert_int_equal(agw_store_open(path, &s, err, sizeof(err)), 0);
	assert_int_equal(agw_store_adapter_state_get(s, "onvif", "c1", "subscription", &v), 0);
	assert_string_equal(v, "two\nlines");
	free(v);
	assert_int_equal(agw_store_adapter_state_put(s, "onvif", "c1", "subscription", NULL, 7), 0);
	assert_int_equal(agw_store_adapter_state_get(s, "onvif", "c1", "subscription", &v), -ENOENT);
	assert_int_equal(agw_store_adapter_state_get(s, "rtsp", "c1", "subscription", &v), 0);
	assert_string_equal(v, "other adapter");
	free(v);
	char *big = malloc(AGW_STORE_STATE_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', AGW_STORE_STATE_MAX + 1);
	big[AGW_STORE_STATE_MAX + 1] = '\0';
	assert_int_equal(agw_store_adapter_state_put(s, "onvif", "c1", "big", big, 8), -EMSGSIZE);
	free(big);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(migrates_old_schema),
		cmocka_unit_test(refuses_newer_schema),
		cmocka_unit_test(journal_and_outbox),
		cmocka_unit_test(adapter_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
