/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The incident (case) object: creation and indexing, what an alert adds to it, the cameras it
 * keeps active, whether it is still live, and its removal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_engine_internal.h"

#define CAMERA_TIME_TRUST_MS (24 * 3600 * 1000LL)

void engine_case_free(struct agw_case *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_active_ks; i++)
		c->active_ks[i]->inc = NULL;
	free(c->active_ks);
	free(c->key);
	free(c->rule);
	free(c->category);
	free(c->title);
	free(c->topic);
	free(c->fb_by);
	free(c->fb_note);
	free(c->msg_part);
	for (size_t i = 0; i < c->n_evidence; i++)
		free(c->evidence[i].event_id);
	free(c);
}

void engine_kind_state_link(struct agw_engine *e, struct agw_case *c, struct agw_kind_state *kind_state)
{
	if (kind_state->inc == c)
		return;
	engine_touch_case(e, c);
	engine_touch_kind_state(e, kind_state);
	engine_touch_case(e, kind_state->inc);
	if (kind_state->inc) {
		/* The camera moved to another incident (a rule with another dedup key matched). */
		struct agw_case *o = kind_state->inc;
		for (size_t i = 0; i < o->n_active_ks; i++)
			if (o->active_ks[i] == kind_state) {
				o->active_ks[i] = o->active_ks[--o->n_active_ks];
				break;
			}
		kind_state->inc = NULL;
	}
	if (c->n_active_ks == c->cap_active_ks) {
		size_t cap = c->cap_active_ks ? c->cap_active_ks * 2 : 2;
		struct agw_kind_state **v = realloc(c->active_ks, cap * sizeof(*v));
		if (!v)
			return; /* the clear timeout still closes the incident */
		c->active_ks = v;
		c->cap_active_ks = cap;
	}
	c->active_ks[c->n_active_ks++] = kind_state;
	kind_state->inc = c;
}

void engine_kind_state_unlink(struct agw_engine *e, struct agw_kind_state *kind_state)
{
	struct agw_case *c = kind_state->inc;
	if (!c)
		return;
	engine_touch_case(e, c);
	engine_touch_kind_state(e, kind_state);
	for (size_t i = 0; i < c->n_active_ks; i++)
		if (c->active_ks[i] == kind_state) {
			c->active_ks[i] = c->active_ks[--c->n_active_ks];
			break;
		}
	kind_state->inc = NULL;
}

void engine_case_unlink_all(struct agw_engine *e, struct agw_case *c)
{
	engine_touch_case(e, c);
	for (size_t i = 0; i < c->n_active_ks; i++) {
		engine_touch_kind_state(e, c->active_ks[i]);
		c->active_ks[i]->inc = NULL;
	}
	c->n_active_ks = 0;
}

void engine_case_remove(struct agw_engine *e, struct agw_case *c)
{
	engine_heap_remove(e, c);
	engine_case_unlink_all(e, c);
	bool was_keyed = c->keyed;
	if (c->in_index) {
		engine_touch_case(e, c);
		if (c->keyed) /* an unkeyed case's key may name a newer incident */
			agw_strmap_remove(&e->incidents, c->key);
		agw_strmap_remove(&e->ids, c->id);
		c->in_index = false;
		c->keyed = false;
	}
	if (!engine_txn_removed(e, c, was_keyed))
		engine_case_free(c);
}

void engine_case_retire(struct agw_engine *e, struct agw_case *c)
{
	if (c->end != AGW_END_NONE || agw_case_status_final(c->status) ||
	    !engine_case_has_timers(e, c)) {
		engine_case_remove(e, c);
		return;
	}
	if (!c->keyed)
		return;
	engine_case_unlink_all(e, c);
	agw_strmap_remove(&e->incidents, c->key);
	c->keyed = false;
	engine_txn_unkeyed(e, c);
	engine_due_set(e, c);
}

/* m: now on the monotonic clock. A case takes alerts while it is keyed, has not ended, and is
 * active or within its window. */
bool engine_case_live(const struct agw_case *c, int64_t m)
{
	return c->keyed && c->end == AGW_END_NONE && !agw_case_status_final(c->status) &&
	       (c->active || m - c->seen_m <= c->dedup_window_ms);
}

void engine_evidence_add(struct agw_engine *e, struct agw_case *c, int64_t seq, const char *event_id)
{
	engine_touch_case(e, c);
	struct agw_case_evidence *ev = &c->evidence[c->evidence_next];
	if (c->n_evidence == AGW_CASE_EVIDENCE_MAX)
		free(ev->event_id);
	else
		c->n_evidence++;
	ev->alert_seq = seq;
	ev->event_id = event_id ? strdup(event_id) : NULL;
	c->evidence_next = (c->evidence_next + 1) % AGW_CASE_EVIDENCE_MAX;
}

static void set_topic(struct agw_case *c, const char *topic)
{
	if (!topic || (c->topic && strcmp(c->topic, topic) == 0))
		return;
	char *t = strdup(topic);
	if (t) {
		free(c->topic);
		c->topic = t;
	}
}

void engine_case_touch(struct agw_engine *e, struct agw_case *c, struct agw_kind_state *kind_state, const struct contrib *contrib)
{
	engine_touch_case(e, c);
	c->count++;
	if (contrib->t > c->last_seen)
		c->last_seen = contrib->t;
	if (contrib->m > c->seen_m)
		c->seen_m = contrib->m;
	if (contrib->camera_time != AGW_TIME_UNKNOWN)
		c->last_camera_time = contrib->camera_time;
	c->updated_ms = contrib->t;
	set_topic(c, contrib->topic);
	engine_evidence_add(e, c, contrib->seq, contrib->event_id);
	engine_source_add(c, contrib);
	/* An aggregate counts alerts of many incidents: it has no state of its own to pair or clear. */
	if (contrib->active == AGW_ACTIVE_TRUE && !c->aggregate) {
		c->has_state = true;
		c->active = true;
		c->cleared_ms = 0;
		c->last_active_ms = contrib->t;
		c->active_m = contrib->m;
		if (kind_state)
			engine_kind_state_link(e, c, kind_state);
	}
}

struct agw_case *engine_case_new(struct agw_engine *e, const char *key, const struct agw_rule *rule,
				 struct agw_engine_cam *cam, enum agw_alert_kind kind, int64_t first_seen,
				 const struct contrib *contrib)
{
	struct agw_case *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->heap_pos = SIZE_MAX;
	if (!(c->key = strdup(key)) || !(c->rule = strdup(rule->name)) ||
	    dup_or_null(&c->category, rule->category ? rule->category : "video_alarm") < 0)
		goto oom;
	/* Two instances pulling the same camera during a handover see the same notification at
	 * different gateway times: the camera's time makes their ids equal, so the platform drops the
	 * duplicate. A camera clock a day or more off (unset, reset to 1970) is not trusted. */
	int64_t id_time = first_seen;
	if (contrib->camera_time != AGW_TIME_UNKNOWN && llabs(contrib->camera_time - contrib->t) < CAMERA_TIME_TRUST_MS)
		id_time = contrib->camera_time;
	agw_case_id_make(e->gateway_id, key, id_time, c->id);
	/* Another incident (closed by the platform) may have had this very id. */
	for (unsigned n = 2; agw_strmap_get(&e->ids, c->id) && n < 1000; n++) {
		char base[AGW_CASE_ID_SIZE];
		agw_case_id_make(e->gateway_id, key, id_time, base);
		snprintf(c->id, sizeof(c->id), "%.20s-%u", base, n);
	}
	c->priority = rule->priority >= 1 && rule->priority <= 4 ? rule->priority : 3;
	c->cam = cam;
	c->kind = kind;
	c->status = AGW_CASE_OPEN;
	c->first_seen = c->last_seen = first_seen;
	c->first_camera_time = c->last_camera_time = contrib->camera_time;
	c->created_ms = contrib->t;
	c->seen_m = c->active_m = contrib->m;
	c->dedup_window_ms = rule->dedup_window_ms;
	c->clear_timeout_ms = rule->clear_timeout_ms;
	c->count = 0;
	engine_life_start(c, rule, e->rules, contrib->t, contrib->m);
	if (agw_strmap_put(&e->incidents, c->key, c) < 0)
		goto oom;
	if (agw_strmap_put(&e->ids, c->id, c) < 0) {
		agw_strmap_remove(&e->incidents, c->key);
		goto oom;
	}
	c->in_index = true;
	c->keyed = true;
	engine_txn_created(e, c);
	return c;
oom:
	engine_case_free(c);
	return NULL;
}

int engine_set_title(struct agw_case *c, const char *tmpl)
{
	char buf[512];
	agw_case_title(tmpl ? tmpl : "{kind} at {camera_name}", c, buf, sizeof(buf));
	return agw_rule_set_text(&c->title, buf);
}

void agw_case_view_get(const struct agw_case *c, struct agw_case_view *ret)
{
	*ret = (struct agw_case_view){
		.id = c->id,
		.key = c->key,
		.rule = c->rule,
		.category = c->category,
		.title = c->title,
		.camera_id = c->cam->id,
		.cell_code = c->cam->cell_code,
		.cell = c->cam->cell,
		.kind = c->kind,
		.status = c->status,
		.priority = c->priority,
		.active = c->active,
		.first_seen = c->first_seen,
		.last_seen = c->last_seen,
		.created_ms = c->created_ms,
		.updated_ms = c->updated_ms,
		.count = c->count,
		.esc_level = c->esc_level,
		.end = c->end,
		.ended_ms = c->ended_ms,
		.sup_due_ms = c->sup_due_ms,
		.expire_ms = c->expire_ms,
	};
}

const char *agw_case_id(const struct agw_case *c)
{
	return c->id;
}
