/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Alerts/s through the decider with the real store (WAL, synchronous=NORMAL): per alert a journal
 * row, the decision row, the case upsert and one outbox row, in transactions of BATCH alerts like
 * the pipeline writes them. A grid of 10,000 cells (imported from a generated GeoJSON file), the
 * default policy, 10,000 cameras. Prints the median of several runs, wall clock (this is I/O).
 * Usage: bench_decider [RUNS [ALERTS [BATCH]]]   (defaults 3, 200,000, 1,000) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alarmgw/log.h"
#include "decider.h"
#include "grid_import.h"

enum { SIDE = 100, N_CAMERAS = 10000 };

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static int write_layer(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs("{\"type\":\"FeatureCollection\",\"features\":[", f);
	double step = 1.0 / SIDE;
	for (int i = 0; i < SIDE; i++)
		for (int j = 0; j < SIDE; j++) {
			double x = 116.0 + i * step, y = 39.5 + j * step;
			fprintf(f,
				"%s{\"type\":\"Feature\",\"properties\":{\"code\":\"110105%03d%03d\",\"name\":\"g%d-%d\","
				"\"parents\":[\"110105\",\"110105%03d\"]},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
				"[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f]]]}}",
				i || j ? "," : "", i, j, i, j, i, x, y, x + step, y, x + step, y + step, x, y + step, x, y);
		}
	fputs("]}\n", f);
	return fclose(f) == 0 ? 0 : -EIO;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double run(size_t n, size_t batch, int64_t *ret_outbox)
{
	char dir[] = "/tmp/agw-bench-decider-XXXXXX";
	if (!mkdtemp(dir))
		exit(1);
	struct agw_config cfg;
	agw_config_defaults(&cfg);
	free(cfg.state_dir);
	cfg.state_dir = strdup(dir);
	free(cfg.grid_layer);
	cfg.grid_layer = strdup("bench");
	cfg.mqtt.outbox_max_rows = 0; /* nothing drains it here */
	char *dbp = agw_config_db_path(&cfg), err[512], layer[300];
	struct agw_store *store;
	if (agw_store_open(dbp, &store, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	snprintf(layer, sizeof(layer), "%s/layer.geojson", dir);
	struct agw_grid_import_result res;
	if (write_layer(layer) < 0 || agw_grid_import_file(store, "bench", NULL, layer, &res, err, sizeof(err)) < 0) {
		fprintf(stderr, "layer: %s\n", err);
		exit(1);
	}
	struct agw_camera *cams = calloc(N_CAMERAS, sizeof(*cams));
	char (*ids)[16] = calloc(N_CAMERAS, sizeof(*ids));
	for (int i = 0; i < N_CAMERAS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "cam-%05d", i);
		cams[i] = (struct agw_camera){.id = ids[i], .name = ids[i], .vendor = (char *)"bench",
					      .protocol = (char *)"onvif", .address = (char *)"10.0.0.1",
					      .lon = 116.0 + (rnd() % 100000) / 100000.0,
					      .lat = 39.5 + (rnd() % 100000) / 100000.0, .crs = (char *)"wgs84"};
	}
	agw_store_begin(store);
	agw_store_cameras_replace(store, cams, N_CAMERAS);
	agw_store_commit(store);
	struct agw_errors errs = {0};
	struct agw_decider *d;
	if (agw_decider_new(&cfg, store, &d, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.v[i]);
		exit(1);
	}
	static const enum agw_alert_kind kinds[] = {AGW_KIND_MOTION, AGW_KIND_INTRUSION, AGW_KIND_TAMPER,
						    AGW_KIND_LINE_CROSSING};
	uint8_t *state = calloc(N_CAMERAS * 4, 1);
	struct agw_alert a;
	agw_alert_init(&a);
	a.adapter = (char *)"bench";
	a.topic = (char *)"tns1:RuleEngine/CellMotionDetector/Motion";
	a.operation = AGW_OP_CHANGED;
	int64_t t0 = agw_now_ms();
	/* The engine's transaction (undo log and kind_states rows) as the pipeline runs it;
	 * AGW_BENCH_NO_TXN=1 leaves it out, to measure what it costs. */
	bool txn = !getenv("AGW_BENCH_NO_TXN");
	double start = now_s();
	for (size_t i = 0; i < n; i += batch) {
		if (agw_store_begin(store) < 0 || (txn && agw_decider_txn(d, store, AGW_TXN_BEGIN) < 0))
			exit(1);
		for (size_t k = i; k < i + batch && k < n; k++) {
			uint32_t c = rnd() % N_CAMERAS, kind = rnd() % 4;
			uint8_t *s = &state[c * 4 + kind];
			*s = !*s;
			a.camera_id = ids[c];
			a.kind = kinds[kind];
			a.active = *s ? AGW_ACTIVE_TRUE : AGW_ACTIVE_FALSE;
			a.gateway_time_ms = t0 + (int64_t)k;
			a.camera_time_ms = a.gateway_time_ms - 200;
			int64_t seq;
			if (agw_store_journal_alert(store, &a, &seq) < 0 || agw_decider_decide(d, store, seq, &a, a.gateway_time_ms) < 0)
				exit(1);
		}
		if (agw_decider_tick(d, store, t0 + (int64_t)i, t0 + (int64_t)i) < 0 ||
		    (txn && agw_decider_txn(d, store, AGW_TXN_PRECOMMIT) < 0) || agw_store_commit(store) < 0)
			exit(1);
		if (txn)
			agw_decider_txn(d, store, AGW_TXN_COMMITTED);
	}
	double rate = n / (now_s() - start);
	*ret_outbox = agw_store_outbox_count(store);
	agw_decider_free(d);
	agw_store_close(store);
	free(state);
	free(cams);
	free(ids);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dbp);
	agw_config_free(&cfg);
	return rate;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 3;
	size_t n = argc > 2 ? (size_t)atol(argv[2]) : 200000, batch = argc > 3 ? (size_t)atol(argv[3]) : 1000;
	if (runs < 1 || runs > 20 || n < 1000 || batch < 1) {
		fprintf(stderr, "usage: bench_decider [RUNS (1..20) [ALERTS (>= 1000) [BATCH]]]\n");
		return 2;
	}
	agw_log_set_level(AGW_LOG_WARNING);
	double rates[20];
	int64_t outbox = 0;
	for (int r = 0; r < runs; r++)
		rates[r] = run(n, batch, &outbox);
	qsort(rates, (size_t)runs, sizeof(double), cmp);
	printf("bench_decider: %d cells, default policy, %d cameras, %zu alerts per run in transactions of %zu, "
	       "%d runs\n", SIDE * SIDE, N_CAMERAS, n, batch, runs);
	printf("outbox rows written per run: %" PRId64 "\n", outbox);
	printf("journal + decision + case + outbox: %.0f alerts/s (median, wall clock)\n", rates[runs / 2]);
	return 0;
}
