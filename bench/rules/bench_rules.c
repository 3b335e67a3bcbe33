/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Throughput of the rule path on one core: a layer of 100,000 grid cells (jittered quads over a
 * 1x1 degree city, four-level codes), 1,000 rules of the shapes deployments write (per camera list,
 * per street with schedules, per tag, drops, a catch-all), 10,000 cameras and a stream of alerts
 * (active/inactive edges and pulses over several kinds, a millisecond apart, the tick every 1000).
 *
 * Prints, as the median of several runs:
 *   full   - per alert: locate the camera's point in the grid + decide + build the case message
 *   cached - decide + message, the cell resolved once per camera (what the gateway does)
 *   locate - the grid look-up alone
 * Rates are alerts per second of this thread's CPU time (one core), so other load on the machine
 * does not skew them; the wall-clock time of the whole run is printed too.
 * Usage: bench_rules [RUNS [ALERTS]]   (defaults 5 and 1,000,000) */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_world.h"

/* CPU time of this thread: the machine is shared, and the figure wanted is per core. */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct result {
	double full, cached, locate;
	uint64_t opens, updates, closes, drops, bytes;
};

static struct agw_engine *make_engine(const struct bw_cam *cams, double *ret_setup_s)
{
	double t0 = now_s();
	struct agw_engine *e = bw_engine(cams);
	*ret_setup_s = now_s() - t0;
	return e;
}

struct tick_arg {
	struct agw_engine *e;
	struct result *res;
};

static int on_tick(void *arg, const struct agw_decision *d)
{
	struct tick_arg *t = arg;
	char *json;
	size_t len;
	if (d->incident && agw_case_message(t->e, d->incident, d->action, NULL, 0, &json, &len) == 0) {
		t->res->bytes += len;
		free(json);
	}
	return 0;
}

static void run(struct agw_engine *e, const struct bw_cam *cams, const struct bw_alert *alerts, size_t n, bool do_locate,
		int64_t t0, struct result *res, double *ret_rate)
{
	const struct agw_grid *g = agw_engine_grid(e);
	struct agw_alert a;
	agw_alert_init(&a);
	a.topic = (char *)"tns1:RuleEngine/FieldDetector/ObjectsInside";
	a.operation = AGW_OP_CHANGED;
	uintptr_t sink = 0;
	struct tick_arg ta = {e, res};
	double start = now_s();
	for (size_t i = 0; i < n; i++) {
		const struct bw_alert *al = &alerts[i];
		if (do_locate)
			sink += (uintptr_t)agw_grid_locate(g, cams[al->cam].lon, cams[al->cam].lat);
		a.camera_id = (char *)cams[al->cam].id;
		a.kind = (enum agw_alert_kind)al->kind;
		a.active = (enum agw_active)al->active;
		a.gateway_time_ms = t0 + (int64_t)i;
		a.camera_time_ms = a.gateway_time_ms - 300;
		struct agw_decision d;
		if (agw_engine_decide(e, &a, (int64_t)i + 1, a.gateway_time_ms, &d) < 0)
			exit(1);
		switch (d.action) {
		case AGW_DECISION_OPEN: res->opens++; break;
		case AGW_DECISION_UPDATE: res->updates++; break;
		case AGW_DECISION_CLOSE: res->closes++; break;
		default: res->drops++; break;
		}
		if (d.incident) {
			char *json;
			size_t len;
			if (agw_case_message(e, d.incident, d.action, NULL, 0, &json, &len) < 0)
				exit(1);
			res->bytes += len;
			free(json);
		}
		if (i % 1000 == 999)
			agw_engine_tick(e, a.gateway_time_ms, on_tick, &ta);
	}
	double dt = now_s() - start;
	if (sink == 1)
		printf("#\n");
	*ret_rate = n / dt;
}

static double locate_rate(const struct agw_grid *g, const struct bw_cam *cams, const struct bw_alert *alerts, size_t n)
{
	uintptr_t sink = 0;
	double start = now_s();
	for (size_t i = 0; i < n; i++)
		sink += (uintptr_t)agw_grid_locate(g, cams[alerts[i].cam].lon, cams[alerts[i].cam].lat);
	double dt = now_s() - start;
	if (sink == 1)
		printf("#\n");
	return n / dt;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 5;
	size_t n = argc > 2 ? (size_t)atol(argv[2]) : 1000000;
	if (runs < 1 || runs > 50 || n < 1000) {
		fprintf(stderr, "usage: bench_rules [RUNS (1..50) [ALERTS (>= 1000)]]\n");
		return 2;
	}
	struct bw_cam *cams = bw_cameras();
	struct bw_alert *alerts = bw_alerts(n);
	double full[50], cached[50], loc[50], setup = 0;
	struct timespec w0, w1;
	clock_gettime(CLOCK_MONOTONIC, &w0);
	struct result res = {0};
	int64_t t0 = BW_T0;
	for (int r = 0; r < runs; r++) {
		struct agw_engine *e = make_engine(cams, &setup);
		memset(&res, 0, sizeof(res));
		run(e, cams, alerts, n, true, t0, &res, &full[r]);
		agw_engine_free(e);
		e = make_engine(cams, &setup);
		struct result res2 = {0};
		run(e, cams, alerts, n, false, t0, &res2, &cached[r]);
		loc[r] = locate_rate(agw_engine_grid(e), cams, alerts, n);
		agw_engine_free(e);
	}
	clock_gettime(CLOCK_MONOTONIC, &w1);
	printf("bench_rules: %d cells, %d rules, %d cameras, %zu alerts per run, %d runs (median)\n",
	       BW_CELLS_SIDE * BW_CELLS_SIDE, BW_RULES, BW_CAMERAS, n, runs);
	printf("setup (grid index + rules + cameras located): %.2f s CPU; whole run %.1f s wall\n", setup,
	       (w1.tv_sec - w0.tv_sec) + (w1.tv_nsec - w0.tv_nsec) / 1e9);
	printf("decisions per run: open %" PRIu64 ", update %" PRIu64 ", close %" PRIu64 ", drop %" PRIu64
	       "; %.0f bytes/message\n",
	       res.opens, res.updates, res.closes, res.drops,
	       (double)res.bytes / (double)(res.opens + res.updates + res.closes ? res.opens + res.updates + res.closes : 1));
	printf("full   (locate + rules + case message): %.0f alerts/s (CPU)\n", median(full, runs));
	printf("cached (rules + case message, cell resolved once per camera): %.0f alerts/s (CPU)\n", median(cached, runs));
	printf("locate (grid look-up alone): %.0f look-ups/s (CPU)\n", median(loc, runs));
	free(alerts);
	free(cams);
	return 0;
}
