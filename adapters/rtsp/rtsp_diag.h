/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Keyframe diagnosis: statistics of a decoded luma plane and the per-camera condition state that
 * turns a series of patrols into raise/clear transitions. Pure code, no I/O, unit-tested. */
#ifndef AGW_RTSP_DIAG_H
#define AGW_RTSP_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGW_RTSP_FP_W 16
#define AGW_RTSP_FP_H 16
#define AGW_RTSP_FP_SIZE (AGW_RTSP_FP_W * AGW_RTSP_FP_H)

struct agw_rtsp_picture {
	double mean;   /* mean luma, 0..255 (code values, limited range pictures are 16..235) */
	double stddev; /* luma standard deviation */
	double edge;   /* mean absolute luma step between neighbouring samples (sharpness/feature energy) */
	uint8_t fp[AGW_RTSP_FP_SIZE]; /* fingerprint: block means on a 16x16 grid */
};

/* Measures a luma plane (8 bits per sample). Samples every `step` pixels in both directions
 * (1 = all; larger is cheaper on big pictures). Returns 0 or -EINVAL for a plane too small. */
int agw_rtsp_picture_measure(const uint8_t *luma, int stride, int width, int height, int step,
			     struct agw_rtsp_picture *ret);
/* Largest absolute difference between two fingerprints' cells. */
int agw_rtsp_fp_distance(const uint8_t *a, const uint8_t *b);

enum agw_rtsp_cond {
	AGW_RTSP_COND_VIDEO_LOSS = 0, /* no answer, refused, no video stream, no keyframe in time */
	AGW_RTSP_COND_BLACK,          /* mean luma under black_luma */
	AGW_RTSP_COND_COVERED,        /* featureless: stddev or edge energy under threshold */
	AGW_RTSP_COND_FROZEN,         /* the same fingerprint frozen_count patrols in a row */
	AGW_RTSP_COND__COUNT
};

const char *agw_rtsp_cond_name(enum agw_rtsp_cond c); /* "video_loss", "black", "covered", "frozen" */

struct agw_rtsp_thresholds {
	double black_luma;     /* mean luma below this is black */
	double covered_stddev; /* stddev below this is featureless */
	double covered_edge;   /* edge energy below this is featureless */
	int frozen_tolerance;  /* fingerprints whose cells differ by at most this are the same image */
	int frozen_count;      /* that many identical patrols in a row (>= 2) make a frozen picture */
};

struct agw_rtsp_diag {
	bool active[AGW_RTSP_COND__COUNT];
	uint8_t last_fp[AGW_RTSP_FP_SIZE];
	bool have_fp;
	int same_run; /* patrols in a row with the same fingerprint, this one included */
};

struct agw_rtsp_change {
	enum agw_rtsp_cond cond;
	bool active;
};

/* Feeds one patrol: pic is the measured keyframe, or NULL when there was no video. Writes the
 * transitions into changes (clears first, then raises; at most AGW_RTSP_COND__COUNT) and returns
 * their number. Without video only video_loss changes: the picture conditions are unknown then
 * and keep their state. Black, covered and frozen exclude each other, in that order. */
int agw_rtsp_diag_update(struct agw_rtsp_diag *d, const struct agw_rtsp_thresholds *th, const struct agw_rtsp_picture *pic,
			 struct agw_rtsp_change *changes);

#endif
