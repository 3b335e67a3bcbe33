/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which rule applies to an alert: the index of rules naming cameras, each camera's candidate rules
 * per kind, and the first candidate whose schedule matches. */
#include <errno.h>
#include <stdlib.h>

#include "case_engine_internal.h"

/* The rules whose static conditions can match this camera, per kind, in file order. Computed on
 * the camera's first alert in one pass over the rules (the camera, its tags and its cell do not
 * change between reloads), so a decision only scans the few rules that can apply. */
static int cam_candidates(struct agw_engine *e, struct agw_engine_cam *c)
{
	if (c->cand_done)
		return 0;
	const char *one[1] = {c->cell_code};
	const char *const *path = c->cell ? (const char *const *)c->cell->path : one;
	size_t n_path = c->cell ? c->cell->n_path : 1;
	uint32_t *v[AGW_KIND__COUNT] = {0}, n[AGW_KIND__COUNT] = {0}, cap[AGW_KIND__COUNT] = {0};
	const uint32_t all = (1u << AGW_KIND__COUNT) - 1;
	const struct cam_rules *named = agw_strmap_get(&e->rules_by_camera, c->id);
	size_t ni = 0;
	for (size_t i = 0; i < e->rules->n; i++) {
		const struct agw_rule *r = &e->rules->rules[i];
		if (r->cameras.n) {
			/* Camera lists go through the index: both sequences ascend. */
			while (named && ni < named->n && named->v[ni] < i)
				ni++;
			if (!named || ni >= named->n || named->v[ni] != i)
				continue;
		}
		if (!agw_rule_matches_where(r, NULL, &c->tags, path, n_path))
			continue;
		uint32_t kinds = r->kinds ? r->kinds : all;
		for (uint32_t k = 0; k < AGW_KIND__COUNT; k++) {
			if (!(kinds & (1u << k)))
				continue;
			if (n[k] == cap[k]) {
				cap[k] = cap[k] ? cap[k] * 2 : 4;
				uint32_t *nv = realloc(v[k], cap[k] * sizeof(**v));
				if (!nv) {
					for (int j = 0; j < AGW_KIND__COUNT; j++)
						free(v[j]);
					return -ENOMEM;
				}
				v[k] = nv;
			}
			v[k][n[k]++] = (uint32_t)i;
		}
	}
	for (uint32_t k = 0; k < AGW_KIND__COUNT; k++) {
		c->cand[k] = v[k];
		c->n_cand[k] = n[k];
	}
	c->cand_done = all;
	return 0;
}

void engine_camera_rules_free(struct agw_engine *e)
{
	for (size_t i = agw_strmap_next(&e->rules_by_camera, 0); i < e->rules_by_camera.cap;
	     i = agw_strmap_next(&e->rules_by_camera, i + 1)) {
		struct cam_rules *cr = e->rules_by_camera.slots[i].value;
		free(cr->v);
		free(cr);
	}
	agw_strmap_clear(&e->rules_by_camera);
}

int engine_index_camera_rules(struct agw_engine *e)
{
	for (size_t i = 0; i < e->rules->n; i++) {
		const struct agw_strv *cams = &e->rules->rules[i].cameras;
		for (size_t k = 0; k < cams->n; k++) {
			struct cam_rules *cr = agw_strmap_get(&e->rules_by_camera, cams->v[k]);
			if (!cr) {
				if (!(cr = calloc(1, sizeof(*cr))))
					return -ENOMEM;
				cr->id = cams->v[k];
				if (agw_strmap_put(&e->rules_by_camera, cr->id, cr) < 0) {
					free(cr);
					return -ENOMEM;
				}
			}
			if (cr->n && cr->v[cr->n - 1] == i)
				continue; /* listed twice in one rule */
			if (cr->n == cr->cap) {
				size_t cap = cr->cap ? cr->cap * 2 : 4;
				uint32_t *v = realloc(cr->v, cap * sizeof(*v));
				if (!v)
					return -ENOMEM;
				cr->v = v;
				cr->cap = cap;
			}
			cr->v[cr->n++] = (uint32_t)i;
		}
	}
	return 0;
}

const struct agw_rule *engine_match_rule(struct agw_engine *e, struct agw_engine_cam *cam, enum agw_alert_kind kind,
					 int64_t t, int *err)
{
	*err = cam_candidates(e, cam);
	if (*err < 0)
		return NULL;
	for (uint32_t i = 0; i < cam->n_cand[kind]; i++) {
		const struct agw_rule *r = &e->rules->rules[cam->cand[kind][i]];
		if (agw_rule_schedule_matches(r, e->rules->tz_offset_min, t))
			return r;
	}
	return NULL;
}
