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

#include "case_engine.h"

enum { CELLS_SIDE = 317, N_CAMERAS = 10000, N_RULES = 1000 };

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static double frand(void)
{
	return rnd() / (double)UINT32_MAX;
}

/* CPU time of this thread: the machine is shared, and the figure wanted is per core. */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const double X0 = 116.0, Y0 = 39.5, SPAN = 1.0;

static struct agw_grid *make_grid(void)
{
	int n = CELLS_SIDE;
	double step = SPAN / n;
	double *vx = malloc(sizeof(double) * (n + 1) * (n + 1)), *vy = malloc(sizeof(double) * (n + 1) * (n + 1));
	for (int i = 0; i <= n; i++)
		for (int j = 0; j <= n; j++) {
			bool inner = i > 0 && i < n && j > 0 && j < n;
			vx[i * (n + 1) + j] = X0 + i * step + (inner ? (frand() - 0.5) * step * 0.3 : 0);
			vy[i * (n + 1) + j] = Y0 + j * step + (inner ? (frand() - 0.5) * step * 0.3 : 0);
		}
	struct agw_grid *g;
	if (agw_grid_new("bench", AGW_CRS_GCJ02, 1, &g) < 0)
		exit(1);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			/* A quad with a midpoint on each edge (8 vertices), closer to real cell outlines. */
#define V(a, b) vx[(a) * (n + 1) + (b)], vy[(a) * (n + 1) + (b)]
			double c[] = {V(i, j), V(i + 1, j), V(i + 1, j + 1), V(i, j + 1), V(i, j)};
#undef V
			double xy[18];
			for (int k = 0; k < 4; k++) {
				xy[4 * k] = c[2 * k];
				xy[4 * k + 1] = c[2 * k + 1];
				xy[4 * k + 2] = (c[2 * k] + c[2 * k + 2]) / 2;
				xy[4 * k + 3] = (c[2 * k + 1] + c[2 * k + 3]) / 2;
			}
			xy[16] = xy[0];
			xy[17] = xy[1];
			char district[16], street[24], community[32], code[40];
			snprintf(district, sizeof(district), "1101%02d", i / 40);
			snprintf(street, sizeof(street), "%s%03d", district, j / 20);
			snprintf(community, sizeof(community), "%s%03d", street, (i % 40) / 8);
			snprintf(code, sizeof(code), "%s%03d", community, (i % 8) * 20 + j % 20);
			const char *parents[] = {district, street, community};
			struct agw_ring r = {xy, 9};
			if (agw_grid_add_cell(g, code, code, parents, 3, NULL, 0, &r, 1) < 0)
				exit(1);
		}
	free(vx);
	free(vy);
	if (agw_grid_build(g, NULL) < 0)
		exit(1);
	return g;
}

static const enum agw_alert_kind kinds[] = {AGW_KIND_MOTION, AGW_KIND_INTRUSION, AGW_KIND_LINE_CROSSING,
					    AGW_KIND_TAMPER, AGW_KIND_LOITERING, AGW_KIND_VIDEO_LOSS};

static struct agw_ruleset *make_rules(void)
{
	struct agw_ruleset *rs;
	struct agw_rule *r;
	char name[32], buf[32];
	agw_ruleset_new(&rs);
	for (int i = 0; i < N_RULES - 1; i++) {
		snprintf(name, sizeof(name), "rule-%04d", i);
		agw_ruleset_add(rs, name, &r);
		r->kinds = 1u << kinds[rnd() % 6];
		agw_rule_set_text(&r->category, "A01");
		agw_rule_set_text(&r->title, "{kind} at {camera_name} ({cell})");
		r->priority = 1 + (int)(rnd() % 4);
		switch (i % 10) {
		case 0: case 1: case 2: case 3: case 4: case 5: /* a list of cameras */
			for (int k = 0; k < 10; k++) {
				snprintf(buf, sizeof(buf), "cam-%05u", rnd() % N_CAMERAS);
				agw_strv_add(&r->cameras, buf);
			}
			break;
		case 6: case 7: /* a street, nights */
			snprintf(buf, sizeof(buf), "1101%02u%03u", rnd() % 8, rnd() % 16);
			agw_strv_add(&r->cells, buf);
			r->days = AGW_DAYS_ALL;
			agw_rule_add_window(r, 22 * 60, 6 * 60);
			break;
		case 8: /* a tag */
			snprintf(buf, sizeof(buf), "tag-%02u", rnd() % 50);
			agw_strv_add(&r->tags, buf);
			break;
		default: /* drops for a district */
			snprintf(buf, sizeof(buf), "1101%02u", rnd() % 8);
			agw_strv_add(&r->cells, buf);
			r->action = AGW_RULE_DROP;
			agw_rule_set_text(&r->reason, "district quiet hours");
			r->days = 0x1f;
			agw_rule_add_window(r, 9 * 60, 17 * 60);
			break;
		}
	}
	agw_ruleset_add(rs, "catch-all", &r);
	r->kinds = ((1u << AGW_KIND__COUNT) - 1) & ~(1u << AGW_KIND_OTHER);
	agw_rule_set_text(&r->category, "A99");
	return rs;
}

struct cam {
	char id[16];
	double lon, lat;
};

struct alert {
	uint32_t cam;
	uint8_t kind, active;
};

struct result {
	double full, cached, locate;
	uint64_t opens, updates, closes, drops, bytes;
};

static struct agw_engine *make_engine(const struct cam *cams, double *ret_setup_s)
{
	struct agw_engine *e;
	struct agw_engine_config cfg = {.gateway_id = "gw-bench"};
	double t0 = now_s();
	if (agw_engine_new(&cfg, make_rules(), make_grid(), &e) < 0)
		exit(1);
	for (int i = 0; i < N_CAMERAS; i++) {
		char tags[16];
		snprintf(tags, sizeof(tags), "tag-%02d", i % 50);
		agw_engine_camera_set(e, cams[i].id, cams[i].id, "bench", tags, NULL, true, cams[i].lon, cams[i].lat,
				      AGW_CRS_GCJ02);
	}
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

static void run(struct agw_engine *e, const struct cam *cams, const struct alert *alerts, size_t n, bool do_locate,
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
		const struct alert *al = &alerts[i];
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

static double locate_rate(const struct agw_grid *g, const struct cam *cams, const struct alert *alerts, size_t n)
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
	struct cam *cams = calloc(N_CAMERAS, sizeof(*cams));
	for (int i = 0; i < N_CAMERAS; i++) {
		snprintf(cams[i].id, sizeof(cams[i].id), "cam-%05d", i);
		cams[i].lon = X0 + 0.001 + frand() * (SPAN - 0.002);
		cams[i].lat = Y0 + 0.001 + frand() * (SPAN - 0.002);
	}
	/* Per camera and kind the edges alternate active/inactive; a third of alerts are pulses. */
	struct alert *alerts = malloc(n * sizeof(*alerts));
	uint8_t *state = calloc((size_t)N_CAMERAS * 6, 1);
	for (size_t i = 0; i < n; i++) {
		uint32_t c = rnd() % N_CAMERAS, k = rnd() % 6;
		alerts[i].cam = c;
		alerts[i].kind = (uint8_t)kinds[k];
		if (rnd() % 3 == 0) {
			alerts[i].active = AGW_ACTIVE_NONE;
		} else {
			uint8_t *s = &state[c * 6 + k];
			*s = !*s;
			alerts[i].active = *s ? AGW_ACTIVE_TRUE : AGW_ACTIVE_FALSE;
		}
	}
	double full[50], cached[50], loc[50], setup = 0;
	struct timespec w0, w1;
	clock_gettime(CLOCK_MONOTONIC, &w0);
	struct result res = {0};
	/* Monday 2026-11-23 20:00 +08:00: the night windows open during the run. */
	int64_t t0 = 1795363200000LL + 20 * 3600 * 1000LL;
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
	       CELLS_SIDE * CELLS_SIDE, N_RULES, N_CAMERAS, n, runs);
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
	free(state);
	free(cams);
	return 0;
}
