/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Normalization of ONVIF event XML: one fixture per quirk of tests/fixtures/onvif (see
 * docs/onvif.md for where each comes from). */
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

#include "onvif_events.h"
#include "onvif_normalize.h"
#include "onvif_topics.h"

#define MAX_ALERTS 32

struct collected {
	struct agw_alert v[MAX_ALERTS];
	size_t n;
	int stop_after; /* >0: fail the callback after that many */
};

static int collect(void *arg, struct agw_alert *a)
{
	struct collected *c = arg;
	if (c->stop_after > 0 && (int)c->n >= c->stop_after)
		return -ECANCELED;
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
	snprintf(path, sizeof(path), "%s/onvif/%s", AGW_FIXTURES, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*ret_len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* Normalizes a fixture into c; returns normalize's return value; err gets the message. */
static int run(const char *name, struct collected *c, char *err, size_t errlen)
{
	size_t len;
	char *xml = read_fixture(name, &len);
	int rc = agw_onvif_normalize(xml, len, NULL, collect, c, err, errlen);
	free(xml);
	return rc;
}

static int64_t t(const char *text)
{
	int64_t ms;
	assert_int_equal(agw_time_parse_ms(text, &ms), 0);
	return ms;
}

static void test_hikvision(void **state)
{
	(void)state;
	struct collected c = {0};
	char err[256];
	assert_int_equal(run("hikvision_pull.xml", &c, err, sizeof(err)), 2);
	/* topic wrapped in new lines and tabs: trimmed, prefix kept */
	assert_string_equal(c.v[0].topic, "tns1:RuleEngine/CellMotionDetector/Motion");
	assert_int_equal(c.v[0].kind, AGW_KIND_MOTION);
	assert_int_equal(c.v[0].active, AGW_ACTIVE_TRUE);
	assert_int_equal(c.v[0].operation, AGW_OP_CHANGED);
	/* no zone: UTC */
	assert_int_equal(c.v[0].camera_time_ms, t("2026-11-22T08:15:01Z"));
	/* placeholder tokens and the empty Token="" are kept as written */
	assert_string_equal(agw_items_get(&c.v[0].source, "Rule"), "MyMotionDetectorRule");
	assert_string_equal(agw_items_get(&c.v[0].source, "VideoSourceConfigurationToken"), "VideoSourceToken");
	assert_string_equal(agw_items_get(&c.v[0].key, "Token"), "");
	assert_null(c.v[0].payload);
	assert_null(c.v[0].event_id);
	assert_int_equal(c.v[1].kind, AGW_KIND_TAMPER);
	assert_int_equal(c.v[1].active, AGW_ACTIVE_FALSE);
	assert_int_equal(c.v[1].camera_time_ms, t("2026-11-22T08:15:01.250Z"));
	collected_clear(&c);
}

static void test_axis_initialized(void **state)
{
	(void)state;
	struct collected c = {0};
	char err[256];
	assert_int_equal(run("axis_initialized.xml", &c, err, sizeof(err)), 4);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(c.v[i].operation, AGW_OP_INITIALIZED);
	assert_int_equal(c.v[3].operation, AGW_OP_CHANGED);
	assert_int_equal(c.v[0].kind, AGW_KIND_MOTION);
	assert_int_equal(c.v[0].active, AGW_ACTIVE_FALSE); /* State="0" */
	/* microseconds */
	assert_int_equal(c.v[0].camera_time_ms, t("2026-11-22T08:19:59.961Z"));
	assert_int_equal(c.v[1].kind, AGW_KIND_SCENE_CHANGE);
	assert_int_equal(c.v[1].active, AGW_ACTIVE_TRUE);
	assert_int_equal(c.v[2].kind, AGW_KIND_DIGITAL_INPUT);
	assert_int_equal(c.v[2].active, AGW_ACTIVE_FALSE); /* LogicalState="FALSE" */
	assert_int_equal(c.v[3].active, AGW_ACTIVE_TRUE);
	collected_clear(&c);
}

static void test_prefixes_s_sc(void **state)
{
	(void)state;
	struct collected c = {0};
	char err[256];
	assert_int_equal(run("standalone_s_sc.xml", &c, err, sizeof(err)), 2);
	assert_int_equal(c.v[0].kind, AGW_KIND_INTRUSION);
	assert_int_equal(c.v[0].active, AGW_ACTIVE_FALSE);
	assert_string_equal(agw_items_get(&c.v[0].key, "ObjectId"), "17");
	assert_int_equal(c.v[1].kind, AGW_KIND_LINE_CROSSING);
	/* Crossed is a pulse: no boolean state item, ObjectId is not one */
	assert_int_equal(c.v[1].active, AGW_ACTIVE_NONE);
	collected_clear(&c);
}

static void test_vendor_mix(void **state)
{
	(void)state;
	struct collected c = {0};
	char err[256];
	assert_int_equal(run("vendor_mix.xml", &c, err, sizeof(err)), 10);
	/* tns1:VideoAnalytics/dahua:MotionAlarm, State="active", microseconds */
	assert_int_equal(c.v[0].kind, AGW_KIND_MOTION);
	assert_int_equal(c.v[0].active, AGW_ACTIVE_TRUE);
	assert_int_equal(c.v[0].camera_time_ms, t("2026-11-22T09:59:58.123Z"));
	/* VideoSoure misspelling, OFF, 1970 clock */
	assert_int_equal(c.v[1].kind, AGW_KIND_MOTION);
	assert_int_equal(c.v[1].active, AGW_ACTIVE_FALSE);
	assert_int_equal(c.v[1].camera_time_ms, AGW_TIME_UNKNOWN);
	/* VideoCover, inactive, 0000-00-00 placeholder */
	assert_int_equal(c.v[2].kind, AGW_KIND_TAMPER);
	assert_int_equal(c.v[2].active, AGW_ACTIVE_FALSE);
	assert_int_equal(c.v[2].camera_time_ms, AGW_TIME_UNKNOWN);
	/* Reolink */
	assert_int_equal(c.v[3].kind, AGW_KIND_PERSON);
	assert_int_equal(c.v[3].active, AGW_ACTIVE_TRUE);
	assert_int_equal(c.v[4].kind, AGW_KIND_VEHICLE);
	assert_int_equal(c.v[4].active, AGW_ACTIVE_FALSE);
	assert_int_equal(c.v[5].kind, AGW_KIND_DOORBELL);
	/* TP-Link */
	assert_int_equal(c.v[6].kind, AGW_KIND_LINE_CROSSING);
	assert_int_equal(c.v[6].active, AGW_ACTIVE_TRUE); /* IsLineCross="1" */
	assert_int_equal(c.v[7].kind, AGW_KIND_OTHER);
	assert_int_equal(c.v[7].active, AGW_ACTIVE_FALSE); /* an unlisted Is* item still carries state */
	assert_non_null(c.v[7].payload);
	/* whole vendor root: other, no operation, offset zone converted, raw payload with the Key
	 * SimpleItemDescription the item map cannot hold */
	assert_int_equal(c.v[8].kind, AGW_KIND_OTHER);
	assert_int_equal(c.v[8].operation, AGW_OP_NONE);
	assert_int_equal(c.v[8].camera_time_ms, t("2026-11-22T01:59:59Z"));
	assert_int_equal(c.v[8].key.n, 0);
	assert_non_null(c.v[8].payload);
	assert_non_null(strstr(c.v[8].payload, "Similarity"));
	assert_non_null(strstr(c.v[8].payload, "0.93"));
	/* Deleted, value with spaces around */
	assert_int_equal(c.v[9].operation, AGW_OP_DELETED);
	assert_int_equal(c.v[9].active, AGW_ACTIVE_TRUE);
	assert_string_equal(agw_items_get(&c.v[9].data, "LogicalState"), "true");
	collected_clear(&c);
}

static void test_vendor_payload_and_namespaces(void **state)
{
	(void)state;
	struct collected c = {0};
	char err[256];
	assert_int_equal(run("vendor_payload.xml", &c, err, sizeof(err)), 3);
	/* a non-tt payload is kept as XML text */
	assert_int_equal(c.v[0].kind, AGW_KIND_OTHER);
	assert_non_null(c.v[0].payload);
	assert_non_null(strstr(c.v[0].payload, "AlarmInfo"));
	assert_non_null(strstr(c.v[0].payload, "Hall &amp; stairs"));
	/* "tt:" bound to another URI is not an ONVIF message: no items, payload kept */
	assert_int_equal(c.v[1].data.n, 0);
	assert_int_equal(c.v[1].active, AGW_ACTIVE_NONE);
	assert_non_null(c.v[1].payload);
	assert_non_null(strstr(c.v[1].payload, "urn:not-onvif"));
	/* the ONVIF namespace under prefix "x:" is typed; the ElementItem survives in the payload */
	assert_int_equal(c.v[2].kind, AGW_KIND_MOTION);
	assert_int_equal(c.v[2].active, AGW_ACTIVE_TRUE);
	assert_string_equal(agw_items_get(&c.v[2].source, "VideoSourceConfigurationToken"), "VSC1");
	assert_non_null(c.v[2].payload);
	assert_non_null(strstr(c.v[2].payload, "CellLayout"));
	collected_clear(&c);
}

static void test_bare_and_metadata(void **state)
{
	(void)state;
	struct collected c = {0};
	char err[256];
	assert_int_equal(run("bare_notification.xml", &c, err, sizeof(err)), 1);
	assert_int_equal(c.v[0].kind, AGW_KIND_MOTION);
	assert_string_equal(c.v[0].event_id, "cam-00007-42");
	collected_clear(&c);
	assert_int_equal(run("metadata_stream.xml", &c, err, sizeof(err)), 3);
	assert_int_equal(c.v[0].kind, AGW_KIND_MOTION);
	assert_int_equal(c.v[0].camera_time_ms, t("2026-11-22T12:00:00.040Z"));
	assert_int_equal(c.v[1].kind, AGW_KIND_TAMPER);
	assert_int_equal(c.v[2].kind, AGW_KIND_VIDEO_LOSS);
	assert_int_equal(c.v[2].active, AGW_ACTIVE_FALSE);
	collected_clear(&c);
	assert_int_equal(run("empty_pull.xml", &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, 0);
}

static void test_errors(void **state)
{
	(void)state;
	struct collected c = {0};
	char err[256];
	assert_int_equal(run("fault_notauthorized.xml", &c, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "fault: SOAP-ENV:Sender/ter:NotAuthorized: Sender not Authorized");
	/* an undeclared env: prefix: the code by its local name, not gSOAP's "URI":Sender form */
	assert_int_equal(run("real/milesight_soap_fault.xml", &c, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "fault: Sender/ter:InvalidArgVal: Argument Value Invalid");
	assert_int_equal(run("two_roots.xml", &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 3: a second root element");
	assert_int_equal(run("undeclared_prefix.xml", &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 7: undeclared namespace prefix");
	assert_int_equal(run("truncated.xml", &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(strncmp(err, "line 7: ", 8), 0);
	assert_int_equal(run("entity_expansion.xml", &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 2: DTDs are not accepted");
	assert_int_equal(c.n, 0);

	static const char *const bad[] = {
		"",
		"not xml",
		"<a><b></a></b>",
		"<a x='1' x='2'/>",
		"<a>&bogus;</a>",
		"<a b=c/>",
		"<a/>trailing",
		"<p:a xmlns:q='urn:q'/>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(agw_onvif_normalize(bad[i], strlen(bad[i]), NULL, collect, &c, err, sizeof(err)), -EINVAL);
		assert_int_equal(strncmp(err, "line 1: ", 8), 0);
	}
	/* a well-formed document of the wrong kind */
	const char *other = "<a xmlns='urn:x'><b/></a>";
	assert_int_equal(agw_onvif_normalize(other, strlen(other), NULL, collect, &c, err, sizeof(err)), -EINVAL);
	/* a NUL byte inside */
	const char nul[] = "<a>\0</a>";
	assert_int_equal(agw_onvif_normalize(nul, sizeof(nul) - 1, NULL, collect, &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(c.n, 0);
}

static void test_limits(void **state)
{
	(void)state;
	struct collected c = {0};
	char err[256];
	/* nesting deeper than the limit */
	size_t depth = 200, len = 0;
	char *deep = malloc(depth * 8 + 1);
	assert_non_null(deep);
	for (size_t i = 0; i < depth; i++)
		len += (size_t)sprintf(deep + len, "<a>");
	for (size_t i = 0; i < depth; i++)
		len += (size_t)sprintf(deep + len, "</a>");
	assert_int_equal(agw_onvif_normalize(deep, len, NULL, collect, &c, err, sizeof(err)), -EMSGSIZE);
	free(deep);
	/* a document over the size limit is refused before parsing */
	size_t big = AGW_ONVIF_MAX_DOCUMENT + 1;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, ' ', big);
	huge[0] = '<';
	assert_int_equal(agw_onvif_normalize(huge, big, NULL, collect, &c, err, sizeof(err)), -EMSGSIZE);
	free(huge);
	assert_int_equal(c.n, 0);
}

static void test_callback_stops(void **state)
{
	(void)state;
	struct collected c = {.stop_after = 1};
	char err[256];
	assert_int_equal(run("hikvision_pull.xml", &c, err, sizeof(err)), -ECANCELED);
	assert_int_equal(c.n, 1);
	collected_clear(&c);
}

static void test_booleans(void **state)
{
	(void)state;
	static const char *const yes[] = {"true", "TRUE", "1", "active", "ON", "on", " yes "};
	static const char *const no[] = {"false", "FALSE", "0", "inactive", "OFF", "off", "No"};
	static const char *const neither[] = {"", "2", "truth", "-1", "enabled"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_int_equal(agw_onvif_bool_parse(yes[i]), 1);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(agw_onvif_bool_parse(no[i]), 0);
	for (size_t i = 0; i < sizeof(neither) / sizeof(neither[0]); i++)
		assert_int_equal(agw_onvif_bool_parse(neither[i]), -1);
	assert_int_equal(agw_onvif_bool_parse(NULL), -1);
}

static void test_topic_table(void **state)
{
	(void)state;
	const struct agw_onvif_topic_table *d = agw_onvif_topic_table_default();
	/* the embedded file parsed: it has far more than a handful of lines */
	assert_true(agw_onvif_topic_table_size(d) > 50);
	assert_int_equal(agw_onvif_topic_kind(d, "tns1:RuleEngine/CellMotionDetector/Motion"), AGW_KIND_MOTION);
	assert_int_equal(agw_onvif_topic_kind(d, "tns1:ruleengine/cellmotiondetector/motion"), AGW_KIND_MOTION);
	assert_int_equal(agw_onvif_topic_kind(d, "tns1:VideoAnalytics/hik:MotionAlarm"), AGW_KIND_MOTION);
	assert_int_equal(agw_onvif_topic_kind(d, " tns1:Device/Trigger/DigitalInput "), AGW_KIND_DIGITAL_INPUT);
	assert_int_equal(agw_onvif_topic_kind(d, "tns1:RuleEngine/LineCrossDetector/Deep/LineCross"), AGW_KIND_LINE_CROSSING);
	assert_int_equal(agw_onvif_topic_kind(d, "tns1:Device/HardwareFailure/StorageFailure"), AGW_KIND_STORAGE_FAILURE);
	assert_int_equal(agw_onvif_topic_kind(d, "tns1:Device/HardwareFailure/FanFailure"), AGW_KIND_DEVICE_HEALTH);
	assert_int_equal(agw_onvif_topic_kind(d, "tns1:Nothing/Known"), AGW_KIND_OTHER);
	assert_int_equal(agw_onvif_topic_kind(d, ""), AGW_KIND_OTHER);
	assert_int_equal(agw_onvif_topic_kind(d, NULL), AGW_KIND_OTHER);
	assert_true(agw_onvif_topic_state_item(d, "IsMotion"));
	assert_true(agw_onvif_topic_state_item(d, "logicalstate"));
	assert_false(agw_onvif_topic_state_item(d, "ObjectId"));

	/* a site file extends and overrides the defaults */
	char path[] = "/tmp/agw-topics-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "# site table\n"
			   "RuleEngine/TPSmartEventDetector/TPSmartEvent  person\n"
			   "**/MotionAlarm  intrusion   # override\n"
			   "state IsPet\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct agw_onvif_topic_table *site = NULL;
	char err[256];
	assert_int_equal(agw_onvif_topic_table_load(path, &site, err, sizeof(err)), 0);
	assert_int_equal(agw_onvif_topic_kind(site, "tns1:RuleEngine/TPSmartEventDetector/TPSmartEvent"), AGW_KIND_PERSON);
	assert_int_equal(agw_onvif_topic_kind(site, "tns1:VideoSource/MotionAlarm"), AGW_KIND_INTRUSION);
	assert_int_equal(agw_onvif_topic_kind(site, "tns1:RuleEngine/TamperDetector/Tamper"), AGW_KIND_TAMPER);
	assert_true(agw_onvif_topic_state_item(site, "IsPet"));
	assert_true(agw_onvif_topic_state_item(site, "IsMotion"));

	/* normalization with the site table */
	size_t len;
	char *xml = read_fixture("vendor_mix.xml", &len);
	struct collected c = {0};
	assert_int_equal(agw_onvif_normalize(xml, len, site, collect, &c, err, sizeof(err)), 10);
	assert_int_equal(c.v[7].kind, AGW_KIND_PERSON);
	assert_null(c.v[7].payload);
	collected_clear(&c);
	free(xml);
	agw_onvif_topic_table_free(site);

	/* errors name the file and line */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("# ok\nA/B motion\nA/C flying_saucer\n", f);
	fclose(f);
	site = NULL;
	assert_int_equal(agw_onvif_topic_table_load(path, &site, err, sizeof(err)), -EINVAL);
	assert_null(site);
	char want[300];
	snprintf(want, sizeof(want), "%s:3: unknown kind 'flying_saucer'", path);
	assert_string_equal(err, want);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("A/B\n", f);
	fclose(f);
	assert_int_equal(agw_onvif_topic_table_load(path, &site, err, sizeof(err)), -EINVAL);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("A/B camera_offline\n", f);
	fclose(f);
	assert_int_equal(agw_onvif_topic_table_load(path, &site, err, sizeof(err)), -EINVAL);
	unlink(path);
	assert_int_equal(agw_onvif_topic_table_load(path, &site, err, sizeof(err)), -ENOENT);
	agw_onvif_topic_table_free(NULL);
	agw_onvif_topic_table_free((struct agw_onvif_topic_table *)d);
	assert_int_equal(agw_onvif_topic_kind(agw_onvif_topic_table_default(), "tns1:VideoSource/MotionAlarm"), AGW_KIND_MOTION);
}


/* Topics seen on real devices whose whole messages we have not found: the topic tells the kind.
 * Sources: Home Assistant's ONVIF event code (the trailing "/" and "//." some firmware writes, as
 * in a Hikvision filter expression), onvif-parsers (openvideolibs) for IVA/HumanShapeDetect and
 * Hikvision's tnshik:AlarmIn, a Hanwha SoundDetection topic, Bosch IVA rules named by the user
 * (home-assistant/core issue 166418: tns1:IVA/EnteringField/<rule name>). */
static void test_topics_seen_in_the_field(void **state)
{
	(void)state;
	const struct agw_onvif_topic_table *d = agw_onvif_topic_table_default();
	static const struct {
		const char *topic;
		enum agw_alert_kind kind;
	} cases[] = {
		{"tns1:RuleEngine/CellMotionDetector/Motion//.", AGW_KIND_MOTION},
		{"tns1:RuleEngine/CellMotionDetector/Motion/", AGW_KIND_MOTION},
		{"tns1:RuleEngine/LineCrossDetector/LineCross//.", AGW_KIND_LINE_CROSSING},
		{"tns1:RuleEngine/PeopleDetector/People//.", AGW_KIND_PERSON},
		{"tns1:UserAlarm/IVA/HumanShapeDetect", AGW_KIND_PERSON},
		{"tns1:VehicleAlarm/IVB/VehicleDetect", AGW_KIND_VEHICLE},
		{"tns1:Device/Trigger/tnshik:AlarmIn", AGW_KIND_DIGITAL_INPUT},
		{"tns1:AudioAnalytics/tnssamsung:SoundDetection", AGW_KIND_AUDIO},
		{"tns1:IVA/EnteringField/Eindringen_in_Feld_1", AGW_KIND_INTRUSION},
		/* the rule name is the user's: any name */
		{"tns1:IVA/EnteringField/Gate", AGW_KIND_INTRUSION},
		/* a dot or an empty segment inside a topic is not the end form: nothing is guessed */
		{"tns1:RuleEngine/./Motion", AGW_KIND_OTHER},
		{"tns1:RuleEngine//Motion", AGW_KIND_OTHER},
		{"//.", AGW_KIND_OTHER},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum agw_alert_kind got = agw_onvif_topic_kind(d, cases[i].topic);
		if (got != cases[i].kind)
			fail_msg("%s: %s, want %s", cases[i].topic, agw_alert_kind_name(got),
				 agw_alert_kind_name(cases[i].kind));
	}
}

/* A PullMessagesResponse with one message whose Data items are `items` (already XML). */
static int run_data(const char *items, struct collected *c, char *err, size_t errlen)
{
	char xml[4096];
	snprintf(xml, sizeof(xml),
		 "<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'"
		 " xmlns:tev='http://www.onvif.org/ver10/events/wsdl' xmlns:wsnt='http://docs.oasis-open.org/wsn/b-2'"
		 " xmlns:tt='http://www.onvif.org/ver10/schema'><s:Body><tev:PullMessagesResponse>"
		 "<wsnt:NotificationMessage><wsnt:Topic>tns1:Vendor/Thing</wsnt:Topic><wsnt:Message>"
		 "<tt:Message UtcTime='2026-11-22T08:00:00Z'><tt:Data>%s</tt:Data></tt:Message>"
		 "</wsnt:Message></wsnt:NotificationMessage></tev:PullMessagesResponse></s:Body></s:Envelope>",
		 items);
	return agw_onvif_normalize(xml, strlen(xml), NULL, collect, c, err, errlen);
}

static void test_state_item(void **state)
{
	(void)state;
	static const struct {
		const char *items;
		enum agw_active want;
	} cases[] = {
		/* the only boolean item, whatever its name (Axis PTZ, HardwareFailure) */
		{"<tt:SimpleItem Name='is_moving' Value='1'/>", AGW_ACTIVE_TRUE},
		{"<tt:SimpleItem Name='Failed' Value='TRUE'/>", AGW_ACTIVE_TRUE},
		{"<tt:SimpleItem Name='Whatever' Value='OFF'/>", AGW_ACTIVE_FALSE},
		/* Hanwha digital inputs call it Level */
		{"<tt:SimpleItem Name='Level' Value='false'/>", AGW_ACTIVE_FALSE},
		/* a named state item wins over another boolean */
		{"<tt:SimpleItem Name='Flag' Value='true'/><tt:SimpleItem Name='State' Value='false'/>", AGW_ACTIVE_FALSE},
		/* ids and counters are numbers even when they are 0 or 1 */
		{"<tt:SimpleItem Name='ObjectId' Value='1'/>", AGW_ACTIVE_NONE},
		{"<tt:SimpleItem Name='PeopleCount' Value='0'/>", AGW_ACTIVE_NONE},
		{"<tt:SimpleItem Name='ObjectId' Value='0'/><tt:SimpleItem Name='Flag' Value='1'/>", AGW_ACTIVE_TRUE},
		/* two unnamed booleans: ambiguous, unless one is Is<Something> */
		{"<tt:SimpleItem Name='A' Value='true'/><tt:SimpleItem Name='B' Value='false'/>", AGW_ACTIVE_NONE},
		{"<tt:SimpleItem Name='A' Value='true'/><tt:SimpleItem Name='IsBlue' Value='false'/>", AGW_ACTIVE_FALSE},
		/* no boolean value at all; a named item whose value is not a boolean */
		{"<tt:SimpleItem Name='Status' Value='2025-04-17T15:31:49Z'/>", AGW_ACTIVE_NONE},
		{"<tt:SimpleItem Name='State' Value='2'/>", AGW_ACTIVE_NONE},
		{"", AGW_ACTIVE_NONE},
	};
	char err[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct collected c = {0};
		assert_int_equal(run_data(cases[i].items, &c, err, sizeof(err)), 1);
		if (c.v[0].active != cases[i].want)
			fail_msg("%s: active %d, want %d", cases[i].items, c.v[0].active, cases[i].want);
		collected_clear(&c);
	}
}

static int run_text(const char *xml, struct collected *c, char *err, size_t errlen)
{
	err[0] = '\0';
	return agw_onvif_normalize(xml, strlen(xml), NULL, collect, c, err, errlen);
}

static void test_other_answers(void **state)
{
	(void)state;
	struct collected c = {0};
	char err[256];
	/* SOAP 1.2 and 1.1 answers of other operations: no notification, no error */
	const char *gsdt = "<env:Envelope xmlns:env='http://www.w3.org/2003/05/soap-envelope'><env:Header/><env:Body>"
			   "<tds:GetSystemDateAndTimeResponse xmlns:tds='http://www.onvif.org/ver10/device/wsdl'>"
			   "<tds:SystemDateAndTime><x:Unknown xmlns:x='urn:x'/></tds:SystemDateAndTime>"
			   "</tds:GetSystemDateAndTimeResponse></env:Body></env:Envelope>";
	assert_int_equal(run_text(gsdt, &c, err, sizeof(err)), 0);
	const char *renew11 = "<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body>"
			      "<wsnt:RenewResponse xmlns:wsnt='http://docs.oasis-open.org/wsn/b-2'>"
			      "<wsnt:TerminationTime>2026-01-01T00:01:00Z</wsnt:TerminationTime></wsnt:RenewResponse>"
			      "</soap:Body></soap:Envelope>";
	assert_int_equal(run_text(renew11, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, 0);
	/* the adapter's PullMessages path still calls that a broken answer */
	struct soap *soap = agw_onvif_soap_new();
	assert_non_null(soap);
	assert_int_equal(agw_onvif_normalize_soap(soap, gsdt, strlen(gsdt), NULL, collect, &c, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a PullMessagesResponse"));
	agw_onvif_soap_free(soap);
	/* SOAP 1.1: notifications are read, a Fault is still a fault */
	const char *pull11 = "<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body>"
			     "<tev:PullMessagesResponse xmlns:tev='http://www.onvif.org/ver10/events/wsdl'"
			     " xmlns:wsnt='http://docs.oasis-open.org/wsn/b-2' xmlns:tt='http://www.onvif.org/ver10/schema'>"
			     "<wsnt:NotificationMessage><wsnt:Topic>tns1:VideoSource/MotionAlarm</wsnt:Topic><wsnt:Message>"
			     "<tt:Message UtcTime='2026-01-01T08:00:00+08:00'><tt:Data><tt:SimpleItem Name='State' Value='ON'/>"
			     "</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage></tev:PullMessagesResponse>"
			     "</soap:Body></soap:Envelope>";
	assert_int_equal(run_text(pull11, &c, err, sizeof(err)), 1);
	assert_int_equal(c.v[0].kind, AGW_KIND_MOTION);
	assert_int_equal(c.v[0].active, AGW_ACTIVE_TRUE);
	assert_int_equal(c.v[0].camera_time_ms, t("2026-01-01T00:00:00Z"));
	collected_clear(&c);
	const char *fault11 = "<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body>"
			      "<soap:Fault><faultcode>soap:Client</faultcode><faultstring>Not authorized</faultstring>"
			      "</soap:Fault></soap:Body></soap:Envelope>";
	assert_int_equal(run_text(fault11, &c, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "Not authorized"));
	/* no prefixes at all: default namespaces on every element */
	const char *defns = "<Envelope xmlns='http://www.w3.org/2003/05/soap-envelope'><Header/><Body>"
			    "<PullMessagesResponse xmlns='http://www.onvif.org/ver10/events/wsdl'>"
			    "<NotificationMessage xmlns='http://docs.oasis-open.org/wsn/b-2'><Topic>\n tns1:RuleEngine/"
			    "CellMotionDetector/Motion\n</Topic><Message><Message xmlns='http://www.onvif.org/ver10/schema'"
			    " UtcTime='2026-01-01T00:00:00.5Z' PropertyOperation='Changed'><Data><SimpleItem Name='IsMotion'"
			    " Value='false'/></Data></Message></Message></NotificationMessage></PullMessagesResponse>"
			    "</Body></Envelope>";
	assert_int_equal(run_text(defns, &c, err, sizeof(err)), 1);
	assert_string_equal(c.v[0].topic, "tns1:RuleEngine/CellMotionDetector/Motion");
	assert_int_equal(c.v[0].kind, AGW_KIND_MOTION);
	assert_int_equal(c.v[0].active, AGW_ACTIVE_FALSE);
	assert_int_equal(c.v[0].camera_time_ms, t("2026-01-01T00:00:00.500Z"));
	collected_clear(&c);
	/* an Envelope without a Body, a root that is not SOAP: errors that say so */
	const char *nobody = "<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'>\n<s:Header/>\n</s:Envelope>";
	assert_int_equal(run_text(nobody, &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(strncmp(err, "line ", 5), 0);
	assert_non_null(strstr(err, "SOAP Envelope without a Body"));
	const char *notsoap = "<s:Envelope xmlns:s='urn:not-soap'><s:Body><x/></s:Body></s:Envelope>";
	assert_int_equal(run_text(notsoap, &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(c.n, 0);
}

/* The XML declaration is not checked (gSOAP reads it leniently, and the device answers of the
 * adapter rely on that): one with typographic quotes, pasted through a word processor, still reads. */
static void test_xml_declaration(void **state)
{
	(void)state;
	struct collected c = {0};
	char err[256];
	static const char *const ok[] = {
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?><tt:MetadataStream xmlns:tt='http://www.onvif.org/ver10/schema'/>",
		"<?xml version='1.0' standalone='yes' ?><tt:MetadataStream xmlns:tt='http://www.onvif.org/ver10/schema'/>",
		/* a CRLF before the declaration, as some cameras send it */
		"\r\n<?xml version=\"1.0\"?><tt:MetadataStream xmlns:tt='http://www.onvif.org/ver10/schema'/>",
		"<?xml version=\xe2\x80\x9d" "1.0\xe2\x80\x9d ?>\n<tt:MetadataStream xmlns:tt='http://www.onvif.org/ver10/schema'/>",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(run_text(ok[i], &c, err, sizeof(err)), 0);
	/* an unterminated one is not */
	assert_int_equal(run_text("<?xml version='1.0'", &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(strncmp(err, "line 1: ", 8), 0);
	assert_int_equal(c.n, 0);
}

static void test_topic_item_conditions(void **state)
{
	(void)state;
	const struct agw_onvif_topic_table *d = agw_onvif_topic_table_default();
	struct agw_items data = {0};
	const char *tp = "tns1:RuleEngine/TPSmartEventDetector/TPSmartEvent";
	/* without its item the conditional lines do not apply */
	assert_int_equal(agw_onvif_topic_kind(d, tp), AGW_KIND_OTHER);
	assert_int_equal(agw_items_add(&data, "IsVehicle", "false"), 0);
	assert_int_equal(agw_onvif_topic_kind_of(d, tp, &data), AGW_KIND_VEHICLE);
	agw_items_clear(&data);
	assert_int_equal(agw_items_add(&data, "ispeople", "true"), 0);
	assert_int_equal(agw_onvif_topic_kind_of(d, tp, &data), AGW_KIND_PERSON);
	agw_items_clear(&data);
	assert_int_equal(agw_items_add(&data, "IsPet", "true"), 0);
	assert_int_equal(agw_onvif_topic_kind_of(d, tp, &data), AGW_KIND_OTHER);
	agw_items_clear(&data);
	/* vendor application topics */
	assert_int_equal(agw_onvif_topic_kind(d, "tnsaxis:CameraApplicationPlatform/VMD/Camera1ProfileANY"), AGW_KIND_MOTION);
	assert_int_equal(agw_onvif_topic_kind(d, "tns1:RuleEngine/tnsaxis:VMD3/vmd3_video_1"), AGW_KIND_MOTION);
	assert_int_equal(agw_onvif_topic_kind(d, "tns1:RuleEngine/tnsaxis:VMD3/timer"), AGW_KIND_OTHER);
	assert_int_equal(agw_onvif_topic_kind(d, "tnsaxis:CameraApplicationPlatform/ObjectAnalytics/xinternal_data"),
			 AGW_KIND_OTHER);
	assert_int_equal(agw_onvif_topic_kind(d, "tnsaxis:Storage/Alert"), AGW_KIND_STORAGE_FAILURE);
	assert_int_equal(agw_onvif_topic_kind(d, "tns1:Device/HardwareFailure/HardDiskFull"), AGW_KIND_STORAGE_FAILURE);
	assert_int_equal(agw_onvif_topic_kind(d, "tns1:Device/tnshik:Network/tnshik:IPAddrConflict"), AGW_KIND_DEVICE_HEALTH);
	assert_int_equal(agw_onvif_topic_kind(d, "tns1:Device/tns1:Trigger/tns1:Relay"), AGW_KIND_RELAY);
	assert_true(agw_onvif_topic_nostate_item(d, "objectid"));
	assert_true(agw_onvif_topic_nostate_item(d, "VehicleCount"));
	assert_false(agw_onvif_topic_nostate_item(d, "Counted"));
	assert_false(agw_onvif_topic_nostate_item(d, "State"));

	char path[] = "/tmp/agw-topics-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "Vendor/Event[IsSmoke]  other\n"
			   "Vendor/Event[IsFire]   device_health\n"
			   "Vendor/Event[scenarioType=Fence]   line_crossing\n"
			   "Vendor/Event[scenarioType=]        loitering\n"
			   "Vendor/Event           intrusion\n"
			   "nostate Temp* *Level\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct agw_onvif_topic_table *site = NULL;
	char err[256];
	assert_int_equal(agw_onvif_topic_table_load(path, &site, err, sizeof(err)), 0);
	assert_int_equal(agw_items_add(&data, "IsFire", "1"), 0);
	assert_int_equal(agw_onvif_topic_kind_of(site, "x:Vendor/y:Event", &data), AGW_KIND_DEVICE_HEALTH);
	agw_items_clear(&data);
	/* a value condition: that value in any case; an empty value is a value too */
	assert_int_equal(agw_items_add(&data, "scenarioType", "FENCE"), 0);
	assert_int_equal(agw_onvif_topic_kind_of(site, "x:Vendor/y:Event", &data), AGW_KIND_LINE_CROSSING);
	agw_items_clear(&data);
	assert_int_equal(agw_items_add(&data, "scenarioType", "ObjectInArea"), 0);
	assert_int_equal(agw_onvif_topic_kind_of(site, "x:Vendor/y:Event", &data), AGW_KIND_INTRUSION);
	agw_items_clear(&data);
	assert_int_equal(agw_items_add(&data, "scenarioType", ""), 0);
	assert_int_equal(agw_onvif_topic_kind_of(site, "x:Vendor/y:Event", &data), AGW_KIND_LOITERING);
	agw_items_clear(&data);
	assert_int_equal(agw_onvif_topic_kind_of(site, "x:Vendor/y:Event", &data), AGW_KIND_INTRUSION);
	assert_true(agw_onvif_topic_nostate_item(site, "Temperature"));
	assert_true(agw_onvif_topic_nostate_item(site, "NoiseLevel"));
	assert_true(agw_onvif_topic_nostate_item(site, "ObjectId")); /* the defaults still count */
	agw_onvif_topic_table_free(site);

	static const char *const bad[] = {
		"A/B[ motion\n", "A/B[] motion\n", "A/[x]B motion\n", "A/B]x[ motion\n",
		"A/B[x][y] motion\n", "[x] motion\n", "A/B[=x] motion\n", "nostate\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(bad[i], f);
		fclose(f);
		site = NULL;
		if (agw_onvif_topic_table_load(path, &site, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_null(site);
		char want[300];
		snprintf(want, sizeof(want), "%s:1: ", path);
		assert_int_equal(strncmp(err, want, strlen(want)), 0);
	}
	unlink(path);
}


/* Captures saved from a network trace start with the HTTP response head. */
static void test_http_head(void **state)
{
	(void)state;
	struct collected c = {0};
	char err[256];
	const char *doc = "<tt:MetadataStream xmlns:tt='http://www.onvif.org/ver10/schema'"
			  " xmlns:wsnt='http://docs.oasis-open.org/wsn/b-2'><tt:Event><wsnt:NotificationMessage>"
			  "<wsnt:Topic>tns1:VideoSource/MotionAlarm</wsnt:Topic><wsnt:Message><tt:Message>"
			  "<tt:Data><tt:SimpleItem Name='State' Value='true'/></tt:Data></tt:Message></wsnt:Message>"
			  "</wsnt:NotificationMessage></tt:Event></tt:MetadataStream>";
	char buf[2048];
	snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(doc), doc);
	assert_int_equal(run_text(buf, &c, err, sizeof(err)), 1);
	assert_int_equal(c.v[0].active, AGW_ACTIVE_TRUE);
	collected_clear(&c);
	/* chunked, with a chunk extension, LF line ends */
	size_t half = strlen(doc) / 2;
	snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n\n%zx;x=y\n%.*s\n%zx\n%s\n0\n\n", half,
		 (int)half, doc, strlen(doc) - half, doc + half);
	assert_int_equal(run_text(buf, &c, err, sizeof(err)), 1);
	assert_int_equal(c.v[0].kind, AGW_KIND_MOTION);
	collected_clear(&c);
	/* errors: the line numbers are the file's */
	assert_int_equal(run_text("HTTP/1.1 200 OK\r\nServer: x\r\n", &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 1: HTTP response head without the empty line that ends it");
	assert_int_equal(run_text("HTTP/1.1 200 OK\nServer: x\n\n<a>\n<b></a>", &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 5: end tag does not match the start tag");
	assert_int_equal(run_text("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n<a/>", &c, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "line 4: bad chunk in a chunked HTTP body");
	assert_int_equal(run_text("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfff\r\n<a/>", &c, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(run_text("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n<a/>X\r\n0\r\n\r\n", &c, err,
				  sizeof(err)),
			 -EINVAL);
	/* the adapter's path reads bodies only */
	struct soap *soap = agw_onvif_soap_new();
	assert_non_null(soap);
	snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n\r\n%s", doc);
	assert_int_equal(agw_onvif_normalize_soap(soap, buf, strlen(buf), NULL, collect, &c, NULL, err, sizeof(err)),
			 -EINVAL);
	agw_onvif_soap_free(soap);
	assert_int_equal(c.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hikvision),
		cmocka_unit_test(test_axis_initialized),
		cmocka_unit_test(test_prefixes_s_sc),
		cmocka_unit_test(test_vendor_mix),
		cmocka_unit_test(test_vendor_payload_and_namespaces),
		cmocka_unit_test(test_bare_and_metadata),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_topic_table),
		cmocka_unit_test(test_topics_seen_in_the_field),
		cmocka_unit_test(test_state_item),
		cmocka_unit_test(test_other_answers),
		cmocka_unit_test(test_xml_declaration),
		cmocka_unit_test(test_topic_item_conditions),
		cmocka_unit_test(test_http_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
