/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The case engine's transactions: a rolled-back batch leaves the whole state as it was. */
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
#include <regex.h>

#include "engine_fx.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every piece of the engine's state as sorted text, so two engines (or one engine before and after
 * a rollback) compare with strcmp. */
static char *engine_dump(struct agw_engine *e)
{
	size_t cap = 4096, n = 0;
	char **lines = calloc(cap, sizeof(*lines));
	char *line;
	size_t len;
	FILE *f;
#define LINE(...)                                                                                          \
	do {                                                                                               \
		f = open_memstream(&line, &len);                                                           \
		fprintf(f, __VA_ARGS__);                                                                   \
		fclose(f);                                                                                 \
		assert_true(n < cap);                                                                      \
		lines[n++] = line;                                                                         \
	} while (0)
	for (size_t i = agw_strmap_next(&e->incidents, 0); i < e->incidents.cap; i = agw_strmap_next(&e->incidents, i + 1)) {
		struct agw_case *c = e->incidents.slots[i].value;
		char ev[512] = "";
		for (size_t k = 0; k < c->n_evidence; k++)
			snprintf(ev + strlen(ev), sizeof(ev) - strlen(ev), "%lld/%s,", (long long)c->evidence[k].alert_seq,
				 c->evidence[k].event_id ? c->evidence[k].event_id : "-");
		char **act = calloc(c->n_active_ks + 1, sizeof(*act));
		for (size_t k = 0; k < c->n_active_ks; k++)
			act[k] = c->active_ks[k]->cam->id;
		qsort(act, c->n_active_ks, sizeof(*act), cmp_str);
		char as[512] = "";
		for (size_t k = 0; k < c->n_active_ks; k++)
			snprintf(as + strlen(as), sizeof(as) - strlen(as), "%s,", act[k]);
		free(act);
		LINE("case %s key=%s st=%d act=%d hs=%d fs=%lld ls=%lld fct=%lld lct=%lld cr=%lld up=%lld cl=%lld la=%lld n=%lld "
		     "topic=%s ev=%s next=%zu aks=%s due=%lld heap=%d idx=%d ids=%d sm=%lld am=%lld rs=%d",
		     c->id, c->key, c->status, c->active, c->has_state, (long long)c->first_seen, (long long)c->last_seen,
		     (long long)c->first_camera_time, (long long)c->last_camera_time, (long long)c->created_ms,
		     (long long)c->updated_ms, (long long)c->cleared_ms, (long long)c->last_active_ms, (long long)c->count,
		     c->topic ? c->topic : "-", ev, c->evidence_next, as, c->heap_pos != SIZE_MAX ? (long long)c->due : -1LL,
		     c->heap_pos != SIZE_MAX && c->heap_pos < e->heap_n && e->heap[c->heap_pos] == c, c->in_index,
		     agw_strmap_get(&e->ids, c->id) == c, (long long)c->seen_m, (long long)c->active_m, c->resync);
	}
	size_t pend = 0;
	for (struct agw_kind_state *kind_state = e->pending; kind_state; kind_state = kind_state->pnext)
		pend++;
	LINE("heap_n=%zu pending=%zu", e->heap_n, pend);
	for (size_t i = agw_strmap_next(&e->cams, 0); i < e->cams.cap; i = agw_strmap_next(&e->cams, i + 1)) {
		struct agw_engine_cam *c = e->cams.slots[i].value;
		/* Objects a batch creates empty (unknown cameras, kind states, cell counters) are the same
		 * as none: the retry creates them again. */
		if (c->flood_start || c->flood_count || c->watch_since)
			LINE("cam %s flood=%lld/%lld watch=%lld", c->id, (long long)c->flood_start, (long long)c->flood_count,
			     (long long)c->watch_since);
		for (int k = 0; k < AGW_KIND__COUNT; k++) {
			struct agw_kind_state *kind_state = c->kind_state[k];
			if (!kind_state || (!kind_state->inc && !kind_state->pending && !kind_state->rep_rule && !kind_state->last_state))
				continue;
			char rep[2048] = "";
			for (uint32_t j = 0; kind_state->rep && j < kind_state->rep_n; j++)
				snprintf(rep + strlen(rep), sizeof(rep) - strlen(rep), "%lld,",
					 (long long)kind_state->rep[(kind_state->rep_head + AGW_REPEAT_MAX - 1 - j) % AGW_REPEAT_MAX]);
			LINE("kind_state %s/%d inc=%s pend=%d rule=%s since=%lld/%lld seq=%lld ct=%lld topic=%s ev=%s rep=%s/%s last=%d/%lld",
			     c->id, k, kind_state->inc ? kind_state->inc->id : "-", kind_state->pending,
			     kind_state->pending_rule ? kind_state->pending_rule->name : "-", (long long)kind_state->pending_since,
			     (long long)kind_state->pending_since_m,
			     (long long)kind_state->pending_seq, (long long)kind_state->pending_camera_time,
			     kind_state->pending_topic ? kind_state->pending_topic : "-", kind_state->pending_event_id ? kind_state->pending_event_id : "-",
			     kind_state->rep_rule ? kind_state->rep_rule->name : "-", rep, kind_state->last_state, (long long)kind_state->last_state_ms);
		}
	}
	for (size_t i = agw_strmap_next(&e->floods, 0); i < e->floods.cap; i = agw_strmap_next(&e->floods, i + 1)) {
		struct cell_flood *fl = e->floods.slots[i].value;
		if (fl->start || fl->count)
			LINE("flood %s %lld/%lld", fl->code, (long long)fl->start, (long long)fl->count);
	}
#undef LINE
	qsort(lines, n, sizeof(*lines), cmp_str);
	f = open_memstream(&line, &len);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s\n", lines[i]);
		free(lines[i]);
	}
	fclose(f);
	free(lines);
	return line;
}

struct txn_log {
	char text[1 << 16];
};

static int txn_record(void *arg, const struct agw_decision *d)
{
	struct txn_log *l = arg;
	snprintf(l->text + strlen(l->text), sizeof(l->text) - strlen(l->text), "tick %s %s %lld %s|",
		 agw_decision_action_name(d->action), d->incident ? d->incident->id : "-", d->incident ? (long long)d->incident->count : 0LL,
		 d->reason);
	return 0;
}

/* One batch of pseudo-random alerts (and a tick) on engine e; the decisions go into l. */
static void txn_batch(struct agw_engine *e, unsigned *seed, int64_t *t, int64_t *seq, struct txn_log *l)
{
	static const char *const cams[] = {"cam-a1", "cam-a2", "cam-b", "cam-owner", "cam-lost", "cam-unknown"};
	static const enum agw_alert_kind kinds[] = {AGW_KIND_INTRUSION, AGW_KIND_MOTION, AGW_KIND_TAMPER};
	int n = 1 + rand_r(seed) % 12;
	for (int i = 0; i < n; i++) {
		struct agw_alert a;
		agw_alert_init(&a);
		a.camera_id = (char *)cams[rand_r(seed) % 6];
		a.kind = kinds[rand_r(seed) % 3];
		int r = rand_r(seed) % 10;
		a.active = r < 5 ? AGW_ACTIVE_TRUE : r < 9 ? AGW_ACTIVE_FALSE : AGW_ACTIVE_NONE;
		a.operation = rand_r(seed) % 8 == 0 ? AGW_OP_INITIALIZED : AGW_OP_CHANGED;
		*t += rand_r(seed) % 8000;
		a.gateway_time_ms = *t;
		a.camera_time_ms = *t - 700;
		char ev[32], topic[32];
		snprintf(ev, sizeof(ev), "ev-%lld", (long long)*seq + 1);
		snprintf(topic, sizeof(topic), "topic-%d", rand_r(seed) % 3);
		a.event_id = ev;
		a.topic = topic;
		struct agw_decision d;
		assert_int_equal(agw_engine_decide(e, &a, ++*seq, *t, &d), 0);
		snprintf(l->text + strlen(l->text), sizeof(l->text) - strlen(l->text), "%s %s %lld %s|",
			 agw_decision_action_name(d.action), d.incident ? d.incident->id : "-", d.incident ? (long long)d.incident->count : 0LL,
			 d.reason);
		if (rand_r(seed) % 40 == 0 && d.incident)
			agw_engine_feedback(e, d.incident->id, rand_r(seed) % 2 ? AGW_CASE_CLOSED : AGW_CASE_ACCEPTED, NULL);
	}
	assert_true(agw_engine_tick(e, *t, txn_record, l) >= 0);
}

static void txn_fx(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(agw_ruleset_new(&f->rs), 0);
	struct agw_rule *t;
	assert_int_equal(agw_ruleset_add(f->rs, "tamper", &t), 0);
	t->kinds = 1u << AGW_KIND_TAMPER;
	t->repeat_count = 3;
	t->repeat_window_ms = MIN;
	t->dedup_by = AGW_DEDUP_CELL;
	t->dedup_window_ms = MIN;
	assert_int_equal(agw_ruleset_add(f->rs, "all", &f->r), 0);
	f->r->dedup_window_ms = 2 * MIN;
	f->r->clear_timeout_ms = 90 * 1000;
	f->r->min_duration_ms = 15 * 1000;
	f->rs->flood_camera.max_cases = 2;
	f->rs->flood_camera.window_ms = 5 * MIN;
	f->rs->flood_cell.max_cases = 3;
	f->rs->flood_cell.window_ms = 5 * MIN;
	struct agw_engine_config cfg = {.gateway_id = "gw-test", .unassigned_cell = "UNASSIGNED"};
	assert_int_equal(agw_engine_new(&cfg, f->rs, two_cells(), &f->e), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-a1", "Gate A1", "hik", "school;gate", NULL, true, 116.2, 39.2,
					       AGW_CRS_WGS84), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-a2", "Gate A2", "dahua", "gate", NULL, true, 116.3, 39.3,
					       AGW_CRS_WGS84), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-b", "Road B", NULL, NULL, NULL, true, 116.7, 39.2,
					       AGW_CRS_WGS84), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-owner", NULL, NULL, NULL, "110105001001002", true, 10, 10,
					       AGW_CRS_WGS84), 0);
	assert_int_equal(agw_engine_camera_set(f->e, "cam-lost", NULL, NULL, NULL, NULL, false, 0, 0, AGW_CRS_WGS84), 0);
}

/* Engine A rolls every batch back once, then decides it again and commits; engine B never fails.
 * After every rollback A is byte for byte what it was at begin; after every commit A equals B, and
 * so do their decisions. */
static void test_txn_rollback_restores_everything(void **state)
{
	(void)state;
	struct fx a, b;
	txn_fx(&a);
	txn_fx(&b);
	static struct txn_log la, lb, lr;
	unsigned sa = 7, sb = 7;
	int64_t ta = local(0, 10, 0), tb = ta, qa = 0, qb = 0;
	int seen[9] = {0};
	static const char *const seen_what_all[] = {"open ", "update ", "close ", "tick open", "tick close",
						    "flood:", "repeat ", "pending:", "shorter than min_duration"};
	for (int batch = 0; batch < 400; batch++) {
		char *before = engine_dump(a.e);
		unsigned s0 = sa;
		int64_t t0 = ta, q0 = qa;
		agw_engine_txn_begin(a.e);
		lr.text[0] = '\0';
		txn_batch(a.e, &sa, &ta, &qa, &lr);
		assert_int_equal(agw_engine_txn_rollback(a.e), 0);
		char *after = engine_dump(a.e);
		if (strcmp(before, after) != 0)
			fail_msg("batch %d: rollback left a different state\n--- before\n%s--- after\n%s", batch, before, after);
		free(after);
		free(before);
		sa = s0, ta = t0, qa = q0;
		la.text[0] = lb.text[0] = '\0';
		agw_engine_txn_begin(a.e);
		txn_batch(a.e, &sa, &ta, &qa, &la);
		agw_engine_txn_commit(a.e);
		txn_batch(b.e, &sb, &tb, &qb, &lb);
		assert_string_equal(la.text, lb.text);
		assert_string_equal(lr.text, la.text); /* the failed attempt decided the same too */
		for (size_t k = 0; k < 9; k++)
			seen[k] += strstr(la.text, seen_what_all[k]) != NULL;
		char *da = engine_dump(a.e), *db = engine_dump(b.e);
		assert_string_equal(da, db);
		free(da);
		free(db);
	}
	/* the batches went through every path a rollback must undo */
	for (size_t k = 0; k < 9; k++)
		if (seen[k] == 0)
			fail_msg("no batch went through \"%s\"", seen_what_all[k]);
	fx_free(&a);
	fx_free(&b);
}

/* A small validator for the keywords docs/case-message.schema.json uses: $ref (#/$defs/...), type,
 * const, enum, required, properties, items, minItems, maxItems, minLength, minimum, maximum,
 * pattern (POSIX ERE) and oneOf. Fails the test with the JSON path of the first violation. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txn_rollback_restores_everything),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
