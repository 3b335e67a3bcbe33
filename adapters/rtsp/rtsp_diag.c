/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rtsp_diag.h"

static const char *const cond_names[AGW_RTSP_COND__COUNT] = {
	[AGW_RTSP_COND_VIDEO_LOSS] = "video_loss",
	[AGW_RTSP_COND_BLACK] = "black",
	[AGW_RTSP_COND_COVERED] = "covered",
	[AGW_RTSP_COND_FROZEN] = "frozen",
};

const char *agw_rtsp_cond_name(enum agw_rtsp_cond c)
{
	return (unsigned)c < AGW_RTSP_COND__COUNT ? cond_names[c] : "unknown";
}

int agw_rtsp_picture_measure(const uint8_t *luma, int stride, int width, int height, int step,
			     struct agw_rtsp_picture *ret)
{
	if (!luma || step < 1 || width < AGW_RTSP_FP_W * step || height < AGW_RTSP_FP_H * step || stride < width)
		return -EINVAL;
	uint64_t sum = 0, sum2 = 0, edge = 0, n = 0, n_edge = 0;
	uint64_t cell_sum[AGW_RTSP_FP_SIZE] = {0};
	uint32_t cell_n[AGW_RTSP_FP_SIZE] = {0};
	for (int y = 0; y < height; y += step) {
		const uint8_t *row = luma + (size_t)y * (size_t)stride;
		const uint8_t *below = y + step < height ? row + (size_t)step * (size_t)stride : NULL;
		int cy = (int)((int64_t)y * AGW_RTSP_FP_H / height);
		for (int x = 0; x < width; x += step) {
			unsigned v = row[x];
			sum += v;
			sum2 += v * v;
			n++;
			int cx = (int)((int64_t)x * AGW_RTSP_FP_W / width);
			cell_sum[cy * AGW_RTSP_FP_W + cx] += v;
			cell_n[cy * AGW_RTSP_FP_W + cx]++;
			if (x + step < width && below) {
				edge += (unsigned)abs((int)row[x + step] - (int)v) + (unsigned)abs((int)below[x] - (int)v);
				n_edge += 2;
			}
		}
	}
	struct agw_rtsp_picture p;
	p.mean = (double)sum / (double)n;
	double var = (double)sum2 / (double)n - p.mean * p.mean;
	p.stddev = var > 0 ? sqrt(var) : 0;
	p.edge = n_edge ? (double)edge / (double)n_edge : 0;
	for (int i = 0; i < AGW_RTSP_FP_SIZE; i++)
		p.fp[i] = cell_n[i] ? (uint8_t)((cell_sum[i] + cell_n[i] / 2) / cell_n[i]) : 0;
	*ret = p;
	return 0;
}

int agw_rtsp_fp_distance(const uint8_t *a, const uint8_t *b)
{
	int max = 0;
	for (int i = 0; i < AGW_RTSP_FP_SIZE; i++) {
		int d = abs((int)a[i] - (int)b[i]);
		if (d > max)
			max = d;
	}
	return max;
}

int agw_rtsp_diag_update(struct agw_rtsp_diag *d, const struct agw_rtsp_thresholds *th, const struct agw_rtsp_picture *pic,
			 struct agw_rtsp_change *changes)
{
	bool want[AGW_RTSP_COND__COUNT];
	memcpy(want, d->active, sizeof(want));
	if (!pic) {
		want[AGW_RTSP_COND_VIDEO_LOSS] = true;
	} else {
		want[AGW_RTSP_COND_VIDEO_LOSS] = false;
		if (d->have_fp && agw_rtsp_fp_distance(d->last_fp, pic->fp) <= th->frozen_tolerance)
			d->same_run++;
		else
			d->same_run = 1;
		memcpy(d->last_fp, pic->fp, sizeof(d->last_fp));
		d->have_fp = true;
		bool black = pic->mean < th->black_luma;
		bool covered = !black && (pic->stddev < th->covered_stddev || pic->edge < th->covered_edge);
		bool frozen = !black && !covered && d->same_run >= th->frozen_count;
		want[AGW_RTSP_COND_BLACK] = black;
		want[AGW_RTSP_COND_COVERED] = covered;
		want[AGW_RTSP_COND_FROZEN] = frozen;
	}
	int n = 0;
	/* Clears before raises, so a picture going from black to covered never shows two at once. */
	for (int pass = 0; pass < 2; pass++)
		for (int c = 0; c < AGW_RTSP_COND__COUNT; c++) {
			bool raise = pass == 1;
			if (want[c] != d->active[c] && want[c] == raise) {
				changes[n].cond = (enum agw_rtsp_cond)c;
				changes[n].active = raise;
				n++;
				d->active[c] = raise;
			}
		}
	return n;
}
