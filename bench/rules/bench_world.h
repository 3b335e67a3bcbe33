/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The generated city of bench_rules and rules_replay: a layer of 100,000 grid cells (jittered quads
 * over a 1x1 degree city, four-level codes), 1,000 rules of the shapes deployments write (per
 * camera list, per street with schedules, per tag, drops, a catch-all), 10,000 cameras and a stream
 * of alerts (active/inactive edges and pulses over several kinds). One pseudo-random sequence feeds
 * them all, in the order they are made, so two builds given the same calls see the same city. */
#ifndef AGW_BENCH_WORLD_H
#define AGW_BENCH_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "case_engine.h"

enum { BW_CELLS_SIDE = 317, BW_CAMERAS = 10000, BW_RULES = 1000 };

struct bw_cam {
	char id[16];
	double lon, lat;
};

struct bw_alert {
	uint32_t cam;
	uint8_t kind, active;
};

uint32_t bw_rnd(void);
struct agw_grid *bw_grid(void);
struct agw_ruleset *bw_rules(void);
/* BW_CAMERAS cameras inside the layer; free() */
struct bw_cam *bw_cameras(void);
/* n alerts: per camera and kind the edges alternate active/inactive; a third are pulses. free() */
struct bw_alert *bw_alerts(size_t n);
/* A fresh engine with bw_rules(), bw_grid() and the cameras registered (tags "tag-NN"). */
struct agw_engine *bw_engine(const struct bw_cam *cams);
/* Monday 2026-11-23 20:00 +08:00: the night windows open during a run. */
#define BW_T0 (1795363200000LL + 20 * 3600 * 1000LL)

#endif
