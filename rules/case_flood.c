/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opening a case for a new incident under flood control: fixed-window counters per camera and per
 * cell, and the aggregate case past their limit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_engine_internal.h"

/* Fixed-window counter: true when one more case would pass the limit. */
static bool flood_full(const struct agw_flood *f, int64_t *start, int64_t *count, int64_t t)
{
	if (!f->max_cases)
		return false;
	if (*count == 0 || t - *start >= f->window_ms) {
		*start = t;
		*count = 0;
	}
	return *count >= (int64_t)f->max_cases;
}

static struct cell_flood *cell_flood_get(struct agw_engine *e, const char *code)
{
	struct cell_flood *f = agw_strmap_get(&e->floods, code);
	if (f)
		return f;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->code = strdup(code)) || agw_strmap_put(&e->floods, f->code, f) < 0) {
		if (f)
			free(f->code);
		free(f);
		return NULL;
	}
	return f;
}

/* Opens a case for a new incident (or, past the flood limit, joins the aggregate case). */
int engine_open_incident(struct agw_engine *e, struct agw_engine_cam *cam, struct agw_kind_state *kind_state,
			 enum agw_alert_kind kind, const struct agw_rule *rule, const char *key, int64_t first_seen,
			 const struct contrib *contrib, struct agw_decision *d)
{
	const struct agw_ruleset *rs = e->rules;
	struct cell_flood *cf = cell_flood_get(e, cam->cell_code);
	if (!cf)
		return -ENOMEM;
	char akey[KEY_MAX], dur[32];
	bool per_camera = false;
	engine_touch_cam(e, cam);
	engine_touch_flood(e, cf);
	akey[0] = '\0';
	if (flood_full(&rs->flood_camera, &cam->flood_start, &cam->flood_count, contrib->m)) {
		snprintf(akey, sizeof(akey), "flood/camera/%s", cam->id);
		per_camera = true;
		snprintf(d->reason, sizeof(d->reason), "flood: camera %s opened %u cases within %s; aggregated", cam->id,
			 rs->flood_camera.max_cases, fmt_dur(rs->flood_camera.window_ms, dur, sizeof(dur)));
	} else if (cam->cell_source != AGW_CELL_UNASSIGNED && flood_full(&rs->flood_cell, &cf->start, &cf->count, contrib->m)) {
		snprintf(akey, sizeof(akey), "flood/cell/%s", cam->cell_code);
		snprintf(d->reason, sizeof(d->reason), "flood: cell %s opened %u cases within %s; aggregated",
			 cam->cell_code, rs->flood_cell.max_cases, fmt_dur(rs->flood_cell.window_ms, dur, sizeof(dur)));
	}
	d->rule = rule->name;
	if (akey[0]) {
		struct agw_case *agg = agw_strmap_get(&e->incidents, akey);
		if (agg && !engine_case_live(agg, contrib->m)) {
			engine_case_retire(e, agg);
			agg = NULL;
		}
		if (agg) {
			engine_case_touch(e, agg, NULL, contrib);
			d->action = AGW_DECISION_UPDATE;
			d->incident = agg;
			return 0;
		}
		agg = engine_case_new(e, akey, rule, cam, kind, first_seen, contrib);
		if (!agg)
			return -ENOMEM;
		agg->aggregate = true;
		/* The aggregate lives as long as the flood window, whatever the rule's dedup window. */
		agg->dedup_window_ms = per_camera ? rs->flood_camera.window_ms : rs->flood_cell.window_ms;
		agg->clear_timeout_ms = 0;
		engine_case_touch(e, agg, NULL, contrib);
		char t[160];
		snprintf(t, sizeof(t), "Alarm flood: many %s alerts at %s", "{kind}",
			 per_camera ? "{camera_name}" : "cell {cell}");
		if (engine_set_title(agg, t) < 0)
			return -ENOMEM;
		d->action = AGW_DECISION_OPEN;
		d->incident = agg;
		return 0;
	}
	struct agw_case *c = engine_case_new(e, key, rule, cam, kind, first_seen, contrib);
	if (!c)
		return -ENOMEM;
	engine_case_touch(e, c, kind_state, contrib);
	if (engine_set_title(c, rule->title) < 0)
		return -ENOMEM;
	cam->flood_count++;
	cf->count++;
	d->action = AGW_DECISION_OPEN;
	d->incident = c;
	struct engine_text t;
	engine_text_init(&t, d->reason, sizeof(d->reason));
	engine_text_put(&t, "new incident ");
	engine_text_put(&t, key);
	return 0;
}
