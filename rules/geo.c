/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Point in polygon with a half-open crossing rule (see geo.h for why boundary points are stable). */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "geo.h"

/* The closing point of a GeoJSON ring repeats the first one; the loop below closes rings itself. */
static size_t open_count(const double *xy, size_t n)
{
	if (n >= 2 && xy[0] == xy[2 * (n - 1)] && xy[1] == xy[2 * (n - 1) + 1])
		return n - 1;
	return n;
}

bool agw_ring_crossings_odd(const double *xy, size_t n, double px, double py)
{
	bool odd = false;
	n = open_count(xy, n);
	for (size_t i = 0, j = n - 1; i < n; j = i++) {
		double ax = xy[2 * j], ay = xy[2 * j + 1], bx = xy[2 * i], by = xy[2 * i + 1];
		/* Lower end first, so both cells sharing this edge evaluate the same expression. */
		if (ay > by || (ay == by && ax > bx)) {
			double t = ax;
			ax = bx;
			bx = t;
			t = ay;
			ay = by;
			by = t;
		}
		if (!(ay <= py && py < by))
			continue; /* also skips horizontal edges */
		double cross = (bx - ax) * (py - ay) - (px - ax) * (by - ay);
		if (cross > 0)
			odd = !odd;
	}
	return odd;
}

bool agw_rings_contain(const struct agw_ring *rings, size_t n_rings, double px, double py)
{
	bool odd = false;
	for (size_t r = 0; r < n_rings; r++)
		if (rings[r].n >= 3 && agw_ring_crossings_odd(rings[r].xy, rings[r].n, px, py))
			odd = !odd;
	return odd;
}

void agw_bbox_empty(struct agw_bbox *b)
{
	b->minx = b->miny = INFINITY;
	b->maxx = b->maxy = -INFINITY;
}

void agw_bbox_add_ring(struct agw_bbox *b, const struct agw_ring *r)
{
	for (size_t i = 0; i < r->n; i++) {
		double x = r->xy[2 * i], y = r->xy[2 * i + 1];
		if (x < b->minx)
			b->minx = x;
		if (x > b->maxx)
			b->maxx = x;
		if (y < b->miny)
			b->miny = y;
		if (y > b->maxy)
			b->maxy = y;
	}
}

double agw_ring_area(const double *xy, size_t n)
{
	double s = 0;
	n = open_count(xy, n);
	for (size_t i = 0, j = n - 1; i < n; j = i++)
		s += xy[2 * j] * xy[2 * i + 1] - xy[2 * i] * xy[2 * j + 1];
	return s / 2;
}

/* True when p is inside the shell or exactly on one of its edges. */
static bool on_segment(double ax, double ay, double bx, double by, double px, double py)
{
	double cross = (bx - ax) * (py - ay) - (px - ax) * (by - ay);
	if (cross != 0)
		return false;
	return fmin(ax, bx) <= px && px <= fmax(ax, bx) && fmin(ay, by) <= py && py <= fmax(ay, by);
}

static bool inside_or_on(const struct agw_ring *shell, double px, double py)
{
	size_t n = open_count(shell->xy, shell->n);
	for (size_t i = 0, j = n - 1; i < n; j = i++)
		if (on_segment(shell->xy[2 * j], shell->xy[2 * j + 1], shell->xy[2 * i], shell->xy[2 * i + 1], px, py))
			return true;
	return agw_ring_crossings_odd(shell->xy, shell->n, px, py);
}

static int orient(const double *a, const double *b, const double *c)
{
	double v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
	return (v > 0) - (v < 0);
}

static bool within(const double *a, const double *b, const double *p)
{
	return fmin(a[0], b[0]) <= p[0] && p[0] <= fmax(a[0], b[0]) && fmin(a[1], b[1]) <= p[1] &&
	       p[1] <= fmax(a[1], b[1]);
}

/* Segments ab and cd share a point (crossing, touching or overlapping). */
static bool segments_meet(const double *a, const double *b, const double *c, const double *d)
{
	int o1 = orient(a, b, c), o2 = orient(a, b, d), o3 = orient(c, d, a), o4 = orient(c, d, b);
	if (o1 != o2 && o3 != o4)
		return true;
	return (o1 == 0 && within(a, b, c)) || (o2 == 0 && within(a, b, d)) || (o3 == 0 && within(c, d, a)) ||
	       (o4 == 0 && within(c, d, b));
}

/* Pairs of non-adjacent edges that meet make a ring self-intersecting (a bow-tie, a figure eight,
 * a spike back along itself). Quadratic: rings above the limit are not checked. */
#define SELF_CHECK_MAX 4000

static int ring_simple(const struct agw_ring *r, size_t *ret_i, size_t *ret_j)
{
	size_t n = open_count(r->xy, r->n); /* edges: i -> i+1 (mod n) */
	if (n > SELF_CHECK_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const double *a = r->xy + 2 * i, *b = r->xy + 2 * ((i + 1) % n);
		for (size_t j = i + 1; j < n; j++) {
			if (j == i + 1 || (i == 0 && j == n - 1)) {
				/* Adjacent edges share one vertex; they may only fold back onto each other. */
				const double *c = r->xy + 2 * j, *d = r->xy + 2 * ((j + 1) % n);
				const double *shared = j == i + 1 ? b : a, *p = j == i + 1 ? a : b;
				const double *q = j == i + 1 ? d : c;
				if (orient(p, shared, q) == 0 && (within(p, shared, q) || within(shared, q, p)) &&
				    !(q[0] == shared[0] && q[1] == shared[1])) {
					*ret_i = i;
					*ret_j = j;
					return -EINVAL;
				}
				continue;
			}
			if (segments_meet(a, b, r->xy + 2 * j, r->xy + 2 * ((j + 1) % n))) {
				*ret_i = i;
				*ret_j = j;
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int ring_check(const struct agw_ring *r, const char *what, size_t idx, char *err, size_t errlen)
{
	if (r->n < 4) {
		snprintf(err, errlen, "%s %zu has %zu positions, at least 4 are needed", what, idx, r->n);
		return -EINVAL;
	}
	for (size_t i = 0; i < r->n; i++) {
		double x = r->xy[2 * i], y = r->xy[2 * i + 1];
		if (!isfinite(x) || !isfinite(y) || x < -180 || x > 180 || y < -90 || y > 90) {
			snprintf(err, errlen, "%s %zu position %zu is not a longitude/latitude pair", what, idx, i);
			return -EINVAL;
		}
	}
	if (r->xy[0] != r->xy[2 * (r->n - 1)] || r->xy[1] != r->xy[2 * (r->n - 1) + 1]) {
		snprintf(err, errlen, "%s %zu is not closed (last position must equal the first)", what, idx);
		return -EINVAL;
	}
	if (agw_ring_area(r->xy, r->n) == 0) {
		snprintf(err, errlen, "%s %zu has zero area", what, idx);
		return -EINVAL;
	}
	struct agw_bbox b;
	agw_bbox_empty(&b);
	agw_bbox_add_ring(&b, r);
	if (b.maxx - b.minx >= 180) {
		snprintf(err, errlen, "%s %zu spans 180 degrees of longitude or more (antimeridian?)", what, idx);
		return -EINVAL;
	}
	size_t ei, ej;
	if (ring_simple(r, &ei, &ej) < 0) {
		snprintf(err, errlen, "%s %zu intersects itself (edges %zu and %zu)", what, idx, ei, ej);
		return -EINVAL;
	}
	return 0;
}

int agw_polygon_check(const struct agw_ring *rings, size_t n_rings, char *err, size_t errlen)
{
	if (n_rings == 0) {
		snprintf(err, errlen, "polygon has no rings");
		return -EINVAL;
	}
	for (size_t r = 0; r < n_rings; r++) {
		int ret = ring_check(&rings[r], r ? "hole" : "shell", r ? r - 1 : 0, err, errlen);
		if (ret < 0)
			return ret;
	}
	for (size_t r = 1; r < n_rings; r++)
		for (size_t i = 0; i + 1 < rings[r].n; i++)
			if (!inside_or_on(&rings[0], rings[r].xy[2 * i], rings[r].xy[2 * i + 1])) {
				snprintf(err, errlen, "hole %zu position %zu lies outside the shell", r - 1, i);
				return -EINVAL;
			}
	return 0;
}
