/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench_reload [--rows N] [--dir DIR]: times the parts of a reload that grow with the ledger.
 * Prints one line per step (median of 3 runs, ms). The O(n^2) loops that reload used before
 * (a linear search per camera for the diff, and per row for the duplicate check) are re-run here
 * on n/10 rows for comparison; at n rows they cost about 100 times as much. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alarmgw/log.h"
#include "camera_diff.h"
#include "config.h"
#include "ledger.h"
#include "store.h"

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

static double median3(double v[3])
{
	qsort(v, 3, sizeof(*v), cmp_double);
	return v[1];
}

static void write_ledger(const char *path, long rows, long shift)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fprintf(f, "id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n");
	/* shift > 0: the "new" ledger: 1 % renamed, the first `shift` rows gone, `shift` new ones */
	for (long i = shift; i < rows + shift; i++)
		fprintf(f, "cam-%07ld,Camera %ld%s,acme,onvif,http://10.%ld.%ld.%ld/onvif/device_service,admin,pw%ld,"
			   "108.9%ld,34.2%ld,wgs84,\n",
			i, i, shift && i % 100 == 0 ? " (renamed)" : "", (i >> 16) & 255, (i >> 8) & 255, i & 255, i,
			i % 10, i % 10);
	fclose(f);
}

/* The diff reload used before: a linear search of the other list per camera. */
static size_t naive_diff(const struct agw_camera *old, size_t n_old, const struct agw_camera *neu, size_t n_new)
{
	size_t touched = 0;
	for (size_t i = 0; i < n_old; i++) {
		const struct agw_camera *found = NULL;
		for (size_t j = 0; j < n_new && !found; j++)
			if (strcmp(neu[j].id, old[i].id) == 0)
				found = &neu[j];
		touched += !found || !agw_camera_equal(&old[i], found);
	}
	for (size_t j = 0; j < n_new; j++) {
		const struct agw_camera *found = NULL;
		for (size_t i = 0; i < n_old && !found; i++)
			if (strcmp(old[i].id, neu[j].id) == 0)
				found = &old[i];
		touched += !found;
	}
	return touched;
}

/* The duplicate check the ledger parser used before: each row against all earlier rows. */
static size_t naive_duplicates(const struct agw_camera *v, size_t n)
{
	size_t dup = 0;
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < k; i++)
			if (strcmp(v[i].id, v[k].id) == 0) {
				dup++;
				break;
			}
	return dup;
}

static void parse(const char *path, struct agw_camera **cams, size_t *n)
{
	struct agw_errors errs = {0};
	if (agw_ledger_parse(path, cams, n, &errs) < 0) {
		fprintf(stderr, "%s: %s\n", path, errs.n ? errs.v[0] : "parse failed");
		exit(1);
	}
	agw_errors_clear(&errs);
}

int main(int argc, char **argv)
{
	long rows = 200000;
	const char *dir = NULL;
	static const struct option opts[] = {
		{"rows", required_argument, NULL, 'n'}, {"dir", required_argument, NULL, 'd'}, {0}};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			rows = atol(optarg);
		else if (c == 'd')
			dir = optarg;
		else
			return 2;
	}
	if (rows < 100 || rows > 200000) {
		fprintf(stderr, "--rows takes 100 to 200000 (the ledger's limit)\n");
		return 2;
	}
	agw_log_set_level(AGW_LOG_ERR);
	char tmpl[] = "/tmp/agw-bench-reload-XXXXXX", a[256], b[256], db[256], err[256];
	if (!dir && !(dir = mkdtemp(tmpl))) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(a, sizeof(a), "%s/old.csv", dir);
	snprintf(b, sizeof(b), "%s/new.csv", dir);
	snprintf(db, sizeof(db), "%s/bench.db", dir);
	long shift = rows / 200; /* 0.5 % removed, 0.5 % added, 1 % renamed */
	write_ledger(a, rows, 0);
	write_ledger(b, rows, shift);
	struct agw_store *store;
	if (agw_store_open(db, &store, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct agw_camera *old = NULL, *neu = NULL;
	size_t n_old = 0, n_new = 0;
	double t_parse[3], t_store[3], t_load[3], t_replace[3], t_diff[3];
	struct agw_camera_diff d = {0};
	for (int run = 0; run < 3; run++) {
		agw_cameras_free(old, n_old);
		agw_cameras_free(neu, n_new);
		double t0 = now_ms();
		parse(a, &old, &n_old);
		t_parse[run] = now_ms() - t0;
		parse(b, &neu, &n_new);
		/* what reload does in its transaction (daemon_reload.c): the stored ledger (the old one
		 * here) is read, diffed with the new one, and only the rows that differ are written */
		if (agw_store_begin(store) < 0 || agw_store_cameras_replace(store, old, n_old) < 0 ||
		    agw_store_commit(store) < 0) {
			fprintf(stderr, "store failed\n");
			return 1;
		}
		struct agw_camera *back = NULL;
		size_t n_back = 0;
		t0 = now_ms();
		if (agw_store_begin(store) < 0 || agw_store_cameras_load(store, &back, &n_back) < 0) {
			fprintf(stderr, "store failed\n");
			return 1;
		}
		t_load[run] = now_ms() - t0;
		t0 = now_ms();
		struct agw_camera_diff w;
		if (agw_camera_diff(back, n_back, neu, n_new, &w) < 0)
			return 1;
		const struct agw_camera **gone = malloc((w.n_removed + w.n_changed + 1) * sizeof(*gone));
		const struct agw_camera **put = malloc((w.n_changed + w.n_added + 1) * sizeof(*put));
		if (!gone || !put)
			return 1;
		memcpy(gone, w.removed, w.n_removed * sizeof(*gone));
		memcpy(gone + w.n_removed, w.changed_old, w.n_changed * sizeof(*gone));
		memcpy(put, w.changed_new, w.n_changed * sizeof(*put));
		memcpy(put + w.n_changed, w.added, w.n_added * sizeof(*put));
		if (agw_store_cameras_change(store, gone, w.n_removed + w.n_changed, put, w.n_changed + w.n_added) < 0 ||
		    agw_store_commit(store) < 0) {
			fprintf(stderr, "store failed\n");
			return 1;
		}
		t_store[run] = now_ms() - t0;
		free(gone);
		free(put);
		agw_camera_diff_free(&w);
		agw_cameras_free(back, n_back);
		/* the old way, for comparison: every row deleted and inserted again */
		t0 = now_ms();
		if (agw_store_begin(store) < 0 || agw_store_cameras_replace(store, neu, n_new) < 0 ||
		    agw_store_commit(store) < 0) {
			fprintf(stderr, "store failed\n");
			return 1;
		}
		t_replace[run] = now_ms() - t0;
		agw_camera_diff_free(&d);
		t0 = now_ms();
		if (agw_camera_diff(old, n_old, neu, n_new, &d) < 0)
			return 1;
		t_diff[run] = now_ms() - t0;
	}
	printf("ledger rows: %ld (the new ledger renames every 100th camera, drops the first %ld, adds %ld)\n", rows,
	       shift, shift);
	printf("diff result: %zu same, %zu changed, %zu removed, %zu added\n", d.n_same, d.n_changed, d.n_removed,
	       d.n_added);
	printf("parse + duplicate check (O(n log n)):   %8.1f ms\n", median3(t_parse));
	printf("store: read the stored ledger:          %8.1f ms\n", median3(t_load));
	printf("store: diff + write the changed rows:   %8.1f ms  (rewriting every row: %.1f ms)\n", median3(t_store),
	       median3(t_replace));
	printf("camera diff for the adapters:           %8.1f ms\n", median3(t_diff));
	size_t tenth = (size_t)rows / 10;
	double t0 = now_ms();
	size_t touched = naive_diff(old, tenth, neu, tenth);
	double t_naive_diff = now_ms() - t0;
	t0 = now_ms();
	size_t dups = naive_duplicates(old, tenth);
	double t_naive_dup = now_ms() - t0;
	printf("before, on %zu rows: O(n^2) diff %.1f ms (%zu touched), O(n^2) duplicate check %.1f ms (%zu found);"
	       " x100 at %ld rows: ~%.0f s and ~%.0f s\n",
	       tenth, t_naive_diff, touched, t_naive_dup, dups, rows, t_naive_diff * 100 / 1e3,
	       t_naive_dup * 100 / 1e3);
	agw_camera_diff_free(&d);
	agw_cameras_free(old, n_old);
	agw_cameras_free(neu, n_new);
	agw_store_close(store);
	if (dir == tmpl) {
		unlink(a);
		unlink(b);
		char p[300];
		const char *suffix[] = {"", "-wal", "-shm"};
		for (int i = 0; i < 3; i++) {
			snprintf(p, sizeof(p), "%s%s", db, suffix[i]);
			unlink(p);
		}
		rmdir(tmpl);
	}
	return 0;
}
