/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dahua clocks: the utc_offsets option (per camera, inherited by an NVR's channel rows, bad entries
 * refused with where and what) and the whole-hours check (the real captures' 1 and 2 hours ahead
 * are flagged; a clock drifting by minutes, a clock reset to 2000 and a right clock are not). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dahua_clock.h"

#define H 3600000LL
#define M 60000LL

static void test_parse(void **state)
{
	(void)state;
	struct agw_dahua_clocks *c = NULL;
	char err[256] = "";
	assert_int_equal(agw_dahua_clocks_parse(" dh-1 = +8h ; dh-nvr=-90m,dh-3=5.5h, dh-4=0 ,", &c, err, sizeof(err)), 0);
	assert_int_equal(agw_dahua_clocks_offset_ms(c, "dh-1"), 8 * H);
	assert_int_equal(agw_dahua_clocks_offset_ms(c, "dh-nvr"), -90 * M);
	assert_int_equal(agw_dahua_clocks_offset_ms(c, "dh-3"), 5 * H + 30 * M);
	assert_int_equal(agw_dahua_clocks_offset_ms(c, "dh-4"), 0);
	assert_int_equal(agw_dahua_clocks_offset_ms(c, "dh-2"), 0);
	assert_int_equal(agw_dahua_clocks_offset_ms(NULL, "dh-1"), 0);
	/* an NVR channel row takes its device's offset; one with its own keeps it */
	assert_int_equal(agw_dahua_clocks_inherit(c, "dh-nvr-ch2", "dh-nvr"), 0);
	assert_int_equal(agw_dahua_clocks_offset_ms(c, "dh-nvr-ch2"), -90 * M);
	assert_int_equal(agw_dahua_clocks_inherit(c, "dh-3", "dh-1"), 0);
	assert_int_equal(agw_dahua_clocks_offset_ms(c, "dh-3"), 5 * H + 30 * M);
	assert_int_equal(agw_dahua_clocks_inherit(c, "dh-ch", "no-such-device"), 0);
	assert_int_equal(agw_dahua_clocks_offset_ms(c, "dh-ch"), 0);
	agw_dahua_clocks_free(c);
	assert_int_equal(agw_dahua_clocks_parse(NULL, &c, err, sizeof(err)), 0);
	agw_dahua_clocks_free(c);
	const char *bad[] = {"dh-1", "=8h", "dh-1=8", "dh-1=+15h", "dh-1=8x", "dh-1=nan", "dh-1=", "dh-1=+8h;dh-2=inf"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = NULL;
		err[0] = '\0';
		assert_int_equal(agw_dahua_clocks_parse(bad[i], &c, err, sizeof(err)), -EINVAL);
		assert_null(c);
		assert_non_null(strstr(err, "utc_offsets: entry "));
	}
	assert_non_null(strstr(err, "entry 2 (dh-2=inf)"));
}

static void test_hours_off(void **state)
{
	(void)state;
	int64_t now = 1764720000000LL; /* 2025-12-03 00:00 UTC */
	/* the real captures: UTC equal to LocaleTime, 1 and 2 hours ahead, seconds of delivery apart */
	assert_int_equal(agw_dahua_clock_hours_off(now + 1 * H + 3000, now), 1);
	assert_int_equal(agw_dahua_clock_hours_off(now + 2 * H - 4000, now), 2);
	assert_int_equal(agw_dahua_clock_hours_off(now + 8 * H, now), 8); /* China Standard Time */
	assert_int_equal(agw_dahua_clock_hours_off(now - 5 * H + 4 * M, now), -5);
	/* not a zone: right, drifting by minutes, half-way, a clock reset to 2000 */
	assert_int_equal(agw_dahua_clock_hours_off(now + 2000, now), 0);
	assert_int_equal(agw_dahua_clock_hours_off(now + 20 * M, now), 0);
	assert_int_equal(agw_dahua_clock_hours_off(now + 1 * H + 30 * M, now), 0);
	assert_int_equal(agw_dahua_clock_hours_off(now + 3 * H + 6 * M, now), 0);
	assert_int_equal(agw_dahua_clock_hours_off(946684800000LL, now), 0);
	assert_int_equal(agw_dahua_clock_hours_off(now + 27 * H, now), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_hours_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
