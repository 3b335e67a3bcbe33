/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pipeline writes each loop turn's alerts in one transaction with their decisions. A store
 * failure in the middle of a batch rolls back the store and the real rule engine together: the
 * retried batch gives exactly the cases, counts and messages of a run that never failed, ticks
 * included. Back-pressure: -EAGAIN past the count and byte bounds and while the store fails, one
 * room call after the queue drained below half; -ESHUTDOWN once freed; durable acknowledgements
 * after the commit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alarmgw/metrics.h"
#include "decider.h"
#include "pipeline.h"
#include "testutil.h"

#define MINUTE (60 * 1000LL)
#define T0 1795363200000LL /* a wall clock the test controls */

struct clock {
	int64_t wall, mono;
};

static int64_t clock_wall(void *arg)
{
	return ((struct clock *)arg)->wall;
}

static int64_t clock_mono(void *arg)
{
	return ((struct clock *)arg)->mono;
}

static struct agw_alert make_alert(const char *cam, enum agw_alert_kind kind, enum agw_active active)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = strdup(cam);
	a.kind = kind;
	a.active = active;
	a.operation = AGW_OP_CHANGED;
	a.topic = strdup("tns1:RuleEngine/FieldDetector/ObjectsInside");
	return a;
}

static void submit(struct agw_pipeline *p, const char *cam, enum agw_alert_kind kind, enum agw_active active)
{
	struct agw_alert a = make_alert(cam, kind, active);
	assert_int_equal(agw_pipeline_submit(p, &a), 0);
	agw_alert_clear(&a);
}

static void exec(struct agw_store *s, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(agw_store_db(s), sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* Everything the run wrote that leaves the gateway or decides its future, as text. */
static char *dump(struct agw_store *s)
{
	static const char *const q[] = {
		"SELECT seq, topic, payload, case_id FROM outbox ORDER BY seq",
		"SELECT id, incident_key, status, count, first_seen, last_seen, json FROM cases ORDER BY id",
		"SELECT alert_seq, action, rule, reason, case_id, at FROM decisions ORDER BY seq",
		"SELECT seq, camera_id, kind, active FROM alerts ORDER BY seq",
	};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_prepare_v2(agw_store_db(s), q[i], -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++)
				fprintf(f, "%s|", sqlite3_column_text(st, c) ? (const char *)sqlite3_column_text(st, c) : "NULL");
			fputc('\n', f);
		}
		sqlite3_finalize(st);
		fputs("--\n", f);
	}
	fclose(f);
	return out;
}

static const char RULES[] = "version = 1;\n"
			    "defaults = { dedup_window = \"5m\"; dedup_by = \"camera\"; clear_timeout = \"10m\"; };\n"
			    "rules = (\n"
			    "  { name = \"tamper\"; kinds = [\"tamper\"]; min_duration = \"10s\"; action = \"open\"; },\n"
			    "  { name = \"intrusion\"; kinds = [\"intrusion\"]; clear_timeout = \"2m\"; action = \"open\"; }\n"
			    ");\n";

struct run {
	char *dir;
	struct agw_config cfg;
	struct agw_store *store;
	struct agw_decider *d;
	struct agw_pipeline *p;
	uv_loop_t loop;
	struct clock clk;
};

static void run_open(struct run *r, const char *rules_path)
{
	memset(r, 0, sizeof(*r));
	r->dir = temp_dir();
	agw_config_defaults(&r->cfg);
	free(r->cfg.state_dir);
	r->cfg.state_dir = strdup(r->dir);
	r->cfg.rules_file = strdup(rules_path);
	free(r->cfg.grid_layer);
	r->cfg.grid_layer = NULL;
	char *path = agw_config_db_path(&r->cfg), err[256];
	assert_int_equal(agw_store_open(path, &r->store, err, sizeof(err)), 0);
	free(path);
	struct agw_errors errs = {0};
	assert_int_equal(agw_decider_new(&r->cfg, r->store, &r->d, &errs), 0);
	uv_loop_init(&r->loop);
	assert_int_equal(agw_pipeline_new(&r->loop, r->store, 1000, &r->p), 0);
	r->clk = (struct clock){T0, 5000};
	agw_pipeline_set_clock(r->p, clock_wall, clock_mono, &r->clk);
	agw_pipeline_set_decider(r->p, agw_decider_decide, r->d);
	agw_pipeline_set_decider_txn(r->p, agw_decider_txn);
	agw_pipeline_set_tick(r->p, agw_decider_tick, r->d, 0);
}

static void run_close(struct run *r)
{
	agw_pipeline_free(r->p);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&r->loop), 0);
	agw_decider_free(r->d);
	agw_store_close(r->store);
	agw_config_free(&r->cfg);
	remove_tree(r->dir);
	free(r->dir);
}

/* A flush that fails on the chosen decision (when fail_sql is set), then the retry. */
static void flush(struct run *r, const char *fail_sql)
{
	if (fail_sql) {
		exec(r->store, fail_sql);
		size_t queued = agw_pipeline_queued(r->p);
		assert_true(agw_pipeline_flush(r->p) < 0);
		assert_int_equal(agw_pipeline_queued(r->p), queued); /* the batch stays queued */
		exec(r->store, "DROP TRIGGER fail_here");
	}
	assert_true(agw_pipeline_flush(r->p) >= 0);
	assert_int_equal(agw_pipeline_queued(r->p), 0);
}

static char *scenario(const char *rules_path, bool fail)
{
	struct run r;
	run_open(&r, rules_path);
	/* Batch 1: opens, a pending tamper, an update, a close; the 4th decision fails. */
	submit(r.p, "cam-1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE);
	submit(r.p, "cam-2", AGW_KIND_TAMPER, AGW_ACTIVE_TRUE);
	submit(r.p, "cam-3", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE);
	submit(r.p, "cam-1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE);
	submit(r.p, "cam-3", AGW_KIND_INTRUSION, AGW_ACTIVE_FALSE);
	submit(r.p, "cam-3", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE);
	flush(&r, fail ? "CREATE TEMP TRIGGER fail_here BEFORE INSERT ON decisions WHEN NEW.alert_seq = 4"
			 " BEGIN SELECT RAISE(ABORT, 'injected'); END"
		       : NULL);
	/* Batch 2, three minutes later: the tick opens the tamper case (min_duration) and closes
	 * cam-1's and cam-3's by clear timeout, then an alert's decision fails after them. */
	r.clk.wall += 3 * MINUTE;
	r.clk.mono += 3 * MINUTE;
	agw_pipeline_tick_now(r.p);
	submit(r.p, "cam-4", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE);
	submit(r.p, "cam-2", AGW_KIND_TAMPER, AGW_ACTIVE_TRUE);
	submit(r.p, "cam-5", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE);
	flush(&r, fail ? "CREATE TEMP TRIGGER fail_here BEFORE INSERT ON decisions WHEN NEW.alert_seq = 9"
			 " BEGIN SELECT RAISE(ABORT, 'injected'); END"
		       : NULL);
	/* Batch 3: the failure hits the tick's own close. */
	r.clk.wall += 3 * MINUTE;
	r.clk.mono += 3 * MINUTE;
	agw_pipeline_tick_now(r.p);
	submit(r.p, "cam-2", AGW_KIND_TAMPER, AGW_ACTIVE_FALSE);
	flush(&r, fail ? "CREATE TEMP TRIGGER fail_here BEFORE INSERT ON decisions WHEN NEW.alert_seq IS NULL AND"
			 " NEW.case_id = (SELECT id FROM cases WHERE camera_id = 'cam-5')"
			 " BEGIN SELECT RAISE(ABORT, 'injected'); END"
		       : NULL);
	char *text = dump(r.store);
	run_close(&r);
	return text;
}

static int count_lines(const char *text, const char *what)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void rollback_in_the_middle_equals_no_failure(void **state)
{
	(void)state;
	char *rules = write_temp(".conf", RULES);
	char *clean = scenario(rules, false);
	if (getenv("DUMP"))
		fprintf(stderr, "%s", clean);
	char *failed = scenario(rules, true);
	/* The scenario does what it says: the tick's open and closes are there. */
	assert_non_null(strstr(clean, "min_duration"));
	assert_int_equal(count_lines(clean, "clear timeout"), 4);
	assert_int_equal(count_lines(clean, "\"action\":\"open\""), 5);
	assert_string_equal(failed, clean);
	free(clean);
	free(failed);
	unlink(rules);
	free(rules);
}

/* Issue 11 item 6, through the pipeline: the wall clock jumps an hour ahead between two alerts a
 * minute apart: the second one updates the case (dedup window on the monotonic clock), and the
 * store's failing time is the monotonic one. */
static void wall_clock_step(void **state)
{
	(void)state;
	char *rules = write_temp(".conf", RULES);
	struct run r;
	run_open(&r, rules);
	submit(r.p, "cam-1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE);
	assert_int_equal(agw_pipeline_flush(r.p), 1);
	r.clk.wall += 60 * MINUTE + MINUTE;
	r.clk.mono += MINUTE;
	submit(r.p, "cam-1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE);
	exec(r.store, "CREATE TEMP TRIGGER fail_here BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'x'); END");
	assert_true(agw_pipeline_flush(r.p) < 0);
	r.clk.wall -= 3 * 60 * MINUTE; /* stepped back three hours while failing */
	r.clk.mono += 2500;
	int64_t failing_ms = 0;
	assert_false(agw_pipeline_store_ok(r.p, &failing_ms));
	assert_int_equal(failing_ms, 2500);
	exec(r.store, "DROP TRIGGER fail_here");
	assert_int_equal(agw_pipeline_flush(r.p), 1);
	char *text = dump(r.store);
	assert_int_equal(count_lines(text, "\"action\":\"open\""), 1);
	assert_int_equal(count_lines(text, "\"action\":\"update\""), 2); /* its message and the case row */
	assert_non_null(strstr(text, "\"last_seen\":\"2026-11-22T17:01:00.000Z\"")); /* the wall time */
	free(text);
	run_close(&r);
	unlink(rules);
	free(rules);
}

/* The case row follows every decision, whether the decider writes its activity columns alone (an
 * update of an open case) or the whole row (open, close). */
static char *case_row(struct agw_store *s)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(agw_store_db(s),
					    "SELECT status, count, last_seen - first_seen, updated_at - opened_at,"
					    " closed_at IS NOT NULL, esc_level, json FROM cases", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	char *row = NULL;
	assert_true(asprintf(&row, "%s %d %lld %lld %d %d %s", sqlite3_column_text(st, 0), sqlite3_column_int(st, 1),
			     (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3),
			     sqlite3_column_int(st, 4), sqlite3_column_int(st, 5), sqlite3_column_text(st, 6)) > 0);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	return row;
}

static void case_row_follows_decisions(void **state)
{
	(void)state;
	char *rules = write_temp(".conf", RULES);
	struct run r;
	run_open(&r, rules);
	submit(r.p, "cam-1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE);
	assert_int_equal(agw_pipeline_flush(r.p), 1);
	char *row = case_row(r.store);
	assert_true(!strncmp(row, "open 1 0 0 0 0 {", 16));
	free(row);
	for (int i = 2; i <= 3; i++) {
		r.clk.wall += 1000;
		r.clk.mono += 1000;
		submit(r.p, "cam-1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE);
		assert_int_equal(agw_pipeline_flush(r.p), 1);
		row = case_row(r.store);
		char want[64], count[32];
		snprintf(want, sizeof(want), "open %d %d %d 0 0 {", i, (i - 1) * 1000, (i - 1) * 1000);
		snprintf(count, sizeof(count), "\"count\":%d", i);
		if (strncmp(row, want, strlen(want)) || !strstr(row, count))
			fail_msg("after update %d: %s", i, row);
		free(row);
	}
	/* the platform accepts it: the status column moves, and the next update keeps it */
	enum agw_decision_action action;
	const char *id = agw_decider_last_case(r.d, &action);
	assert_non_null(id);
	char case_id[64], why[160];
	snprintf(case_id, sizeof(case_id), "%s", id);
	assert_int_equal(agw_store_begin(r.store), 0);
	assert_int_equal(agw_decider_case_feedback(r.d, r.store, case_id, "accepted", NULL, why, sizeof(why)), 0);
	assert_int_equal(agw_store_commit(r.store), 0);
	agw_decider_feedback_done(r.d, true);
	row = case_row(r.store);
	if (strncmp(row, "accepted 3 2000 ", 16) || !strstr(row, "\"status\":\"accepted\""))
		fail_msg("after the feedback: %s", row);
	free(row);
	r.clk.wall += 1000;
	r.clk.mono += 1000;
	submit(r.p, "cam-1", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE);
	assert_int_equal(agw_pipeline_flush(r.p), 1);
	row = case_row(r.store);
	if (strncmp(row, "accepted 4 3000 3000 0 0 {", 26) || !strstr(row, "\"count\":4"))
		fail_msg("after the update: %s", row);
	free(row);
	/* the platform closes it: status and closure written */
	assert_int_equal(agw_store_begin(r.store), 0);
	assert_int_equal(agw_decider_case_feedback(r.d, r.store, case_id, "closed", NULL, why, sizeof(why)), 0);
	assert_int_equal(agw_store_commit(r.store), 0);
	agw_decider_feedback_done(r.d, true);
	row = case_row(r.store);
	/* (feedback is stamped with the real wall clock, not the test's) */
	if (strncmp(row, "closed 4 3000 ", 14) || !strstr(row, " 1 0 {") || !strstr(row, "\"status\":\"closed\""))
		fail_msg("after the close: %s", row);
	free(row);
	run_close(&r);
	unlink(rules);
	free(rules);
}

/* ---- back-pressure ---- */

struct probe {
	int rooms;
	int acks, ack_errors;
	struct agw_pipeline *p;
};

static void on_room(void *arg)
{
	((struct probe *)arg)->rooms++;
}

static void on_done(void *arg, int status)
{
	struct probe *pr = arg;
	if (status == 0)
		pr->acks++;
	else
		pr->ack_errors++;
}

static int decide_nothing(void *arg, struct agw_store *store, int64_t seq, const struct agw_alert *a, int64_t mono)
{
	(void)arg, (void)mono;
	return agw_store_decision_add(store, seq, "drop", "test", a->camera_id, NULL, 0);
}

static void back_pressure(void **state)
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
	assert_int_equal(agw_pipeline_new(&loop, s, 10, &p), 0);
	struct probe pr = {.p = p};
	agw_pipeline_set_decider(p, decide_nothing, NULL);
	agw_pipeline_set_room(p, on_room, &pr);

	/* by count: 10 go in, the 11th is refused */
	for (int i = 0; i < 10; i++)
		submit(p, "cam", AGW_KIND_MOTION, AGW_ACTIVE_TRUE);
	struct agw_alert a = make_alert("cam", AGW_KIND_MOTION, AGW_ACTIVE_TRUE);
	assert_int_equal(agw_pipeline_submit(p, &a), -EAGAIN);
	assert_true(agw_metric_get("agw_alerts_refused_total", "reason=\"queue_full\"") >= 1);
	assert_int_equal(agw_pipeline_flush(p), 10);
	assert_int_equal(pr.rooms, 1); /* one call, after the queue drained */
	assert_int_equal(agw_pipeline_flush(p), 0);
	assert_int_equal(pr.rooms, 1);

	/* by bytes: a large payload fills the byte bound long before the count */
	agw_pipeline_set_max_bytes(p, 64 * 1024);
	char *big = malloc(40 * 1024);
	memset(big, 'x', 40 * 1024 - 1);
	big[40 * 1024 - 1] = '\0';
	a.payload = big;
	assert_int_equal(agw_pipeline_submit(p, &a), 0); /* alone it goes in even if larger than half */
	assert_int_equal(agw_pipeline_submit(p, &a), -EAGAIN);
	assert_true(agw_metric_get("agw_alerts_refused_total", "reason=\"queue_bytes\"") >= 1);
	assert_true(agw_pipeline_queued_bytes(p) > 40 * 1024);
	assert_int_equal(pr.rooms, 1);
	assert_int_equal(agw_pipeline_flush(p), 1);
	assert_int_equal(pr.rooms, 2);
	assert_int_equal(agw_pipeline_queued_bytes(p), 0);
	free(big);
	a.payload = NULL;

	for (int i = 0; i < 10; i++)
		submit(p, "cam", AGW_KIND_MOTION, AGW_ACTIVE_TRUE);
	assert_int_equal(agw_pipeline_submit(p, &a), -EAGAIN);

	/* while the store fails: refused (store_failing), the batch kept; room once it works again */
	exec(s, "CREATE TEMP TRIGGER fail_here BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'injected'); END");
	assert_true(agw_pipeline_flush(p) < 0);
	assert_false(agw_pipeline_store_ok(p, NULL));
	assert_int_equal(agw_pipeline_queued(p), 10);
	assert_int_equal(pr.rooms, 2);
	exec(s, "DROP TRIGGER fail_here");
	assert_int_equal(agw_pipeline_flush(p), 10);
	assert_true(agw_pipeline_store_ok(p, NULL));
	assert_int_equal(pr.rooms, 3);
	exec(s, "CREATE TEMP TRIGGER fail_here BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'injected'); END");
	submit(p, "cam", AGW_KIND_MOTION, AGW_ACTIVE_TRUE);
	assert_true(agw_pipeline_flush(p) < 0);
	assert_int_equal(agw_pipeline_submit(p, &a), -EAGAIN);
	assert_true(agw_metric_get("agw_alerts_refused_total", "reason=\"store_failing\"") >= 1);
	exec(s, "DROP TRIGGER fail_here");
	assert_int_equal(agw_pipeline_flush(p), 1);
	assert_int_equal(pr.rooms, 4);

	/* durable: acknowledged after the commit, not before; -ESHUTDOWN when dropped unwritten */
	assert_int_equal(agw_pipeline_submit_durable(p, &a, on_done, &pr), 0);
	assert_int_equal(pr.acks, 0);
	assert_int_equal(agw_pipeline_flush(p), 1);
	assert_int_equal(pr.acks, 1);
	exec(s, "CREATE TEMP TRIGGER fail_here BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'injected'); END");
	assert_int_equal(agw_pipeline_submit_durable(p, &a, on_done, &pr), 0);
	assert_true(agw_pipeline_flush(p) < 0);
	assert_int_equal(pr.acks, 1);
	assert_int_equal(pr.ack_errors, 0);
	agw_pipeline_free(p); /* the store still fails: the alert is reported unwritten */
	assert_int_equal(pr.ack_errors, 1);
	assert_int_equal(pr.acks, 1);
	agw_alert_clear(&a);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
}

static void on_wake(uv_timer_t *t)
{
	(void)t;
}

/* Through the loop: queued alerts are written on the next turn without an explicit flush, and a
 * failed batch is retried from the pipeline's own timer (the caller does nothing). */
static void loop_turns_and_timer_retries(void **state)
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
	agw_pipeline_set_decider(p, decide_nothing, NULL);
	uv_timer_t wake; /* a loop turn needs something alive, as an adapter's handle is in the daemon */
	uv_timer_init(&loop, &wake);
	submit(p, "cam", AGW_KIND_MOTION, AGW_ACTIVE_TRUE);
	uv_timer_start(&wake, on_wake, 1, 0);
	uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(agw_store_journal_count(s), 1);
	exec(s, "CREATE TEMP TRIGGER fail_here BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'x'); END");
	submit(p, "cam", AGW_KIND_MOTION, AGW_ACTIVE_TRUE);
	uv_timer_start(&wake, on_wake, 1, 0);
	uv_run(&loop, UV_RUN_ONCE);
	assert_false(agw_pipeline_store_ok(p, NULL));
	exec(s, "DROP TRIGGER fail_here");
	for (int i = 0; i < 100 && agw_pipeline_queued(p); i++) {
		uv_timer_start(&wake, on_wake, 20, 0);
		uv_run(&loop, UV_RUN_ONCE);
	}
	assert_int_equal(agw_store_journal_count(s), 2);
	assert_true(agw_pipeline_store_ok(p, NULL));
	uv_close((uv_handle_t *)&wake, NULL);
	agw_pipeline_free(p);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
}

/* Commit by time and size: an alert waits up to the commit window for others (the alerts of
 * several loop turns share one commit), is acknowledged only after that commit, and a full batch
 * is written at once without waiting for the window. */
static int on_commit(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void submit_acked(struct agw_pipeline *p, struct probe *pr)
{
	struct agw_alert a = make_alert("cam", AGW_KIND_MOTION, AGW_ACTIVE_TRUE);
	assert_int_equal(agw_pipeline_submit_durable(p, &a, on_done, pr), 0);
	agw_alert_clear(&a);
}

static void turn(uv_loop_t *loop, uv_timer_t *wake, uint64_t ms)
{
	uv_timer_start(wake, on_wake, ms, 0);
	uv_run(loop, UV_RUN_ONCE);
}

static void commit_window_and_size(void **state)
{
	(void)state;
	char *dir = temp_dir();
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/p.db", dir);
	struct agw_store *s;
	assert_int_equal(agw_store_open(path, &s, err, sizeof(err)), 0);
	int commits = 0;
	sqlite3_commit_hook(agw_store_db(s), on_commit, &commits);
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct agw_pipeline *p;
	assert_int_equal(agw_pipeline_new(&loop, s, 100, &p), 0);
	struct probe pr = {.p = p};
	agw_pipeline_set_decider(p, decide_nothing, NULL);
	/* a long window, so that a loaded machine cannot make the first turns late enough to commit */
	agw_pipeline_set_commit(p, 1500, 4);
	uv_timer_t wake;
	uv_timer_init(&loop, &wake);
	uint64_t t0 = uv_hrtime();
	submit_acked(p, &pr);
	turn(&loop, &wake, 1);
	submit_acked(p, &pr); /* a later turn, inside the first alert's window */
	turn(&loop, &wake, 1);
	assert_int_equal(commits, 0);
	assert_int_equal(agw_store_journal_count(s), 0);
	assert_int_equal(pr.acks, 0); /* nothing acknowledged before its commit */
	for (int i = 0; i < 400 && agw_pipeline_queued(p); i++)
		turn(&loop, &wake, 10);
	assert_int_equal(agw_pipeline_queued(p), 0);
	/* about the window (the loop's timer may fire a little early: its clock is the time of the turn) */
	assert_true((uv_hrtime() - t0) / 1000000 >= 1000);
	assert_int_equal(commits, 1);                         /* both turns in one commit */
	assert_int_equal(agw_store_journal_count(s), 2);
	assert_int_equal(pr.acks, 2);
	/* Size: the fourth alert makes the batch; it is written at the end of that turn. */
	for (int i = 0; i < 4; i++)
		submit_acked(p, &pr);
	turn(&loop, &wake, 1);
	assert_int_equal(commits, 2);
	assert_int_equal(agw_store_journal_count(s), 6);
	assert_int_equal(pr.acks, 6);
	/* Free writes what waits in a window at once. */
	submit_acked(p, &pr);
	uv_close((uv_handle_t *)&wake, NULL);
	agw_pipeline_free(p);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(pr.acks, 7);
	assert_int_equal(agw_store_journal_count(s), 7);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
}

/* An acknowledgement that submits again (a push adapter answering one event and taking the next)
 * never lands in a slot whose own acknowledgement is still due. */
struct resubmit {
	struct agw_pipeline *p;
	int acks, again;
};

static void on_done_resubmit(void *arg, int status)
{
	struct resubmit *rs = arg;
	assert_int_equal(status, 0);
	/* the first one takes two more events at once */
	for (int k = rs->acks++ == 0 ? 2 : 1; k > 0; k--) {
		struct agw_alert a = make_alert("cam", AGW_KIND_MOTION, AGW_ACTIVE_TRUE);
		if (agw_pipeline_submit_durable(rs->p, &a, on_done_resubmit, rs) == 0)
			rs->again++;
		agw_alert_clear(&a);
	}
}

static void ack_that_submits(void **state)
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
	assert_int_equal(agw_pipeline_new(&loop, s, 4, &p), 0);
	struct resubmit rs = {.p = p};
	struct probe pr = {.p = p};
	agw_pipeline_set_room(p, on_room, &pr);
	for (int i = 0; i < 4; i++) {
		struct agw_alert a = make_alert("cam", AGW_KIND_MOTION, AGW_ACTIVE_TRUE);
		assert_int_equal(agw_pipeline_submit_durable(p, &a, on_done_resubmit, &rs), 0);
		agw_alert_clear(&a);
	}
	assert_int_equal(agw_pipeline_flush(p), 4);
	/* each of the four once: none of them replaced by a new, unwritten alert's acknowledgement */
	assert_int_equal(rs.acks, 4);
	assert_int_equal(agw_pipeline_queued(p), (size_t)rs.again);
	/* the queue looked full to them (the batch still held its slots): refused, then resumed */
	assert_int_equal(pr.rooms, 1);
	int again = rs.again;
	assert_int_equal(agw_pipeline_flush(p), again);
	assert_int_equal(rs.acks, 4 + again);
	assert_int_equal(agw_store_journal_count(s), 4 + again);
	agw_pipeline_free(p);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
}

static void hysteresis_by_count(void **state)
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
	/* 12000 slots: one flush writes 5000 (its batch bound) */
	assert_int_equal(agw_pipeline_new(&loop, s, 12000, &p), 0);
	struct probe pr = {.p = p};
	agw_pipeline_set_room(p, on_room, &pr);
	for (int i = 0; i < 12000; i++)
		submit(p, "cam", AGW_KIND_MOTION, AGW_ACTIVE_TRUE);
	struct agw_alert a = make_alert("cam", AGW_KIND_MOTION, AGW_ACTIVE_TRUE);
	assert_int_equal(agw_pipeline_submit(p, &a), -EAGAIN);
	assert_int_equal(agw_pipeline_flush(p), 5000); /* 7000 left: above half */
	assert_int_equal(pr.rooms, 0);
	assert_int_equal(agw_pipeline_submit(p, &a), 0); /* there is room, but no resume call yet */
	assert_int_equal(agw_pipeline_flush(p), 5000); /* 2001 left: below half */
	assert_int_equal(pr.rooms, 1);
	agw_pipeline_free(p);
	/* stopping for good (the memory lives until its handles are closed by the loop) */
	assert_int_equal(agw_pipeline_submit(p, &a), -ESHUTDOWN);
	agw_alert_clear(&a);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(agw_store_journal_count(s), 12001); /* free wrote every batch */
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
}

/* A stop while another process holds the write lock: the queue waits for it (up to the stop wait),
 * then everything is written. */
struct locker {
	const char *path;
	int hold_ms;
	uv_sem_t locked;
};

static void locker_run(void *arg)
{
	struct locker *l = arg;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(l->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	uv_sem_post(&l->locked);
	uv_sleep((unsigned)l->hold_ms);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
}

static void stop_waits_for_a_locked_store(void **state)
{
	(void)state;
	char *dir = temp_dir();
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/p.db", dir);
	struct agw_store *s;
	assert_int_equal(agw_store_open(path, &s, err, sizeof(err)), 0);
	agw_store_set_busy_timeout(s, 5);
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct agw_pipeline *p;
	assert_int_equal(agw_pipeline_new(&loop, s, 100, &p), 0);
	agw_pipeline_set_stop_wait(p, 5000);
	for (int i = 0; i < 50; i++)
		submit(p, "cam", AGW_KIND_MOTION, AGW_ACTIVE_TRUE);
	struct locker l = {.path = path, .hold_ms = 400};
	uv_sem_init(&l.locked, 0);
	uv_thread_t th;
	assert_int_equal(uv_thread_create(&th, locker_run, &l), 0);
	uv_sem_wait(&l.locked);
	uint64_t t0 = uv_hrtime();
	assert_true(agw_pipeline_flush(p) < 0); /* locked: fails at once, no 5 s busy wait */
	assert_true(uv_hrtime() - t0 < 200 * 1000000ULL);
	agw_pipeline_free(p); /* waits for the lock, then writes all 50 */
	uv_thread_join(&th);
	uv_sem_destroy(&l.locked);
	assert_int_equal(agw_store_journal_count(s), 50);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rollback_in_the_middle_equals_no_failure),
		cmocka_unit_test(wall_clock_step),
		cmocka_unit_test(case_row_follows_decisions),
		cmocka_unit_test(back_pressure),
		cmocka_unit_test(hysteresis_by_count),
		cmocka_unit_test(ack_that_submits),
		cmocka_unit_test(loop_turns_and_timer_retries),
		cmocka_unit_test(commit_window_and_size),
		cmocka_unit_test(stop_waits_for_a_locked_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
