/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Incidents changed from outside the alert stream: platform feedback on a case, and incidents
 * rebuilt from the cases table after a restart. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_engine_internal.h"

int agw_engine_feedback(struct agw_engine *e, const char *case_id, enum agw_case_status status,
			struct agw_case **ret_case)
{
	if ((unsigned)status > AGW_CASE_CLOSED)
		return -EINVAL;
	struct agw_case *c = case_id ? agw_strmap_get(&e->ids, case_id) : NULL;
	if (!c)
		return -ENOENT;
	if (status == AGW_CASE_CLOSED) {
		/* The platform closed it: the next alert for this incident opens a new case. */
		engine_case_remove(e, c);
		if (ret_case)
			*ret_case = NULL;
		return 0;
	}
	engine_touch_case(e, c);
	c->status = status;
	if (ret_case)
		*ret_case = c;
	return 0;
}

int agw_engine_restore(struct agw_engine *e, const struct agw_case_restore *r)
{
	if (!r->id || !r->key || !r->camera_id || strlen(r->id) >= AGW_CASE_ID_SIZE || (unsigned)r->kind >= AGW_KIND__COUNT)
		return -EINVAL;
	if (r->status == AGW_CASE_CLOSED || agw_strmap_get(&e->incidents, r->key) || agw_strmap_get(&e->ids, r->id))
		return -EEXIST;
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
	if (agw_strmap_put(&e->incidents, c->key, c) < 0 || agw_strmap_put(&e->ids, c->id, c) < 0) {
		agw_strmap_remove(&e->incidents, c->key);
		engine_case_free(c);
		return -ENOMEM;
	}
	c->in_index = true;
	/* The camera of the first alert is the one known to be active; others rejoin on their next
	 * active alert, and the clear timeout covers the rest. Marked active before its due time is
	 * computed: an active incident is due at its clear timeout, an inactive one at the end of its
	 * dedup window (later), which the heap would otherwise keep. */
	if (r->active && !r->aggregate) {
		struct agw_kind_state *kind_state = engine_ks_get(cam, r->kind);
		c->active = true;
		if (kind_state)
			engine_kind_state_link(e, c, kind_state);
	}
	engine_due_update(e, c);
	return 0;
}
