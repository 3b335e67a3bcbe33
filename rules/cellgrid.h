/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A grid layer: the patrol cells (polygons with hierarchical codes) and an in-memory spatial index
 * (a uniform bucket grid over the layer's extent, about one bucket per cell, each bucket listing
 * the cells whose bounding box touches it). Built once at load, read-only afterwards.
 *
 * A point inside no cell locates to NULL. Where cells overlap (invalid data), the cell with the
 * lowest code (strcmp order) wins; on shared boundaries the rule of geo.h applies. */
#ifndef AGW_RULES_CELLGRID_H
#define AGW_RULES_CELLGRID_H

#include <stddef.h>
#include <stdint.h>

#include "crs.h"
#include "geo.h"

#define AGW_CELL_MAX_DEPTH 15 /* parent levels above a cell */

struct agw_cell {
	char *code;
	char *name;           /* may be NULL */
	char **path;          /* parent codes top-down (district, street, community), then code */
	size_t n_path;
	char **workers;       /* assigned grid workers (ids or names), may be empty */
	size_t n_workers;
	struct agw_bbox bbox;
	uint32_t ring_first;  /* internal: first ring in the layer's ring table */
	uint32_t n_rings;
};

struct agw_grid;

int agw_grid_new(const char *layer, enum agw_crs crs, int64_t version, struct agw_grid **ret_grid);
void agw_grid_free(struct agw_grid *g);

/* Adds a copy of a cell. rings: every ring of every part (shells and holes), as the even-odd
 * rule of agw_rings_contain reads them. Validate the geometry first (agw_polygon_check); this only
 * refuses empty geometry (-EINVAL). parents: codes top-down, n_parents may be 0. */
int agw_grid_add_cell(struct agw_grid *g, const char *code, const char *name, const char *const *parents,
		      size_t n_parents, const char *const *workers, size_t n_workers, const struct agw_ring *rings,
		      size_t n_rings);
/* Sorts the cells by code and builds the index. -EEXIST when two cells share a code (its code in
 * *ret_dup when not NULL, valid while g lives). Locate/find work only after a successful build. */
int agw_grid_build(struct agw_grid *g, const char **ret_dup);

const struct agw_cell *agw_grid_locate(const struct agw_grid *g, double lon, double lat);
const struct agw_cell *agw_grid_find(const struct agw_grid *g, const char *code);
size_t agw_grid_count(const struct agw_grid *g);
const struct agw_cell *agw_grid_cell(const struct agw_grid *g, size_t i);

const char *agw_grid_layer(const struct agw_grid *g);
enum agw_crs agw_grid_crs(const struct agw_grid *g);
int64_t agw_grid_version(const struct agw_grid *g);

#endif
