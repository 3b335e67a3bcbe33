/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one JSON writer: what it writes parses back to what was given (escapes, UTF-8 kept, invalid
 * UTF-8 replaced), separators, times, and the journal's alert JSON written with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "alarmgw/alert.h"
#include "alarmgw/json_writer.h"

static void test_strings_round_trip(void **state)
{
	(void)state;
	/* long enough to cross the writer's 64-byte chunks, with every escape */
	static const char *const in[] = {"plain", "quote \" backslash \\ tab \t nl \n cr \r bell \a",
					 "\xe5\x8d\x97\xe9\x97\xa8 south gate", "0123456789abcdef0123456789abcdef0123456789abcdef"
					 "0123456789abcdef0123456789abcdef\x01"};
	struct agw_jw w = {0};
	agw_jw_lit(&w, "{");
	agw_jw_key(&w, "v");
	agw_jw_strs(&w, (char *const *)in, 4);
	agw_jw_key(&w, "n");
	agw_jw_int(&w, INT64_MIN);
	agw_jw_key(&w, "b");
	agw_jw_bool(&w, true);
	agw_jw_key(&w, "t");
	agw_jw_time(&w, AGW_TIME_UNKNOWN);
	agw_jw_key(&w, "s");
	agw_jw_str(&w, NULL);
	agw_jw_lit(&w, "}");
	char *text;
	size_t len;
	assert_int_equal(agw_jw_finish(&w, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(json_string_value(json_array_get(json_object_get(j, "v"), i)), in[i]);
	assert_int_equal(json_integer_value(json_object_get(j, "n")), INT64_MIN);
	assert_true(json_is_true(json_object_get(j, "b")));
	assert_true(json_is_null(json_object_get(j, "t")) && json_is_null(json_object_get(j, "s")));
	json_decref(j);
	free(text);
	/* invalid UTF-8 (a lone byte, an overlong form, a surrogate) becomes U+FFFD */
	agw_jw_str(&w, "a\xff" "b\xc0\xaf" "c\xed\xa0\x80");
	assert_int_equal(agw_jw_finish(&w, &text, &len), 0);
	assert_string_equal(text, "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffd\"");
	free(text);
}

/* The writer copies 8 plain bytes at a time: every character that needs more than a copy, at
 * every offset of a word and across its end, still round-trips. */
static void test_strings_word_offsets(void **state)
{
	(void)state;
	static const char *const special[] = {"\"", "\\", "\x01", "\x1f", "\n", "\x7f", "\xc3\xa9", "\xe5\x8d\x97"};
	for (size_t k = 0; k < sizeof(special) / sizeof(*special); k++)
		for (size_t at = 0; at < 20; at++) {
			char in[48];
			memset(in, 'x', at);
			snprintf(in + at, sizeof(in) - at, "%s%s", special[k], "abcdefghijklmnop" + at % 16);
			struct agw_jw w = {0};
			agw_jw_str(&w, in);
			char *text;
			size_t len;
			assert_int_equal(agw_jw_finish(&w, &text, &len), 0);
			json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
			assert_non_null(j);
			assert_string_equal(json_string_value(j), in);
			json_decref(j);
			free(text);
		}
}

/* The printf-free time format agrees with agw_time_format_ms over four centuries. */
static void test_time_format(void **state)
{
	(void)state;
	for (int64_t ms = 0; ms < 4102444800000LL; ms += 7777777777LL + 123) {
		char a[AGW_JW_TIME_LEN], b[40];
		assert_string_equal(agw_jw_time_format(ms, a), agw_time_format_ms(ms, b, sizeof(b)));
	}
	/* The writer keeps the last date: times on one day, across midnight, before 1970, out of range
	 * and back, in one writer, each as the format writes it. */
	static const int64_t t[] = {1795363200000LL, 1795449599999LL, 1795363200001LL, 1795449600000LL, 1795449599999LL,
				    -1, -86400000, -86400001, 0, -62167219200001LL, 1795363200000LL, 253402300800000LL,
				    1795363212345LL};
	struct agw_jw w = {0};
	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
		char want[AGW_JW_TIME_LEN + 2], got[AGW_JW_TIME_LEN + 2];
		size_t at = w.len;
		agw_jw_time(&w, t[i]);
		snprintf(want, sizeof(want), "\"%s\"", agw_jw_time_format(t[i], got));
		assert_int_equal(w.len - at, strlen(want));
		assert_memory_equal(w.p + at, want, strlen(want));
	}
	free(w.p);
}

/* The journal's alert JSON: written with the writer, read back by agw_alert_from_json. */
static void test_alert_json(void **state)
{
	(void)state;
	struct agw_alert a, back;
	agw_alert_init(&a);
	a.camera_id = strdup("cam-\"1\"");
	a.adapter = strdup("onvif");
	a.kind = AGW_KIND_INTRUSION;
	a.active = AGW_ACTIVE_TRUE;
	a.gateway_time_ms = 1795363200123LL;
	a.camera_time_ms = AGW_TIME_UNKNOWN;
	a.topic = strdup("tns1:RuleEngine/\xff");
	assert_int_equal(agw_items_add(&a.data, "IsMotion", "true"), 0);
	assert_int_equal(agw_items_add(&a.data, "IsMotion", "false"), 0); /* the last value is kept */
	char *json, err[128];
	assert_int_equal(agw_alert_to_json(&a, &json), 0);
	assert_int_equal(agw_alert_from_json(json, strlen(json), &back, err, sizeof(err)), 0);
	assert_string_equal(back.camera_id, "cam-\"1\"");
	assert_string_equal(back.topic, "tns1:RuleEngine/\xef\xbf\xbd");
	assert_int_equal(back.gateway_time_ms, a.gateway_time_ms);
	assert_int_equal(back.data.n, 1);
	assert_string_equal(agw_items_get(&back.data, "IsMotion"), "false");
	free(json);
	agw_alert_clear(&a);
	agw_alert_clear(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_round_trip),
		cmocka_unit_test(test_strings_word_offsets),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_alert_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
