/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Point in polygon to the corners, the grid index against brute force, GCJ-02. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cellgrid.h"
#include "crs.h"
#include "geo.h"

static bool in1(const double *xy, size_t n, double x, double y)
{
	struct agw_ring r = {xy, n};
	return agw_rings_contain(&r, 1, x, y);
}

static void test_concave(void **state)
{
	(void)state;
	/* A "U": the notch x in (1,2), y in (1,3) is outside. */
	static const double u[] = {0, 0, 3, 0, 3, 3, 2, 3, 2, 1, 1, 1, 1, 3, 0, 3, 0, 0};
	assert_true(in1(u, 9, 0.5, 2.5));
	assert_true(in1(u, 9, 2.5, 2.5));
	assert_true(in1(u, 9, 1.5, 0.5));
	assert_false(in1(u, 9, 1.5, 2));
	assert_false(in1(u, 9, 1.5, 2.999));
	assert_false(in1(u, 9, -0.1, 1));
	assert_false(in1(u, 9, 3.1, 1));
	/* A ray through the notch's vertices (y = 1 and y = 3) must not double count. */
	assert_true(in1(u, 9, 0.5, 1));
	assert_false(in1(u, 9, -1, 1));
	assert_false(in1(u, 9, -1, 3));
	/* Without the closing point, the same answers. */
	assert_true(in1(u, 8, 0.5, 2.5));
	assert_false(in1(u, 8, 1.5, 2));
}

static void test_holes_and_multipolygon(void **state)
{
	(void)state;
	static const double shell[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
	static const double hole[] = {4, 4, 4, 6, 6, 6, 6, 4, 4, 4};
	static const double island[] = {5, 5, 5.5, 5, 5.5, 5.5, 5, 5.5, 5, 5}; /* a part inside the hole */
	static const double far[] = {20, 20, 21, 20, 21, 21, 20, 21, 20, 20};
	struct agw_ring rings[] = {{shell, 5}, {hole, 5}, {island, 5}, {far, 5}};
	assert_true(agw_rings_contain(rings, 2, 1, 1));
	assert_false(agw_rings_contain(rings, 2, 5, 5));
	assert_false(agw_rings_contain(rings, 2, 4.5, 5.8));
	assert_true(agw_rings_contain(rings, 2, 3.9, 5));
	/* multipolygon: shell with hole, an island inside the hole, a far square */
	assert_true(agw_rings_contain(rings, 4, 5.2, 5.2));
	assert_false(agw_rings_contain(rings, 4, 5.8, 5.8));
	assert_true(agw_rings_contain(rings, 4, 20.5, 20.5));
	assert_false(agw_rings_contain(rings, 4, 15, 15));
	char err[200];
	assert_int_equal(agw_polygon_check(rings, 2, err, sizeof(err)), 0);
	/* a hole outside its shell */
	struct agw_ring bad[] = {{shell, 5}, {far, 5}};
	assert_int_equal(agw_polygon_check(bad, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "outside the shell"));
}

static void test_polygon_check(void **state)
{
	(void)state;
	char err[200];
	static const double open_ring[] = {0, 0, 1, 0, 1, 1, 0, 1};
	struct agw_ring r = {open_ring, 4};
	assert_int_equal(agw_polygon_check(&r, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not closed"));
	static const double three[] = {0, 0, 1, 0, 0, 0};
	r = (struct agw_ring){three, 3};
	assert_int_equal(agw_polygon_check(&r, 1, err, sizeof(err)), -EINVAL);
	static const double flat[] = {0, 0, 1, 0, 2, 0, 0, 0};
	r = (struct agw_ring){flat, 4};
	assert_int_equal(agw_polygon_check(&r, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "zero area"));
	static const double wide[] = {-170, 0, 170, 0, 170, 1, -170, 1, -170, 0};
	r = (struct agw_ring){wide, 5};
	assert_int_equal(agw_polygon_check(&r, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "antimeridian"));
	static const double badlat[] = {0, 0, 1, 0, 1, 95, 0, 0};
	r = (struct agw_ring){badlat, 4};
	assert_int_equal(agw_polygon_check(&r, 1, err, sizeof(err)), -EINVAL);
	/* self-intersections: a bow-tie, a ring touching itself at a vertex, a spike folding back */
	static const double bowtie[] = {0, 0, 2, 2, 2, 0, 0, 1, 0, 0}; /* lopsided: non-zero area */
	r = (struct agw_ring){bowtie, 5};
	assert_int_equal(agw_polygon_check(&r, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "intersects itself"));
	static const double eight[] = {0, 0, 2, 0, 1, 1, 2, 2, 0, 2, 1, 1, 0, 0};
	r = (struct agw_ring){eight, 7};
	assert_int_equal(agw_polygon_check(&r, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "intersects itself"));
	static const double spike[] = {0, 0, 2, 0, 2, 2, 2, 1, 0, 2, 0, 0};
	r = (struct agw_ring){spike, 6};
	assert_int_equal(agw_polygon_check(&r, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "intersects itself"));
	/* concave and collinear-but-simple rings are fine */
	static const double u[] = {0, 0, 3, 0, 3, 3, 2, 3, 2, 1, 1, 1, 1, 3, 0, 3, 0, 0};
	r = (struct agw_ring){u, 9};
	assert_int_equal(agw_polygon_check(&r, 1, err, sizeof(err)), 0);
	static const double colinear[] = {0, 0, 1, 0, 2, 0, 2, 2, 0, 2, 0, 0};
	r = (struct agw_ring){colinear, 6};
	assert_int_equal(agw_polygon_check(&r, 1, err, sizeof(err)), 0);
	/* Chinese extents: fine */
	static const double bj[] = {116.3, 39.9, 116.4, 39.9, 116.4, 40.0, 116.3, 40.0, 116.3, 39.9};
	r = (struct agw_ring){bj, 5};
	assert_int_equal(agw_polygon_check(&r, 1, err, sizeof(err)), 0);
}

/* 2x2 squares around (1,1): A SW, B SE, C NW, D NE. */
static struct agw_grid *four_squares(void)
{
	static const double a[] = {0, 0, 1, 0, 1, 1, 0, 1, 0, 0};
	static const double b[] = {1, 0, 2, 0, 2, 1, 1, 1, 1, 0};
	static const double c[] = {0, 1, 1, 1, 1, 2, 0, 2, 0, 1};
	static const double d[] = {1, 1, 2, 1, 2, 2, 1, 2, 1, 1};
	const double *sq[] = {a, b, c, d};
	const char *codes[] = {"A", "B", "C", "D"};
	struct agw_grid *g;
	assert_int_equal(agw_grid_new("t", AGW_CRS_WGS84, 1, &g), 0);
	for (int i = 0; i < 4; i++) {
		struct agw_ring r = {sq[i], 5};
		assert_int_equal(agw_grid_add_cell(g, codes[i], codes[i], NULL, 0, NULL, 0, &r, 1), 0);
	}
	assert_int_equal(agw_grid_build(g, NULL), 0);
	return g;
}

static const char *where(const struct agw_grid *g, double x, double y)
{
	const struct agw_cell *c = agw_grid_locate(g, x, y);
	return c ? c->code : "-";
}

static void test_shared_edges_and_vertices(void **state)
{
	(void)state;
	struct agw_grid *g = four_squares();
	/* documented rule: north-south edge -> east cell; east-west edge -> north cell; vertex -> NE */
	assert_string_equal(where(g, 1, 1), "D");
	assert_string_equal(where(g, 1, 0.5), "B");
	assert_string_equal(where(g, 1, 1.5), "D");
	assert_string_equal(where(g, 0.5, 1), "C");
	assert_string_equal(where(g, 1.5, 1), "D");
	/* outer boundary: west and south edges are in, east and north edges out */
	assert_string_equal(where(g, 0, 0.5), "A");
	assert_string_equal(where(g, 0.5, 0), "A");
	assert_string_equal(where(g, 2, 0.5), "-");
	assert_string_equal(where(g, 0.5, 2), "-");
	assert_string_equal(where(g, 0, 0), "A");
	assert_string_equal(where(g, 2, 2), "-");
	assert_string_equal(where(g, 0.5, 0.5), "A");
	assert_string_equal(where(g, 3, 3), "-");
	agw_grid_free(g);

	/* A sloped shared edge, in both orientations: every point on it lands in exactly one cell. */
	static const double left[] = {0, 0, 0.3, 0, 0.7, 1, 0, 1, 0, 0};
	static const double right[] = {0.3, 0, 1, 0, 1, 1, 0.7, 1, 0.3, 0};
	struct agw_ring l = {left, 5}, r = {right, 5};
	for (int i = 0; i <= 1000; i++) {
		double t = i / 1000.0, x = 0.3 + 0.4 * t, y = t;
		int n = agw_rings_contain(&l, 1, x, y) + agw_rings_contain(&r, 1, x, y);
		if (i < 1000)
			assert_int_equal(n, 1);
		else
			assert_int_equal(n, 0); /* the top edge of both is their north boundary */
	}
}

static void test_index_matches_brute_force(void **state)
{
	(void)state;
	/* 60x60 jittered quads over Beijing (shared edges, some concave) plus a cell with a hole. */
	enum { N = 60 };
	double x0 = 116.0, y0 = 39.5, step = 1.0 / N;
	double vx[N + 1][N + 1], vy[N + 1][N + 1];
	srand(7);
	for (int i = 0; i <= N; i++)
		for (int j = 0; j <= N; j++) {
			double jx = (i > 0 && i < N) ? (rand() / (double)RAND_MAX - 0.5) * step * 0.4 : 0;
			double jy = (j > 0 && j < N) ? (rand() / (double)RAND_MAX - 0.5) * step * 0.4 : 0;
			vx[i][j] = x0 + i * step + jx;
			vy[i][j] = y0 + j * step + jy;
		}
	struct agw_grid *g;
	assert_int_equal(agw_grid_new("bj", AGW_CRS_GCJ02, 3, &g), 0);
	static double rings[N * N][10];
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			double *r = rings[i * N + j];
			double q[] = {vx[i][j], vy[i][j], vx[i + 1][j], vy[i + 1][j], vx[i + 1][j + 1], vy[i + 1][j + 1],
				      vx[i][j + 1], vy[i][j + 1], vx[i][j], vy[i][j]};
			memcpy(r, q, sizeof(q));
			char code[32];
			snprintf(code, sizeof(code), "110105%03d%03d", i, j);
			const char *parents[] = {"110105", "110105001"};
			struct agw_ring ring = {r, 5};
			assert_int_equal(agw_grid_add_cell(g, code, NULL, parents, 2, NULL, 0, &ring, 1), 0);
		}
	assert_int_equal(agw_grid_build(g, NULL), 0);
	assert_int_equal(agw_grid_count(g), N * N);
	assert_string_equal(agw_grid_layer(g), "bj");
	assert_int_equal(agw_grid_version(g), 3);
	const struct agw_cell *f = agw_grid_find(g, "110105007009");
	assert_non_null(f);
	assert_int_equal(f->n_path, 3);
	assert_string_equal(f->path[0], "110105");
	assert_null(agw_grid_find(g, "nope"));
	int located = 0;
	for (int k = 0; k < 6000; k++) {
		double x = x0 - 0.05 + (rand() / (double)RAND_MAX) * 1.1, y = y0 - 0.05 + (rand() / (double)RAND_MAX) * 1.1;
		if (k % 10 == 0) { /* exactly on a vertex */
			int i = rand() % (N + 1), j = rand() % (N + 1);
			x = vx[i][j];
			y = vy[i][j];
		}
		const struct agw_cell *c = agw_grid_locate(g, x, y), *brute = NULL;
		int hits = 0;
		for (size_t n = 0; n < agw_grid_count(g); n++) {
			const struct agw_cell *cell = agw_grid_cell(g, n);
			struct agw_ring ring = {rings[0], 5};
			/* the cell's own ring: find by code */
			int i, j;
			sscanf(cell->code + 6, "%3d%3d", &i, &j);
			ring.xy = rings[i * N + j];
			if (agw_rings_contain(&ring, 1, x, y)) {
				hits++;
				if (!brute)
					brute = cell;
			}
		}
		assert_true(hits <= 1); /* a tiling never puts a point in two cells */
		assert_ptr_equal(c, brute);
		located += c != NULL;
	}
	assert_true(located > 4500);
	agw_grid_free(g);
}

static void test_duplicate_codes(void **state)
{
	(void)state;
	static const double a[] = {0, 0, 1, 0, 1, 1, 0, 1, 0, 0};
	struct agw_ring r = {a, 5};
	struct agw_grid *g;
	const char *dup = NULL;
	assert_int_equal(agw_grid_new("t", AGW_CRS_WGS84, 1, &g), 0);
	assert_int_equal(agw_grid_add_cell(g, "X", NULL, NULL, 0, NULL, 0, &r, 1), 0);
	assert_int_equal(agw_grid_add_cell(g, "X", NULL, NULL, 0, NULL, 0, &r, 1), 0);
	assert_int_equal(agw_grid_build(g, &dup), -EEXIST);
	assert_string_equal(dup, "X");
	agw_grid_free(g);
}

static void test_gcj02_round_trip(void **state)
{
	(void)state;
	double worst = 0, min_off = 1e9, max_off = 0;
	for (double lon = 73.7; lon < 135.0; lon += 0.37)
		for (double lat = 18.2; lat < 53.5; lat += 0.29) {
			double gx, gy, wx, wy;
			agw_wgs84_to_gcj02(lon, lat, &gx, &gy);
			double off = agw_distance_m(lon, lat, gx, gy);
			min_off = fmin(min_off, off);
			max_off = fmax(max_off, off);
			agw_gcj02_to_wgs84(gx, gy, &wx, &wy);
			worst = fmax(worst, agw_distance_m(lon, lat, wx, wy));
		}
	printf("# GCJ-02 offset %.0f..%.0f m, worst round trip error %.6f m\n", min_off, max_off, worst);
	assert_true(worst < 0.01);
	assert_true(min_off > 1 && max_off < 1500); /* the offset is real, hundreds of metres */
	/* Beijing: the usual shift is a few hundred metres north-east-ish */
	double gx, gy;
	agw_wgs84_to_gcj02(116.397, 39.909, &gx, &gy);
	double d = agw_distance_m(116.397, 39.909, gx, gy);
	assert_true(d > 100 && d < 1000);
	/* outside China: no offset */
	agw_wgs84_to_gcj02(-0.1276, 51.5072, &gx, &gy);
	assert_true(gx == -0.1276 && gy == 51.5072);
	agw_crs_convert(AGW_CRS_CGCS2000, AGW_CRS_WGS84, 116.4, 39.9, &gx, &gy);
	assert_true(gx == 116.4 && gy == 39.9);
	agw_crs_convert(AGW_CRS_CGCS2000, AGW_CRS_GCJ02, 116.4, 39.9, &gx, &gy);
	assert_true(gx != 116.4);
	enum agw_crs crs;
	assert_int_equal(agw_crs_parse("GCJ-02", &crs), 0);
	assert_int_equal(crs, AGW_CRS_GCJ02);
	assert_int_equal(agw_crs_parse("epsg:4490", &crs), 0);
	assert_int_equal(crs, AGW_CRS_CGCS2000);
	assert_int_equal(agw_crs_parse("bd09", &crs), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concave),
		cmocka_unit_test(test_holes_and_multipolygon),
		cmocka_unit_test(test_polygon_check),
		cmocka_unit_test(test_shared_edges_and_vertices),
		cmocka_unit_test(test_index_matches_brute_force),
		cmocka_unit_test(test_duplicate_codes),
		cmocka_unit_test(test_gcj02_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
