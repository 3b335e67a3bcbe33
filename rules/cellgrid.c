/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Grid cells and their uniform bucket index. Rings of all cells live in one coordinate array so a
 * locate touches few cache lines: bucket -> candidate cells (by bbox) -> their rings. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cellgrid.h"

struct ring_ref {
	size_t first; /* index of the first point in coords */
	size_t n;
};

struct agw_grid {
	char *layer;
	enum agw_crs crs;
	int64_t version;
	struct agw_cell *cells;
	size_t n_cells, cap_cells;
	struct ring_ref *rings;
	size_t n_rings, cap_rings;
	double *coords;
	size_t n_coords, cap_coords; /* in doubles */
	/* index */
	struct agw_bbox extent;
	uint32_t nx, ny;
	double inv_w, inv_h;
	uint32_t *bucket_start; /* nx*ny + 1 */
	uint32_t *bucket_cells;
	bool built;
};

int agw_grid_new(const char *layer, enum agw_crs crs, int64_t version, struct agw_grid **ret_grid)
{
	struct agw_grid *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->layer = strdup(layer ? layer : "");
	if (!g->layer) {
		free(g);
		return -ENOMEM;
	}
	g->crs = crs;
	g->version = version;
	*ret_grid = g;
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void cell_clear(struct agw_cell *c)
{
	free(c->code);
	free(c->name);
	strv_free(c->path, c->n_path);
	strv_free(c->workers, c->n_workers);
}

void agw_grid_free(struct agw_grid *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n_cells; i++)
		cell_clear(&g->cells[i]);
	free(g->cells);
	free(g->rings);
	free(g->coords);
	free(g->bucket_start);
	free(g->bucket_cells);
	free(g->layer);
	free(g);
}

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	void *p = realloc(*v, c * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static int strv_dup(char ***ret, const char *const *src, size_t n)
{
	*ret = NULL;
	if (!n)
		return 0;
	char **v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(src[i] ? src[i] : ""))) {
			strv_free(v, i);
			return -ENOMEM;
		}
	*ret = v;
	return 0;
}

int agw_grid_add_cell(struct agw_grid *g, const char *code, const char *name, const char *const *parents,
		      size_t n_parents, const char *const *workers, size_t n_workers, const struct agw_ring *rings,
		      size_t n_rings)
{
	size_t pts = 0;
	for (size_t r = 0; r < n_rings; r++)
		pts += rings[r].n;
	if (!code || !*code || !n_rings || pts < 3)
		return -EINVAL;
	if (grow((void **)&g->cells, &g->cap_cells, g->n_cells + 1, sizeof(*g->cells)) < 0 ||
	    grow((void **)&g->rings, &g->cap_rings, g->n_rings + n_rings, sizeof(*g->rings)) < 0 ||
	    grow((void **)&g->coords, &g->cap_coords, g->n_coords + 2 * pts, sizeof(double)) < 0)
		return -ENOMEM;
	struct agw_cell c = {0};
	const char *pathv[AGW_CELL_MAX_DEPTH + 1];
	if (n_parents > AGW_CELL_MAX_DEPTH)
		return -EINVAL;
	for (size_t i = 0; i < n_parents; i++)
		pathv[i] = parents[i];
	pathv[n_parents] = code;
	if (!(c.code = strdup(code)) || (name && !(c.name = strdup(name))) ||
	    strv_dup(&c.path, pathv, n_parents + 1) < 0 ||
	    strv_dup(&c.workers, workers, n_workers) < 0) {
		c.n_path = c.path ? n_parents + 1 : 0;
		c.n_workers = 0;
		cell_clear(&c);
		return -ENOMEM;
	}
	c.n_path = n_parents + 1;
	c.n_workers = n_workers;
	agw_bbox_empty(&c.bbox);
	c.ring_first = (uint32_t)g->n_rings;
	c.n_rings = (uint32_t)n_rings;
	for (size_t r = 0; r < n_rings; r++) {
		g->rings[g->n_rings++] = (struct ring_ref){g->n_coords / 2, rings[r].n};
		memcpy(g->coords + g->n_coords, rings[r].xy, 2 * rings[r].n * sizeof(double));
		g->n_coords += 2 * rings[r].n;
		agw_bbox_add_ring(&c.bbox, &rings[r]);
	}
	g->cells[g->n_cells++] = c;
	g->built = false;
	return 0;
}

static int cell_cmp(const void *a, const void *b)
{
	return strcmp(((const struct agw_cell *)a)->code, ((const struct agw_cell *)b)->code);
}

/* The same function maps points and bbox corners to buckets, so a point inside a bbox always
 * falls in one of the buckets the bbox was registered in. */
static uint32_t bucket_x(const struct agw_grid *g, double x)
{
	double f = (x - g->extent.minx) * g->inv_w;
	if (!(f > 0))
		return 0;
	return f >= g->nx ? g->nx - 1 : (uint32_t)f;
}

static uint32_t bucket_y(const struct agw_grid *g, double y)
{
	double f = (y - g->extent.miny) * g->inv_h;
	if (!(f > 0))
		return 0;
	return f >= g->ny ? g->ny - 1 : (uint32_t)f;
}

int agw_grid_build(struct agw_grid *g, const char **ret_dup)
{
	free(g->bucket_start);
	free(g->bucket_cells);
	g->bucket_start = NULL;
	g->bucket_cells = NULL;
	g->built = false;
	if (g->n_cells > 1) /* an empty layer has no array: qsort(NULL, 0) is undefined */
		qsort(g->cells, g->n_cells, sizeof(*g->cells), cell_cmp);
	for (size_t i = 1; i < g->n_cells; i++)
		if (strcmp(g->cells[i - 1].code, g->cells[i].code) == 0) {
			if (ret_dup)
				*ret_dup = g->cells[i].code;
			return -EEXIST;
		}
	agw_bbox_empty(&g->extent);
	for (size_t i = 0; i < g->n_cells; i++) {
		const struct agw_bbox *b = &g->cells[i].bbox;
		g->extent.minx = fmin(g->extent.minx, b->minx);
		g->extent.miny = fmin(g->extent.miny, b->miny);
		g->extent.maxx = fmax(g->extent.maxx, b->maxx);
		g->extent.maxy = fmax(g->extent.maxy, b->maxy);
	}
	double w = g->n_cells ? g->extent.maxx - g->extent.minx : 1, h = g->n_cells ? g->extent.maxy - g->extent.miny : 1;
	if (!(w > 0))
		w = 1e-9;
	if (!(h > 0))
		h = 1e-9;
	/* About one bucket per cell, square-ish buckets. */
	double side = sqrt(w * h / (double)(g->n_cells ? g->n_cells : 1));
	double fx = ceil(w / side), fy = ceil(h / side);
	g->nx = (uint32_t)fmin(fmax(fx, 1), 2048);
	g->ny = (uint32_t)fmin(fmax(fy, 1), 2048);
	g->inv_w = g->nx / w;
	g->inv_h = g->ny / h;
	size_t nb = (size_t)g->nx * g->ny;
	g->bucket_start = calloc(nb + 1, sizeof(uint32_t));
	if (!g->bucket_start)
		return -ENOMEM;
	size_t total = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < g->n_cells; i++) {
			const struct agw_bbox *b = &g->cells[i].bbox;
			uint32_t x0 = bucket_x(g, b->minx), x1 = bucket_x(g, b->maxx);
			uint32_t y0 = bucket_y(g, b->miny), y1 = bucket_y(g, b->maxy);
			for (uint32_t y = y0; y <= y1; y++)
				for (uint32_t x = x0; x <= x1; x++) {
					size_t k = (size_t)y * g->nx + x;
					if (pass == 0)
						g->bucket_start[k + 1]++;
					else
						g->bucket_cells[g->bucket_start[k]++] = (uint32_t)i;
				}
		}
		if (pass == 0) {
			for (size_t k = 0; k < nb; k++)
				g->bucket_start[k + 1] += g->bucket_start[k];
			total = g->bucket_start[nb];
			if (total > UINT32_MAX / 2)
				return -E2BIG;
			g->bucket_cells = malloc((total ? total : 1) * sizeof(uint32_t));
			if (!g->bucket_cells)
				return -ENOMEM;
		} else {
			/* The fill advanced every start to the next bucket's start: shift back. */
			for (size_t k = nb; k > 0; k--)
				g->bucket_start[k] = g->bucket_start[k - 1];
			g->bucket_start[0] = 0;
		}
	}
	g->built = true;
	return 0;
}

static bool cell_contains(const struct agw_grid *g, const struct agw_cell *c, double x, double y)
{
	bool odd = false;
	for (uint32_t r = 0; r < c->n_rings; r++) {
		const struct ring_ref *rr = &g->rings[c->ring_first + r];
		if (agw_ring_crossings_odd(g->coords + 2 * rr->first, rr->n, x, y))
			odd = !odd;
	}
	return odd;
}

const struct agw_cell *agw_grid_locate(const struct agw_grid *g, double lon, double lat)
{
	if (!g->built || !g->n_cells || !(lon >= g->extent.minx && lon <= g->extent.maxx && lat >= g->extent.miny &&
					    lat <= g->extent.maxy))
		return NULL;
	size_t k = (size_t)bucket_y(g, lat) * g->nx + bucket_x(g, lon);
	/* Candidates are in cell (code) order, so the first hit is the lowest code. */
	for (uint32_t i = g->bucket_start[k]; i < g->bucket_start[k + 1]; i++) {
		const struct agw_cell *c = &g->cells[g->bucket_cells[i]];
		if (lon < c->bbox.minx || lon > c->bbox.maxx || lat < c->bbox.miny || lat > c->bbox.maxy)
			continue;
		if (cell_contains(g, c, lon, lat))
			return c;
	}
	return NULL;
}

const struct agw_cell *agw_grid_find(const struct agw_grid *g, const char *code)
{
	if (!g->built || !code)
		return NULL;
	size_t lo = 0, hi = g->n_cells;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(code, g->cells[mid].code);
		if (c == 0)
			return &g->cells[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t agw_grid_count(const struct agw_grid *g)
{
	return g->n_cells;
}

const struct agw_cell *agw_grid_cell(const struct agw_grid *g, size_t i)
{
	return i < g->n_cells ? &g->cells[i] : NULL;
}

const char *agw_grid_layer(const struct agw_grid *g)
{
	return g->layer;
}

enum agw_crs agw_grid_crs(const struct agw_grid *g)
{
	return g->crs;
}

int64_t agw_grid_version(const struct agw_grid *g)
{
	return g->version;
}
