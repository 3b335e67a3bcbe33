/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dahua normalization: the real captures of tests/fixtures/dahua (README.md there says where each
 * comes from) and the corners of the Code=...;data={...} text, expected values written from
 * reading them. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alarmgw/adapter.h"
#include "dahua_event.h"
#include "dahua_stream.h"
#include "dahua_table.h"

extern const struct agw_adapter agw_adapter_dahua;

#define MAX_ALERTS 16

struct collected {
	struct agw_alert v[MAX_ALERTS];
	size_t n;
};

static int collect(void *arg, struct agw_alert *a)
{
	struct collected *c = arg;
	assert_true(c->n < MAX_ALERTS);
	assert_null(a->camera_id);
	agw_alert_init(&c->v[c->n]);
	assert_int_equal(agw_alert_copy(&c->v[c->n], a), 0);
	c->n++;
	return 0;
}

static void collected_clear(struct collected *c)
{
	for (size_t i = 0; i < c->n; i++)
		agw_alert_clear(&c->v[i]);
	c->n = 0;
}

static char *read_fixture(const char *name, size_t *ret_len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/dahua/%s", AGW_FIXTURES, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: cannot open", path);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*ret_len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static void assert_data(const struct agw_alert *a, const char *name, const char *want)
{
	const char *v = agw_items_get(&a->data, name);
	if (!want) {
		if (v)
			fail_msg("data %s should be absent, is '%s'", name, v);
		return;
	}
	if (!v || strcmp(v, want) != 0)
		fail_msg("data %s is '%s', want '%s'", name, v ? v : "(absent)", want);
}

/* rroller/dahua#166: heartbeats, VideoMotionInfo "State" parts, a VideoMotion Start/Stop with a
 * data JSON over several lines, extra blank lines, and the capture cut inside a part's headers.
 * Fed whole and one byte at a time. */
static void test_attach_capture(void **state)
{
	(void)state;
	size_t len;
	char *buf = read_fixture("attach_rroller166_cut.txt", &len);
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct collected c = {0};
		char err[256] = "";
		int rc;
		if (!bytewise) {
			rc = agw_dahua_normalize(buf, len, agw_dahua_table_default(), collect, &c, err, sizeof(err));
			assert_int_equal(rc, -EINVAL);
			assert_string_equal(err, "offset 1174: the input ends inside a part's headers");
		} else {
			struct agw_dahua_stream_config cfg = {.table = agw_dahua_table_default(), .on_alert = collect, .arg = &c};
			struct agw_dahua_stream *s;
			assert_int_equal(agw_dahua_stream_new(&cfg, &s), 0);
			for (size_t i = 0; i < len; i++)
				assert_int_equal(agw_dahua_stream_feed(s, buf + i, 1), 0);
			assert_int_equal(agw_dahua_stream_finish(s), 0);
			const struct agw_dahua_stream_stats *st = agw_dahua_stream_stats(s);
			assert_int_equal(st->events, 8);
			assert_int_equal(st->heartbeats, 3);
			assert_int_equal(st->errors, 1);
			agw_dahua_stream_free(s);
		}
		assert_int_equal(c.n, 8);
		const struct agw_alert *info = &c.v[0], *start = &c.v[1], *stop = &c.v[7];
		assert_string_equal(info->topic, "VideoMotionInfo");
		assert_int_equal(info->kind, AGW_KIND_OTHER);
		assert_int_equal(info->active, AGW_ACTIVE_NONE);
		assert_data(info, "action", "State");
		assert_string_equal(agw_items_get(&info->source, "channel"), "1");

		assert_string_equal(start->topic, "VideoMotion");
		assert_int_equal(start->kind, AGW_KIND_MOTION);
		assert_int_equal(start->active, AGW_ACTIVE_TRUE);
		assert_int_equal(start->camera_time_ms, AGW_TIME_UNKNOWN);
		assert_string_equal(agw_items_get(&start->source, "channel"), "1");
		assert_data(start, "Id", "0");
		assert_data(start, "RegionName", "Region1");
		assert_data(start, "SmartMotionEnable", "true");
		assert_data(start, "action", NULL);
		assert_data(start, "index", NULL);
		assert_data(start, "Code", NULL);
		assert_non_null(strstr(start->payload, "\"SmartMotionEnable\" : true"));

		assert_string_equal(stop->topic, "VideoMotion");
		assert_int_equal(stop->active, AGW_ACTIVE_FALSE);
		collected_clear(&c);
	}
	free(buf);
}

/* python-amcrest#22: "-- myboundary" and no blank line between the part headers and the text. */
static void test_amcrest_capture(void **state)
{
	(void)state;
	size_t len;
	char *buf = read_fixture("attach_amcrest22.txt", &len);
	struct collected c = {0};
	char err[256] = "";
	assert_int_equal(agw_dahua_normalize(buf, len, agw_dahua_table_default(), collect, &c, err, sizeof(err)), 4);
	static const enum agw_active want[] = {AGW_ACTIVE_TRUE, AGW_ACTIVE_FALSE, AGW_ACTIVE_TRUE, AGW_ACTIVE_FALSE};
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(c.v[i].topic, "VideoMotion");
		assert_int_equal(c.v[i].active, want[i]);
		assert_int_equal(c.v[i].data.n, 0);
	}
	collected_clear(&c);
	free(buf);
}

/* openhab/openhab-addons#11391: event texts pasted one after the other, no multipart framing; an
 * array of objects in data; a Code the table does not know. */
static void test_bare_events(void **state)
{
	(void)state;
	size_t len;
	char *buf = read_fixture("events_openhab11391.txt", &len);
	struct collected c = {0};
	char err[256] = "";
	assert_int_equal(agw_dahua_normalize(buf, len, agw_dahua_table_default(), collect, &c, err, sizeof(err)), 2);
	assert_string_equal(c.v[0].topic, "SmartMotionHuman");
	assert_int_equal(c.v[0].kind, AGW_KIND_PERSON);
	assert_data(&c.v[0], "object[0].HumamID", "542");
	assert_data(&c.v[0], "object[0].Rect", "2072,1808,3440,8184");
	assert_data(&c.v[0], "WindowId", "0");
	assert_string_equal(c.v[1].topic, "RtspSessionDisconnect");
	assert_int_equal(c.v[1].kind, AGW_KIND_OTHER);
	assert_int_equal(c.v[1].active, AGW_ACTIVE_TRUE);
	assert_data(&c.v[1], "Device", "192.168.x.x");
	assert_data(&c.v[1], "UserAgent", "");
	collected_clear(&c);
	free(buf);
}

/* rroller/dahua#138 (DH-IPC-HFW3849T1-AS-PV-S3, V2.840) and #288 (an NVR's channel 6): IVS
 * intrusions with a human object, rebuilt from Home Assistant's event log into the text the
 * camera sends. Both data.UTC values equal the camera's local wall clock (LocaleTime in #288),
 * not UTC: Home Assistant received them 2 h (#138) and 1 h (#288) earlier by its own clock.
 * camera_time is what the camera states (the contract: data.UTC as epoch seconds); the
 * gateway's receive time shows the offset. */
static void test_ivs_intrusions(void **state)
{
	(void)state;
	static const struct {
		const char *file, *time, *channel, *rule, *object_id, *locale;
	} cases[] = {
		{"crossregion_rroller138.txt", "2022-06-06T21:50:54.686Z", "1", "Pool Entry", "4695", NULL},
		{"crossregion_nvr_rroller288.txt", "2023-06-26T21:22:00.945Z", "6", "Regola2", "77171", "2023-06-26 21:22:01"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *buf = read_fixture(cases[i].file, &len);
		struct collected c = {0};
		char err[256] = "", tb[40];
		assert_int_equal(agw_dahua_normalize(buf, len, agw_dahua_table_default(), collect, &c, err, sizeof(err)), 1);
		const struct agw_alert *a = &c.v[0];
		assert_string_equal(a->topic, "CrossRegionDetection");
		assert_int_equal(a->kind, AGW_KIND_INTRUSION);
		assert_int_equal(a->active, AGW_ACTIVE_TRUE);
		assert_string_equal(agw_time_format_ms(a->camera_time_ms, tb, sizeof(tb)), cases[i].time);
		assert_string_equal(agw_items_get(&a->source, "channel"), cases[i].channel);
		assert_data(a, "Name", cases[i].rule);
		assert_data(a, "Object.ObjectType", "Human");
		assert_data(a, "Object.ObjectID", cases[i].object_id);
		assert_data(a, "LocaleTime", cases[i].locale);
		assert_data(a, "UTC", NULL);
		collected_clear(&c);
		free(buf);
	}
}

/* nupsterd/dahua-ivs-addon: a real attach stream of an IVS tripwire (CRLF framing, LF inside the
 * JSON, Content-Length exact): two Starts of two people in the same second, the first one's Stop,
 * heartbeats, and a crossing the other way. Start and Stop pair by EventID, not by order. */
static void test_ivs_crossline_stream(void **state)
{
	(void)state;
	static const struct {
		enum agw_active active;
		const char *time, *event_id, *object_id, *direction;
	} want[] = {
		{AGW_ACTIVE_TRUE, "2026-09-23T09:38:05.048Z", "10185", "508", "RightToLeft"},
		{AGW_ACTIVE_TRUE, "2026-09-23T09:38:05.408Z", "10187", "509", "RightToLeft"},
		{AGW_ACTIVE_FALSE, "2026-09-23T09:38:05.048Z", "10185", "508", "RightToLeft"},
		{AGW_ACTIVE_TRUE, "2026-09-23T09:38:15.488Z", "10193", "509", "LeftToRight"},
	};
	size_t len;
	char *buf = read_fixture("crossline_same_second_nupsterd.txt", &len);
	struct collected c = {0};
	char err[256] = "", tb[40];
	assert_int_equal(agw_dahua_normalize(buf, len, agw_dahua_table_default(), collect, &c, err, sizeof(err)), 4);
	for (size_t i = 0; i < 4; i++) {
		const struct agw_alert *a = &c.v[i];
		assert_string_equal(a->topic, "CrossLineDetection");
		assert_int_equal(a->kind, AGW_KIND_LINE_CROSSING);
		assert_int_equal(a->active, want[i].active);
		assert_string_equal(agw_time_format_ms(a->camera_time_ms, tb, sizeof(tb)), want[i].time);
		assert_string_equal(agw_items_get(&a->source, "channel"), "1");
		assert_data(a, "EventID", want[i].event_id);
		assert_data(a, "Object.ObjectID", want[i].object_id);
		assert_data(a, "Object.ObjectType", "Human");
		assert_data(a, "Direction", want[i].direction);
		assert_data(a, "Name", "salida 1 "); /* the rule's name as written, trailing space kept */
		assert_data(a, "DetectLine[1]", "4714,8128");
		assert_data(a, "Object.FusionInfo.GpsPostion.Latitude", "0");
		assert_data(a, "UTCMS", NULL);
	}
	collected_clear(&c);
	free(buf);

	/* scottlamb/multipart-stream-rs: a camera's clock events ("Content-Length:135" without a space,
	 * the stream ending right after the last part's text): pulses, kind other, no camera time */
	buf = read_fixture("timechange_ntp_multipartrs.txt", &len);
	assert_int_equal(agw_dahua_normalize(buf, len, agw_dahua_table_default(), collect, &c, err, sizeof(err)), 2);
	assert_string_equal(c.v[0].topic, "TimeChange");
	assert_int_equal(c.v[0].kind, AGW_KIND_OTHER);
	assert_int_equal(c.v[0].active, AGW_ACTIVE_NONE);
	assert_int_equal(c.v[0].camera_time_ms, AGW_TIME_UNKNOWN);
	assert_data(&c.v[0], "BeforeModifyTime", "2019-02-20 13:49:58");
	assert_string_equal(c.v[1].topic, "NTPAdjustTime");
	assert_int_equal(c.v[1].active, AGW_ACTIVE_NONE);
	assert_data(&c.v[1], "Address", "192.168.5.254");
	assert_data(&c.v[1], "result", "true");
	assert_string_equal(agw_items_get(&c.v[1].source, "channel"), "1");
	collected_clear(&c);
	free(buf);
}

/* The corners of one part's text. */
static void test_part_text(void **state)
{
	(void)state;
	struct collected c = {0};
	struct agw_dahua_part_info info;
	char err[256] = "";
	/* data.UTC and UTCMS (the values of the CrossLineDetection in rroller/dahua's on_receive
	 * documentation) make camera_time; DetectLine is an array of arrays */
	const char *cross = "Code=CrossLineDetection;action=Start;index=0;data={\n"
			    "   \"Class\" : \"Normal\",\n   \"DetectLine\" : [ [ 18, 4098 ], [ 8155, 5549 ] ],\n"
			    "   \"Direction\" : \"RightToLeft\",\n   \"Name\" : \"Rule1\",\n"
			    "   \"Object\" : { \"Action\" : \"Appear\", \"BoundingBox\" : [ 4816, 4552, 5248, 5272 ], \"Speed\" : 0 },\n"
			    "   \"PTS\" : 42986015370.0,\n   \"Track\" : null,\n   \"UTC\" : 1620477656,\n   \"UTCMS\" : 180\n}\n";
	assert_int_equal(agw_dahua_parse_part(cross, strlen(cross), agw_dahua_table_default(), collect, &c, &info, err,
					      sizeof(err)),
			 0);
	assert_int_equal(info.events, 1);
	const struct agw_alert *a = &c.v[0];
	assert_int_equal(a->kind, AGW_KIND_LINE_CROSSING);
	char tb[40];
	assert_string_equal(agw_time_format_ms(a->camera_time_ms, tb, sizeof(tb)), "2021-05-08T12:40:56.180Z");
	assert_data(a, "UTC", NULL);
	assert_data(a, "UTCMS", NULL);
	assert_data(a, "DetectLine[0]", "18,4098");
	assert_data(a, "DetectLine[1]", "8155,5549");
	assert_data(a, "Object.BoundingBox", "4816,4552,5248,5272");
	assert_data(a, "Object.Action", "Appear");
	assert_data(a, "PTS", "42986015370");
	assert_data(a, "Track", "");
	collected_clear(&c);

	/* two events and a heartbeat in one part; Pulse; an NVR channel; an index that is no number;
	 * data that is no JSON; an extra key */
	const char *many = "Heartbeat\r\n"
			   "Code=DoorbellPress;action=Pulse;index=15\r\n"
			   "Code=AlarmLocal;action=Start;index=x;data=key=value;extra\r\n"
			   "Code=NewThing;action=Stop;index=2;Name=Gate 1\r\n";
	assert_int_equal(agw_dahua_parse_part(many, strlen(many), agw_dahua_table_default(), collect, &c, &info, err,
					      sizeof(err)),
			 0);
	assert_int_equal(info.heartbeats, 1);
	assert_int_equal(info.events, 3);
	assert_int_equal(c.v[0].kind, AGW_KIND_DOORBELL);
	assert_int_equal(c.v[0].active, AGW_ACTIVE_NONE);
	assert_data(&c.v[0], "action", NULL);
	assert_string_equal(agw_items_get(&c.v[0].source, "channel"), "16");
	assert_int_equal(c.v[1].kind, AGW_KIND_DIGITAL_INPUT);
	assert_int_equal(c.v[1].source.n, 0);
	assert_data(&c.v[1], "index", "x");
	assert_data(&c.v[1], "data", "key=value;extra");
	assert_string_equal(c.v[2].topic, "NewThing");
	assert_int_equal(c.v[2].kind, AGW_KIND_OTHER);
	assert_data(&c.v[2], "Name", "Gate 1");
	assert_string_equal(agw_items_get(&c.v[2].source, "channel"), "3");
	collected_clear(&c);

	/* JSON cut short: the event is kept (its data as text) and the problem reported */
	const char *cut = "Code=VideoMotion;action=Start;index=0;data={\n   \"Id\" : [ 0 ],\n";
	assert_int_equal(agw_dahua_parse_part(cut, strlen(cut), agw_dahua_table_default(), collect, &c, &info, err,
					      sizeof(err)),
			 -EINVAL);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.v[0].active, AGW_ACTIVE_TRUE);
	assert_data(&c.v[0], "data", "{\n   \"Id\" : [ 0 ],");
	if (strncmp(err, "line 1: data is not valid JSON", 30) != 0)
		fail_msg("err '%s'", err);
	collected_clear(&c);

	/* text that is neither, then an event: reported with its line, the event still comes out */
	const char *junk = "\n<html>401</html>\nCode=VideoBlind;action=Start;index=0\n";
	assert_int_equal(agw_dahua_parse_part(junk, strlen(junk), NULL, collect, &c, &info, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 2: expected 'Code=...' or 'Heartbeat', got '<html>401</html>'");
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0].topic, "VideoBlind");
	assert_int_equal(c.v[0].kind, AGW_KIND_OTHER); /* no table */
	collected_clear(&c);

	const char *nocode = "Code=;action=Start";
	assert_int_equal(agw_dahua_parse_part(nocode, strlen(nocode), NULL, collect, &c, &info, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 1: Code is empty");
	assert_int_equal(c.n, 0);
}

/* The adapter's hooks as the core calls them: a zeroed private struct with the table option set. */
static void test_adapter_hooks(void **state)
{
	(void)state;
	const struct agw_adapter *ad = &agw_adapter_dahua;
	assert_string_equal(ad->name, "dahua");
	assert_string_equal(ad->protocol, "dahua");
	assert_string_equal(ad->table_option, "event_table");
	assert_null(ad->check_address("192.168.1.108"));
	assert_null(ad->check_address("http://192.168.1.108:8080"));
	assert_non_null(ad->check_address("rtsp://192.168.1.108"));
	assert_non_null(ad->check_address(""));

	char path[] = "/tmp/agw-dahua-table-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "VideoMotionInfo motion\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	void *opts = calloc(1, ad->priv_size);
	assert_non_null(opts);
	const struct agw_option *o = ad->options;
	while (o->name && strcmp(o->name, ad->table_option) != 0)
		o++;
	assert_non_null(o->name);
	*(char **)((char *)opts + o->offset) = path;
	char err[512];
	assert_int_equal(ad->check(opts, err, sizeof(err)), 0);
	struct collected c = {0};
	const char *doc = "Code=VideoMotionInfo;action=State;index=0";
	assert_int_equal(ad->normalize(opts, doc, strlen(doc), collect, &c, err, sizeof(err)), 1);
	assert_int_equal(c.v[0].kind, AGW_KIND_MOTION);
	collected_clear(&c);
	unlink(path);
	assert_int_equal(ad->check(opts, err, sizeof(err)), -ENOENT);
	if (!strstr(err, path))
		fail_msg("err '%s'", err);
	*(char **)((char *)opts + o->offset) = NULL;
	assert_int_equal(ad->check(opts, err, sizeof(err)), 0);
	const struct agw_option *codes = ad->options;
	while (codes->name && strcmp(codes->name, "codes") != 0)
		codes++;
	assert_non_null(codes->name);
	*(char **)((char *)opts + codes->offset) = (char *)"[VideoMotion]&x=1";
	assert_int_equal(ad->check(opts, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "codes '[VideoMotion]&x=1'"));
	free(opts);
}

static int count_only(void *arg, struct agw_alert *a)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

/* Mutated captures: never a crash or a leak (ASan), every failure names an offset in the input. */
static void test_mutations(void **state)
{
	(void)state;
	static const char *files[] = {"attach_rroller166_cut.txt", "attach_amcrest22.txt", "events_openhab11391.txt",
				      "crossregion_rroller138.txt", "crossline_same_second_nupsterd.txt"};
	uint64_t rng = 0x243f6a8885a308d3ull;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t len;
		char *orig = read_fixture(files[f], &len);
		char *buf = malloc(len + 64);
		assert_non_null(buf);
		for (int iter = 0; iter < 400; iter++) {
			memcpy(buf, orig, len);
			size_t n = len;
			int edits = 1 + (int)(rng % 4);
			for (int e = 0; e < edits && n > 1; e++) {
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				size_t at = (size_t)(rng >> 33) % n;
				static const char junk[] = "-\r\n{}[]\"=;:0\\";
				switch ((rng >> 20) % 4) {
				case 0: buf[at] = junk[(rng >> 40) % (sizeof(junk) - 1)]; break;
				case 1: memmove(buf + at + 1, buf + at, n - at); buf[at] = '\n'; n++; break;
				case 2: memmove(buf + at, buf + at + 1, n - at - 1); n--; break;
				default: n = at + 1; break;
				}
			}
			int events = 0;
			char err[256] = "";
			int rc = agw_dahua_normalize(buf, n, agw_dahua_table_default(), count_only, &events, err, sizeof(err));
			if (rc >= 0) {
				assert_int_equal(rc, events);
			} else {
				assert_int_equal(rc, -EINVAL);
				unsigned long long off;
				if (sscanf(err, "offset %llu:", &off) != 1 || off > n)
					fail_msg("%s iteration %d: err '%s'", files[f], iter, err);
			}
		}
		free(buf);
		free(orig);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_capture), cmocka_unit_test(test_amcrest_capture),
		cmocka_unit_test(test_bare_events),    cmocka_unit_test(test_part_text),
		cmocka_unit_test(test_adapter_hooks),  cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_ivs_intrusions), cmocka_unit_test(test_ivs_crossline_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
