/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Planar geometry on lon/lat degrees: rings, point in polygon, polygon validation. Pure code.
 *
 * Boundary rule (deterministic, documented in docs/rules.md): the crossing test is half-open.
 * An edge counts for a horizontal ray going east from the point when the point's latitude lies in
 * [lower end, upper end) of the edge and the point lies strictly west of it. Consequences for cells
 * that tile the plane: a point on a shared north-south edge belongs to the cell to its east, a
 * point on a shared east-west edge to the cell to its north, and a vertex shared by several cells
 * to the north-east one. Every edge is evaluated from its lower end to its upper end, so two cells
 * sharing an edge compute bit-identical results and a boundary point is never in both. */
#ifndef AGW_RULES_GEO_H
#define AGW_RULES_GEO_H

#include <stdbool.h>
#include <stddef.h>

/* A ring: n points as interleaved lon,lat pairs. The closing point (equal to the first) may be
 * present or not. */
struct agw_ring {
	const double *xy;
	size_t n;
};

struct agw_bbox {
	double minx, miny, maxx, maxy;
};

/* Crossing parity of one ring (true: odd). */
bool agw_ring_crossings_odd(const double *xy, size_t n, double px, double py);

/* Even-odd rule over all rings of a (multi)polygon: shells and holes of every part together. For
 * valid geometry (parts do not overlap, holes inside their shell) this is exactly "inside a shell
 * and outside its holes". */
bool agw_rings_contain(const struct agw_ring *rings, size_t n_rings, double px, double py);

void agw_bbox_empty(struct agw_bbox *b);
void agw_bbox_add_ring(struct agw_bbox *b, const struct agw_ring *r);

/* Checks one polygon: rings[0] is the shell, the others holes. Closed rings of at least 4
 * positions (GeoJSON), finite lon in [-180, 180] and lat in [-90, 90], non-zero area, an extent
 * under 180 degrees of longitude (no antimeridian crossing), no ring crossing or touching itself
 * (rings of up to 4000 positions are checked), every hole's vertices inside or on the shell. Returns 0 or -EINVAL with a reason in err. */
int agw_polygon_check(const struct agw_ring *rings, size_t n_rings, char *err, size_t errlen);

/* Signed area (shoelace, square degrees); positive for counter-clockwise rings. */
double agw_ring_area(const double *xy, size_t n);

#endif
