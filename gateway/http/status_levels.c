/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Counts per level of the grid hierarchy (district, street, community: the parent codes of the
 * cells, top-down) and per cell, for the page's "where" panel and the map's shading. */
#include <string.h>

#include "status_page.h"

enum { N_LEVELS = 3 };
static const char *const level_names[N_LEVELS] = {"district", "street", "community"};

/* Counter columns of a node: [level, cameras, offline, channel_lost, never subscribed, unknown,
 * open cases]. */
enum { COL_LEVEL, COL_CAMERAS, COL_OFFLINE, COL_LOST, COL_NEVER_SUB, COL_UNKNOWN, COL_OPEN, N_COLS };
/* Of a cell: [cameras, problems, open cases]. */
enum { CELL_CAMERAS, CELL_PROBLEMS, CELL_OPEN, N_CELL_COLS };

static json_t *row(json_t *map, const char *code, size_t n, int level)
{
	json_t *r = json_object_get(map, code);
	if (r)
		return r;
	r = json_array();
	for (size_t i = 0; r && i < n; i++)
		json_array_append_new(r, json_integer(i == 0 && level >= 0 ? level : 0));
	if (r && json_object_set_new(map, code, r) < 0)
		return NULL;
	return r;
}

static void bump(json_t *r, size_t col)
{
	json_t *v = json_array_get(r, col);
	if (v)
		json_integer_set(v, json_integer_value(v) + 1);
}

/* Each parent level of cell gets col counted once. */
static void bump_levels(json_t *nodes, const struct agw_cell *cell, size_t col)
{
	for (size_t i = 0; cell && i + 1 < cell->n_path && i < N_LEVELS; i++)
		bump(row(nodes, cell->path[i], N_COLS, (int)i), col);
}

static void count_camera(json_t *nodes, json_t *cells, const struct agw_status_camera *c)
{
	static const size_t state_col[AGW_CAMERA_STATE__COUNT] = {
		[AGW_CAMERA_OFFLINE] = COL_OFFLINE, [AGW_CAMERA_CHANNEL_LOST] = COL_LOST,
		[AGW_CAMERA_NEVER_SUBSCRIBED] = COL_NEVER_SUB, [AGW_CAMERA_ONLINE] = 0, [AGW_CAMERA_UNKNOWN] = COL_UNKNOWN};
	bump_levels(nodes, c->cell, COL_CAMERAS);
	if (state_col[c->state])
		bump_levels(nodes, c->cell, state_col[c->state]);
	if (!c->cell_code)
		return;
	json_t *r = row(cells, c->cell_code, N_CELL_COLS, -1);
	bump(r, CELL_CAMERAS);
	if (c->state != AGW_CAMERA_ONLINE)
		bump(r, CELL_PROBLEMS);
}

/* nodes -> {"district": [{code, name, cameras, ...}], ...}, names from cells of the same code. */
static json_t *levels_list(json_t *nodes, const struct agw_status_grid *g)
{
	json_t *out = json_object();
	for (size_t l = 0; out && l < N_LEVELS; l++)
		json_object_set_new(out, level_names[l], json_array());
	const char *code;
	json_t *r;
	json_object_foreach(nodes, code, r) {
		json_int_t level = json_integer_value(json_array_get(r, COL_LEVEL));
		const struct agw_cell *named = g ? agw_grid_find(g->grid, code) : NULL;
		json_t *o = json_pack("{s:s,s:s?,s:I,s:I,s:I,s:I,s:I,s:I}", "code", code, "name",
				      named ? named->name : NULL, "cameras", json_integer_value(json_array_get(r, COL_CAMERAS)),
				      "offline", json_integer_value(json_array_get(r, COL_OFFLINE)), "channel_lost",
				      json_integer_value(json_array_get(r, COL_LOST)), "never_subscribed",
				      json_integer_value(json_array_get(r, COL_NEVER_SUB)), "unknown",
				      json_integer_value(json_array_get(r, COL_UNKNOWN)), "open",
				      json_integer_value(json_array_get(r, COL_OPEN)));
		if (o && out && level >= 0 && level < N_LEVELS)
			json_array_append_new(json_object_get(out, level_names[level]), o);
		else
			json_decref(o);
	}
	return out;
}

json_t *agw_page_levels(const struct agw_status *s, json_t **ret_cells)
{
	json_t *nodes = json_object(), *cells = json_object();
	if (!nodes || !cells) {
		json_decref(nodes);
		json_decref(cells);
		*ret_cells = NULL;
		return NULL;
	}
	for (size_t i = 0; i < s->n_cameras; i++)
		count_camera(nodes, cells, &s->cameras[i]);
	for (size_t i = 0; i < s->n_open; i++) {
		const char *code = s->open[i].cell_code;
		if (!code)
			continue;
		bump_levels(nodes, s->grid ? agw_grid_find(s->grid->grid, code) : NULL, COL_OPEN);
		bump(row(cells, code, N_CELL_COLS, -1), CELL_OPEN);
	}
	json_t *out = levels_list(nodes, s->grid);
	json_decref(nodes);
	*ret_cells = cells;
	return out;
}
