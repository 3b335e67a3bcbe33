/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JPEG frame header reader (gateway/evidence/evidence_jpeg.c): real pictures give their size;
 * every cut, lie and loop in the marker walk gives an error naming the offset, never a read past
 * the buffer (ASan). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evidence_jpeg.h"

/* The camera simulators' picture (tests/sim/camsim/jpeg.c: ffmpeg testsrc 32x24), declared in
 * tests/sim/camsim/util.h. */
extern const unsigned char vsim_jpeg[];
extern const size_t vsim_jpeg_len;

static int size_of(const void *buf, size_t len, unsigned *w, unsigned *h, char *err)
{
	return agw_jpeg_size(buf, len, w, h, err, 160);
}

static void test_real_picture(void **state)
{
	(void)state;
	unsigned w = 0, h = 0;
	char err[160] = "";
	assert_int_equal(size_of(vsim_jpeg, vsim_jpeg_len, &w, &h, err), 0);
	assert_int_equal(w, 32);
	assert_int_equal(h, 24);
}

/* Every prefix of a real picture: those that hold its frame header give the size, the shorter
 * ones -ENODATA (the camera's answer was cut), none reads past the end. */
static void test_every_prefix(void **state)
{
	(void)state;
	size_t sof = 0;
	for (size_t i = 0; i + 1 < vsim_jpeg_len; i++)
		if (vsim_jpeg[i] == 0xFF && vsim_jpeg[i + 1] == 0xC0) {
			sof = i;
			break;
		}
	assert_true(sof > 0);
	size_t sof_end = sof + 2 + (size_t)(vsim_jpeg[sof + 2] << 8 | vsim_jpeg[sof + 3]);
	for (size_t n = 0; n <= vsim_jpeg_len; n++) {
		unsigned char *copy = malloc(n ? n : 1); /* exact size: ASan sees any overread */
		memcpy(copy, vsim_jpeg, n);
		unsigned w = 0, h = 0;
		char err[160] = "";
		int rc = size_of(copy, n, &w, &h, err);
		if (n >= sof_end) {
			assert_int_equal(rc, 0);
			assert_int_equal(w, 32);
		} else if (n < 2) {
			assert_int_equal(rc, -EINVAL);
		} else {
			assert_int_equal(rc, -ENODATA);
			assert_non_null(strstr(err, "offset "));
		}
		free(copy);
	}
}

static void test_progressive_and_fill_bytes(void **state)
{
	(void)state;
	/* SOI, fill bytes, APP0 of 4 bytes, SOF2 (progressive) 1920x1080 */
	const unsigned char pic[] = {0xFF, 0xD8, 0xFF, 0xFF, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB, 0xFF, 0xC2,
				     0x00, 0x0B, 0x08, 0x04, 0x38, 0x07, 0x80, 0x01, 0x01, 0x11, 0x00};
	unsigned w = 0, h = 0;
	char err[160];
	assert_int_equal(size_of(pic, sizeof(pic), &w, &h, err), 0);
	assert_int_equal(w, 1920);
	assert_int_equal(h, 1080);
}

static void expect_error(const unsigned char *pic, size_t len, int rc, const char *where)
{
	unsigned w = 7, h = 9;
	char err[160] = "";
	assert_int_equal(size_of(pic, len, &w, &h, err), rc);
	assert_non_null(strstr(err, where));
	assert_int_equal(w, 7); /* untouched on failure */
	assert_int_equal(h, 9);
}

static void test_broken(void **state)
{
	(void)state;
	const unsigned char html[] = "<html>401</html>";
	expect_error(html, sizeof(html) - 1, -EINVAL, "offset 0: not a JPEG");
	/* DHT (C4) is not a frame header; its length runs past the end */
	const unsigned char dht[] = {0xFF, 0xD8, 0xFF, 0xC4, 0x40, 0x00, 0x01};
	expect_error(dht, sizeof(dht), -ENODATA, "offset 4: segment length 16384 runs past the end");
	const unsigned char short_len[] = {0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01};
	expect_error(short_len, sizeof(short_len), -EINVAL, "offset 4: segment length 1 is below 2");
	const unsigned char zero[] = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x00, 0x07, 0x80, 0x01, 0x01, 0x11, 0x00};
	expect_error(zero, sizeof(zero), -EINVAL, "size of 1920x0");
	const unsigned char tiny_sof[] = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x05, 0x08, 0x00, 0x10};
	expect_error(tiny_sof, sizeof(tiny_sof), -EINVAL, "frame header of 5 bytes");
	const unsigned char sos[] = {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02};
	expect_error(sos, sizeof(sos), -EINVAL, "offset 2: scan (SOS) before a frame header");
	const unsigned char eoi[] = {0xFF, 0xD8, 0xFF, 0xD9};
	expect_error(eoi, sizeof(eoi), -ENODATA, "EOI before a frame header");
	const unsigned char garbage[] = {0xFF, 0xD8, 0x12};
	expect_error(garbage, sizeof(garbage), -EINVAL, "offset 2: byte 0x12 where a marker was expected");
	const unsigned char fills[] = {0xFF, 0xD8, 0xFF, 0xFF, 0xFF};
	expect_error(fills, sizeof(fills), -ENODATA, "ends before a frame header");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_picture),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_progressive_and_fill_bytes),
		cmocka_unit_test(test_broken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
