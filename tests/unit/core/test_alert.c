/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The alert's JSON form round-trips every field; bad JSON is refused with a reason; times parse
 * the way cameras write them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>

#include <cmocka.h>

#include "alarmgw/alert.h"

static void full_alert(struct agw_alert *a)
{
	agw_alert_init(a);
	a->camera_id = strdup("cam-0012");
	a->adapter = strdup("onvif");
	a->kind = AGW_KIND_LINE_CROSSING;
	a->active = AGW_ACTIVE_FALSE;
	a->operation = AGW_OP_CHANGED;
	a->camera_time_ms = 1763800000123;
	a->gateway_time_ms = 1763800000456;
	a->clock_offset_ms = -333;
	a->topic = strdup("tns1:RuleEngine/LineDetector/Crossed");
	a->event_id = strdup("ev-1");
	a->payload = strdup("<x:Vendor xmlns:x=\"urn:v\">\"quoted\" \\ text</x:Vendor>");
	agw_items_add(&a->source, "VideoSourceConfigurationToken", "VSC_1");
	agw_items_add(&a->key, "Rule", "MyLine");
	agw_items_add(&a->data, "ObjectId", "17");
	agw_items_add(&a->data, "Name with space", "\xe4\xb8\xad\xe6\x96\x87"); /* UTF-8 */
}

static void json_round_trip(void **state)
{
	(void)state;
	struct agw_alert a, b;
	full_alert(&a);
	char *json = NULL;
	assert_int_equal(agw_alert_to_json(&a, &json), 0);
	char err[256] = "";
	agw_alert_init(&b);
	assert_int_equal(agw_alert_from_json(json, strlen(json), &b, err, sizeof(err)), 0);
	assert_string_equal(b.camera_id, a.camera_id);
	assert_string_equal(b.adapter, a.adapter);
	assert_int_equal(b.kind, a.kind);
	assert_int_equal(b.active, a.active);
	assert_int_equal(b.operation, a.operation);
	assert_int_equal(b.camera_time_ms, a.camera_time_ms);
	assert_int_equal(b.gateway_time_ms, a.gateway_time_ms);
	assert_int_equal(b.clock_offset_ms, a.clock_offset_ms);
	assert_string_equal(b.topic, a.topic);
	assert_string_equal(b.event_id, a.event_id);
	assert_string_equal(b.payload, a.payload);
	assert_int_equal(b.data.n, 2);
	assert_string_equal(agw_items_get(&b.data, "Name with space"), "\xe4\xb8\xad\xe6\x96\x87");
	assert_string_equal(agw_items_get(&b.key, "Rule"), "MyLine");
	assert_string_equal(agw_items_get(&b.source, "VideoSourceConfigurationToken"), "VSC_1");
	/* and the second serialization is byte-identical to the first */
	char *json2 = NULL;
	assert_int_equal(agw_alert_to_json(&b, &json2), 0);
	assert_string_equal(json, json2);
	free(json);
	free(json2);
	agw_alert_clear(&a);
	agw_alert_clear(&b);
}

static void json_nulls(void **state)
{
	(void)state;
	const char *in = "{\"camera\":\"c1\",\"kind\":\"motion\",\"active\":null,\"camera_time\":null}";
	struct agw_alert a;
	char err[256];
	agw_alert_init(&a);
	assert_int_equal(agw_alert_from_json(in, strlen(in), &a, err, sizeof(err)), 0);
	assert_int_equal(a.active, AGW_ACTIVE_NONE);
	assert_true(a.camera_time_ms == AGW_TIME_UNKNOWN);
	assert_int_equal(a.operation, AGW_OP_NONE);
	agw_alert_clear(&a);
}

static void json_rejects(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		const char *reason;
	} bad[] = {
		{"{\"camera\":\"c1\",\"kind\":\"motion\"", "invalid JSON"},
		{"[1,2]", "JSON object"},
		{"{\"kind\":\"motion\"}", "\"camera\" is required"},
		{"{\"camera\":\"c1\",\"kind\":\"earthquake\"}", "\"kind\""},
		{"{\"camera\":\"c1\",\"kind\":\"motion\",\"active\":\"yes\"}", "\"active\""},
		{"{\"camera\":\"c1\",\"kind\":\"motion\",\"camera_time\":\"yesterday\"}", "\"camera_time\""},
		{"{\"camera\":\"c1\",\"kind\":\"motion\",\"data\":{\"a\":1}}", "\"data.a\""},
		{"{\"camera\":\"c1\",\"kind\":\"motion\",\"operation\":\"Exploded\"}", "\"operation\""},
		{"{\"camera\":7,\"kind\":\"motion\"}", "\"camera\" must be a string"},
		{"{\"camera\":\"c1\",\"camera\":\"c2\",\"kind\":\"motion\"}", "invalid JSON"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct agw_alert a;
		agw_alert_init(&a);
		char err[256] = "";
		assert_int_equal(agw_alert_from_json(bad[i].json, strlen(bad[i].json), &a, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].reason))
			fail_msg("case %zu: reason \"%s\" does not mention %s", i, err, bad[i].reason);
		/* untouched on failure */
		assert_null(a.camera_id);
	}
}

static void time_parsing(void **state)
{
	(void)state;
	int64_t ms;
	assert_int_equal(agw_time_parse_ms("2026-11-22T08:00:00Z", &ms), 0);
	int64_t base = ms;
	assert_int_equal(agw_time_parse_ms("2026-11-22T08:00:00", &ms), 0); /* no zone = UTC */
	assert_true(ms == base);
	assert_int_equal(agw_time_parse_ms("2026-11-22T16:00:00+08:00", &ms), 0);
	assert_true(ms == base);
	assert_int_equal(agw_time_parse_ms("  2026-11-22T08:00:00.123456Z\n", &ms), 0);
	assert_true(ms == base + 123);
	assert_int_equal(agw_time_parse_ms("2026-11-22T08:00:00.5Z", &ms), 0);
	assert_true(ms == base + 500);
	assert_int_equal(agw_time_parse_ms("2024-02-29T00:00:00Z", &ms), 0);
	assert_int_equal(agw_time_parse_ms("2023-02-29T00:00:00Z", &ms), -EINVAL);
	assert_int_equal(agw_time_parse_ms("0000-00-00T00:00:00Z", &ms), -EINVAL);
	assert_int_equal(agw_time_parse_ms("1970-01-01T00:00:05Z", &ms), -EINVAL);
	assert_int_equal(agw_time_parse_ms("2026-13-01T00:00:00Z", &ms), -EINVAL);
	assert_int_equal(agw_time_parse_ms("2026-11-22T08:00:00Zjunk", &ms), -EINVAL);
	assert_int_equal(agw_time_parse_ms("", &ms), -EINVAL);
	char buf[40];
	assert_string_equal(agw_time_format_ms(base + 7, buf, sizeof(buf)), "2026-11-22T08:00:00.007Z");
}

static void kinds(void **state)
{
	(void)state;
	for (int k = 0; k < AGW_KIND__COUNT; k++) {
		enum agw_alert_kind back;
		assert_int_equal(agw_alert_kind_parse(agw_alert_kind_name((enum agw_alert_kind)k), &back), 0);
		assert_int_equal(back, k);
	}
	enum agw_alert_kind k;
	assert_int_equal(agw_alert_kind_parse("Motion", &k), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_round_trip), cmocka_unit_test(json_nulls), cmocka_unit_test(json_rejects),
		cmocka_unit_test(time_parsing),    cmocka_unit_test(kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
