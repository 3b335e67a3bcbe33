/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The project's one backoff with jitter and one random source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alarmgw/backoff.h"

static void test_backoff_bounds(void **state)
{
	(void)state;
	for (int i = 0; i < 1000; i++) {
		int64_t d = agw_backoff_ms(0, 1000, 60000);
		assert_true(d >= 1000 && d <= 1000);
		d = agw_backoff_ms(3, 1000, 60000); /* 8 s: [4 s, 8 s] */
		assert_true(d >= 4000 && d <= 8000);
		d = agw_backoff_ms(40, 1000, 60000); /* capped: [30 s, 60 s] */
		assert_true(d >= 30000 && d <= 60000);
		d = agw_backoff_ms(1000000, 1, INT64_MAX / 2); /* no overflow on huge attempts */
		assert_true(d >= INT64_MAX / 4 - 1 && d <= INT64_MAX / 2);
		d = agw_backoff_ms(2, 0, -5); /* nonsense limits: 1 ms */
		assert_int_equal(d, 1);
	}
}

static void test_backoff_jitter_spreads(void **state)
{
	(void)state;
	/* 1,000 cameras failing together must not retry in step: the delays cover the window */
	int buckets[10] = {0};
	for (int i = 0; i < 1000; i++) {
		int64_t d = agw_backoff_ms(4, 1000, 60000); /* [8 s, 16 s] */
		buckets[(d - 8000) * 10 / 8001]++;
	}
	for (int b = 0; b < 10; b++)
		assert_true(buckets[b] > 50); /* about 100 each */
}

static void test_random_differs(void **state)
{
	(void)state;
	uint64_t a = agw_random_u64(), b = agw_random_u64();
	assert_true(a != b);
	int ones = 0;
	for (int i = 0; i < 1000; i++)
		ones += (int)(agw_random_u64() >> 63);
	assert_true(ones > 400 && ones < 600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_backoff_jitter_spreads),
		cmocka_unit_test(test_random_differs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
