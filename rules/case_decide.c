/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The decision for one alert: pairing with the inactive edge, Initialized/Deleted, rule match,
 * dedup into a live incident, repeat count, minimum duration, then opening an incident. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_engine_internal.h"

/* Records t and tells whether the rule's repeat count is reached within its window. */
static int repeat_reached(struct agw_engine *e, struct agw_kind_state *kind_state, const struct agw_rule *r, int64_t t,
			  uint32_t *ret_n)
{
	engine_touch_kind_state(e, kind_state);
	if (!kind_state->rep && !(kind_state->rep = calloc(AGW_REPEAT_MAX, sizeof(int64_t))))
		return -ENOMEM;
	if (kind_state->rep_rule != r) {
		kind_state->rep_rule = r;
		kind_state->rep_n = kind_state->rep_head = 0;
	}
	kind_state->rep[kind_state->rep_head] = t;
	kind_state->rep_head = (kind_state->rep_head + 1) % AGW_REPEAT_MAX;
	if (kind_state->rep_n < AGW_REPEAT_MAX)
		kind_state->rep_n++;
	uint32_t want = r->repeat_count > AGW_REPEAT_MAX ? AGW_REPEAT_MAX : r->repeat_count, n = 0;
	for (uint32_t i = 0; i < kind_state->rep_n; i++) {
		int64_t ti = kind_state->rep[(kind_state->rep_head + AGW_REPEAT_MAX - 1 - i) % AGW_REPEAT_MAX];
		if (t - ti > r->repeat_window_ms)
			break;
		n++;
	}
	*ret_n = n;
	if (n >= want) {
		kind_state->rep_n = 0; /* the next incident counts afresh */
		return 1;
	}
	return 0;
}

static void drop(struct agw_decision *d, const char *rule, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void drop(struct agw_decision *d, const char *rule, const char *fmt, ...)
{
	va_list ap;
	d->action = AGW_DECISION_DROP;
	d->rule = rule;
	d->incident = NULL;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

static int inactive_edge(struct agw_engine *e, struct agw_engine_cam *cam, const struct agw_alert *a,
			 const struct contrib *contrib, struct agw_decision *d)
{
	struct agw_kind_state *kind_state = cam->kind_state[a->kind];
	char dur[32], dur2[32];
	if (kind_state && kind_state->inc) {
		struct agw_case *c = kind_state->inc;
		struct engine_text t;
		engine_kind_state_unlink(e, kind_state);
		c->count++;
		if (contrib->t > c->last_seen)
			c->last_seen = contrib->t;
		if (contrib->m > c->seen_m)
			c->seen_m = contrib->m;
		if (contrib->camera_time != AGW_TIME_UNKNOWN)
			c->last_camera_time = contrib->camera_time;
		c->updated_ms = contrib->t;
		engine_evidence_add(e, c, contrib->seq, contrib->event_id);
		engine_source_add(c, contrib);
		d->rule = c->rule;
		d->incident = c;
		if (c->n_active_ks == 0) {
			c->active = false;
			c->cleared_ms = contrib->t;
			engine_life_cleared(e, c, contrib->t);
			d->action = AGW_DECISION_CLOSE;
			engine_text_init(&t, d->reason, sizeof(d->reason));
			engine_text_put(&t, "inactive edge: alert ended after ");
			engine_text_dur(&t, contrib->t - c->first_seen);
		} else {
			d->action = AGW_DECISION_UPDATE;
			engine_text_init(&t, d->reason, sizeof(d->reason));
			engine_text_put(&t, "inactive edge; ");
			engine_text_int(&t, (int64_t)c->n_active_ks);
			engine_text_put(&t, " other camera(s) still active");
		}
		return 0;
	}
	if (kind_state && kind_state->pending) {
		const struct agw_rule *r = kind_state->pending_rule;
		int64_t held = contrib->m - kind_state->pending_since_m;
		engine_kind_state_pending_clear(e, kind_state);
		drop(d, r->name, "active for %s, shorter than min_duration %s", fmt_dur(held, dur, sizeof(dur)),
		     fmt_dur(r->min_duration_ms, dur2, sizeof(dur2)));
		return 0;
	}
	if (a->operation == AGW_OP_INITIALIZED)
		drop(d, NULL, "initialized: current state on subscription, not an event");
	else
		drop(d, NULL, "inactive edge without an active case");
	return 0;
}

/* Records the alert's state as the camera's last known one (kept across restarts:
 * agw_engine_txn_dirty) and returns what the engine knew before it: the last known state of this
 * kind and when it first heard the camera. */
static int note_state(struct agw_engine *e, struct agw_engine_cam *cam, const struct agw_alert *a,
		      const struct contrib *contrib, enum agw_active *ret_prev, int64_t *ret_watched)
{
	int64_t watched = cam->watch_since;
	if (!cam->watch_since) {
		engine_touch_cam(e, cam);
		cam->watch_since = contrib->t;
	}
	enum agw_active prev = cam->kind_state[a->kind] ? cam->kind_state[a->kind]->last_state : AGW_ACTIVE_NONE;
	if (a->active != AGW_ACTIVE_NONE && a->operation != AGW_OP_DELETED) {
		struct agw_kind_state *kind_state = engine_ks_get(cam, a->kind);
		if (!kind_state)
			return -ENOMEM;
		engine_touch_kind_state(e, kind_state);
		kind_state->last_state = a->active;
		kind_state->last_state_ms = contrib->t;
	}
	*ret_prev = prev;
	*ret_watched = watched;
	return 0;
}

/* The state on (re)subscription. Active while last known inactive: it started while nobody
 * listened, and its end would otherwise find no case. Never known: only once the camera has been
 * heard for resync_unknown_after, here or (taken over from another instance) by the cluster. */
static bool found_on_resync(const struct agw_engine *e, const struct agw_engine_cam *cam, const struct agw_alert *a,
			    enum agw_active prev, int64_t watched, int64_t t)
{
	int64_t unknown_after = e->rules->resync_unknown_after_ms;
	return a->active == AGW_ACTIVE_TRUE &&
	       (prev == AGW_ACTIVE_FALSE ||
		(prev == AGW_ACTIVE_NONE && unknown_after > 0 &&
		 (cam->cluster_heard || (watched && t - watched >= unknown_after))));
}

/* A matching alert while its incident is live updates it. */
static void join_incident(struct agw_engine *e, struct agw_case *c, struct agw_kind_state *kind_state,
			  const struct agw_rule *r, const struct contrib *contrib, bool resync, enum agw_active prev,
			  struct agw_decision *d)
{
	engine_case_touch(e, c, kind_state, contrib);
	d->action = AGW_DECISION_UPDATE;
	d->rule = r->name;
	d->incident = c;
	if (resync && !c->aggregate) {
		/* An activation found on resubscription joins the incident it belongs to; the
		 * message still says how it was found. */
		c->resync = true;
		snprintf(d->reason, sizeof(d->reason),
			 "found on resynchronisation: active on subscription, last known %s; joined (count %" PRId64 ")",
			 prev == AGW_ACTIVE_FALSE ? "inactive" : "state unknown", c->count);
		return;
	}
	struct engine_text t; /* every update: no printf */
	engine_text_init(&t, d->reason, sizeof(d->reason));
	engine_text_put(&t, strncmp(c->key, "cell/", 5) == 0    ? "dedup: same cell and "
			    : strncmp(c->key, "group/", 6) == 0 ? "dedup: same group and "
								: "dedup: same camera and ");
	engine_text_put(&t, r->dedup_any_kind ? "any kind within " : "kind within ");
	engine_text_dur(&t, c->dedup_window_ms);
	engine_text_put(&t, " (count ");
	engine_text_int(&t, c->count);
	engine_text_put(&t, ")");
}

/* Minimum duration: the start waits as pending until it has lasted. Returns 1 while it has not
 * (d is then a drop saying so), 0 when the incident may open: *ret_first_seen is then the time
 * the start was first seen. */
static int hold_pending(struct agw_engine *e, struct agw_kind_state *kind_state, const struct agw_rule *r,
			const struct agw_alert *a, const struct contrib *contrib, int64_t *ret_first_seen,
			struct agw_decision *d)
{
	char dur[32];
	if (!kind_state->pending || kind_state->pending_rule != r) {
		engine_kind_state_pending_clear(e, kind_state);
		engine_touch_kind_state(e, kind_state);
		kind_state->pending = true;
		kind_state->pending_rule = r;
		kind_state->pending_since = contrib->t;
		kind_state->pending_since_m = contrib->m;
		kind_state->pending_seq = contrib->seq;
		kind_state->pending_camera_time = contrib->camera_time;
		kind_state->pending_topic = a->topic ? strdup(a->topic) : NULL;
		kind_state->pending_event_id = a->event_id ? strdup(a->event_id) : NULL;
		kind_state->pnext = e->pending;
		if (e->pending)
			e->pending->pprev = kind_state;
		e->pending = kind_state;
	}
	if (contrib->m - kind_state->pending_since_m < r->min_duration_ms) {
		drop(d, r->name, "pending: a case opens once active for %s", fmt_dur(r->min_duration_ms, dur, sizeof(dur)));
		return 1;
	}
	*ret_first_seen = kind_state->pending_since;
	engine_kind_state_pending_clear(e, kind_state);
	return 0;
}

/* An alert a rule opens cases for: dedup into a live incident, repeat count, minimum duration,
 * then a new incident. */
static int decide_open(struct agw_engine *e, struct agw_engine_cam *cam, const struct agw_alert *a,
		       const struct agw_rule *r, const struct contrib *contrib, bool resync, enum agw_active prev,
		       struct agw_decision *d)
{
	char key[KEY_MAX], dur[32];
	engine_make_key(key, r, cam, a->kind);
	struct agw_case *c = agw_strmap_get(&e->incidents, key);
	if (c && !engine_case_live(c, contrib->m)) {
		engine_case_retire(e, c);
		c = NULL;
	}
	struct agw_kind_state *kind_state = engine_ks_get(cam, a->kind);
	if (!kind_state)
		return -ENOMEM;
	if (c) {
		join_incident(e, c, kind_state, r, contrib, resync, prev, d);
		return 0;
	}
	if (r->repeat_count > 1 && !resync) {
		uint32_t n;
		int rr = repeat_reached(e, kind_state, r, contrib->m, &n);
		if (rr < 0)
			return rr;
		if (!rr) {
			drop(d, r->name, "repeat %u/%u within %s", n, r->repeat_count,
			     fmt_dur(r->repeat_window_ms, dur, sizeof(dur)));
			return 0;
		}
	}
	int64_t first_seen = contrib->t;
	if (r->min_duration_ms > 0 && a->active == AGW_ACTIVE_TRUE && !resync &&
	    hold_pending(e, kind_state, r, a, contrib, &first_seen, d))
		return 0;
	int ret = engine_open_incident(e, cam, kind_state, a->kind, r, key, first_seen, contrib, d);
	if (ret == 0 && resync && d->action == AGW_DECISION_OPEN && !d->incident->aggregate) {
		d->incident->resync = true; /* created in this call: nothing to save for a rollback */
		snprintf(d->reason, sizeof(d->reason), "found on resynchronisation: active on subscription, last known %s",
			 prev == AGW_ACTIVE_FALSE ? "inactive" : "state unknown");
	}
	return ret;
}

static int decide(struct agw_engine *e, const struct agw_alert *a, int64_t alert_seq, int64_t now_ms,
		  int64_t mono_ms, struct agw_decision *d)
{
	memset(d, 0, sizeof(*d));
	struct contrib contrib = {
		.t = a->gateway_time_ms ? a->gateway_time_ms : now_ms,
		.m = mono_ms,
		.camera_time = a->camera_time_ms,
		.seq = alert_seq,
		.active = a->active,
		.topic = a->topic,
		.event_id = a->event_id,
		.adapter = a->adapter,
	};
	d->alert_seq = alert_seq;
	d->at_ms = contrib.t;
	if (!a->camera_id || (unsigned)a->kind >= AGW_KIND__COUNT) {
		drop(d, NULL, "malformed alert");
		return 0;
	}
	bool full;
	struct agw_engine_cam *cam = engine_cam_get(e, a->camera_id, &full);
	if (!cam && full) {
		drop(d, NULL, "unknown camera: already tracking %d cameras", AGW_ENGINE_MAX_CAMERAS);
		return 0;
	}
	if (!cam)
		return -ENOMEM;
	contrib.cam = cam;
	enum agw_active prev;
	int64_t watched;
	int err = note_state(e, cam, a, &contrib, &prev, &watched);
	if (err < 0)
		return err;
	if (a->active == AGW_ACTIVE_FALSE)
		return inactive_edge(e, cam, a, &contrib, d);
	bool resync = a->operation == AGW_OP_INITIALIZED && found_on_resync(e, cam, a, prev, watched, contrib.t);
	if (a->operation == AGW_OP_INITIALIZED && !resync) {
		drop(d, NULL, "initialized: current state on subscription, not an event");
		return 0;
	}
	if (a->operation == AGW_OP_DELETED) {
		drop(d, NULL, "deleted: the property went away, not an event");
		return 0;
	}
	const struct agw_rule *r = engine_match_rule(e, cam, a->kind, contrib.t, &err);
	if (err < 0)
		return err;
	if (!r) {
		drop(d, NULL, "no rule matched");
		return 0;
	}
	if (r->action == AGW_RULE_DROP) {
		drop(d, r->name, "%s", r->reason ? r->reason : "dropped by rule");
		return 0;
	}
	return decide_open(e, cam, a, r, &contrib, resync, prev, d);
}

int agw_engine_decide_at(struct agw_engine *e, const struct agw_alert *a, int64_t alert_seq, int64_t now_ms,
			 int64_t mono_ms, struct agw_decision *d)
{
	int r = decide(e, a, alert_seq, now_ms, mono_ms, d);
	if (r == 0 && d->incident)
		engine_due_update(e, d->incident);
	return r;
}

int agw_engine_decide(struct agw_engine *e, const struct agw_alert *a, int64_t alert_seq, int64_t now_ms,
		      struct agw_decision *d)
{
	return agw_engine_decide_at(e, a, alert_seq, now_ms, a->gateway_time_ms ? a->gateway_time_ms : now_ms, d);
}
