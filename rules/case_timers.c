/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine's timers: a min-heap of incidents on their due time, and agw_engine_tick, which opens
 * pending starts past their minimum duration, applies clear timeouts and forgets incidents whose
 * dedup window passed. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_engine_internal.h"

/* When the tick must look at this incident next (monotonic): its clear timeout or the end of its
 * window while it takes alerts, and its supervision deadline and expiry. */
static int64_t case_due(const struct agw_case *c)
{
	int64_t due = INT64_MAX;
	if (c->keyed && c->active)
		due = c->clear_timeout_ms > 0 ? c->active_m + c->clear_timeout_ms : INT64_MAX;
	else if (c->keyed)
		due = c->seen_m + c->dedup_window_ms + 1;
	if (c->sup_due_m < due)
		due = c->sup_due_m;
	return c->expire_m < due ? c->expire_m : due;
}

/* ---- timer heap: the tick visits only incidents that are due ---- */

/* A total order (due time, then case id): the incidents a tick visits come out in the same order
 * whatever the heap's shape, so a heap rebuilt after a rollback behaves as the one before. */
bool engine_case_before(const struct agw_case *a, const struct agw_case *b)
{
	return a->due < b->due || (a->due == b->due && strcmp(a->id, b->id) < 0);
}

static void heap_set(struct agw_engine *e, size_t i, struct agw_case *c)
{
	e->heap[i] = c;
	c->heap_pos = i;
}

static void heap_sift(struct agw_engine *e, size_t i)
{
	struct agw_case *c = e->heap[i];
	while (i > 0 && engine_case_before(c, e->heap[(i - 1) / 2])) {
		heap_set(e, i, e->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		const struct agw_case *best = c;
		if (l < e->heap_n && engine_case_before(e->heap[l], best))
			m = l, best = e->heap[l];
		if (l + 1 < e->heap_n && engine_case_before(e->heap[l + 1], best))
			m = l + 1;
		if (m == i)
			break;
		heap_set(e, i, e->heap[m]);
		i = m;
	}
	heap_set(e, i, c);
}

void engine_heap_remove(struct agw_engine *e, struct agw_case *c)
{
	size_t i = c->heap_pos;
	if (i == SIZE_MAX)
		return;
	engine_touch_case(e, c);
	c->heap_pos = SIZE_MAX;
	struct agw_case *last = e->heap[--e->heap_n];
	if (i < e->heap_n) {
		heap_set(e, i, last);
		heap_sift(e, i);
	}
}

/* Makes sure the heap visits c no later than its due time. A due time that moved later is left
 * as it is (the tick finds the entry early and requeues it): most alerts push an incident's due
 * time later, and this keeps them O(1). */
void engine_due_update(struct agw_engine *e, struct agw_case *c)
{
	int64_t due = case_due(c);
	if (c->heap_pos != SIZE_MAX && due >= c->due)
		return;
	engine_touch_case(e, c);
	c->due = due;
	if (c->heap_pos == SIZE_MAX) {
		if (e->heap_n == e->heap_cap) {
			size_t cap = e->heap_cap ? e->heap_cap * 2 : 64;
			struct agw_case **h = realloc(e->heap, cap * sizeof(*h));
			if (!h)
				return; /* the incident then lives until the platform closes it; memory is short anyway */
			e->heap = h;
			e->heap_cap = cap;
		}
		heap_set(e, e->heap_n++, c);
	}
	heap_sift(e, c->heap_pos);
}

/* The tick looked at c before its real due time: requeue it there. */
static void due_requeue(struct agw_engine *e, struct agw_case *c)
{
	engine_touch_case(e, c);
	c->due = case_due(c);
	heap_sift(e, c->heap_pos);
}

void engine_due_set(struct agw_engine *e, struct agw_case *c)
{
	if (c->heap_pos == SIZE_MAX)
		engine_due_update(e, c);
	else
		due_requeue(e, c);
}

static int pending_cmp(const void *pa, const void *pb)
{
	const struct agw_kind_state *a = *(struct agw_kind_state *const *)pa, *b = *(struct agw_kind_state *const *)pb;
	if (a->pending_since != b->pending_since)
		return a->pending_since < b->pending_since ? -1 : 1;
	if (a->pending_seq != b->pending_seq)
		return a->pending_seq < b->pending_seq ? -1 : 1;
	int c = strcmp(a->cam->id, b->cam->id);
	return c ? c : (int)a->kind - (int)b->kind;
}

/* The pending starts past their minimum duration, oldest first (a total order: the same whatever
 * the order of the pending list, which a rollback does not keep). *ret is malloc'd. */
static int pending_due(struct agw_engine *e, int64_t mono_ms, struct agw_kind_state ***ret, size_t *ret_n)
{
	size_t n = 0, cap = 0;
	struct agw_kind_state **v = NULL;
	for (struct agw_kind_state *kind_state = e->pending; kind_state; kind_state = kind_state->pnext) {
		if (mono_ms - kind_state->pending_since_m < kind_state->pending_rule->min_duration_ms)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct agw_kind_state **nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = kind_state;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), pending_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

int agw_engine_tick(struct agw_engine *e, int64_t now_ms, agw_engine_emit_fn emit, void *arg)
{
	return agw_engine_tick_at(e, now_ms, now_ms, emit, arg);
}

/* Starts that stayed active for their minimum duration. Returns the number emitted. */
static int tick_pending(struct agw_engine *e, int64_t now_ms, int64_t mono_ms, agw_engine_emit_fn emit, void *arg)
{
	int emitted = 0;
	char dur[32];
	struct agw_kind_state **due = NULL;
	size_t n_due = 0;
	if (pending_due(e, mono_ms, &due, &n_due) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n_due; i++) {
		struct agw_kind_state *kind_state = due[i];
		const struct agw_rule *r = kind_state->pending_rule;
		struct agw_decision d = {.alert_seq = kind_state->pending_seq, .at_ms = now_ms};
		struct contrib contrib = {
			.t = now_ms,
			.m = mono_ms,
			.camera_time = kind_state->pending_camera_time,
			.seq = kind_state->pending_seq,
			.active = AGW_ACTIVE_TRUE,
			.topic = kind_state->pending_topic,
			.event_id = kind_state->pending_event_id,
			.cam = kind_state->cam,
		};
		char key[KEY_MAX];
		engine_make_key(key, r, kind_state->cam, kind_state->kind);
		struct agw_case *c = agw_strmap_get(&e->incidents, key);
		if (c && !engine_case_live(c, mono_ms)) {
			engine_case_retire(e, c);
			c = NULL;
		}
		int64_t since = kind_state->pending_since;
		int ret = 0;
		if (c) {
			engine_case_touch(e, c, kind_state, &contrib);
			d.action = AGW_DECISION_UPDATE;
			d.rule = r->name;
			d.incident = c;
			snprintf(d.reason, sizeof(d.reason), "active for %s: joined open incident",
				 fmt_dur(r->min_duration_ms, dur, sizeof(dur)));
		} else {
			ret = engine_open_incident(e, kind_state->cam, kind_state, kind_state->kind, r, key, since, &contrib, &d);
			if (ret < 0) {
				engine_kind_state_pending_clear(e, kind_state);
				free(due);
				return ret;
			}
			if (d.action == AGW_DECISION_OPEN && !d.incident->aggregate)
				snprintf(d.reason, sizeof(d.reason), "active for %s (min_duration)",
					 fmt_dur(r->min_duration_ms, dur, sizeof(dur)));
		}
		engine_kind_state_pending_clear(e, kind_state);
		engine_due_update(e, d.incident);
		if (emit && (ret = emit(arg, &d)) < 0) {
			free(due);
			return ret;
		}
		emitted++;
	}
	free(due);
	return emitted;
}

int agw_engine_tick_at(struct agw_engine *e, int64_t now_ms, int64_t mono_ms, agw_engine_emit_fn emit, void *arg)
{
	char dur[32];
	int emitted = tick_pending(e, now_ms, mono_ms, emit, arg);
	if (emitted < 0)
		return emitted;
	/* Clear timeouts, then forget incidents whose dedup window passed: only the incidents at the
	 * top of the timer heap are visited. */
	while (e->heap_n && e->heap[0]->due <= mono_ms) {
		struct agw_case *c = e->heap[0];
		if (c->keyed && c->active && c->clear_timeout_ms > 0 && mono_ms - c->active_m >= c->clear_timeout_ms) {
			engine_case_unlink_all(e, c);
			c->active = false;
			c->cleared_ms = now_ms;
			c->updated_ms = now_ms;
			engine_life_cleared(e, c, now_ms);
			due_requeue(e, c);
			struct agw_decision d = {.action = AGW_DECISION_CLOSE, .rule = c->rule, .incident = c, .at_ms = now_ms};
			snprintf(d.reason, sizeof(d.reason), "clear timeout: no inactive edge within %s",
				 fmt_dur(c->clear_timeout_ms, dur, sizeof(dur)));
			int ret = emit ? emit(arg, &d) : 0;
			if (ret < 0)
				return ret;
			emitted++;
		} else if (c->sup_due_m <= mono_ms || c->expire_m <= mono_ms) {
			int ret = engine_life_due(e, c, now_ms, mono_ms, emit, arg);
			if (ret < 0)
				return ret;
			emitted += ret;
		} else if (c->keyed && !engine_case_live(c, mono_ms)) {
			engine_case_retire(e, c);
		} else if (!c->keyed && !engine_case_has_timers(e, c)) {
			engine_case_remove(e, c); /* kept for timers it no longer has */
		} else {
			due_requeue(e, c); /* touched since it was queued: due later */
		}
	}
	return emitted;
}
