/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Alarm normalization: AlarmTime, the event table (default, extended, broken), and the alerts the
 * captures give. Epoch values: 2024-01-01T04:00:00Z is 1704081600 s (19723 days * 86400 + 4 h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gb_alarm.h"
#include "gb_message.h"

#define H (3600 * 1000LL)

static const struct {
	const char *text;
	int offset_min;
	int64_t ms; /* INT64_MIN: refused */
} times[] = {
	{"2024-01-01T12:00:00", 480, 1704081600000},
	{"2024-01-01 12:00:00", 480, 1704081600000},
	{" 2024-01-01T12:00:00 ", 480, 1704081600000},
	{"2024-01-01T12:00:00", 0, 1704081600000 + 8 * H},
	{"2024-01-01T12:00:00", -300, 1704081600000 + 13 * H},
	{"2024-01-01T12:00:00.5", 480, 1704081600500},
	{"2024-01-01T12:00:00.123456", 480, 1704081600123},
	{"2024-01-01T12:00:00Z", 480, 1704081600000 + 8 * H},
	{"2024-01-01T12:00:00+08:00", 0, 1704081600000},
	{"2024-01-01T12:00:00+0800", 0, 1704081600000},
	{"2024-01-01T12:00:00-01:30", 480, 1704081600000 + 8 * H + 90 * 60 * 1000LL + 0},
	{"2024-02-29T08:00:00", 480, 1709164800000},
	{"2023-02-29T08:00:00", 480, INT64_MIN},
	{"2024-04-31T08:00:00", 480, INT64_MIN},
	{"2024-13-01T08:00:00", 480, INT64_MIN},
	{"2024-01-01T24:00:00", 480, INT64_MIN},
	{"2024-01-01T12:60:00", 480, INT64_MIN},
	{"1970-01-01T08:00:00", 480, INT64_MIN},
	{"2024-01-01", 480, INT64_MIN},
	{"2024-01-01T12:00", 480, INT64_MIN},
	{"2024-01-01T12:00:00.", 480, INT64_MIN},
	{"2024-01-01T12:00:00 x", 480, INT64_MIN},
	{"2024-01-01T12:00:00+25:00", 480, INT64_MIN},
	{"24-01-01T12:00:00", 480, INT64_MIN},
	{"", 480, INT64_MIN},
};

static void test_time(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		int64_t ms = 42;
		int rc = agw_gb_time_parse(times[i].text, times[i].offset_min, &ms);
		if (times[i].ms == INT64_MIN) {
			if (rc != -EINVAL || ms != 42)
				fail_msg("'%s' should be refused", times[i].text);
		} else if (rc != 0 || ms != times[i].ms) {
			fail_msg("'%s' (%+d min): rc %d, %lld, expected %lld", times[i].text, times[i].offset_min, rc,
				 (long long)ms, (long long)times[i].ms);
		}
	}
	int64_t ms;
	assert_int_equal(agw_gb_time_parse(NULL, 480, &ms), -EINVAL);
}

static const struct {
	const char *method, *type, *event;
	enum agw_alert_kind kind;
} kinds[] = {
	{"5", "2", "1", AGW_KIND_MOTION},
	{"5", "2", NULL, AGW_KIND_MOTION},
	{"05", "002", NULL, AGW_KIND_MOTION},
	{"5", "6", "2", AGW_KIND_INTRUSION},
	{"5", "5", NULL, AGW_KIND_LINE_CROSSING},
	{"5", "3", NULL, AGW_KIND_OBJECT_LEFT},
	{"5", "4", NULL, AGW_KIND_OBJECT_REMOVED},
	{"5", "8", NULL, AGW_KIND_LOITERING},
	{"5", "11", NULL, AGW_KIND_SCENE_CHANGE},
	{"5", "7", NULL, AGW_KIND_OTHER},
	{"5", NULL, NULL, AGW_KIND_OTHER},
	{"5", "", NULL, AGW_KIND_OTHER},
	{"2", "1", NULL, AGW_KIND_VIDEO_LOSS},
	{"2", "2", NULL, AGW_KIND_TAMPER},
	{"2", "3", NULL, AGW_KIND_STORAGE_FAILURE},
	{"2", "4", NULL, AGW_KIND_DEVICE_HEALTH},
	{"2", NULL, NULL, AGW_KIND_OTHER},
	{"6", "1", NULL, AGW_KIND_STORAGE_FAILURE},
	{"6", "2", NULL, AGW_KIND_DEVICE_HEALTH},
	{"1", NULL, NULL, AGW_KIND_OTHER},
	{"4", NULL, NULL, AGW_KIND_OTHER},
	{NULL, NULL, NULL, AGW_KIND_OTHER},
	{"52", "2", NULL, AGW_KIND_OTHER},
};

static void test_default_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		enum agw_alert_kind k = agw_gb_event_kind(NULL, kinds[i].method, kinds[i].type, kinds[i].event);
		if (k != kinds[i].kind)
			fail_msg("%s/%s/%s: %s, expected %s", kinds[i].method, kinds[i].type, kinds[i].event,
				 agw_alert_kind_name(k), agw_alert_kind_name(kinds[i].kind));
	}
	/* the embedded table is the installed file, line for line */
	char path[512];
	snprintf(path, sizeof(path), "%s/../../adapters/gb28181/gb28181-events.conf", AGW_FIXTURES);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char text[65536];
	size_t n = fread(text, 1, sizeof(text), f);
	fclose(f);
	struct agw_gb_event_table *t;
	char err[256];
	assert_int_equal(agw_gb_event_table_parse(text, n, "file", NULL, &t, err, sizeof(err)), 0);
	assert_int_equal(agw_gb_event_table_size(t), agw_gb_event_table_size(agw_gb_event_table_default()));
	assert_true(agw_gb_event_table_size(t) > 10);
	agw_gb_event_table_free(t);
}

static void test_extended_table(void **state)
{
	(void)state;
	const char *text = "# site-specific lines\n"
			   "5 2 * person        # this site's cameras report people as motion\n"
			   "5 6 2 other\n"
			   "2 - digital_input   # alarm inputs without a type\n"
			   "\n"
			   "7 * *  doorbell\n";
	struct agw_gb_event_table *t;
	char err[256];
	assert_int_equal(agw_gb_event_table_parse(text, strlen(text), "site.conf", agw_gb_event_table_default(), &t, err,
						  sizeof(err)),
			 0);
	assert_int_equal(agw_gb_event_kind(t, "5", "2", "1"), AGW_KIND_PERSON);
	assert_int_equal(agw_gb_event_kind(t, "5", "6", "2"), AGW_KIND_OTHER);
	assert_int_equal(agw_gb_event_kind(t, "5", "6", "1"), AGW_KIND_INTRUSION); /* from the default */
	assert_int_equal(agw_gb_event_kind(t, "5", "6", NULL), AGW_KIND_INTRUSION);
	assert_int_equal(agw_gb_event_kind(t, "2", NULL, NULL), AGW_KIND_DIGITAL_INPUT);
	assert_int_equal(agw_gb_event_kind(t, "2", "1", NULL), AGW_KIND_VIDEO_LOSS); /* '-' is only the missing type */
	assert_int_equal(agw_gb_event_kind(t, "7", "3", "9"), AGW_KIND_DOORBELL);
	assert_int_equal(agw_gb_event_table_size(t), 4 + agw_gb_event_table_size(agw_gb_event_table_default()));
	agw_gb_event_table_free(t);

	/* loaded from a file, it falls back to the default */
	char path[] = "/tmp/agw-gb-events-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "5 2 vehicle\n", 12), 12);
	close(fd);
	assert_int_equal(agw_gb_event_table_load(path, &t, err, sizeof(err)), 0);
	assert_int_equal(agw_gb_event_kind(t, "5", "2", NULL), AGW_KIND_VEHICLE);
	assert_int_equal(agw_gb_event_kind(t, "2", "1", NULL), AGW_KIND_VIDEO_LOSS);
	agw_gb_event_table_free(t);
	unlink(path);
	assert_int_equal(agw_gb_event_table_load(path, &t, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
}

static void test_broken_table(void **state)
{
	(void)state;
	static const struct {
		const char *text, *err;
	} cases[] = {
		{"5 2 motion\n5 2 moving\n", "t.conf:2: unknown kind 'moving'"},
		{"5 motion\n", "t.conf:1: expected 'METHOD TYPE [EVENTTYPE] KIND', got 2 words"},
		{"\n\n5 2 1 1 motion\n", "t.conf:3: expected 'METHOD TYPE [EVENTTYPE] KIND', got 5 words"},
		{"- 2 motion\n", "t.conf:1: AlarmMethod '-' would never match"},
		{"5 2 camera_offline\n", "t.conf:1: unknown kind 'camera_offline'"},
		{"5 123456789012345678901234567890123 motion\n", "t.conf:1: AlarmType '12345678901234567890...' is longer"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agw_gb_event_table *t = (struct agw_gb_event_table *)0x1;
		char err[256] = "";
		int rc = agw_gb_event_table_parse(cases[i].text, strlen(cases[i].text), "t.conf", NULL, &t, err, sizeof(err));
		if (rc != -EINVAL || strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: %d '%s'", i, rc, err);
		assert_ptr_equal(t, (struct agw_gb_event_table *)0x1);
	}
}

struct alarm_case {
	const char *file;
	const char *topic;
	enum agw_alert_kind kind;
	int64_t camera_time_ms; /* AGW_TIME_UNKNOWN when none */
	const char *channel, *event_id;
	const char *description, *priority; /* NULL: absent */
	const char *extra, *extra_value;    /* one more data item */
};

/* Read off the files: AlarmTime is China Standard Time, 8 hours ahead of UTC. */
static const struct alarm_case alarms[] = {
	{"dahua-nvr-alarm.xml", "5/2", AGW_KIND_MOTION, 1691537915000, "34020000001310000001", "9", "视频动检", "1",
	 "AlarmInfo", "11"},
	{"blog-alarm-utf8-standalone-true.xml", "5/2", AGW_KIND_MOTION, 1697764752000, "xxx", "2", "视频动检", "1",
	 "EventType", "1"},
	{"easycvr-alarm-lowercase.xml", "2", AGW_KIND_OTHER, 1500430754000, "31010000001340000001", "51", NULL, "4",
	 "Longitude", "0.000"},
	{"alarm-2016-intrusion-gb2312.sip", "5/6", AGW_KIND_INTRUSION, 1704081600000, "34020000001320000011", "1017",
	 "区域入侵 东门", "2", "Latitude", "30.2741"},
	{"alarm-lf-only.sip", "2/1", AGW_KIND_VIDEO_LOSS, 1709654399000, "34020000001340000002", "7", NULL, "3",
	 "AlarmTime", "2024-03-05T23:59:59"},
	{"alarm-declared-gb2312-utf8.xml", "5/5", AGW_KIND_LINE_CROSSING, 1717200000000, "34020000001320000021", "3",
	 "绊线检测", "1", "SN", "3"},
	{"alarm-declared-utf8-gb2312.xml", "6/1", AGW_KIND_STORAGE_FAILURE, 1717200000000, "34020000001320000022", "4",
	 "硬盘故障", "4", "AlarmType", "1"},
	{"alarm-unknown-method.xml", "7/99", AGW_KIND_OTHER, AGW_TIME_UNKNOWN, "34020000001320000023", "5", NULL, "2",
	 "AlarmTime", "not a time"},
};

static char *read_fixture(const char *name, size_t *ret_len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/gb28181/%s", AGW_FIXTURES, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: cannot open", path);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*ret_len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	return buf;
}

static void test_alerts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(alarms) / sizeof(alarms[0]); i++) {
		const struct alarm_case *c = &alarms[i];
		size_t len;
		char *buf = read_fixture(c->file, &len);
		struct agw_gb_message m;
		char err[256];
		if (agw_gb_message_parse(buf, len, 0, &m, err, sizeof(err)) != 0)
			fail_msg("%s: %s", c->file, err);
		free(buf);
		assert_true(agw_gb_message_is_alarm(&m));
		struct agw_alert a;
		agw_alert_init(&a);
		assert_int_equal(agw_gb_alarm_alert(&m.doc, NULL, AGW_GB_DEFAULT_UTC_OFFSET_MIN, "<p/>", &a), 0);
		if (strcmp(a.topic, c->topic) != 0 || a.kind != c->kind || a.camera_time_ms != c->camera_time_ms)
			fail_msg("%s: topic '%s' kind %s time %lld", c->file, a.topic, agw_alert_kind_name(a.kind),
				 (long long)a.camera_time_ms);
		assert_int_equal(a.active, AGW_ACTIVE_NONE);
		assert_string_equal(agw_items_get(&a.source, "channel"), c->channel);
		assert_string_equal(a.event_id, c->event_id);
		assert_string_equal(a.payload, "<p/>");
		const char *d = agw_items_get(&a.data, "AlarmDescription");
		if (c->description ? !d || strcmp(d, c->description) != 0 : d != NULL)
			fail_msg("%s: AlarmDescription '%s'", c->file, d ? d : "(none)");
		assert_string_equal(agw_items_get(&a.data, "AlarmPriority"), c->priority);
		const char *x = agw_items_get(&a.data, c->extra);
		if (!x || strcmp(x, c->extra_value) != 0)
			fail_msg("%s: %s is '%s'", c->file, c->extra, x ? x : "(none)");
		/* CmdType and DeviceID are not data; the leading items come first, in the contract's order */
		assert_null(agw_items_get(&a.data, "CmdType"));
		assert_null(agw_items_get(&a.data, "DeviceID"));
		assert_string_equal(a.data.v[0].name, "AlarmPriority");
		assert_string_equal(a.data.v[1].name, "AlarmMethod");
		agw_alert_clear(&a);
		agw_gb_message_clear(&m);
	}
}

/* A custom table and another zone change the alert, nothing else does. */
static void test_alert_options(void **state)
{
	(void)state;
	size_t len;
	char *buf = read_fixture("dahua-nvr-alarm.xml", &len);
	struct agw_gb_message m;
	char err[256];
	assert_int_equal(agw_gb_message_parse(buf, len, 0, &m, err, sizeof(err)), 0);
	free(buf);
	struct agw_gb_event_table *t;
	assert_int_equal(agw_gb_event_table_parse("5 2 1 person\n", 13, "x", agw_gb_event_table_default(), &t, err,
						  sizeof(err)),
			 0);
	struct agw_alert a;
	agw_alert_init(&a);
	assert_int_equal(agw_gb_alarm_alert(&m.doc, t, 0, NULL, &a), 0);
	assert_int_equal(a.kind, AGW_KIND_PERSON);
	assert_int_equal(a.camera_time_ms, 1691537915000 + 8 * H);
	assert_null(a.payload);
	agw_alert_clear(&a);
	agw_gb_event_table_free(t);
	agw_gb_message_clear(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),         cmocka_unit_test(test_default_table),
		cmocka_unit_test(test_extended_table), cmocka_unit_test(test_broken_table),
		cmocka_unit_test(test_alerts),       cmocka_unit_test(test_alert_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
