/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The publisher's pure parts: topic templates, reconnect backoff, feedback parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker_list.h"
#include "feedback.h"
#include "mqtt_topic.h"
#include "topic.h"

/* The publisher's own templates through agw_topic_expand (gateway/mqtt/topic.h): a camera id can
 * neither add levels nor wildcards to its health topic. */
static void test_topic_expand(void **state)
{
	char buf[128];
	struct agw_topic_vars v = {.prefix = "agw", .gateway = "gw-1", .camera = "cam/7+#x"};
	assert_true(agw_topic_expand("{prefix}/gateways/{gateway}/status", &v, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "agw/gateways/gw-1/status");
	assert_true(agw_topic_expand("{prefix}/cameras/{camera}/health", &v, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "agw/cameras/cam_7__x/health");
	assert_true(agw_mqtt_topic_publishable(buf));
	v.camera = NULL;
	assert_int_equal(agw_topic_expand("{prefix}/cameras/{camera}/health", &v, buf, sizeof(buf)), -EINVAL);
}

static void test_topic_publishable(void **state)
{
	assert_true(agw_mqtt_topic_publishable("agw/cases/d1/g2"));
	assert_false(agw_mqtt_topic_publishable(""));
	assert_false(agw_mqtt_topic_publishable(NULL));
	assert_false(agw_mqtt_topic_publishable("agw/+/x"));
	assert_false(agw_mqtt_topic_publishable("agw/#"));
}


static int parse(const char *text, struct agw_feedback *fb, const char **reason)
{
	char detail[200];
	*reason = NULL;
	return agw_feedback_parse(text, strlen(text), fb, reason, detail, sizeof(detail));
}

static void test_feedback_valid(void **state)
{
	struct agw_feedback fb;
	const char *reason;
	assert_int_equal(parse("{\"case_id\":\"c-0001\",\"status\":\"closed\"}", &fb, &reason), 0);
	assert_string_equal(fb.case_id, "c-0001");
	assert_string_equal(fb.status, "closed");
	assert_int_equal(parse("{\"status\":\"accepted\",\"case_id\":\"x\",\"extra\":[1,2]}", &fb, &reason), 0);
	assert_string_equal(fb.status, "accepted");
	assert_int_equal(parse(" {\"case_id\":\"y\",\"status\":\"dispatched\"} ", &fb, &reason), 0);
	assert_string_equal(fb.status, "dispatched");
}

static void test_feedback_malformed(void **state)
{
	struct agw_feedback fb;
	const char *reason;
	static const struct {
		const char *text;
		const char *reason;
	} cases[] = {
		{"", "json"},
		{"{", "json"},
		{"not json", "json"},
		{"[1,2]", "not_object"},
		{"\"closed\"", "json"}, /* jansson refuses a bare string at top level without DECODE_ANY */
		{"{\"status\":\"closed\"}", "case_id"},
		{"{\"case_id\":42,\"status\":\"closed\"}", "case_id"},
		{"{\"case_id\":\"\",\"status\":\"closed\"}", "case_id"},
		{"{\"case_id\":\"a b\",\"status\":\"closed\"}", "case_id"},
		{"{\"case_id\":\"a\\u0000b\",\"status\":\"closed\"}", "json"}, /* NUL refused by the parser */
		{"{\"case_id\":\"c1\"}", "status"},
		{"{\"case_id\":\"c1\",\"status\":\"CLOSED\"}", "status"},
		{"{\"case_id\":\"c1\",\"status\":true}", "status"},
		{"{\"case_id\":\"c1\",\"case_id\":\"c2\",\"status\":\"closed\"}", "json"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].text, &fb, &reason), -EINVAL);
		assert_non_null(reason);
		assert_string_equal(reason, cases[i].reason);
	}
	/* a case id at the limit passes, one byte more does not */
	char text[400], id[AGW_CASE_ID_SIZE + 1];
	memset(id, 'a', sizeof(id));
	id[AGW_CASE_ID_SIZE - 1] = '\0';
	snprintf(text, sizeof(text), "{\"case_id\":\"%s\",\"status\":\"closed\"}", id);
	assert_int_equal(parse(text, &fb, &reason), 0);
	id[AGW_CASE_ID_SIZE - 1] = 'a';
	id[AGW_CASE_ID_SIZE] = '\0';
	snprintf(text, sizeof(text), "{\"case_id\":\"%s\",\"status\":\"closed\"}", id);
	assert_int_equal(parse(text, &fb, &reason), -EINVAL);
	assert_string_equal(reason, "case_id");
}

/* by and note: optional, bounded, UTF-8 (jansson checks it), no control characters */
static void test_feedback_who_and_note(void **state)
{
	(void)state;
	struct agw_feedback fb;
	const char *reason;
	assert_int_equal(parse("{\"case_id\":\"c1\",\"status\":\"accepted\"}", &fb, &reason), 0);
	assert_string_equal(fb.by, "");
	assert_string_equal(fb.note, "");
	assert_int_equal(parse("{\"case_id\":\"c1\",\"status\":\"on_site\",\"by\":\"W-0012\","
			       "\"note\":\"\u5df2\u5230\u573a, gate 3\"}", &fb, &reason), 0);
	assert_string_equal(fb.by, "W-0012");
	assert_string_equal(fb.note, "\xe5\xb7\xb2\xe5\x88\xb0\xe5\x9c\xba, gate 3");
	assert_int_equal(parse("{\"case_id\":\"c1\",\"status\":\"closed\",\"by\":null,\"note\":null}", &fb, &reason), 0);
	assert_string_equal(fb.by, "");
	static const struct {
		const char *text;
		const char *reason;
	} bad[] = {
		{"{\"case_id\":\"c1\",\"status\":\"closed\",\"by\":12}", "by"},
		{"{\"case_id\":\"c1\",\"status\":\"closed\",\"by\":\"\"}", "by"},
		{"{\"case_id\":\"c1\",\"status\":\"closed\",\"by\":\"W\\n1\"}", "by"},
		{"{\"case_id\":\"c1\",\"status\":\"closed\",\"note\":[\"x\"]}", "note"},
		{"{\"case_id\":\"c1\",\"status\":\"closed\",\"note\":\"a\\u001bb\"}", "note"}, /* ESC */
		{"{\"case_id\":\"c1\",\"status\":\"closed\",\"note\":\"a\\u007fb\"}", "note"}, /* DEL */
		{"{\"case_id\":\"c1\",\"status\":\"closed\",\"note\":\"a\\u0085b\"}", "note"}, /* C1 NEL */
		{"{\"case_id\":\"c1\",\"status\":\"closed\",\"note\":\"\xff\xfe\"}", "json"}, /* not UTF-8 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&fb, 0x55, sizeof(fb));
		assert_int_equal(parse(bad[i].text, &fb, &reason), -EINVAL);
		assert_string_equal(reason, bad[i].reason);
	}
	/* the limits: 64 bytes of by and 500 of note pass, one more does not */
	char text[1400], by[AGW_FEEDBACK_BY_MAX + 2], note[AGW_FEEDBACK_NOTE_MAX + 2];
	memset(by, 'w', sizeof(by));
	memset(note, 'n', sizeof(note));
	by[AGW_FEEDBACK_BY_MAX] = note[AGW_FEEDBACK_NOTE_MAX] = '\0';
	snprintf(text, sizeof(text), "{\"case_id\":\"c1\",\"status\":\"closed\",\"by\":\"%s\",\"note\":\"%s\"}", by, note);
	assert_int_equal(parse(text, &fb, &reason), 0);
	assert_int_equal(strlen(fb.by), AGW_FEEDBACK_BY_MAX);
	assert_int_equal(strlen(fb.note), AGW_FEEDBACK_NOTE_MAX);
	by[AGW_FEEDBACK_BY_MAX] = 'w';
	by[AGW_FEEDBACK_BY_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "{\"case_id\":\"c1\",\"status\":\"closed\",\"by\":\"%s\"}", by);
	assert_int_equal(parse(text, &fb, &reason), -EINVAL);
	assert_string_equal(reason, "by");
	note[AGW_FEEDBACK_NOTE_MAX] = 'n';
	note[AGW_FEEDBACK_NOTE_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "{\"case_id\":\"c1\",\"status\":\"closed\",\"note\":\"%s\"}", note);
	assert_int_equal(parse(text, &fb, &reason), -EINVAL);
	assert_string_equal(reason, "note");
}

static void test_feedback_size_limit(void **state)
{
	struct agw_feedback fb;
	const char *reason = NULL;
	char detail[200];
	size_t n = AGW_FEEDBACK_MAX_BYTES + 1;
	char *big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, "{\"case_id\":\"c\",\"status\":\"closed\"}", 33);
	assert_int_equal(agw_feedback_parse(big, n, &fb, &reason, detail, sizeof(detail)), -EMSGSIZE);
	assert_string_equal(reason, "too_large");
	/* the same message padded to exactly the limit is accepted */
	assert_int_equal(agw_feedback_parse(big, n - 1, &fb, &reason, detail, sizeof(detail)), 0);
	free(big);
}

/* mqtt.uri as a cluster: entries trimmed, empty ones skipped, the index wraps. */
static void test_broker_list(void **state)
{
	(void)state;
	const char *list = " tcp://a:1883 ,, tcp://b:1883,tcp://c:1883 ";
	assert_int_equal(agw_broker_list_count(list), 3);
	const char *want[] = {"tcp://a:1883", "tcp://b:1883", "tcp://c:1883", "tcp://a:1883"};
	for (size_t i = 0; i < 4; i++) {
		char *u = agw_broker_list_get(list, i);
		assert_non_null(u);
		assert_string_equal(u, want[i]);
		free(u);
	}
	assert_int_equal(agw_broker_list_count("tcp://only:1883"), 1);
	assert_int_equal(agw_broker_list_count(" , "), 0);
	assert_null(agw_broker_list_get(" , ", 0));
	assert_null(agw_broker_list_get(NULL, 0));
	/* instances spread over the cluster: stable per id, in range, not all on the first node */
	assert_int_equal(agw_broker_list_first("tcp://only:1883", "gw-1"), 0);
	assert_int_equal(agw_broker_list_first(list, NULL), 0);
	size_t seen[3] = {0};
	for (int i = 0; i < 30; i++) {
		char id[16];
		snprintf(id, sizeof(id), "gw-%02d", i);
		size_t k = agw_broker_list_first(list, id);
		assert_true(k < 3);
		assert_int_equal(agw_broker_list_first(list, id), k);
		seen[k]++;
	}
	assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broker_list),
		cmocka_unit_test(test_topic_expand),     cmocka_unit_test(test_topic_publishable),
		cmocka_unit_test(test_feedback_valid),
		cmocka_unit_test(test_feedback_malformed), cmocka_unit_test(test_feedback_size_limit),
		cmocka_unit_test(test_feedback_who_and_note),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
