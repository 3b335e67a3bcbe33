/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which rule applies to an alert: the index of rules by camera, tag and cell, each camera's
 * candidate rules per kind, and the first candidate whose schedule matches. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "case_engine_internal.h"

static int rules_add(struct cam_rules *cr, uint32_t i)
{
	if (cr->n && cr->v[cr->n - 1] == i)
		return 0; /* named twice in one rule */
	if (cr->n == cr->cap) {
		size_t cap = cr->cap ? cr->cap * 2 : 4;
		uint32_t *v = realloc(cr->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		cr->v = v;
		cr->cap = cap;
	}
	cr->v[cr->n++] = i;
	return 0;
}

static int index_add(struct agw_strmap *m, const char *key, uint32_t i)
{
	struct cam_rules *cr = agw_strmap_get(m, key);
	if (!cr) {
		if (!(cr = calloc(1, sizeof(*cr))))
			return -ENOMEM;
		cr->id = key;
		if (agw_strmap_put(m, cr->id, cr) < 0) {
			free(cr);
			return -ENOMEM;
		}
	}
	return rules_add(cr, i);
}

/* Candidates of a camera, gathered from the index (a superset of the rules whose static
 * conditions match it): its own list, its tags', the rules under its cell code, under each
 * prefix of it and under each code of its path, and the rules with no condition. */
struct gather {
	uint32_t *v;
	size_t n, cap;
	int err;
};

static void gather_add(struct gather *g, const struct cam_rules *cr)
{
	if (!cr || !cr->n || g->err)
		return;
	if (g->n + cr->n > g->cap) {
		size_t cap = g->cap ? g->cap : 64;
		while (cap < g->n + cr->n)
			cap *= 2;
		uint32_t *v = realloc(g->v, cap * sizeof(*v));
		if (!v) {
			g->err = -ENOMEM;
			return;
		}
		g->v = v;
		g->cap = cap;
	}
	memcpy(g->v + g->n, cr->v, cr->n * sizeof(*cr->v));
	g->n += cr->n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void gather_cells(struct agw_engine *e, struct gather *g, const char *const *path, size_t n_path)
{
	/* A rule's cell matches when the code starts with it or a code of the path above is it. */
	const char *code = path[n_path - 1];
	size_t len = strlen(code);
	char stack[128], *prefix = len < sizeof(stack) ? stack : malloc(len + 1);
	if (!prefix) {
		g->err = -ENOMEM;
		return;
	}
	memcpy(prefix, code, len + 1);
	for (size_t l = 1; l <= len; l++) {
		char ch = prefix[l];
		prefix[l] = '\0';
		gather_add(g, agw_strmap_get(&e->rules_by_cell, prefix));
		prefix[l] = ch;
	}
	if (prefix != stack)
		free(prefix);
	for (size_t p = 0; p + 1 < n_path; p++)
		gather_add(g, agw_strmap_get(&e->rules_by_cell, path[p]));
}

/* The rules whose static conditions can match this camera, per kind, in file order. Computed on
 * the camera's first alert from the index, each candidate then checked in full (the camera, its
 * tags and its cell do not change between reloads), so a decision only scans the few rules that
 * can apply. */
static int cam_candidates(struct agw_engine *e, struct agw_engine_cam *c)
{
	if (c->cand_done)
		return 0;
	const char *one[1] = {c->cell_code};
	const char *const *path = c->cell ? (const char *const *)c->cell->path : one;
	size_t n_path = c->cell ? c->cell->n_path : 1;
	uint32_t *v[AGW_KIND__COUNT] = {0}, n[AGW_KIND__COUNT] = {0}, cap[AGW_KIND__COUNT] = {0};
	const uint32_t all = (1u << AGW_KIND__COUNT) - 1;
	struct gather g = {0};
	gather_add(&g, agw_strmap_get(&e->rules_by_camera, c->id));
	for (size_t t = 0; t < c->tags.n; t++)
		gather_add(&g, agw_strmap_get(&e->rules_by_tag, c->tags.v[t]));
	if (n_path)
		gather_cells(e, &g, path, n_path);
	gather_add(&g, e->rules_anywhere);
	if (g.err < 0)
		goto oom;
	if (g.n)
		qsort(g.v, g.n, sizeof(*g.v), cmp_u32);
	for (size_t j = 0; j < g.n; j++) {
		uint32_t i = g.v[j];
		if (j && g.v[j - 1] == i)
			continue;
		const struct agw_rule *r = &e->rules->rules[i];
		if (!agw_rule_matches_where(r, NULL, &c->tags, path, n_path))
			continue;
		uint32_t kinds = r->kinds ? r->kinds : all;
		for (uint32_t k = 0; k < AGW_KIND__COUNT; k++) {
			if (!(kinds & (1u << k)))
				continue;
			if (n[k] == cap[k]) {
				cap[k] = cap[k] ? cap[k] * 2 : 4;
				uint32_t *nv = realloc(v[k], cap[k] * sizeof(**v));
				if (!nv)
					goto oom;
				v[k] = nv;
			}
			v[k][n[k]++] = i;
		}
	}
	free(g.v);
	for (uint32_t k = 0; k < AGW_KIND__COUNT; k++) {
		c->cand[k] = v[k];
		c->n_cand[k] = n[k];
	}
	c->cand_done = all;
	return 0;
oom:
	free(g.v);
	for (int j = 0; j < AGW_KIND__COUNT; j++)
		free(v[j]);
	return -ENOMEM;
}

static void index_free(struct agw_strmap *m)
{
	for (size_t i = agw_strmap_next(m, 0); i < m->cap; i = agw_strmap_next(m, i + 1)) {
		struct cam_rules *cr = m->slots[i].value;
		free(cr->v);
		free(cr);
	}
	agw_strmap_clear(m);
}

void engine_camera_rules_free(struct agw_engine *e)
{
	index_free(&e->rules_by_camera);
	index_free(&e->rules_by_tag);
	index_free(&e->rules_by_cell);
	if (e->rules_anywhere)
		free(e->rules_anywhere->v);
	free(e->rules_anywhere);
	e->rules_anywhere = NULL;
}

/* Each rule under one condition: what a camera must have for the rule to match it at all. */
static int index_rule(struct agw_engine *e, const struct agw_rule *r, uint32_t i)
{
	const struct agw_strv *under = r->cameras.n ? &r->cameras : r->tags.n ? &r->tags : &r->cells;
	struct agw_strmap *m = r->cameras.n ? &e->rules_by_camera : r->tags.n ? &e->rules_by_tag : &e->rules_by_cell;
	bool anywhere = !under->n;
	for (size_t k = 0; k < under->n; k++)
		if (!under->v[k][0] && under == &r->cells)
			anywhere = true; /* "" is a prefix of every code */
	if (anywhere)
		return rules_add(e->rules_anywhere, i);
	for (size_t k = 0; k < under->n; k++) {
		int err = index_add(m, under->v[k], i);
		if (err < 0)
			return err;
	}
	return 0;
}

int engine_index_camera_rules(struct agw_engine *e)
{
	if (!(e->rules_anywhere = calloc(1, sizeof(*e->rules_anywhere))))
		return -ENOMEM;
	for (size_t i = 0; i < e->rules->n; i++) {
		int err = index_rule(e, &e->rules->rules[i], (uint32_t)i);
		if (err < 0)
			return err;
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
