/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Keyframe diagnosis on synthetic luma planes: measurements, and the raise/clear transitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rtsp_diag.h"

#define W 320
#define H 240
#define STRIDE 336

static uint8_t plane[STRIDE * H];

static void fill(uint8_t v)
{
	memset(plane, v, sizeof(plane));
}

/* Vertical bars of 8 levels, shifted by `shift` pixels, over a fine 4-pixel checker texture: a
 * detailed picture (a real scene has edges everywhere, not only between bars). */
static void bars(int shift)
{
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			plane[y * STRIDE + x] = (uint8_t)(16 + 28 * (((x + shift) / 40) % 8) + ((x / 4 + y / 4) % 2) * 20);
}

static const struct agw_rtsp_thresholds th = {
	.black_luma = 28, .covered_stddev = 6, .covered_edge = 0.8, .frozen_tolerance = 3, .frozen_count = 3};

static struct agw_rtsp_picture measure(void)
{
	struct agw_rtsp_picture p;
	assert_int_equal(agw_rtsp_picture_measure(plane, STRIDE, W, H, 1, &p), 0);
	return p;
}

static void test_measure(void **state)
{
	struct agw_rtsp_picture p;
	fill(16);
	p = measure();
	assert_true(p.mean > 15.99 && p.mean < 16.01);
	assert_true(p.stddev < 0.01 && p.edge < 0.01);
	/* Two halves at 0 and 200: mean 100, stddev 100. */
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			plane[y * STRIDE + x] = x < W / 2 ? 0 : 200;
	p = measure();
	assert_true(p.mean > 99.9 && p.mean < 100.1);
	assert_true(p.stddev > 99.9 && p.stddev < 100.1);
	assert_true(p.edge > 0);
	assert_int_equal(p.fp[0], 0);
	assert_int_equal(p.fp[AGW_RTSP_FP_W - 1], 200);
	/* Subsampling keeps the figures close. */
	struct agw_rtsp_picture q;
	assert_int_equal(agw_rtsp_picture_measure(plane, STRIDE, W, H, 4, &q), 0);
	assert_true(q.mean > 99 && q.mean < 101);
	/* Too small a plane is refused. */
	assert_int_equal(agw_rtsp_picture_measure(plane, STRIDE, 8, 8, 1, &q), -22);
	uint8_t a[AGW_RTSP_FP_SIZE] = {0}, b[AGW_RTSP_FP_SIZE] = {0};
	b[77] = 9;
	assert_int_equal(agw_rtsp_fp_distance(a, b), 9);
}

static int update(struct agw_rtsp_diag *d, const struct agw_rtsp_picture *p, struct agw_rtsp_change *ch)
{
	return agw_rtsp_diag_update(d, &th, p, ch);
}

static void test_black_covered_clear(void **state)
{
	struct agw_rtsp_diag d = {0};
	struct agw_rtsp_change ch[AGW_RTSP_COND__COUNT];
	struct agw_rtsp_picture p;
	bars(0);
	p = measure();
	assert_int_equal(update(&d, &p, ch), 0); /* a normal picture raises nothing */
	fill(16);
	p = measure();
	assert_int_equal(update(&d, &p, ch), 1);
	assert_int_equal(ch[0].cond, AGW_RTSP_COND_BLACK);
	assert_true(ch[0].active);
	assert_int_equal(update(&d, &p, ch), 0); /* once per transition */
	/* black -> flat grey: black clears before covered raises; frozen is not claimed too */
	fill(128);
	p = measure();
	assert_int_equal(update(&d, &p, ch), 2);
	assert_int_equal(ch[0].cond, AGW_RTSP_COND_BLACK);
	assert_false(ch[0].active);
	assert_int_equal(ch[1].cond, AGW_RTSP_COND_COVERED);
	assert_true(ch[1].active);
	for (int i = 0; i < 5; i++)
		assert_int_equal(update(&d, &p, ch), 0);
	bars(7);
	p = measure();
	assert_int_equal(update(&d, &p, ch), 1);
	assert_int_equal(ch[0].cond, AGW_RTSP_COND_COVERED);
	assert_false(ch[0].active);
}

static void test_frozen(void **state)
{
	struct agw_rtsp_diag d = {0};
	struct agw_rtsp_change ch[AGW_RTSP_COND__COUNT];
	struct agw_rtsp_picture p;
	bars(0);
	p = measure();
	assert_int_equal(update(&d, &p, ch), 0);
	assert_int_equal(update(&d, &p, ch), 0); /* 2 identical: not yet */
	/* A little noise (compression) under the tolerance is still the same image. */
	plane[5 * STRIDE + 5] += 2;
	p = measure();
	assert_int_equal(update(&d, &p, ch), 1); /* the third in a row */
	assert_int_equal(ch[0].cond, AGW_RTSP_COND_FROZEN);
	assert_true(ch[0].active);
	/* No video meanwhile: video loss raises, frozen stays (the picture is unknown). */
	assert_int_equal(update(&d, NULL, ch), 1);
	assert_int_equal(ch[0].cond, AGW_RTSP_COND_VIDEO_LOSS);
	assert_true(ch[0].active);
	assert_int_equal(update(&d, NULL, ch), 0);
	/* Video back, same image: loss clears, frozen goes on. */
	assert_int_equal(update(&d, &p, ch), 1);
	assert_int_equal(ch[0].cond, AGW_RTSP_COND_VIDEO_LOSS);
	assert_false(ch[0].active);
	/* A moving picture clears it. */
	bars(40);
	p = measure();
	assert_int_equal(update(&d, &p, ch), 1);
	assert_int_equal(ch[0].cond, AGW_RTSP_COND_FROZEN);
	assert_false(ch[0].active);
	assert_string_equal(agw_rtsp_cond_name(AGW_RTSP_COND_FROZEN), "frozen");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_measure),
		cmocka_unit_test(test_black_covered_clear),
		cmocka_unit_test(test_frozen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
