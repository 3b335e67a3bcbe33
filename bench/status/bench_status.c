/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench_status [--cameras N] [--alerts-per-camera K] [--open C] [--dir DIR]: a store with N
 * cameras in a 200-cell grid, K journaled alerts each (a third of the cameras offline), C open
 * cases; prints the time of a first snapshot (every health alert read), a later one (only new
 * alerts), and of each page answer, with its size. Median of 5 runs, ms. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alarmgw/alert.h"
#include "grid_import.h"
#include "status.h"
#include "status_page.h"
#include "store.h"

#define RUNS 5

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void write_grid(const char *path)
{
	FILE *f = fopen(path, "w");
	fputs("{\"type\":\"FeatureCollection\",\"features\":[", f);
	for (int k = 0; k < 200; k++) {
		double lon = 116.30 + (k % 20) * 0.01, lat = 39.90 + (k / 20) * 0.01;
		fprintf(f, "%s{\"type\":\"Feature\",\"properties\":{\"code\":\"1101%02d%03d%03d%03d\",\"parents\":[\"1101%02d\","
			   "\"1101%02d%03d\",\"1101%02d%03d%03d\"]},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
			   "[[[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f]]]}}",
			k ? "," : "", k / 100, k / 25 % 4, k / 5 % 5, k % 5, k / 100, k / 100, k / 25 % 4, k / 100, k / 25 % 4,
			k / 5 % 5, lon, lat, lon + 0.01, lat, lon + 0.01, lat + 0.01, lon, lat + 0.01, lon, lat);
	}
	fputs("]}", f);
	fclose(f);
}

static int seed(struct agw_store *store, const char *grid, long n, long per, long open)
{
	struct agw_grid_import_result res;
	char err[256];
	if (agw_grid_import_file(store, "default", NULL, grid, &res, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_status: %s\n", err);
		return -1;
	}
	struct agw_camera *cams = calloc((size_t)n, sizeof(*cams));
	char (*ids)[32] = calloc((size_t)n, sizeof(*ids));
	for (long i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "cam-%05ld", i);
		cams[i] = (struct agw_camera){.id = ids[i], .name = ids[i], .protocol = (char *)"onvif",
					      .address = (char *)"192.0.2.1", .vendor = (char *)"acme", .crs = (char *)"wgs84",
					      .lon = 116.305 + (double)(i % 20) * 0.01, .lat = 39.905 + (double)(i % 200 / 20) * 0.01};
	}
	agw_store_begin(store);
	agw_store_cameras_replace(store, cams, (size_t)n);
	for (long k = 0; k < per; k++)
		for (long i = 0; i < n; i++) {
			struct agw_alert a;
			agw_alert_init(&a);
			a.camera_id = strdup(ids[i]);
			a.kind = k == 0 && i % 3 == 0 ? AGW_KIND_CAMERA_OFFLINE : AGW_KIND_MOTION;
			a.active = AGW_ACTIVE_TRUE;
			a.gateway_time_ms = 1795000000000LL + k * 1000 + i;
			agw_store_journal_alert(store, &a, NULL);
			agw_alert_clear(&a);
		}
	char sql[512];
	for (long c = 0; c < open; c++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO cases(id, incident_key, camera_id, kind, cell_code, status, priority, opened_at, updated_at)"
			 " VALUES('k%ld', 'k%ld', 'cam-%05ld', 'intrusion', NULL, 'open', %ld, %ld, %ld)",
			 c, c, c % n, 1 + c % 4, 1795000000000L + c, 1795000000000L + c);
		sqlite3_exec(agw_store_db(store), sql, NULL, NULL, NULL);
	}
	agw_store_commit(store);
	free(cams);
	free(ids);
	return 0;
}

/* Times fn over RUNS runs, prints the median and the size of what it made. */
#define TIME(label, expr)                                                                                    \
	do {                                                                                                  \
		double v[RUNS];                                                                               \
		size_t size = 0;                                                                              \
		for (int r_ = 0; r_ < RUNS; r_++) {                                                           \
			char *text = NULL;                                                                    \
			size_t len = 0;                                                                       \
			double t0 = now_ms();                                                                 \
			(void)(expr);                                                                         \
			v[r_] = now_ms() - t0;                                                                \
			size = len;                                                                           \
			free(text);                                                                           \
		}                                                                                             \
		qsort(v, RUNS, sizeof(*v), cmp_double);                                                      \
		printf("%-32s %8.2f ms %10zu bytes\n", label, v[RUNS / 2], size);                            \
	} while (0)

int main(int argc, char **argv)
{
	long n = 10000, per = 10, open = 500;
	const char *dir = "/tmp";
	static const struct option opts[] = {{"cameras", 1, NULL, 'n'}, {"alerts-per-camera", 1, NULL, 'k'},
					     {"open", 1, NULL, 'o'}, {"dir", 1, NULL, 'd'}, {0}};
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c == 'n')
			n = atol(optarg);
		else if (c == 'k')
			per = atol(optarg);
		else if (c == 'o')
			open = atol(optarg);
		else if (c == 'd')
			dir = optarg;
		else
			return 2;
	}
	char db[256], grid[256], err[256];
	snprintf(db, sizeof(db), "%s/bench_status-%d.db", dir, (int)getpid());
	snprintf(grid, sizeof(grid), "%s/bench_status-%d.geojson", dir, (int)getpid());
	write_grid(grid);
	struct agw_store *store;
	if (agw_store_open(db, &store, err, sizeof(err)) < 0 || seed(store, grid, n, per, open) < 0)
		return 1;
	printf("%ld cameras, %ld journaled alerts, %ld open cases, 200 cells\n", n, n * per, open);
	sqlite3 *h = agw_store_db(store);
	struct agw_status *s = NULL;
	TIME("snapshot, first (whole journal)", ({
		     struct agw_health_tracker *t;
		     agw_health_tracker_new(&t);
		     agw_health_tracker_set_layer(t, "default");
		     agw_status_free(s);
		     s = NULL;
		     agw_status_collect(h, t, 50, 1795000100000LL, &s, err, sizeof(err));
		     agw_health_tracker_free(t);
	     }));
	struct agw_health_tracker *t;
	agw_health_tracker_new(&t);
	agw_health_tracker_set_layer(t, "default");
	agw_status_free(s);
	agw_status_collect(h, t, 50, 1795000100000LL, &s, err, sizeof(err));
	TIME("snapshot, next (nothing new)", ({
		     agw_status_free(s);
		     s = NULL;
		     agw_status_collect(h, t, 50, 1795000100000LL, &s, err, sizeof(err));
	     }));
	struct agw_page_context ctx = {.time_zone = "Asia/Shanghai", .lang = "zh", .map = true};
	struct agw_status_filter all = {0}, offline = {.state = "offline"}, cell = {.cell = "110100"};
	TIME("/api/summary", agw_page_summary(s, &ctx, &text, &len));
	TIME("/api/cameras (page 1 of all)", agw_page_cameras(s, &all, 0, 50, &text, &len));
	TIME("/api/cameras?state=offline, last", agw_page_cameras(s, &offline, (size_t)n / 3 - 50, 50, &text, &len));
	TIME("/api/cameras?cell=110100", agw_page_cameras(s, &cell, 0, 50, &text, &len));
	TIME("/api/cases (page 1)", agw_page_cases(s, NULL, NULL, 0, 50, &text, &len));
	TIME("/api/points", agw_page_points(s, &text, &len));
	TIME("/api/status (every camera)", agw_status_to_json(s, &text, &len));
	agw_status_free(s);
	agw_health_tracker_free(t);
	agw_store_close(store);
	unlink(db);
	unlink(grid);
	return 0;
}
