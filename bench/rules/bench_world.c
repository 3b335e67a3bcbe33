/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The generated city of bench_rules and rules_replay (bench_world.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_world.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

uint32_t bw_rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static double frand(void)
{
	return bw_rnd() / (double)UINT32_MAX;
}

static const double X0 = 116.0, Y0 = 39.5, SPAN = 1.0;

struct agw_grid *bw_grid(void)
{
	int n = BW_CELLS_SIDE;
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

struct agw_ruleset *bw_rules(void)
{
	struct agw_ruleset *rs;
	struct agw_rule *r;
	char name[32], buf[32];
	agw_ruleset_new(&rs);
	for (int i = 0; i < BW_RULES - 1; i++) {
		snprintf(name, sizeof(name), "rule-%04d", i);
		agw_ruleset_add(rs, name, &r);
		r->kinds = 1u << kinds[bw_rnd() % 6];
		agw_rule_set_text(&r->category, "A01");
		agw_rule_set_text(&r->title, "{kind} at {camera_name} ({cell})");
		r->priority = 1 + (int)(bw_rnd() % 4);
		switch (i % 10) {
		case 0: case 1: case 2: case 3: case 4: case 5: /* a list of cameras */
			for (int k = 0; k < 10; k++) {
				snprintf(buf, sizeof(buf), "cam-%05u", bw_rnd() % BW_CAMERAS);
				agw_strv_add(&r->cameras, buf);
			}
			break;
		case 6: case 7: /* a street, nights */
			snprintf(buf, sizeof(buf), "1101%02u%03u", bw_rnd() % 8, bw_rnd() % 16);
			agw_strv_add(&r->cells, buf);
			r->days = AGW_DAYS_ALL;
			agw_rule_add_window(r, 22 * 60, 6 * 60);
			break;
		case 8: /* a tag */
			snprintf(buf, sizeof(buf), "tag-%02u", bw_rnd() % 50);
			agw_strv_add(&r->tags, buf);
			break;
		default: /* drops for a district */
			snprintf(buf, sizeof(buf), "1101%02u", bw_rnd() % 8);
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

struct bw_cam *bw_cameras(void)
{
	struct bw_cam *cams = calloc(BW_CAMERAS, sizeof(*cams));
	if (!cams)
		exit(1);
	for (int i = 0; i < BW_CAMERAS; i++) {
		snprintf(cams[i].id, sizeof(cams[i].id), "cam-%05d", i);
		cams[i].lon = X0 + 0.001 + frand() * (SPAN - 0.002);
		cams[i].lat = Y0 + 0.001 + frand() * (SPAN - 0.002);
	}
	return cams;
}

struct bw_alert *bw_alerts(size_t n)
{
	struct bw_alert *alerts = malloc(n * sizeof(*alerts));
	uint8_t *state = calloc((size_t)BW_CAMERAS * 6, 1);
	if (!alerts || !state)
		exit(1);
	for (size_t i = 0; i < n; i++) {
		uint32_t c = bw_rnd() % BW_CAMERAS, k = bw_rnd() % 6;
		alerts[i].cam = c;
		alerts[i].kind = (uint8_t)kinds[k];
		if (bw_rnd() % 3 == 0) {
			alerts[i].active = AGW_ACTIVE_NONE;
		} else {
			uint8_t *s = &state[c * 6 + k];
			*s = !*s;
			alerts[i].active = *s ? AGW_ACTIVE_TRUE : AGW_ACTIVE_FALSE;
		}
	}
	free(state);
	return alerts;
}

struct agw_engine *bw_engine(const struct bw_cam *cams)
{
	struct agw_engine *e;
	struct agw_engine_config cfg = {.gateway_id = "gw-bench"};
	struct agw_grid *g = bw_grid(); /* the grid's jitter first, then the rules' draws */
	if (agw_engine_new(&cfg, bw_rules(), g, &e) < 0)
		exit(1);
	for (int i = 0; i < BW_CAMERAS; i++) {
		char tags[16];
		snprintf(tags, sizeof(tags), "tag-%02d", i % 50);
		agw_engine_camera_set(e, cams[i].id, cams[i].id, "bench", tags, NULL, true, cams[i].lon, cams[i].lat,
				      AGW_CRS_GCJ02);
	}
	return e;
}
