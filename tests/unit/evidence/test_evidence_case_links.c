/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ready signed links in case messages (evidence.url_base, gateway/evidence/evidence_links.c) through
 * the real decider and store: the links the status server's check (evidence_url.c) accepts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "decider.h"
#include "evidence_url.h"

struct env {
	char dir[64];
	struct agw_config cfg;
	struct agw_store *store;
};

static void env_open(struct env *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/agw-links-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	agw_config_defaults(&e->cfg);
	free(e->cfg.state_dir);
	e->cfg.state_dir = strdup(e->dir);
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

static int64_t mono_of(int64_t wall)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return wall - (agw_now_ms() - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
}

/* One intrusion of cam-e, committed: opens the case, then updates it. */
static void decide_committed(struct agw_decider *d, struct agw_store *s, int64_t t)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = (char *)"cam-e";
	a.kind = AGW_KIND_INTRUSION;
	a.active = AGW_ACTIVE_NONE;
	a.gateway_time_ms = t;
	int64_t seq;
	assert_int_equal(agw_store_begin(s), 0);
	assert_int_equal(agw_store_journal_alert(s, &a, &seq), 0);
	assert_int_equal(agw_decider_decide(d, s, seq, &a, mono_of(t)), 0);
	assert_int_equal(agw_store_commit(s), 0);
}

/* The case's pictures as a capture writes them: n 1 stored, n 2 failed, n 3 still pending. */
static void insert_evidence(struct agw_store *s)
{
	assert_int_equal(sqlite3_exec(agw_store_db(s),
				      "INSERT INTO evidence(case_id, n, camera_id, status, reason, requested_at)"
				      " SELECT id, 2, 'cam-e', 'failed', 'timed out after 5s', 0 FROM cases;"
				      "INSERT INTO evidence(case_id, n, camera_id, type, status, bytes, sha256, path,"
				      " requested_at) SELECT id, 1, 'cam-e', 'snapshot', 'stored', 591, 'ab12', 'p', 0 FROM cases;"
				      "INSERT INTO evidence(case_id, n, camera_id, status, requested_at) SELECT id, 3,"
				      " 'cam-e', 'pending', 0 FROM cases",
				      NULL, NULL, NULL),
			 SQLITE_OK);
}

/* evidence.url_base: each entry with a picture stored or to come carries a link the status server's
 * check accepts, expiring url_lifetime after the message was written; a failed entry has none; a
 * key file that cannot be read stops the decider from opening (no message with a broken link). */
static void test_case_message_links(void **state)
{
	(void)state;
	struct env e;
	env_open(&e);
	char key_path[128];
	snprintf(key_path, sizeof(key_path), "%s/url.key", e.dir);
	e.cfg.evidence_url_key_file = strdup(key_path);
	e.cfg.evidence.url_base = strdup("https://gw-07.example:8443/");
	e.cfg.evidence.url_lifetime_ms = 3600000;
	struct agw_errors errs = {0};
	struct agw_decider *d;
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), -ENOENT); /* no key file yet */
	assert_true(errs.n >= 1);
	agw_errors_clear(&errs);
	FILE *f = fopen(key_path, "w");
	assert_non_null(f);
	fputs("0123456789abcdef0123456789abcdef0123\n", f);
	fclose(f);
	assert_int_equal(agw_decider_new(&e.cfg, e.store, &d, &errs), 0);
	int64_t now = agw_now_ms();
	decide_committed(d, e.store, now);
	insert_evidence(e.store);
	int64_t t0 = agw_now_ms();
	decide_committed(d, e.store, now + 1);
	int64_t t1 = agw_now_ms();
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(agw_store_db(e.store), "SELECT id, json FROM cases", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	char id[128];
	snprintf(id, sizeof(id), "%s", (const char *)sqlite3_column_text(st, 0));
	json_t *j = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
	sqlite3_finalize(st);
	assert_non_null(j);
	json_t *ev = json_object_get(j, "evidence");
	assert_int_equal(json_array_size(ev), 3);
	struct agw_evidence_url_key key;
	char why[160];
	assert_int_equal(agw_evidence_url_key_load(key_path, &key, why, sizeof(why)), 0);
	for (int n = 1; n <= 3; n++) {
		json_t *x = json_array_get(ev, (size_t)n - 1);
		const char *url = json_string_value(json_object_get(x, "url"));
		if (n == 2) { /* failed: no picture will come */
			assert_true(json_is_null(json_object_get(x, "url")) && json_is_null(json_object_get(x, "url_expires")));
			continue;
		}
		assert_non_null(url);
		char path[200], prefix[240];
		snprintf(path, sizeof(path), "/evidence/%s/%d", id, n);
		snprintf(prefix, sizeof(prefix), "https://gw-07.example:8443%s?", path);
		assert_memory_equal(url, prefix, strlen(prefix));
		const char *query = url + strlen(prefix);
		long long exp = atoll(strstr(query, "exp=") + 4);
		assert_true(exp * 1000 >= t0 + 3600000 && exp * 1000 <= t1 + 3600000 + 1000);
		assert_int_equal(agw_evidence_url_check(&key, path, query, t1 / 1000, why, sizeof(why)), 0);
		assert_int_equal(agw_evidence_url_check(&key, path, query, exp + 1, why, sizeof(why)), -EKEYEXPIRED);
		char expires[40];
		agw_time_format_ms(exp * 1000, expires, sizeof(expires));
		assert_string_equal(json_string_value(json_object_get(x, "url_expires")), expires);
		char other[200];
		snprintf(other, sizeof(other), "/evidence/%s/%d", id, n == 1 ? 3 : 1);
		assert_int_equal(agw_evidence_url_check(&key, other, query, t1 / 1000, why, sizeof(why)), -EPERM);
	}
	json_decref(j);
	agw_decider_free(d);
	env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case_message_links),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
