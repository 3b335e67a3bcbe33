/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Case messages against docs/case-message.schema.json (a small validator of the keywords it uses). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <regex.h>

#include "alarmgw/evidence.h"
#include "engine_fx.h"

static bool type_is(const char *t, json_t *v)
{
	if (strcmp(t, "string") == 0)
		return json_is_string(v);
	if (strcmp(t, "integer") == 0)
		return json_is_integer(v);
	if (strcmp(t, "number") == 0)
		return json_is_number(v);
	if (strcmp(t, "boolean") == 0)
		return json_is_boolean(v);
	if (strcmp(t, "null") == 0)
		return json_is_null(v);
	if (strcmp(t, "object") == 0)
		return json_is_object(v);
	if (strcmp(t, "array") == 0)
		return json_is_array(v);
	fail_msg("schema uses unknown type %s", t);
	return false;
}

static const char *validate(json_t *schema, json_t *doc, json_t *defs, const char *path, char *why, size_t len)
{
	json_t *ref = json_object_get(schema, "$ref");
	if (json_is_string(ref)) {
		const char *name = strrchr(json_string_value(ref), '/');
		schema = json_object_get(defs, name ? name + 1 : "");
		if (!schema)
			fail_msg("unresolved $ref %s", json_string_value(ref));
	}
	json_t *type = json_object_get(schema, "type");
	if (type) {
		bool ok = false;
		if (json_is_string(type))
			ok = type_is(json_string_value(type), doc);
		size_t i;
		json_t *t;
		json_array_foreach(type, i, t) ok = ok || type_is(json_string_value(t), doc);
		if (!ok) {
			snprintf(why, len, "%s: wrong type", path);
			return why;
		}
	}
	json_t *c = json_object_get(schema, "const");
	if (c && !json_equal(c, doc)) {
		snprintf(why, len, "%s: not the constant", path);
		return why;
	}
	json_t *en = json_object_get(schema, "enum");
	if (en) {
		bool ok = false;
		size_t i;
		json_t *e;
		json_array_foreach(en, i, e) ok = ok || json_equal(e, doc);
		if (!ok) {
			snprintf(why, len, "%s: not one of the enum", path);
			return why;
		}
	}
	json_t *mn = json_object_get(schema, "minimum"), *mx = json_object_get(schema, "maximum");
	if (json_is_number(doc) && ((mn && json_number_value(doc) < json_number_value(mn)) ||
				    (mx && json_number_value(doc) > json_number_value(mx)))) {
		snprintf(why, len, "%s: out of range", path);
		return why;
	}
	json_t *minlen = json_object_get(schema, "minLength"), *pattern = json_object_get(schema, "pattern");
	if (json_is_string(doc) && minlen && (json_int_t)json_string_length(doc) < json_integer_value(minlen)) {
		snprintf(why, len, "%s: too short", path);
		return why;
	}
	if (json_is_string(doc) && pattern) {
		regex_t re;
		assert_int_equal(regcomp(&re, json_string_value(pattern), REG_EXTENDED | REG_NOSUB), 0);
		int m = regexec(&re, json_string_value(doc), 0, NULL, 0);
		regfree(&re);
		if (m != 0) {
			snprintf(why, len, "%s: does not match %s", path, json_string_value(pattern));
			return why;
		}
	}
	json_t *one = json_object_get(schema, "oneOf");
	if (one) {
		int n = 0;
		size_t i;
		json_t *sub;
		char ignored[256];
		json_array_foreach(one, i, sub) n += validate(sub, doc, defs, path, ignored, sizeof(ignored)) == NULL;
		if (n != 1) {
			snprintf(why, len, "%s: matches %d of oneOf", path, n);
			return why;
		}
	}
	if (json_is_object(doc)) {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(schema, "required"), i, v) {
			if (!json_object_get(doc, json_string_value(v))) {
				snprintf(why, len, "%s.%s: required member missing", path, json_string_value(v));
				return why;
			}
		}
		const char *k;
		json_object_foreach(json_object_get(schema, "properties"), k, v) {
			json_t *member = json_object_get(doc, k);
			char sub[256];
			snprintf(sub, sizeof(sub), "%s.%s", path, k);
			if (member && validate(v, member, defs, sub, why, len))
				return why;
		}
	}
	if (json_is_array(doc)) {
		json_t *minit = json_object_get(schema, "minItems"), *maxit = json_object_get(schema, "maxItems");
		if ((minit && (json_int_t)json_array_size(doc) < json_integer_value(minit)) ||
		    (maxit && (json_int_t)json_array_size(doc) > json_integer_value(maxit))) {
			snprintf(why, len, "%s: wrong number of items", path);
			return why;
		}
		json_t *items = json_object_get(schema, "items");
		size_t i;
		json_t *el;
		json_array_foreach(doc, i, el) {
			char sub[256];
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (items && validate(items, el, defs, sub, why, len))
				return why;
		}
	}
	return NULL;
}

static void check_schema(json_t *schema, json_t *doc)
{
	char why[512];
	if (validate(schema, doc, json_object_get(schema, "$defs"), "case", why, sizeof(why)))
		fail_msg("message does not validate: %s", why);
}

static void test_case_message_schema(void **state)
{
	(void)state;
	json_error_t jerr;
	json_t *schema = json_load_file(AGW_FIXTURES "/../../docs/case-message.schema.json", 0, &jerr);
	if (!schema)
		fail_msg("schema: %s", jerr.text);
	assert_string_equal(json_string_value(json_object_get(schema, "$schema")),
			    "https://json-schema.org/draft/2020-12/schema");
	assert_true(json_array_size(json_object_get(schema, "required")) >= 10);
	struct fx f;
	fx_init(&f);
	int64_t t = local(0, 10, 0);
	const char *cams[] = {"cam-a1", "cam-lost"};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(on(&f, cams[i], t), AGW_DECISION_OPEN);
		for (int step = 0; step < 2; step++) {
			char *json;
			size_t len;
			assert_int_equal(agw_case_message(f.e, f.d.incident, f.d.action, NULL, 0, &json, &len), 0);
			assert_int_equal(strlen(json), len);
			json_t *doc = json_loads(json, 0, &jerr);
			if (!doc)
				fail_msg("message is not JSON: %s: %s", jerr.text, json);
			check_schema(schema, doc);
			assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")), 2);
			json_t *ev = json_object_get(doc, "event");
			json_t *cell = json_object_get(doc, "cell");
			if (i == 0) {
				assert_string_equal(json_string_value(json_object_get(cell, "code")), "110105001001001");
				assert_int_equal(json_array_size(json_object_get(cell, "path")), 4);
				assert_int_equal(json_integer_value(json_object_get(cell, "layer_version")), 7);
				assert_int_equal(json_array_size(json_object_get(cell, "workers")), 2);
			} else {
				assert_string_equal(json_string_value(json_object_get(cell, "source")), "unassigned");
				assert_true(json_is_null(json_object_get(json_object_get(doc, "camera"), "location")));
			}
			assert_string_equal(json_string_value(json_object_get(ev, "raw_topic")),
					    "tns1:RuleEngine/FieldDetector/ObjectsInside");
			assert_int_equal(json_integer_value(json_object_get(ev, "count")), step + 1);
			assert_string_equal(json_string_value(json_object_get(doc, "action")), step ? "close" : "open");
			assert_true(json_is_boolean(json_object_get(ev, "active")));
			assert_true(step ? json_is_string(json_object_get(ev, "cleared"))
					 : json_is_null(json_object_get(ev, "cleared")));
			free(json);
			json_decref(doc);
			if (step == 0)
				assert_int_equal(off(&f, cams[i], t + 1000), AGW_DECISION_CLOSE);
		}
	}
	/* escaping: a camera name with quotes and control characters stays valid JSON */
	agw_engine_camera_set(f.e, "cam-q", "Gate \"North\"\n\\", NULL, NULL, NULL, false, 0, 0, AGW_CRS_WGS84);
	assert_int_equal(on(&f, "cam-q", t), AGW_DECISION_OPEN);
	char *json;
	size_t len;
	assert_int_equal(agw_case_message(f.e, f.d.incident, f.d.action, NULL, 0, &json, &len), 0);
	json_t *doc = json_loads(json, 0, &jerr);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "camera"), "name")),
			    "Gate \"North\"\n\\");
	json_decref(doc);
	free(json);
	/* invalid UTF-8 from a camera becomes U+FFFD; valid multi-byte text passes */
	agw_engine_camera_set(f.e, "cam-u", "\xe5\x8d\x97\xe9\x97\xa8 \xff\xc3(\xed\xa0\x80", NULL, NULL, NULL, false, 0, 0,
			      AGW_CRS_WGS84);
	assert_int_equal(on(&f, "cam-u", t), AGW_DECISION_OPEN);
	assert_int_equal(agw_case_message(f.e, f.d.incident, f.d.action, NULL, 0, &json, &len), 0);
	doc = json_loads(json, 0, &jerr);
	if (!doc)
		fail_msg("invalid UTF-8 made invalid JSON: %s", jerr.text);
	check_schema(schema, doc);
	{
		/* the validator itself must reject what the schema forbids */
		char why[512];
		json_t *defs = json_object_get(schema, "$defs"), *bad = json_deep_copy(doc);
		json_object_set_new(bad, "priority", json_integer(7));
		assert_non_null(validate(schema, bad, defs, "case", why, sizeof(why)));
		json_object_set_new(bad, "priority", json_integer(2));
		assert_null(validate(schema, bad, defs, "case", why, sizeof(why)));
		json_object_set_new(bad, "case_id", json_string("case-1"));
		assert_non_null(validate(schema, bad, defs, "case", why, sizeof(why)));
		json_object_set_new(bad, "case_id", json_string("agw-0123456789abcdef"));
		json_object_del(json_object_get(bad, "event"), "count");
		assert_non_null(validate(schema, bad, defs, "case", why, sizeof(why)));
		json_decref(bad);
	}
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "camera"), "name")),
			    "\xe5\x8d\x97\xe9\x97\xa8 \xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	json_decref(doc);
	free(json);
	fx_free(&f);
	json_decref(schema);
}

/* Evidence entries as the decider lists them: a picture reused from an earlier case with its signed
 * link, a failed one without; both validate, and the schema's reused_from refuses a bad n. */
static void test_case_message_evidence_schema(void **state)
{
	(void)state;
	json_error_t jerr;
	json_t *schema = json_load_file(AGW_FIXTURES "/../../docs/case-message.schema.json", 0, &jerr);
	assert_non_null(schema);
	struct fx f;
	fx_init(&f);
	assert_int_equal(on(&f, "cam-a1", local(0, 10, 0)), AGW_DECISION_OPEN);
	struct agw_evidence_entry ev[2] = {
		{.n = 1, .type = "snapshot", .status = "stored", .captured_at = local(0, 9, 59), .camera_time = AGW_TIME_UNKNOWN,
		 .bytes = 591, .sha256 = "ab12", .width = 32, .height = 24, .topic = "agw/evidence/x/1",
		 .reused_case = "agw-0123456789abcdef", .reused_n = 1,
		 .url = "https://gw-07.example:8443/evidence/x/1?exp=1800000000&sig=00", .url_expires = 1800000000000},
		{.n = 2, .type = NULL, .status = "failed", .reason = "timeout: no picture within 5000 ms",
		 .captured_at = AGW_TIME_UNKNOWN, .camera_time = AGW_TIME_UNKNOWN, .bytes = -1},
	};
	char *json;
	size_t len;
	assert_int_equal(agw_case_message(f.e, f.d.incident, f.d.action, ev, 2, &json, &len), 0);
	json_t *doc = json_loads(json, 0, &jerr);
	free(json);
	assert_non_null(doc);
	check_schema(schema, doc);
	json_t *e0 = json_array_get(json_object_get(doc, "evidence"), 0), *e1 = json_array_get(json_object_get(doc, "evidence"), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(e0, "reused_from"), "case_id")),
			    "agw-0123456789abcdef");
	assert_string_equal(json_string_value(json_object_get(e0, "url_expires")), "2027-01-15T08:00:00.000Z");
	assert_true(json_is_null(json_object_get(e1, "url")) && json_is_null(json_object_get(e1, "url_expires")) &&
		    json_is_null(json_object_get(e1, "reused_from")));
	char why[512];
	json_object_set_new(json_object_get(e0, "reused_from"), "n", json_integer(0));
	assert_non_null(validate(schema, doc, json_object_get(schema, "$defs"), "case", why, sizeof(why)));
	json_decref(doc);
	json_decref(schema);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case_message_schema),
		cmocka_unit_test(test_case_message_evidence_schema),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
