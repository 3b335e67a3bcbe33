/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine's transactions (see agw_engine_txn_begin): an undo log of the objects a batch changed.
 *
 * Why an undo log rather than rebuilding from the store on rollback: the store does not hold all of
 * the engine's state (the cameras each incident keeps active, the evidence ring, flood counters,
 * the order of the timer heap), so a rebuild would give a different engine, and a retried batch
 * could decide differently from a batch that never failed. Saving each object, byte for byte,
 * before its first change in the transaction and putting it back on rollback gives the very state
 * of agw_engine_txn_begin, whatever the change was. What makes this complete:
 * - every function that changes an incident, a per-camera kind state, a camera's or a cell's flood
 *   counter calls engine_touch_*() on it first (the helpers in case_incident.c, case_cameras.c,
 *   case_timers.c, case_flood.c do; test_engine's txn test compares a full dump of the state);
 * - an incident created in the transaction is removed and freed on rollback; one removed in it is
 *   kept (out of the indexes) until commit, so pointers to it stay valid and it can be put back;
 * - the timer heap and the pending list are rebuilt from the restored objects: their order does
 *   not matter because the heap orders by (due, case id) and the tick orders pending starts by
 *   (since, alert seq), both total orders;
 * - cameras, kind states and cell counters that a transaction creates are kept: they are empty,
 *   the same as the ones the retry would create, and caches (rule candidates) are not state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "case_engine_internal.h"

enum undo_type {
	UNDO_CASE,     /* saved incident (snap) */
	UNDO_CASE_NEW, /* incident created in the transaction */
	UNDO_CASE_DEL, /* incident removed in the transaction, kept until commit (v[0]: it was keyed) */
	UNDO_CASE_UNKEY, /* incident that left the incidents map (engine_case_retire) */
	UNDO_KS,       /* saved kind state (snap) */
	UNDO_CAM,      /* saved camera flood counter and watch start (v) */
	UNDO_FLOOD,    /* saved cell flood counter (v) */
};

struct engine_undo {
	enum undo_type type;
	void *obj;
	void *snap;
	int64_t v[3];
};

static bool undo_push(struct agw_engine *e, enum undo_type type, void *obj, void *snap, int64_t v0, int64_t v1,
		      int64_t v2)
{
	if (e->n_undo == e->cap_undo) {
		size_t cap = e->cap_undo ? e->cap_undo * 2 : 256;
		struct engine_undo *u = realloc(e->undo, cap * sizeof(*u));
		if (!u) {
			e->txn_oom = true;
			return false;
		}
		e->undo = u;
		e->cap_undo = cap;
	}
	e->undo[e->n_undo++] = (struct engine_undo){type, obj, snap, {v0, v1, v2}};
	return true;
}

static void case_snap_free(struct agw_case *s)
{
	free(s->topic);
	free(s->fb_by);
	free(s->fb_note);
	for (size_t i = 0; i < s->n_evidence; i++)
		free(s->evidence[i].event_id);
	free(s->active_ks);
	free(s);
}

/* The parts of an incident that change after its creation: the struct itself, the last topic,
 * the evidence ring and the active cameras. key, id, rule, category and title never change. */
void engine_touch_case(struct agw_engine *e, struct agw_case *c)
{
	if (!c || !e->txn || c->txn_gen == e->txn_gen)
		return;
	c->txn_gen = e->txn_gen;
	struct agw_case *s = malloc(sizeof(*s));
	if (!s) {
		e->txn_oom = true;
		return;
	}
	*s = *c;
	bool ok = dup_or_null(&s->topic, c->topic) == 0;
	if (dup_or_null(&s->fb_by, ok ? c->fb_by : NULL) < 0 || dup_or_null(&s->fb_note, ok ? c->fb_note : NULL) < 0)
		ok = false;
	for (size_t i = 0; i < c->n_evidence; i++)
		if (dup_or_null(&s->evidence[i].event_id, ok ? c->evidence[i].event_id : NULL) < 0)
			ok = false;
	s->active_ks = NULL;
	s->cap_active_ks = s->n_active_ks;
	if (c->n_active_ks && (s->active_ks = malloc(c->n_active_ks * sizeof(*s->active_ks))))
		memcpy(s->active_ks, c->active_ks, c->n_active_ks * sizeof(*s->active_ks));
	else if (c->n_active_ks)
		ok = false;
	if (!ok || !undo_push(e, UNDO_CASE, c, s, 0, 0, 0)) {
		e->txn_oom = true;
		case_snap_free(s);
	}
}

static void ks_snap_free(struct agw_kind_state *s)
{
	free(s->pending_topic);
	free(s->pending_event_id);
	free(s->rep);
	free(s);
}

void engine_touch_kind_state(struct agw_engine *e, struct agw_kind_state *kind_state)
{
	if (!kind_state || !e->txn || kind_state->txn_gen == e->txn_gen)
		return;
	kind_state->txn_gen = e->txn_gen;
	struct agw_kind_state *s = malloc(sizeof(*s));
	if (!s) {
		e->txn_oom = true;
		return;
	}
	*s = *kind_state;
	s->pending_topic = s->pending_event_id = NULL;
	s->rep = NULL;
	bool ok = dup_or_null(&s->pending_topic, kind_state->pending_topic) == 0 &&
		  dup_or_null(&s->pending_event_id, kind_state->pending_event_id) == 0;
	if (ok && kind_state->rep && (s->rep = malloc(AGW_REPEAT_MAX * sizeof(int64_t))))
		memcpy(s->rep, kind_state->rep, AGW_REPEAT_MAX * sizeof(int64_t));
	else if (kind_state->rep)
		ok = false;
	if (!ok || !undo_push(e, UNDO_KS, kind_state, s, 0, 0, 0)) {
		e->txn_oom = true;
		ks_snap_free(s);
	}
}

void engine_touch_cam(struct agw_engine *e, struct agw_engine_cam *cam)
{
	if (!e->txn || cam->txn_gen == e->txn_gen)
		return;
	cam->txn_gen = e->txn_gen;
	undo_push(e, UNDO_CAM, cam, NULL, cam->flood_start, cam->flood_count, cam->watch_since);
}

void engine_touch_flood(struct agw_engine *e, struct cell_flood *f)
{
	if (!e->txn || f->txn_gen == e->txn_gen)
		return;
	f->txn_gen = e->txn_gen;
	undo_push(e, UNDO_FLOOD, f, NULL, f->start, f->count, 0);
}

void engine_txn_created(struct agw_engine *e, struct agw_case *c)
{
	if (!e->txn)
		return;
	c->txn_gen = e->txn_gen; /* nothing to save: rollback frees it */
	undo_push(e, UNDO_CASE_NEW, c, NULL, 0, 0, 0);
}

bool engine_txn_removed(struct agw_engine *e, struct agw_case *c, bool was_keyed)
{
	return e->txn && undo_push(e, UNDO_CASE_DEL, c, NULL, was_keyed, 0, 0);
}

void engine_txn_unkeyed(struct agw_engine *e, struct agw_case *c)
{
	if (e->txn)
		undo_push(e, UNDO_CASE_UNKEY, c, NULL, 0, 0, 0);
}

void agw_engine_txn_begin(struct agw_engine *e)
{
	if (e->txn)
		agw_engine_txn_commit(e); /* never nested: a begin without an end keeps what was done */
	e->txn = true;
	e->txn_oom = false;
	e->txn_gen++;
}

/* Ends the transaction keeping the current state. */
void agw_engine_txn_commit(struct agw_engine *e)
{
	for (size_t i = 0; i < e->n_undo; i++) {
		struct engine_undo *u = &e->undo[i];
		if (u->type == UNDO_CASE)
			case_snap_free(u->snap);
		else if (u->type == UNDO_KS)
			ks_snap_free(u->snap);
		else if (u->type == UNDO_CASE_DEL)
			engine_case_free(u->obj); /* unlinked from every camera when it was removed */
	}
	e->n_undo = 0;
	e->txn = false;
	e->txn_oom = false;
}

void engine_txn_free(struct agw_engine *e)
{
	agw_engine_txn_commit(e);
	free(e->undo);
	e->undo = NULL;
	e->cap_undo = 0;
}

static void case_restore_from(struct agw_case *c, struct agw_case *s)
{
	free(c->topic);
	free(c->fb_by);
	free(c->fb_note);
	for (size_t i = 0; i < c->n_evidence; i++)
		free(c->evidence[i].event_id);
	free(c->active_ks);
	char *part = c->msg_part; /* what it renders never changes: keep the one c has */
	size_t part_len = c->msg_part_len;
	*c = *s; /* the snapshot's strings and array now belong to c */
	c->msg_part = part;
	c->msg_part_len = part_len;
	free(s);
}

static void pending_unlink(struct agw_engine *e, struct agw_kind_state *kind_state)
{
	if (!kind_state->pending)
		return;
	if (kind_state->pprev)
		kind_state->pprev->pnext = kind_state->pnext;
	else
		e->pending = kind_state->pnext;
	if (kind_state->pnext)
		kind_state->pnext->pprev = kind_state->pprev;
	kind_state->pnext = kind_state->pprev = NULL;
}

static void heap_down(struct agw_engine *e, size_t i)
{
	struct agw_case *c = e->heap[i];
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct agw_case *best = c;
		if (l < e->heap_n && engine_case_before(e->heap[l], best))
			m = l, best = e->heap[l];
		if (l + 1 < e->heap_n && engine_case_before(e->heap[l + 1], best))
			m = l + 1;
		if (m == i)
			break;
		e->heap[i] = e->heap[m];
		e->heap[i]->heap_pos = i;
		i = m;
	}
	e->heap[i] = c;
	c->heap_pos = i;
}

/* The heap holds the incidents whose (restored) heap_pos says they were in it; every incident the
 * engine holds is in the ids map (the incidents map lacks those kept only for their timers). */
static int heap_rebuild(struct agw_engine *e)
{
	size_t n = 0;
	for (size_t i = agw_strmap_next(&e->ids, 0); i < e->ids.cap; i = agw_strmap_next(&e->ids, i + 1))
		n += ((struct agw_case *)e->ids.slots[i].value)->heap_pos != SIZE_MAX;
	if (n > e->heap_cap) {
		struct agw_case **h = realloc(e->heap, n * sizeof(*h));
		if (!h)
			return -ENOMEM;
		e->heap = h;
		e->heap_cap = n;
	}
	e->heap_n = 0;
	for (size_t i = agw_strmap_next(&e->ids, 0); i < e->ids.cap; i = agw_strmap_next(&e->ids, i + 1)) {
		struct agw_case *c = e->ids.slots[i].value;
		if (c->heap_pos != SIZE_MAX) {
			c->heap_pos = e->heap_n;
			e->heap[e->heap_n++] = c;
		}
	}
	for (size_t i = e->heap_n / 2; i-- > 0;)
		heap_down(e, i);
	return 0;
}

/* Puts back one object of the undo log (newest first); -ENOMEM when an index could not take it. */
static int undo_one(struct agw_engine *e, struct engine_undo *u)
{
	int r = 0;
	switch (u->type) {
	case UNDO_CASE:
		case_restore_from(u->obj, u->snap);
		break;
	case UNDO_CASE_NEW: {
		struct agw_case *c = u->obj;
		if (c->in_index) {
			if (c->keyed)
				agw_strmap_remove(&e->incidents, c->key);
			agw_strmap_remove(&e->ids, c->id);
			c->in_index = false;
			c->keyed = false;
		}
		break;
	}
	case UNDO_CASE_DEL: {
		struct agw_case *c = u->obj;
		if ((u->v[0] && agw_strmap_put(&e->incidents, c->key, c) < 0) || agw_strmap_put(&e->ids, c->id, c) < 0)
			r = -ENOMEM;
		c->in_index = true; /* the saved copy, restored later in this walk, says the same */
		c->keyed = u->v[0];
		break;
	}
	case UNDO_CASE_UNKEY: {
		struct agw_case *c = u->obj;
		if (agw_strmap_put(&e->incidents, c->key, c) < 0)
			r = -ENOMEM;
		c->keyed = true;
		break;
	}
	case UNDO_KS: {
		struct agw_kind_state *kind_state = u->obj, *s = u->snap;
		pending_unlink(e, kind_state);
		free(kind_state->pending_topic);
		free(kind_state->pending_event_id);
		free(kind_state->rep);
		*kind_state = *s;
		kind_state->pnext = kind_state->pprev = NULL;
		free(s);
		break;
	}
	case UNDO_CAM: {
		struct agw_engine_cam *cam = u->obj;
		cam->flood_start = u->v[0];
		cam->flood_count = u->v[1];
		cam->watch_since = u->v[2];
		break;
	}
	case UNDO_FLOOD: {
		struct cell_flood *f = u->obj;
		f->start = u->v[0];
		f->count = u->v[1];
		break;
	}
	}
	return r;
}

int agw_engine_txn_rollback(struct agw_engine *e)
{
	if (!e->txn)
		return 0;
	int ret = e->txn_oom ? -ENOMEM : 0;
	/* Newest first: an incident removed and then replaced under the same key is put back after
	 * its replacement left the index. */
	for (size_t i = e->n_undo; i-- > 0;)
		if (undo_one(e, &e->undo[i]) < 0)
			ret = -ENOMEM;
	for (size_t i = 0; i < e->n_undo; i++) {
		struct engine_undo *u = &e->undo[i];
		if (u->type == UNDO_KS) {
			struct agw_kind_state *kind_state = u->obj;
			/* Each saved kind state occurs once: link the pending ones back. */
			if (kind_state->pending) {
				kind_state->pnext = e->pending;
				if (e->pending)
					e->pending->pprev = kind_state;
				e->pending = kind_state;
			}
		} else if (u->type == UNDO_CASE_NEW) {
			struct agw_case *c = u->obj;
			c->n_active_ks = 0; /* the kind states pointing to it were restored above */
			engine_case_free(c);
		}
	}
	e->n_undo = 0;
	e->txn = false;
	e->txn_oom = false;
	if (heap_rebuild(e) < 0)
		ret = -ENOMEM;
	return ret;
}

/* ---- the state kept across restarts ---- */

/* Monotonic times go out as wall-clock times (wall_minus_mono: wall minus monotonic, now). */
static void ks_record(const struct agw_kind_state *kind_state, int64_t wall_minus_mono, int64_t *rep, struct agw_ks_record *r)
{
	*r = (struct agw_ks_record){
		.camera_id = kind_state->cam->id,
		.kind = kind_state->kind,
		.last_state = kind_state->last_state,
		.last_state_ms = kind_state->last_state_ms,
		.watch_since = kind_state->cam->watch_since,
	};
	if (kind_state->pending) {
		r->pending_rule = kind_state->pending_rule->name;
		r->pending_since = kind_state->pending_since;
		r->pending_seq = kind_state->pending_seq;
		r->pending_camera_time = kind_state->pending_camera_time;
		r->pending_topic = kind_state->pending_topic;
		r->pending_event_id = kind_state->pending_event_id;
	}
	if (kind_state->rep_rule && kind_state->rep && kind_state->rep_n) {
		r->rep_rule = kind_state->rep_rule->name;
		for (uint32_t i = 0; i < kind_state->rep_n; i++)
			rep[i] = kind_state->rep[(kind_state->rep_head + AGW_REPEAT_MAX - 1 - i) % AGW_REPEAT_MAX] + wall_minus_mono;
		r->rep = rep;
		r->rep_n = kind_state->rep_n;
	}
}

/* Whether what is kept across restarts changed since the transaction began (the saved copy): most
 * alerts repeat the state the camera already had, and need no row written. The time of the last
 * state is not a reason alone: nothing decides on it. */
static bool ks_kept_changed(const struct agw_kind_state *kind_state, const struct agw_kind_state *s)
{
	if (kind_state->last_state != s->last_state || kind_state->pending != s->pending ||
	    kind_state->rep_rule != s->rep_rule || kind_state->rep_n != s->rep_n || kind_state->rep_head != s->rep_head)
		return true;
	if (kind_state->pending && (kind_state->pending_rule != s->pending_rule || kind_state->pending_since != s->pending_since))
		return true;
	return kind_state->rep_n && kind_state->rep && s->rep && memcmp(kind_state->rep, s->rep, AGW_REPEAT_MAX * sizeof(int64_t)) != 0;
}

int agw_engine_txn_dirty(struct agw_engine *e, int64_t wall_minus_mono,
			 int (*fn)(void *arg, const struct agw_ks_record *r), void *arg)
{
	int64_t rep[AGW_REPEAT_MAX];
	int n = 0;
	for (size_t i = 0; e->txn && i < e->n_undo; i++) {
		if (e->undo[i].type != UNDO_KS || !ks_kept_changed(e->undo[i].obj, e->undo[i].snap))
			continue;
		struct agw_ks_record r;
		ks_record(e->undo[i].obj, wall_minus_mono, rep, &r);
		int ret = fn(arg, &r);
		if (ret < 0)
			return ret;
		n++;
	}
	return n;
}

int agw_engine_ks_restore(struct agw_engine *e, const struct agw_ks_record *r, int64_t wall_minus_mono)
{
	if (!r->camera_id || (unsigned)r->kind >= AGW_KIND__COUNT)
		return -EINVAL;
	bool full;
	struct agw_engine_cam *cam = engine_cam_get(e, r->camera_id, &full);
	if (!cam)
		return full ? -E2BIG : -ENOMEM;
	struct agw_kind_state *kind_state = engine_ks_get(cam, r->kind);
	if (!kind_state)
		return -ENOMEM;
	if (r->watch_since && (!cam->watch_since || r->watch_since < cam->watch_since))
		cam->watch_since = r->watch_since;
	kind_state->last_state = r->last_state;
	kind_state->last_state_ms = r->last_state_ms;
	const struct agw_rule *pr = r->pending_rule ? agw_ruleset_find(e->rules, r->pending_rule) : NULL;
	engine_kind_state_pending_clear(e, kind_state);
	if (pr && pr->min_duration_ms > 0 && pr->action != AGW_RULE_DROP && !kind_state->inc) {
		kind_state->pending = true;
		kind_state->pending_rule = pr;
		kind_state->pending_since = r->pending_since;
		kind_state->pending_since_m = r->pending_since - wall_minus_mono; /* the deadline holds across restarts */
		kind_state->pending_seq = r->pending_seq;
		kind_state->pending_camera_time = r->pending_camera_time;
		if (dup_or_null(&kind_state->pending_topic, r->pending_topic) < 0 ||
		    dup_or_null(&kind_state->pending_event_id, r->pending_event_id) < 0) {
			engine_kind_state_pending_clear(e, kind_state);
			return -ENOMEM;
		}
		kind_state->pnext = e->pending;
		if (e->pending)
			e->pending->pprev = kind_state;
		e->pending = kind_state;
	}
	const struct agw_rule *rr = r->rep_rule ? agw_ruleset_find(e->rules, r->rep_rule) : NULL;
	if (rr && rr->repeat_count > 1 && r->rep_n) {
		if (!kind_state->rep && !(kind_state->rep = calloc(AGW_REPEAT_MAX, sizeof(int64_t))))
			return -ENOMEM;
		uint32_t n = r->rep_n > AGW_REPEAT_MAX ? AGW_REPEAT_MAX : r->rep_n;
		kind_state->rep_rule = rr;
		kind_state->rep_n = n;
		kind_state->rep_head = n % AGW_REPEAT_MAX;
		for (uint32_t i = 0; i < n; i++) /* newest first in the record, oldest first in the ring */
			kind_state->rep[n - 1 - i] = r->rep[i] - wall_minus_mono;
	}
	return 0;
}
