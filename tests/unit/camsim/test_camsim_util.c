/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Times, durations, base64, query strings, the event mix. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kinds.h"
#include "util.h"

static void test_duration(void **state)
{
	double s;
	assert_int_equal(camsim_duration_parse("PT60S", &s), 0);
	assert_true(s == 60);
	assert_int_equal(camsim_duration_parse("PT1M30.5S", &s), 0);
	assert_true(s == 90.5);
	assert_int_equal(camsim_duration_parse("P1DT2H", &s), 0);
	assert_true(s == 86400 + 7200);
	assert_int_equal(camsim_duration_parse("PT10M", &s), 0);
	assert_true(s == 600);
	assert_int_equal(camsim_duration_parse("P1M", &s), 0); /* months, not minutes */
	assert_true(s == 30 * 86400);
	assert_int_equal(camsim_duration_parse(" PT0S ", &s), 0);
	assert_true(s == 0);
	const char *bad[] = {"", "P", "PT", "60", "PT60", "P60S", "PTS", "-PT60S", "PT1H1D", "PT60S junk", "PTT1S"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(camsim_duration_parse(bad[i], &s), -EINVAL);
}

static void test_time(void **state)
{
	double t;
	char buf[40];
	assert_int_equal(camsim_time_parse("1970-01-01T00:01:00Z", &t), 0);
	assert_true(t == 60);
	assert_int_equal(camsim_time_parse("1970-01-01T00:01:00", &t), 0); /* no zone: UTC */
	assert_true(t == 60);
	assert_int_equal(camsim_time_parse("1970-01-01T01:01:00.250+01:00", &t), 0);
	assert_true(t == 60.25);
	assert_int_equal(camsim_time_parse("2026-11-22T16:00:00Z", &t), 0);
	assert_string_equal(camsim_time_format((int64_t)t, buf, sizeof(buf)), "2026-11-22T16:00:00Z");
	const char *bad[] = {"", "2026-13-01T00:00:00Z", "2026-11-22", "2026-11-22T16:00Z", "x", "2026-11-22T16:00:00Zjunk"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(camsim_time_parse(bad[i], &t), -EINVAL);
	assert_string_equal(camsim_time_format(-1, buf, sizeof(buf)), "1969-12-31T23:59:59Z");
}

static void test_base64(void **state)
{
	unsigned char out[16];
	char enc[32];
	assert_int_equal(camsim_base64_encode((const unsigned char *)"hello", 5, enc), 8);
	assert_string_equal(enc, "aGVsbG8=");
	assert_int_equal(camsim_base64_decode("aGVsbG8=", out, sizeof(out)), 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(camsim_base64_decode("aGVsbA==", out, sizeof(out)), 4);
	assert_int_equal(camsim_base64_decode("aGVsbG8", out, sizeof(out)), -EINVAL);
	assert_int_equal(camsim_base64_decode("aGVsbG8=", out, 2), -ENOBUFS);
	assert_int_equal(camsim_base64_decode("", out, sizeof(out)), -EINVAL);
}

static void test_query(void **state)
{
	char v[16];
	assert_int_equal(camsim_query_get("Idx=11&b=x%20y+z", "Idx", v, sizeof(v)), 0);
	assert_string_equal(v, "11");
	assert_int_equal(camsim_query_get("Idx=11&b=x%20y+z", "b", v, sizeof(v)), 0);
	assert_string_equal(v, "x y z");
	assert_int_equal(camsim_query_get("Idxx=1", "Idx", v, sizeof(v)), -ENOENT);
	assert_int_equal(camsim_query_get("", "Idx", v, sizeof(v)), -ENOENT);
	assert_int_equal(camsim_query_get("flag&a=1", "flag", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	assert_int_equal(camsim_query_get("a=%4", "a", v, sizeof(v)), 0); /* a cut escape is kept literally */
	assert_string_equal(v, "%4");
}

static void test_mix(void **state)
{
	double w[CAMSIM_KIND_COUNT];
	assert_int_equal(camsim_mix_parse("motion=5,tamper=1,line=1,intrusion=1", w), 0);
	assert_true(w[camsim_kind_find("motion")] == 5);
	assert_true(w[camsim_kind_find("input")] == 0);
	assert_int_equal(camsim_mix_parse("tamper", w), 0);
	assert_true(w[camsim_kind_find("tamper")] == 1);
	assert_int_equal(camsim_mix_parse("bogus=1", w), -EINVAL);
	assert_int_equal(camsim_mix_parse("motion=0", w), -EINVAL);
	assert_int_equal(camsim_mix_parse("motion=-1", w), -EINVAL);
	assert_int_equal(camsim_mix_parse("motion=x", w), -EINVAL);
	assert_int_equal(camsim_mix_parse("motion=1,,tamper=1", w), -EINVAL);
}

static void test_buf(void **state)
{
	struct camsim_buf b = {0};
	camsim_buf_escape(&b, "a<b>&\"'");
	assert_string_equal(b.data, "a&lt;b&gt;&amp;&quot;&apos;");
	camsim_buf_fill(&b, 'x', 5000);
	size_t len;
	char *p = camsim_buf_steal(&b, &len);
	assert_int_equal(len, 27 + 5000);
	assert_null(b.data);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration), cmocka_unit_test(test_time), cmocka_unit_test(test_base64),
		cmocka_unit_test(test_query),    cmocka_unit_test(test_mix),  cmocka_unit_test(test_buf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
