/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Incidents rebuilt from the cases table: after a restart, and a case that left the engine when
 * feedback arrives for it (reopened). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_engine_internal.h"

static int restore_life(struct agw_engine *e, struct agw_case *c, const struct agw_case_restore *r)
{
	const struct agw_rule *rule = agw_ruleset_find(e->rules, r->rule);
	memcpy(c->status_ms, r->status_ms, sizeof(c->status_ms));
	c->n_feedback = r->n_feedback;
	c->fb_status = r->fb_status;
	c->fb_ms = r->fb_ms;
	if (dup_text_max(&c->fb_by, r->fb_by, AGW_FEEDBACK_BY_MAX) < 0 ||
	    dup_text_max(&c->fb_note, r->fb_note, AGW_FEEDBACK_NOTE_MAX) < 0)
		return -ENOMEM;
	c->esc_level = r->esc_level;
	c->end_on_clear = rule && rule->end_on_clear;
	c->expire_after_ms = rule ? rule->expire_after_ms : 0;
	/* Deadlines as they read on the monotonic clock now: the time spent down counts. */
	c->sup_due_m = r->sup_due ? r->sup_due - r->wall_minus_mono : INT64_MAX;
	c->sup_due_ms = r->sup_due;
	c->expire_m = r->expire_at ? r->expire_at - r->wall_minus_mono : INT64_MAX;
	c->expire_ms = r->expire_at;
	if (r->ended)
		c->end = AGW_END_FEEDBACK; /* taken back only by reopened feedback */
	for (size_t i = 0; i < r->n_sources && c->n_sources < AGW_CASE_SOURCES_MAX; i++) {
		bool full;
		struct agw_engine_cam *cam = r->source_cams[i] ? engine_cam_get(e, r->source_cams[i], &full) : NULL;
		if (!cam)
			continue;
		c->sources[c->n_sources] = r->sources[i];
		c->sources[c->n_sources++].cam = cam;
	}
	return 0;
}

static int restore(struct agw_engine *e, const struct agw_case_restore *r, bool detached);

int agw_engine_restore(struct agw_engine *e, const struct agw_case_restore *r)
{
	return restore(e, r, false);
}

int agw_engine_restore_detached(struct agw_engine *e, const struct agw_case_restore *r)
{
	return restore(e, r, true);
}

static int restore(struct agw_engine *e, const struct agw_case_restore *r, bool detached)
{
	if (!r->id || !r->key || !r->camera_id || strlen(r->id) >= AGW_CASE_ID_SIZE || (unsigned)r->kind >= AGW_KIND__COUNT ||
	    (unsigned)r->status >= AGW_CASE__STATUS_COUNT)
		return -EINVAL;
	if ((!detached && r->ended) || agw_strmap_get(&e->ids, r->id))
		return -EEXIST;
	/* A key held by a newer incident: this one is kept for its timers only. */
	if (agw_strmap_get(&e->incidents, r->key)) {
		if (!r->sup_due && !(r->expire_at && !e->store_expiry) && !detached)
			return -EEXIST;
		detached = true;
	}
	bool full;
	struct agw_engine_cam *cam = engine_cam_get(e, r->camera_id, &full);
	if (!cam)
		return full ? -E2BIG : -ENOMEM;
	struct agw_case *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->heap_pos = SIZE_MAX;
	snprintf(c->id, sizeof(c->id), "%s", r->id);
	if (!(c->key = strdup(r->key)) || dup_or_null(&c->rule, r->rule ? r->rule : "") < 0 ||
	    dup_or_null(&c->category, r->category) < 0 || dup_or_null(&c->title, r->title) < 0 ||
	    dup_or_null(&c->topic, r->topic) < 0) {
		engine_case_free(c);
		return -ENOMEM;
	}
	const struct agw_rule *rule = agw_ruleset_find(e->rules, r->rule);
	c->dedup_window_ms = rule ? rule->dedup_window_ms : e->rules->def_dedup_window_ms;
	c->clear_timeout_ms = rule ? rule->clear_timeout_ms : e->rules->def_clear_timeout_ms;
	c->aggregate = r->aggregate;
	c->resync = r->resync;
	if (c->aggregate) {
		c->dedup_window_ms = strncmp(r->key, "flood/cell/", 11) == 0 ? e->rules->flood_cell.window_ms
									     : e->rules->flood_camera.window_ms;
		c->clear_timeout_ms = 0;
	}
	c->priority = r->priority;
	c->cam = cam;
	c->kind = r->kind;
	c->status = r->status;
	c->has_state = r->has_state;
	c->first_seen = r->first_seen;
	c->last_seen = r->last_seen;
	c->first_camera_time = r->first_camera_time;
	c->last_camera_time = r->last_camera_time;
	c->created_ms = r->created_ms;
	c->updated_ms = r->updated_ms;
	c->cleared_ms = r->cleared_ms;
	c->count = r->count;
	c->last_active_ms = r->last_seen;
	/* Windows run on the monotonic clock: the stored (wall) time as it reads on it now. */
	c->seen_m = c->active_m = r->last_seen - r->wall_minus_mono;
	if (restore_life(e, c, r) < 0) {
		engine_case_free(c);
		return -ENOMEM;
	}
	if ((!detached && agw_strmap_put(&e->incidents, c->key, c) < 0) || agw_strmap_put(&e->ids, c->id, c) < 0) {
		if (!detached)
			agw_strmap_remove(&e->incidents, c->key);
		engine_case_free(c);
		return -ENOMEM;
	}
	c->in_index = true;
	c->keyed = !detached;
	engine_txn_created(e, c);
	/* The camera of the first alert is the one known to be active; others rejoin on their next
	 * active alert, and the clear timeout covers the rest. Marked active before its due time is
	 * computed: an active incident is due at its clear timeout, an inactive one at the end of its
	 * dedup window (later), which the heap would otherwise keep. */
	if (r->active && !r->aggregate && !detached) {
		struct agw_kind_state *kind_state = engine_ks_get(cam, r->kind);
		c->active = true;
		if (kind_state)
			engine_kind_state_link(e, c, kind_state);
	}
	engine_due_update(e, c);
	return 0;
}
