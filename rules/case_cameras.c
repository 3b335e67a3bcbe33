/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cameras the engine knows: registration, cell resolution (located, owner, unassigned), the
 * per-kind state with its pending minimum-duration start, and cameras seen only in alerts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "case_engine_internal.h"

void engine_kind_state_pending_clear(struct agw_engine *e, struct agw_kind_state *kind_state)
{
	if (!kind_state->pending)
		return;
	engine_touch_kind_state(e, kind_state);
	if (kind_state->pprev)
		kind_state->pprev->pnext = kind_state->pnext;
	else
		e->pending = kind_state->pnext;
	if (kind_state->pnext)
		kind_state->pnext->pprev = kind_state->pprev;
	kind_state->pnext = kind_state->pprev = NULL;
	kind_state->pending = false;
	kind_state->pending_rule = NULL;
	free(kind_state->pending_topic);
	free(kind_state->pending_event_id);
	kind_state->pending_topic = kind_state->pending_event_id = NULL;
}

void engine_cam_free(struct agw_engine *e, struct agw_engine_cam *c)
{
	for (int k = 0; k < AGW_KIND__COUNT; k++) {
		struct agw_kind_state *kind_state = c->kind_state[k];
		if (kind_state) {
			engine_kind_state_pending_clear(e, kind_state);
			free(kind_state->rep);
			free(kind_state);
		}
		free(c->cand[k]);
	}
	free(c->msg_part);
	free(c->id);
	free(c->name);
	free(c->vendor);
	free(c->owner_cell);
	agw_strv_clear(&c->tags);
	free(c);
}

struct agw_kind_state *engine_ks_get(struct agw_engine_cam *cam, enum agw_alert_kind kind)
{
	if (!cam->kind_state[kind]) {
		struct agw_kind_state *kind_state = calloc(1, sizeof(*kind_state));
		if (!kind_state)
			return NULL;
		kind_state->cam = cam;
		kind_state->kind = kind;
		cam->kind_state[kind] = kind_state;
	}
	return cam->kind_state[kind];
}

static void cam_resolve(struct agw_engine *e, struct agw_engine_cam *c)
{
	c->cell = NULL;
	free(c->msg_part); /* rendered from what is changing */
	c->msg_part = NULL;
	c->msg_part_len = 0;
	if (c->has_location && e->grid) {
		double x, y;
		agw_crs_convert(c->crs, agw_grid_crs(e->grid), c->lon, c->lat, &x, &y);
		c->cell = agw_grid_locate(e->grid, x, y);
	}
	if (c->cell) {
		c->cell_code = c->cell->code;
		c->cell_source = AGW_CELL_LOCATED;
	} else if (c->owner_cell && *c->owner_cell) {
		c->cell = e->grid ? agw_grid_find(e->grid, c->owner_cell) : NULL;
		c->cell_code = c->owner_cell;
		c->cell_source = AGW_CELL_OWNER;
	} else {
		c->cell_code = e->unassigned;
		c->cell_source = AGW_CELL_UNASSIGNED;
	}
	c->group = agw_ruleset_group_of(e->rules, c->id);
	for (int k = 0; k < AGW_KIND__COUNT; k++) {
		free(c->cand[k]);
		c->cand[k] = NULL;
		c->n_cand[k] = 0;
	}
	c->cand_done = 0;
}

static int split_tags(struct agw_strv *sv, const char *tags)
{
	const char *p = tags;
	while (p && *p) {
		size_t n = strcspn(p, ",;");
		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		size_t m = n;
		while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
			m--;
		if (m) {
			char *t = strndup(p, m);
			if (!t || agw_strv_add(sv, t) < 0) {
				free(t);
				return -ENOMEM;
			}
			free(t);
		}
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

int agw_engine_camera_set(struct agw_engine *e, const char *id, const char *name, const char *vendor,
			  const char *tags, const char *owner_cell, bool has_location, double lon, double lat,
			  enum agw_crs crs)
{
	if (!id || !*id)
		return -EINVAL;
	struct agw_engine_cam *c = agw_strmap_get(&e->cams, id);
	bool fresh = !c;
	if (fresh) {
		c = calloc(1, sizeof(*c));
		if (!c || !(c->id = strdup(id)))
			goto oom;
	}
	char *nname, *nvendor, *nowner;
	struct agw_strv ntags = {0};
	if (dup_or_null(&nname, name ? name : id) < 0)
		goto oom;
	if (dup_or_null(&nvendor, vendor) < 0 || dup_or_null(&nowner, owner_cell) < 0 || split_tags(&ntags, tags) < 0) {
		free(nname);
		free(nvendor);
		agw_strv_clear(&ntags);
		goto oom;
	}
	free(c->name);
	free(c->vendor);
	free(c->owner_cell);
	agw_strv_clear(&c->tags);
	c->name = nname;
	c->vendor = nvendor;
	c->owner_cell = nowner;
	c->tags = ntags;
	c->has_location = has_location;
	c->lon = lon;
	c->lat = lat;
	c->crs = crs;
	cam_resolve(e, c);
	if (fresh && agw_strmap_put(&e->cams, c->id, c) < 0)
		goto oom;
	return 0;
oom:
	if (fresh && c)
		engine_cam_free(e, c);
	return -ENOMEM;
}

struct agw_engine_cam *agw_engine_camera(struct agw_engine *e, const char *id)
{
	return agw_strmap_get(&e->cams, id);
}

int agw_engine_camera_view(const struct agw_engine *e, const char *id, struct agw_camera_view *ret)
{
	const struct agw_engine_cam *c = agw_strmap_get(&e->cams, id);
	if (!c)
		return -ENOENT;
	*ret = (struct agw_camera_view){
		.id = c->id,
		.name = c->name,
		.vendor = c->vendor,
		.owner_cell = c->owner_cell,
		.cell = c->cell,
		.cell_code = c->cell_code,
		.cell_source = c->cell_source,
	};
	return 0;
}

int agw_engine_camera_heard(struct agw_engine *e, const char *id, bool heard)
{
	struct agw_engine_cam *c = agw_strmap_get(&e->cams, id);
	if (!c)
		return -ENOENT;
	c->cluster_heard = heard;
	return 0;
}

/* Alerts from cameras missing in the ledger still count: they get a camera without location, up
 * to a limit (camera ids come from the network). */
struct agw_engine_cam *engine_cam_get(struct agw_engine *e, const char *id, bool *ret_full)
{
	struct agw_engine_cam *c = agw_strmap_get(&e->cams, id);
	*ret_full = false;
	if (c)
		return c;
	if (e->cams.live >= AGW_ENGINE_MAX_CAMERAS) {
		*ret_full = true;
		return NULL;
	}
	if (agw_engine_camera_set(e, id, NULL, NULL, NULL, NULL, false, 0, 0, AGW_CRS_WGS84) < 0)
		return NULL;
	return agw_strmap_get(&e->cams, id);
}
