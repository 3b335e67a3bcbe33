/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ISAPI normalization: one case per real document or capture in tests/fixtures/isapi (README.md
 * there says where each comes from), expected values written from reading them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "alarmgw/adapter.h"
#include "isapi_event.h"
#include "isapi_stream.h"
#include "isapi_table.h"

extern const struct agw_adapter agw_adapter_isapi;

#define MAX_ALERTS 16

struct collected {
	struct agw_alert v[MAX_ALERTS];
	size_t n;
};

static int collect(void *arg, struct agw_alert *a)
{
	struct collected *c = arg;
	assert_true(c->n < MAX_ALERTS);
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
	snprintf(path, sizeof(path), "%s/isapi/%s", AGW_FIXTURES, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: cannot open", path);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*ret_len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static const char *time_text(int64_t ms, char *buf, size_t len)
{
	if (ms == AGW_TIME_UNKNOWN)
		return "unknown";
	return agw_time_format_ms(ms, buf, len);
}

struct kv {
	const char *name, *value; /* value NULL: the item must be absent */
};

struct doc_case {
	const char *file;
	const char *topic;
	enum agw_alert_kind kind;
	enum agw_active active;
	const char *time;    /* agw_time_format_ms form, or "unknown" */
	const char *channel; /* NULL: no channel */
	struct kv data[8];
};

static const struct doc_case doc_cases[] = {
	{"fielddetection_human.xml", "fielddetection", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, "2022-01-31T12:53:05.000Z", "1",
	 {{"ipAddress", "1.0.0.255"},
	  {"DetectionRegionList.DetectionRegionEntry.detectionTarget", "human"},
	  {"DetectionRegionList.DetectionRegionEntry.RegionCoordinatesList.RegionCoordinates[3].positionY", "210"},
	  {"DetectionRegionList.DetectionRegionEntry.TargetRect.width", "0.135937"},
	  {"channelName", "COUR NORD"},
	  {"eventType", NULL},
	  {"dateTime", NULL},
	  {"pictures", NULL}}},
	/* the same camera's vehicle target: the object type is in data, the kind stays intrusion */
	{"fielddetection_vehicle.xml", "fielddetection", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, "2022-01-19T06:51:17.000Z", "1",
	 {{"DetectionRegionList.DetectionRegionEntry.detectionTarget", "vehicle"},
	  {"DetectionRegionList.DetectionRegionEntry.regionID", "2"},
	  {"ipv6Address", "::ffff:192.168.2.5"},
	  {"isDataRetransmission", "false"},
	  {"eventState", NULL}}},
	{"duration_fielddetection.xml", "duration", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, "2023-01-23T22:27:25.000Z", "1",
	 {{"DurationList.Duration.relationEvent", "fielddetection"}, {"channelName", "yard"}, {"eventState", NULL}}},
	{"vmd_no_namespace.xml", "VMD", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, "2024-11-13T19:20:52.000Z", "2",
	 {{"dynChannelID", "2"}, {"channelID", NULL}, {"eventDescription", "Motion alarm"}, {"channelName", "Camera 02"}}},
	{"nvr_psialliance_fielddetection.xml", "fielddetection", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE,
	 "2023-01-13T18:16:39.000Z", "34",
	 {{"activePostCount", "174"},
	  {"Extensions.serialNumber", "DS-7608NXI-I0/0P/S0000000000CCRRJ00000000WCVU"},
	  {"Extensions.eventPush",
	   "fielddetection&&DS-7608NXI-I0/0P/S0000000000CCRRJ00000000WCVU,2023-01-13T19:16:39+01:00,34,1.0"}}},
	{"pir.xml", "PIR", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, "2023-04-06T21:22:21.000Z", "1",
	 {{"protocolType", "HTTP"}, {"activePostCount", "4268"}, {"channelName", "Bedroom"}}},
	{"io.xml", "IO", AGW_KIND_DIGITAL_INPUT, AGW_ACTIVE_TRUE, "2024-11-19T15:53:28.000Z", "1",
	 {{"inputIOPortID", "1"}, {"macAddress", "4f:e4:2f:81:cd:1b"}, {"portNo", "443"}}},
	{"vmd_dynchannel_targettype.xml", "VMD", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, "2025-03-05T10:50:46.000Z", "1",
	 {{"targetType", "human"},
	  {"dynChannelID", NULL},
	  {"bkgUrl", "http://192.168.20.24:80/picture/Streaming/tracks/103/?name=ch00001_00000000012032933529600294553&size=294553"},
	  {"detectionPictureTransType", "url"}}},
	{"anpr.xml", "ANPR", AGW_KIND_VEHICLE, AGW_ACTIVE_TRUE, "2023-08-11T12:49:00.000Z", "1",
	 {{"ANPR.licensePlate", "KH35192"},
	  {"ANPR.pictureInfoList.pictureInfo[1].plateRect.X", "544"},
	  {"ANPR.pictureInfoList.pictureInfo[0].fileName", "licensePlatePicture.jpg"},
	  {"ANPR.vehicleInfo.color", "white"},
	  {"ANPR.plateCategory", ""},
	  {"DeviceGPSInfo.Latitude.sec", "22.300000"},
	  {"picNum", "2"},
	  {"UUID", "20230811134901822007gWpiNIuI14ikdwfKR5eDCzuV45RubEmi88qaD5w0YTq"}}},
	{"access_controller.json", "AccessControllerEvent", AGW_KIND_OTHER, AGW_ACTIVE_TRUE, "2024-08-26T11:32:28.000Z", NULL,
	 {{"AccessControllerEvent.majorEventType", "5"},
	  {"AccessControllerEvent.subEventType", "21"},
	  {"AccessControllerEvent.currentEvent", "true"},
	  {"AccessControllerEvent.deviceName", "DS-K1T502DBFWX-C"},
	  {"portNo", "80"},
	  {"eventType", NULL}}},
	/* egorovsa/camera-gate-api: a camera's pushed line crossing with a vehicle target */
	{"linedetection_vehicle.xml", "linedetection", AGW_KIND_LINE_CROSSING, AGW_ACTIVE_TRUE, "2025-08-03T12:51:35.000Z", "1",
	 {{"DetectionRegionList.DetectionRegionEntry.detectionTarget", "vehicle"},
	  {"DetectionRegionList.DetectionRegionEntry.regionID", "1"},
	  {"DetectionRegionList.DetectionRegionEntry.RegionCoordinatesList.RegionCoordinates[1].positionX", "403"},
	  {"DetectionRegionList.DetectionRegionEntry.TargetRect.height", "0.090"},
	  {"detectionPicturesNumber", "1"},
	  {"channelID", NULL},
	  {"eventState", NULL}}},
	/* a face capture camera's JSON push (tab-indented as the device writes it): was kind "other" */
	{"facecapture.json", "faceCapture", AGW_KIND_FACE, AGW_ACTIVE_TRUE, "2021-08-25T10:52:59.000Z", "1",
	 {{"faceCapture[0].faces[0].faceId", "13"},
	  {"faceCapture[0].faces[0].age.value", "34"},
	  {"faceCapture[0].faces[0].captureEndMark", "true"},
	  {"faceCapture[0].targetAttrs.faceTime", "2021-08-25T12:52:59+02:00"},
	  {"isDataRetransmission", "false"},
	  {"channelName", ""},
	  {"eventType", NULL}}},
	/* a face recognition camera's blacklist match (JSON push; personal fields removed): was "other" */
	{"alarmresult_blacklist.json", "alarmResult", AGW_KIND_FACE, AGW_ACTIVE_TRUE, "2024-09-15T07:23:04.000Z", "1",
	 {{"alarmResult[0].faces[0].identify[0].candidate[0].listType", "blackList"},
	  {"alarmResult[0].faces[0].identify[0].candidate[0].FDLibName", "employee"},
	  {"alarmResult[0].faces[0].identify[0].maxsimilarity", "0.9"},
	  {"alarmResult[0].targetAttrs.deviceName", "Altra Waves Camera 01"},
	  {"GPS.divisionNS", "N"},
	  {"channelName", "Altra Waves 01"}}},
	/* the ANPR camera of anpr.xml when it read no plate */
	{"anpr_plate_unknown.xml", "ANPR", AGW_KIND_VEHICLE, AGW_ACTIVE_TRUE, "2023-08-11T13:02:35.000Z", "1",
	 {{"ANPR.licensePlate", "unknown"},
	  {"ANPR.vehicleType", "SUVMPV"},
	  {"ANPR.pictureInfoList.pictureInfo.type", "vehiclePicture"},
	  {"ANPR.plateCharBelieve", ""},
	  {"monitoringSiteID", "1"}}},
	/* both channel elements: channelID is the channel, dynChannelID stays in data */
	{"vmd_both_channels_human.xml", "VMD", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, "2025-07-11T04:56:42.000Z", "2",
	 {{"dynChannelID", "2"}, {"channelID", NULL}, {"targetType", "human"}, {"activePostCount", "0"}}},
	/* a DVR without a zone in its dateTime: the offset is unknown, the text stays in data */
	{"vmd_zoneless_dvr.xml", "VMD", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, "unknown", "12",
	 {{"dateTime", "2025-04-06T14:16:04"}, {"dynChannelID", NULL}}},
};

static void check_alert(const struct agw_alert *a, const struct doc_case *c)
{
	char tb[40];
	assert_string_equal(a->topic, c->topic);
	assert_int_equal(a->kind, c->kind);
	assert_int_equal(a->active, c->active);
	assert_string_equal(time_text(a->camera_time_ms, tb, sizeof(tb)), c->time);
	if (c->channel) {
		assert_int_equal(a->source.n, 1);
		assert_string_equal(agw_items_get(&a->source, "channel"), c->channel);
	} else {
		assert_int_equal(a->source.n, 0);
	}
	for (size_t i = 0; i < sizeof(c->data) / sizeof(c->data[0]) && c->data[i].name; i++) {
		const char *v = agw_items_get(&a->data, c->data[i].name);
		if (!c->data[i].value) {
			if (v)
				fail_msg("%s: data %s should be absent, is '%s'", c->file, c->data[i].name, v);
		} else if (!v || strcmp(v, c->data[i].value) != 0) {
			fail_msg("%s: data %s is '%s', want '%s'", c->file, c->data[i].name, v ? v : "(absent)", c->data[i].value);
		}
	}
	assert_non_null(a->payload);
	assert_int_equal(a->key.n, 0);
	assert_int_equal(a->operation, AGW_OP_NONE);
}

static void test_documents(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(doc_cases) / sizeof(doc_cases[0]); i++) {
		size_t len;
		char *buf = read_fixture(doc_cases[i].file, &len);
		struct collected c = {0};
		char err[256] = "";
		int rc = agw_isapi_normalize(buf, len, agw_isapi_table_default(), collect, &c, err, sizeof(err));
		if (rc != 1)
			fail_msg("%s: %d (%s)", doc_cases[i].file, rc, err);
		check_alert(&c.v[0], &doc_cases[i]);
		collected_clear(&c);
		free(buf);
	}
}

/* Heartbeats make no alert: a white-label device's (std-cgi namespace, channel 0, a dateTime that
 * is not one), and an NVR's with empty channel elements (the isapi.org namespace and protocolType
 * of home-assistant/core#82767). */
static void test_heartbeats(void **state)
{
	(void)state;
	size_t len;
	char *buf = read_fixture("std_cgi_heartbeat.xml", &len);
	struct collected c = {0};
	char err[256] = "";
	assert_int_equal(agw_isapi_normalize(buf, len, agw_isapi_table_default(), collect, &c, err, sizeof(err)), 0);
	free(buf);
	static const char nvr_fmt[] =
		"<EventNotificationAlert version=\"2.0\" xmlns=\"http://www.isapi.org/ver20/XMLSchema\">\n"
		"<ipAddress>192.168.20.88</ipAddress>\n<portNo>80</portNo>\n<protocolType>HTTP</protocolType>\n"
		"<macAddress>c0:6d:ed:02:d3:d9</macAddress>\n<dynChannelID/>\n<channelID/>\n"
		"<dateTime>2022-12-11T15:30:20+09:30</dateTime>\n<activePostCount>0</activePostCount>\n"
		"<eventType>videoloss</eventType>\n<eventState>%s</eventState>\n</EventNotificationAlert>\n";
	char nvr[1024];
	snprintf(nvr, sizeof(nvr), nvr_fmt, "inactive");
	assert_int_equal(agw_isapi_normalize(nvr, strlen(nvr), agw_isapi_table_default(), collect, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, 0);
	/* the same as a real video loss: an alert, with no channel since both elements are empty */
	snprintf(nvr, sizeof(nvr), nvr_fmt, "active");
	assert_int_equal(agw_isapi_normalize(nvr, strlen(nvr), agw_isapi_table_default(), collect, &c, err, sizeof(err)), 1);
	assert_int_equal(c.v[0].kind, AGW_KIND_VIDEO_LOSS);
	assert_int_equal(c.v[0].source.n, 0);
	assert_null(agw_items_get(&c.v[0].data, "channelID"));
	char tb[40];
	assert_string_equal(agw_time_format_ms(c.v[0].camera_time_ms, tb, sizeof(tb)), "2022-12-11T06:00:20.000Z");
	collected_clear(&c);

	/* scottlamb/multipart-stream-rs: a camera's alertStream of two heartbeats (ver10, CRLF), whose
	 * dateTime has a one-digit hour in its offset ("-8:00") */
	buf = read_fixture("alertstream_heartbeat_multipartrs.txt", &len);
	buf[len] = '\0'; /* read_fixture's buffer has room */
	assert_int_equal(agw_isapi_normalize(buf, len, agw_isapi_table_default(), collect, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, 0);
	/* its document as a real video loss: the offset is read (it was "unknown" before) */
	const char *doc = strstr(buf, "<EventNotificationAlert");
	assert_non_null(doc);
	char active[600];
	size_t n = (size_t)(strstr(doc, "<eventState>") - doc);
	snprintf(active, sizeof(active), "%.*s<eventState>active%s", (int)n, doc, strstr(doc, "</eventState>"));
	active[strstr(active, "</EventNotificationAlert>") - active + 25] = '\0';
	assert_int_equal(agw_isapi_normalize(active, strlen(active), agw_isapi_table_default(), collect, &c, err, sizeof(err)), 1);
	assert_int_equal(c.v[0].kind, AGW_KIND_VIDEO_LOSS);
	assert_string_equal(time_text(c.v[0].camera_time_ms, tb, sizeof(tb)), "2019-02-20T23:22:34.000Z");
	assert_null(agw_items_get(&c.v[0].data, "dateTime"));
	collected_clear(&c);
	free(buf);
}

/* A captured alertStream with its HTTP head: camera (CRLF inside the XML), NVR (LF, dynChannelID)
 * and PTZ documents, heartbeats among them. Whole, byte by byte, in pieces: the same alerts. */
static void test_stream(void **state)
{
	(void)state;
	static const struct {
		const char *topic;
		enum agw_alert_kind kind;
		enum agw_active active;
		const char *channel;
	} want[] = {
		{"VMD", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, "1"},
		{"linedetection", AGW_KIND_LINE_CROSSING, AGW_ACTIVE_TRUE, "1"},
		{"linedetection", AGW_KIND_LINE_CROSSING, AGW_ACTIVE_FALSE, "1"},
		{"VMD", AGW_KIND_MOTION, AGW_ACTIVE_FALSE, "1"},
		{"videoloss", AGW_KIND_VIDEO_LOSS, AGW_ACTIVE_TRUE, "16"},
		{"VMD", AGW_KIND_MOTION, AGW_ACTIVE_TRUE, "15"},
		{"fielddetection", AGW_KIND_INTRUSION, AGW_ACTIVE_TRUE, "1"},
	};
	size_t len;
	char *buf = read_fixture("alertstream_hiksink.txt", &len);
	static const size_t steps[] = {0, 1, 13, 500};
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		struct collected c = {0};
		struct agw_isapi_stream_config cfg = {.table = agw_isapi_table_default(), .on_alert = collect, .arg = &c};
		struct agw_isapi_stream *st;
		assert_int_equal(agw_isapi_stream_new(&cfg, &st), 0);
		for (size_t i = 0; i < len;) {
			size_t k = steps[s] ? steps[s] : len;
			if (k > len - i)
				k = len - i;
			assert_int_equal(agw_isapi_stream_feed(st, buf + i, k), 0);
			i += k;
		}
		assert_int_equal(agw_isapi_stream_finish(st), 0);
		const struct agw_isapi_stream_stats *stats = agw_isapi_stream_stats(st);
		assert_int_equal(stats->events, 7);
		assert_int_equal(stats->heartbeats, 2);
		assert_int_equal(stats->errors, 0);
		agw_isapi_stream_free(st);
		assert_int_equal(c.n, 7);
		for (size_t i = 0; i < 7; i++) {
			assert_string_equal(c.v[i].topic, want[i].topic);
			assert_int_equal(c.v[i].kind, want[i].kind);
			assert_int_equal(c.v[i].active, want[i].active);
			assert_string_equal(agw_items_get(&c.v[i].source, "channel"), want[i].channel);
		}
		char tb[40];
		assert_string_equal(agw_time_format_ms(c.v[0].camera_time_ms, tb, sizeof(tb)), "2021-07-02T06:27:55.000Z");
		assert_string_equal(agw_time_format_ms(c.v[4].camera_time_ms, tb, sizeof(tb)), "2021-07-02T05:30:56.000Z");
		assert_string_equal(agw_items_get(&c.v[1].data, "DetectionRegionList.DetectionRegionEntry.RegionCoordinatesList."
								 "RegionCoordinates[1].positionX"),
				    "161");
		collected_clear(&c);
	}
	free(buf);
}

struct pictures {
	struct collected c;
	unsigned n;
	size_t bytes;
	char topic[32], ctype[32];
	bool jpeg;
};

static int collect_pictured(void *arg, struct agw_alert *a)
{
	struct pictures *p = arg;
	return collect(&p->c, a);
}

static void on_picture(void *arg, const struct agw_alert *event, unsigned index, const char *content_type,
		       const void *data, size_t len)
{
	struct pictures *p = arg;
	assert_int_equal(index, p->n);
	assert_int_equal(p->c.n, 0); /* before its event */
	p->n++;
	p->bytes += len;
	snprintf(p->topic, sizeof(p->topic), "%s", event->topic);
	snprintf(p->ctype, sizeof(p->ctype), "%s", content_type);
	p->jpeg = len >= 2 && !memcmp(data, "\xff\xd8", 2) && !memcmp((const char *)data + len - 2, "\xff\xd9", 2);
}

/* A multipart push whose fielddetection announces one binary picture: the JPEG part after it is
 * attached (its size, and its bytes to on_picture before the event goes out), then the close
 * delimiter. */
static void test_picture(void **state)
{
	(void)state;
	size_t len;
	char *buf = read_fixture("push_fielddetection_picture.bin", &len);
	struct collected c = {0};
	char err[256] = "";
	assert_int_equal(agw_isapi_normalize(buf, len, agw_isapi_table_default(), collect, &c, err, sizeof(err)), 1);
	assert_string_equal(c.v[0].topic, "fielddetection");
	assert_string_equal(agw_items_get(&c.v[0].data, "pictures"), "1");
	assert_string_equal(agw_items_get(&c.v[0].data, "picture_bytes"), "222");
	collected_clear(&c);

	struct pictures p = {0};
	struct agw_isapi_stream_config cfg = {
		.table = agw_isapi_table_default(), .on_alert = collect_pictured, .on_picture = on_picture, .arg = &p,
	};
	struct agw_isapi_stream *s;
	assert_int_equal(agw_isapi_stream_new(&cfg, &s), 0);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(agw_isapi_stream_feed(s, buf + i, 1), 0);
	assert_int_equal(agw_isapi_stream_finish(s), 0);
	assert_int_equal(agw_isapi_stream_stats(s)->pictures, 1);
	agw_isapi_stream_free(s);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.bytes, 222);
	assert_true(p.jpeg);
	assert_string_equal(p.topic, "fielddetection");
	assert_string_equal(p.ctype, "image/jpeg");
	assert_int_equal(p.c.n, 1);
	collected_clear(&p.c);
	free(buf);
}

/* A capture pasted into an issue (mezz64/pyHik#62): LF-only, so Content-Length (617, counted with
 * CRs) is larger than each document; the stream is cut inside the second part. The first event
 * comes out; the cut is reported at the second part's delimiter. */
static void test_cut_capture(void **state)
{
	(void)state;
	size_t len;
	char *buf = read_fixture("alertstream_pyhik62_cut.txt", &len);
	struct collected c = {0};
	char err[256] = "";
	assert_int_equal(agw_isapi_normalize(buf, len, agw_isapi_table_default(), collect, &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0].topic, "duration");
	assert_int_equal(c.v[0].kind, AGW_KIND_INTRUSION);
	assert_string_equal(agw_items_get(&c.v[0].data, "channelName"), "Driveway");
	assert_string_equal(err, "offset 678: the input ends inside a part: 15 of 617 bytes");
	collected_clear(&c);
	free(buf);
}

/* Malformed documents: an error naming where, and the events around them still come out. */
static void test_malformed(void **state)
{
	(void)state;
	struct collected c = {0};
	char err[256] = "";
	const char *stream = "--boundary\r\nContent-Type: application/xml\r\n\r\n"
			     "<EventNotificationAlert><eventType>VMD</eventType><eventState>active</eventState></EventNotificationAlert>\r\n"
			     "--boundary\r\nContent-Type: application/xml\r\n\r\n"
			     "<EventNotificationAlert>\n<eventType>VMD</eventType>\n<oops>\n</EventNotificationAlert>\r\n"
			     "--boundary\r\nContent-Type: application/xml\r\n\r\n"
			     "<EventNotificationAlert><eventType>IO</eventType><eventState>inactive</eventState></EventNotificationAlert>\r\n"
			     "--boundary\r\n";
	assert_int_equal(agw_isapi_normalize(stream, strlen(stream), agw_isapi_table_default(), collect, &c, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0].topic, "VMD");
	assert_string_equal(c.v[1].topic, "IO");
	assert_int_equal(c.v[1].active, AGW_ACTIVE_FALSE);
	/* the second part's body starts at 198 */
	if (strncmp(err, "offset 198: line 4:", 19) != 0)
		fail_msg("err '%s'", err);
	collected_clear(&c);

	static const struct {
		const char *doc;
		const char *err_prefix;
	} bad[] = {
		{"<!DOCTYPE x [<!ENTITY a \"b\">]><EventNotificationAlert><eventType>&a;</eventType></EventNotificationAlert>",
		 "offset 0: line 1: a document type declaration"},
		{"<EventNotificationAlert><eventState>active</eventState></EventNotificationAlert>",
		 "offset 0: EventNotificationAlert without an eventType"},
		{"Code=VideoMotion;action=Start;index=0", "offset 0: neither XML nor JSON"},
		{"{\"eventType\": \"VMD\", \"eventType\": \"IO\"}", "offset 0: line 1: duplicate object key"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = agw_isapi_normalize(bad[i].doc, strlen(bad[i].doc), NULL, collect, &c, err, sizeof(err));
		if (rc != -EINVAL || strncmp(err, bad[i].err_prefix, strlen(bad[i].err_prefix)) != 0)
			fail_msg("case %zu: %d '%s'", i, rc, err);
		assert_int_equal(c.n, 0);
	}
	/* documents that are no event: 0, no error */
	const char *status = "<?xml version=\"1.0\"?><ResponseStatus version=\"2.0\"><statusCode>4</statusCode></ResponseStatus>";
	assert_int_equal(agw_isapi_normalize(status, strlen(status), NULL, collect, &c, err, sizeof(err)), 0);
}

/* JSON wrapped in a member named after the document; an eventState that is neither active nor
 * inactive stays in data; a type the table does not know is "other" with its raw topic. */
static void test_json_and_unknown(void **state)
{
	(void)state;
	struct collected c = {0};
	char err[256] = "";
	const char *doc = "{\"EventNotificationAlert\": {\"channelID\": 3, \"dateTime\": \"2024-05-01T08:00:00Z\","
			  " \"eventType\": \"someNewThing\", \"eventState\": \"pending\","
			  " \"Target\": [{\"rect\": [0.1, 0.25]}, {\"rect\": [0.5, 0.75]}], \"nothing\": null}}";
	assert_int_equal(agw_isapi_normalize(doc, strlen(doc), agw_isapi_table_default(), collect, &c, err, sizeof(err)), 1);
	const struct agw_alert *a = &c.v[0];
	assert_string_equal(a->topic, "someNewThing");
	assert_int_equal(a->kind, AGW_KIND_OTHER);
	assert_int_equal(a->active, AGW_ACTIVE_NONE);
	assert_string_equal(agw_items_get(&a->source, "channel"), "3");
	assert_string_equal(agw_items_get(&a->data, "eventState"), "pending");
	assert_string_equal(agw_items_get(&a->data, "Target[1].rect"), "0.5,0.75");
	assert_string_equal(agw_items_get(&a->data, "nothing"), "");
	assert_null(agw_items_get(&a->data, "channelID"));
	char tb[40];
	assert_string_equal(agw_time_format_ms(a->camera_time_ms, tb, sizeof(tb)), "2024-05-01T08:00:00.000Z");
	collected_clear(&c);
}

/* The table: the default parses, a file's lines come first, prefixes, errors with path:line. */
static void test_table(void **state)
{
	(void)state;
	assert_true(agw_vendor_table_size(agw_isapi_table_default()) > 40);
	char path[] = "/tmp/agw-isapi-table-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "# mine\nVMD person\nsmart* tamper  # prefix\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	const struct agw_vendor_table *t;
	char err[256];
	assert_int_equal(agw_isapi_table_open(path, &t, err, sizeof(err)), 0);
	enum agw_alert_kind k;
	assert_true(agw_vendor_table_kind(t, "vmd", &k));
	assert_int_equal(k, AGW_KIND_PERSON);
	assert_true(agw_vendor_table_kind(t, "smartBlur", &k));
	assert_int_equal(k, AGW_KIND_TAMPER);
	assert_true(agw_vendor_table_kind(t, "linedetection", &k)); /* from the default */
	assert_int_equal(k, AGW_KIND_LINE_CROSSING);
	assert_false(agw_vendor_table_kind(t, "nope", &k));
	assert_int_equal(k, AGW_KIND_OTHER);
	agw_isapi_table_close(t);

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	text = "VMD motion\n\nIO wobble\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(agw_isapi_table_open(path, &t, err, sizeof(err)), -EINVAL);
	char want[600];
	snprintf(want, sizeof(want), "%s:3: unknown kind 'wobble'", path);
	assert_string_equal(err, want);

	/* through the adapter's hooks, as the core calls them */
	const struct agw_adapter *ad = &agw_adapter_isapi;
	assert_string_equal(ad->table_option, "event_table");
	void *opts = calloc(1, ad->priv_size);
	assert_non_null(opts);
	const struct agw_option *o = ad->options;
	while (o->name && strcmp(o->name, ad->table_option) != 0)
		o++;
	assert_non_null(o->name);
	*(char **)((char *)opts + o->offset) = path;
	assert_int_equal(ad->check(opts, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	text = "IO doorbell\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(ad->check(opts, err, sizeof(err)), 0);
	struct collected c = {0};
	const char *doc = "<EventNotificationAlert><eventType>IO</eventType></EventNotificationAlert>";
	assert_int_equal(ad->normalize(opts, doc, strlen(doc), collect, &c, err, sizeof(err)), 1);
	assert_int_equal(c.v[0].kind, AGW_KIND_DOORBELL);
	collected_clear(&c);
	*(char **)((char *)opts + o->offset) = NULL;
	assert_int_equal(ad->normalize(opts, doc, strlen(doc), collect, &c, err, sizeof(err)), 1);
	assert_int_equal(c.v[0].kind, AGW_KIND_DIGITAL_INPUT);
	collected_clear(&c);
	free(opts);
	unlink(path);
}

static void test_check_address(void **state)
{
	(void)state;
	const struct agw_adapter *ad = &agw_adapter_isapi;
	assert_string_equal(ad->protocol, "isapi");
	static const char *good[] = {"192.168.1.64", "cam.local:8080", "http://10.0.0.5", "https://nvr.example:8443/",
				     "[fe80::1]:80"};
	static const char *bad[] = {"", "rtsp://10.0.0.5/stream", "10.0.0.5/ISAPI", "host:99999", "host:", "[fe80::1"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (ad->check_address(good[i]))
			fail_msg("'%s' refused: %s", good[i], ad->check_address(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!ad->check_address(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
}

static int count_only(void *arg, struct agw_alert *a)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

/* Mutated captures (bytes flipped, inserted, removed, the end cut): never a crash or a leak (the
 * test runs under ASan), and every failure names an offset inside the input. */
static void test_mutations(void **state)
{
	(void)state;
	static const char *files[] = {"alertstream_hiksink.txt", "push_fielddetection_picture.bin", "anpr.xml",
				      "access_controller.json", "alertstream_pyhik62_cut.txt"};
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t len;
		char *orig = read_fixture(files[f], &len);
		char *buf = malloc(len + 64);
		assert_non_null(buf);
		for (int iter = 0; iter < 300; iter++) {
			memcpy(buf, orig, len);
			size_t n = len;
			int edits = 1 + (int)(rng % 4);
			for (int e = 0; e < edits && n > 1; e++) {
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				size_t at = (size_t)(rng >> 33) % n;
				static const char junk[] = "<>-\r\n{}\"=;:/0x\xff";
				switch ((rng >> 20) % 4) {
				case 0: buf[at] = junk[(rng >> 40) % (sizeof(junk) - 1)]; break;
				case 1: memmove(buf + at + 1, buf + at, n - at); buf[at] = '\n'; n++; break;
				case 2: memmove(buf + at, buf + at + 1, n - at - 1); n--; break;
				default: n = at + 1; break;
				}
			}
			int events = 0;
			char err[256] = "";
			int rc = agw_isapi_normalize(buf, n, agw_isapi_table_default(), count_only, &events, err, sizeof(err));
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
		cmocka_unit_test(test_documents),      cmocka_unit_test(test_heartbeats),
		cmocka_unit_test(test_stream),         cmocka_unit_test(test_picture),
		cmocka_unit_test(test_cut_capture),    cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_json_and_unknown), cmocka_unit_test(test_table),
		cmocka_unit_test(test_check_address),  cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
