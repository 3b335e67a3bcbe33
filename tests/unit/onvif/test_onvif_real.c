/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Normalization of real camera captures (tests/fixtures/onvif/real, origins in its README): for
 * every document, what each of its NotificationMessages must become, written from reading the
 * document. Every document is checked and every difference printed before the test fails, so a
 * run shows how many documents are wrong, not only the first. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "onvif_normalize.h"

#define MAX_MESSAGES 12
#define T 1 /* active true */
#define F 0 /* active false */
#define N -1 /* no state: a pulse */

/* One NotificationMessage: items as "Name=Value|Name=Value" in document order. */
struct want_msg {
	const char *topic;
	enum agw_alert_kind kind;
	int active;
	const char *operation; /* NULL: none */
	const char *camera_time; /* NULL: unknown */
	const char *source;
	const char *key;
	const char *data;
};

struct want_doc {
	const char *file;
	int rc;           /* normalize's return: the number of messages, or a negative errno */
	const char *err;  /* for rc < 0: the start of the message */
	struct want_msg msg[MAX_MESSAGES];
};

#define CMD "tns1:RuleEngine/CellMotionDetector/"
#define MYRULE "tns1:RuleEngine/MyRuleDetector/"
#define HIK_T "2024-05-25T23:59:38Z"
#define TAPO_SRC(rule)                                                                               \
	"VideoSourceConfigurationToken=vsconf|VideoAnalyticsConfigurationToken=VideoAnalyticsToken|Rule=" rule
#define MILE_SRC(rule)                                                                               \
	"VideoSourceConfigurationToken=VideoSourceToken|VideoAnalyticsConfigurationToken=VideoAnalyticsToken|Rule=" rule

static const struct want_doc docs[] = {
	/* Axis, RTSP metadata stream documents */
	{"axis_audio_init.xml", 1, NULL, {{"tns1:AudioSource/tnsaxis:TriggerLevel", AGW_KIND_AUDIO, F, "Initialized",
		"2019-02-06T18:58:50.922Z", "channel=1", "", "triggered=0"}}},
	{"axis_daynight_init.xml", 1, NULL, {{"tns1:VideoSource/tnsaxis:DayNightVision", AGW_KIND_OTHER, T, "Initialized",
		"2019-02-06T18:58:51.007Z", "VideoSourceConfigurationToken=1", "", "day=1"}}},
	{"axis_fence_guard_init.xml", 1, NULL, {{"tnsaxis:CameraApplicationPlatform/FenceGuard/Camera1Profile1",
		AGW_KIND_LINE_CROSSING, F, "Initialized", "2020-09-04T20:08:34.701Z", "", "", "active=0"}}},
	/* the first document of a metadata stream: no event yet */
	{"axis_first_message.xml", 0, NULL, {{0}}},
	{"axis_global_scene_change.xml", 1, NULL, {{"tns1:VideoSource/GlobalSceneChange/ImagingService",
		AGW_KIND_SCENE_CHANGE, F, "Initialized", "2020-09-05T04:45:30.199Z", "Source=0", "", "State=0"}}},
	{"axis_light_status_init.xml", 1, NULL, {{"tns1:Device/tnsaxis:Light/Status", AGW_KIND_OTHER, F, "Initialized",
		"2020-09-05T04:25:51.692Z", "id=0", "", "state=OFF"}}},
	{"axis_loitering_guard_init.xml", 1, NULL, {{"tnsaxis:CameraApplicationPlatform/LoiteringGuard/Camera1Profile1",
		AGW_KIND_LOITERING, F, "Initialized", "2020-09-04T20:57:25.764Z", "", "", "active=0"}}},
	{"axis_motion_alarm_and_aoa.xml", 2, NULL, {
		{"tns1:VideoSource/MotionAlarm", AGW_KIND_MOTION, T, "Changed", "2026-08-29T18:25:09Z", "Source=0", "", "State=1"},
		{"tnsaxis:CameraApplicationPlatform/ObjectAnalytics/Device1Scenario1", AGW_KIND_INTRUSION, T, "Changed",
			"2026-08-29T18:25:08Z", "", "", "active=1|classTypes=human|scenarioType=ObjectInArea|objectId=68600"}}},
	{"axis_motion_guard_init.xml", 1, NULL, {{"tnsaxis:CameraApplicationPlatform/MotionGuard/Camera1ProfileANY",
		AGW_KIND_MOTION, F, "Initialized", "2020-09-04T21:01:36.676Z", "", "", "active=0"}}},
	{"axis_object_analytics_any_change.xml", 1, NULL, {{"tnsaxis:CameraApplicationPlatform/ObjectAnalytics/Device1Scenario1",
		AGW_KIND_INTRUSION, T, "Changed", "2024-10-07T21:09:26.046Z", "", "", "classTypes=human|active=1|objectId=234232"}}},
	{"axis_pir_change.xml", 1, NULL, {{"tns1:Device/tnsaxis:Sensor/PIR", AGW_KIND_MOTION, T, "Changed",
		"2019-03-12T23:48:28.425Z", "sensor=0", "", "state=1"}}},
	{"axis_port_0_init.xml", 1, NULL, {{"tns1:Device/tnsaxis:IO/Port", AGW_KIND_DIGITAL_INPUT, F, "Initialized",
		"2019-01-15T07:50:45.206Z", "port=1", "", "state=0"}}},
	{"axis_ptz_move_start.xml", 1, NULL, {{"tns1:PTZController/tnsaxis:Move/Channel_1", AGW_KIND_OTHER, T, "Changed",
		"2020-11-03T20:04:53.005Z", "PTZConfigurationToken=1", "", "is_moving=1"}}},
	{"axis_ptz_preset_at_1_true.xml", 1, NULL, {{"tns1:PTZController/tnsaxis:PTZPresets/Channel_1", AGW_KIND_OTHER, T,
		"Changed", "2020-11-03T20:22:29.579Z", "PresetToken=1", "", "on_preset=1"}}},
	{"axis_relay_init.xml", 1, NULL, {{"tns1:Device/Trigger/Relay", AGW_KIND_RELAY, F, "Initialized",
		"2019-04-22T20:13:20.192Z", "RelayToken=3", "", "LogicalState=inactive"}}},
	{"axis_rule_engine_region_detector_init.xml", 1, NULL, {{"tns1:RuleEngine/MotionRegionDetector/Motion",
		AGW_KIND_MOTION, F, "Initialized", "2021-01-06T17:46:45.115Z", "VideoSource=0|RuleName=Profile 1V", "", "State=0"}}},
	{"axis_storage_alert_init.xml", 1, NULL, {{"tnsaxis:Storage/Alert", AGW_KIND_STORAGE_FAILURE, F, "Initialized",
		"2020-06-02T20:35:42.477Z", "disk_id=NetworkShare", "", "overall_health=-3|alert=0|wear=-3|temperature=-3"}}},
	{"axis_vmd3_init.xml", 1, NULL, {{"tns1:RuleEngine/tnsaxis:VMD3/vmd3_video_1", AGW_KIND_MOTION, F, "Initialized",
		"2019-04-17T09:30:44.352Z", "areaid=0", "", "active=0"}}},
	{"axis_vmd4_any_init.xml", 1, NULL, {{"tnsaxis:CameraApplicationPlatform/VMD/Camera1ProfileANY", AGW_KIND_MOTION, F,
		"Initialized", "2019-03-12T23:32:17.591Z", "", "", "active=0"}}},
	{"axis_vmd4_c1p1_change.xml", 1, NULL, {{"tnsaxis:CameraApplicationPlatform/VMD/Camera1Profile1", AGW_KIND_MOTION, T,
		"Changed", "2019-03-13T00:03:30.256Z", "", "", "active=1"}}},

	/* Hanwha (Samsung Wisenet) metadata: a SimpleItemDescription in Key (no item), a clock in 2000 */
	{"hanwha_metadata_motion.xml", 1, NULL, {{"tns1:VideoAnalytics/tnssamsung:MotionDetection", AGW_KIND_MOTION, F,
		"Changed", "2000-01-06T23:24:25.472Z", "VideoSourceToken=85a593ef-e6e0-4e40-9e3d-f4252623e776", "",
		"State=false"}}},

	/* Ajax camera: a vendor namespace mid-topic, states named Detected, a line crossing told only
	 * by an ElementItem (a pulse, the element kept in the payload) */
	{"ajax_motion_detector.xml", 1, NULL, {{"tns1:RuleEngine/tnsajax:MotionDetector/Detection", AGW_KIND_MOTION, T,
		"Changed", "2026-01-10T20:04:32Z", "VideoSourceToken=vsconf|Rule=AjaxMotionRule", "", "Detected=true"}}},
	{"ajax_line_crossing.xml", 1, NULL, {{"tns1:RuleEngine/tnsajax:LineDetector/Crossing", AGW_KIND_LINE_CROSSING, N,
		NULL, "2026-03-08T16:23:29.197Z", "VideoSourceToken=9c756e1c82d0-0|Rule=9c756e1c82d0-0-dk2t3c", "", ""}}},

	/* eyetowers/gonvif#1: a camera's Initialized burst with Hikvision's tnshik namespace, a zoneless
	 * UtcTime (UTC by definition), State in capitals, the video source under the name "Source" */
	{"tnshik_videocover_tamper_gonvif1.xml", 3, NULL, {
		{"tns1:VideoAnalytics/tnshik:MotionAlarm", AGW_KIND_MOTION, F, "Initialized", "2023-06-01T07:27:22Z",
			"Source=vstoken_ch0001", "", "State=FALSE"},
		{"tns1:UserAlarm/VideoCover", AGW_KIND_TAMPER, F, "Initialized", "2023-06-01T07:27:22Z",
			"VideoSourceToken=vstoken_ch0001", "", "State=FALSE"},
		{"tns1:RuleEngine/TamperDetector/Tamper", AGW_KIND_TAMPER, F, "Initialized", "2023-06-01T07:27:22Z",
			"VideoSourceToken=vstoken_ch0001", "", "State=FALSE"}}},

	/* a Dahua camera (08:ed:ed MAC prefix): DigitalInput with a 000 token */
	{"dahua_digital_input_ha36163.xml", 1, NULL, {{"tns1:Device/Trigger/DigitalInput", AGW_KIND_DIGITAL_INPUT, F, NULL,
		"2020-05-26T14:19:32Z", "InputToken=000", "", "LogicalState=false"}}},

	/* Hikvision camera: an alarm input under a tnshik: segment, State true in the Initialized burst */
	{"hikvision_alarm_in.xml", 1, NULL, {{"tns1:Device/Trigger/tnshik:AlarmIn", AGW_KIND_DIGITAL_INPUT, T, "Initialized",
		"2025-03-13T22:57:26Z", "AlarmInToken=AlarmIn_1", "", "State=true"}}},

	/* Hikvision camera: the whole Initialized burst, Token="" on StorageFailure, a processor load
	 * (a number, not a state) */
	{"hikvision_pull_initialized.xml", 10, NULL, {
		{"tns1:VideoSource/MotionAlarm", AGW_KIND_MOTION, F, "Initialized", HIK_T, "Source=VideoSource_1", "",
			"State=false"},
		{"tns1:VideoSource/GlobalSceneChange/ImagingService", AGW_KIND_SCENE_CHANGE, F, "Initialized", HIK_T,
			"Source=VideoSource_1", "", "State=false"},
		{CMD "Motion", AGW_KIND_MOTION, F, "Initialized", HIK_T, MILE_SRC("MyMotionDetectorRule"), "", "IsMotion=false"},
		{"tns1:VideoSource/ImageTooDark/ImagingService", AGW_KIND_TAMPER, F, "Initialized", HIK_T,
			"Source=VideoSourceToken", "", "State=false"},
		{"tns1:RuleEngine/FieldDetector/ObjectsInside", AGW_KIND_INTRUSION, F, "Initialized", HIK_T,
			MILE_SRC("MyFieldDetector1"), "ObjectId=0", "IsInside=false"},
		{"tns1:Monitoring/OperatingTime/LastReset", AGW_KIND_DEVICE_HEALTH, N, "Initialized", HIK_T, "", "",
			"Status=2022-10-13T06:47:30Z"},
		{"tns1:Monitoring/OperatingTime/LastReboot", AGW_KIND_DEVICE_HEALTH, N, "Initialized", HIK_T, "", "",
			"Status=2022-10-13T06:47:30Z"},
		{"tns1:Monitoring/OperatingTime/LastClockSynchronization", AGW_KIND_DEVICE_HEALTH, N, "Initialized", HIK_T, "",
			"", "Status=2022-10-13T06:47:30Z"},
		{"tns1:Device/HardwareFailure/StorageFailure", AGW_KIND_STORAGE_FAILURE, F, "Initialized", HIK_T, "Token=", "",
			"Failed=false"},
		{"tns1:Monitoring/ProcessorUsage", AGW_KIND_DEVICE_HEALTH, N, "Initialized", HIK_T, "Token=Processor_Usage", "",
			"Value=37"}}},

	/* Hikvision NVR channel: UtcTime without a zone, State FALSE, a vendor namespace mid-topic */
	{"hikvision_nvr_channel_pull.xml", 3, NULL, {
		{"tns1:VideoAnalytics/tnshik:MotionAlarm", AGW_KIND_MOTION, F, "Initialized", "2023-06-01T07:27:22Z",
			"Source=vstoken_ch0001", "", "State=FALSE"},
		{"tns1:UserAlarm/VideoCover", AGW_KIND_TAMPER, F, "Initialized", "2023-06-01T07:27:22Z",
			"VideoSourceToken=vstoken_ch0001", "", "State=FALSE"},
		{"tns1:RuleEngine/TamperDetector/Tamper", AGW_KIND_TAMPER, F, "Initialized", "2023-06-01T07:27:22Z",
			"VideoSourceToken=vstoken_ch0001", "", "State=FALSE"}}},

	/* s:/sc: prefixes, standalone="yes", an empty Header, 00000 tokens */
	{"idx_camera_pull_s_sc.xml", 2, NULL, {
		{CMD "Motion", AGW_KIND_MOTION, T, "Changed", "2022-10-12T00:09:40Z",
			"VideoSourceConfigurationToken=00000|VideoAnalyticsConfigurationToken=00000|Rule=00000", "", "IsMotion=true"},
		{"tns1:VideoSource/MotionAlarm", AGW_KIND_MOTION, T, "Changed", "2022-10-12T00:09:40Z", "Source=00000", "",
			"State=true"}}},

	/* Imou (Dahua) doorbell: a topic with tns1: twice, no PropertyOperation */
	{"imou_digital_input.xml", 1, NULL, {{"tns1:VideoSource/tns1:Device/Trigger/DigitalInput", AGW_KIND_DIGITAL_INPUT, F,
		NULL, "2025-03-14T20:32:00Z", "InputToken=00000", "", "LogicalState=false"}}},

	/* Milesight (env: prefix, Hikvision topic namespace declared): the Initialized burst */
	{"milesight_pull_messages.xml", 8, NULL, {
		{"tns1:VideoSource/MotionAlarm", AGW_KIND_MOTION, F, "Initialized", "2025-04-18T20:34:05Z",
			"Source=VideoSource_1", "", "State=false"},
		{CMD "Motion", AGW_KIND_MOTION, F, "Initialized", "2025-04-18T20:34:05Z", MILE_SRC("MyMotionDetectorRule"), "",
			"IsMotion=false"},
		{"tns1:RuleEngine/TamperDetector/Tamper", AGW_KIND_TAMPER, F, "Initialized", "2025-04-18T20:34:05Z",
			MILE_SRC("MyTamperDetectorRule"), "", "IsTamper=false"},
		{"tns1:VideoSource/ImageTooDark/ImagingService", AGW_KIND_TAMPER, F, "Initialized", "2025-04-18T20:34:05Z",
			"Source=VideoSourceToken", "", "State=false"},
		{"tns1:RuleEngine/FieldDetector/ObjectsInside", AGW_KIND_INTRUSION, F, "Initialized", "2025-04-18T20:34:05Z",
			MILE_SRC("MyFieldDetector1"), "ObjectId=0", "IsInside=false"},
		{"tns1:Monitoring/OperatingTime/LastReset", AGW_KIND_DEVICE_HEALTH, N, "Initialized", "2025-04-18T20:34:05Z", "",
			"", "Status=2025-04-17T15:31:49Z"},
		{"tns1:Monitoring/OperatingTime/LastReboot", AGW_KIND_DEVICE_HEALTH, N, "Initialized", "2025-04-18T20:34:05Z", "",
			"", "Status=2025-04-17T15:31:49Z"},
		{"tns1:Monitoring/OperatingTime/LastClockSynchronization", AGW_KIND_DEVICE_HEALTH, N, "Initialized",
			"2025-04-18T20:34:05Z", "", "", "Status=2025-04-17T15:31:49Z"}}},
	/* answers of other operations: no notification, not an error */
	{"milesight_create_pull_point_subscription.xml", 0, NULL, {{0}}},
	{"milesight_get_event_properties.xml", 0, NULL, {{0}}},
	{"milesight_get_system_date_and_time.xml", 0, NULL, {{0}}},
	{"milesight_soap_fault.xml", -EPROTO, "fault: ", {{0}}},

	/* npm onvif 0.8.1 mockups (captured answers of a camera) */
	{"npm_pull_messages.xml", 2, NULL, {
		{CMD "Motion", AGW_KIND_MOTION, T, NULL, "2026-11-30T09:12:03.418Z",
			"VideoSourceConfigurationToken=000|VideoAnalyticsConfigurationToken=000|Rule=000", "", "IsMotion=true"},
		{CMD "Motion", AGW_KIND_MOTION, T, NULL, "2026-11-30T09:12:04.006Z",
			"VideoSourceConfigurationToken=000|VideoAnalyticsConfigurationToken=000|Rule=000", "", "IsMotion=true"}}},
	{"npm_create_pull_point_subscription.xml", 0, NULL, {{0}}},
	{"npm_get_capabilities.xml", 0, NULL, {{0}}},
	{"npm_get_event_properties.xml", 0, NULL, {{0}}},
	{"npm_get_services.xml", 0, NULL, {{0}}},
	{"npm_get_system_date_and_time.xml", 0, NULL, {{0}}},
	{"npm_unsubscribe.xml", 0, NULL, {{0}}},
	/* SOAP-ENV never declared (and typographic quotes in the XML declaration, which gSOAP
	 * tolerates): not namespace-well-formed, an event document gets no leniency */
	{"npm_error.xml", -EINVAL, "line 2: undeclared namespace prefix", {{0}}},

	/* the ONVIF Core specification's example: topic and times wrapped in new lines, Crossed is a
	 * pulse (ObjectId is a number, not a state) */
	{"onvif_core_spec_pull_crossed.xml", 1, NULL, {{"tns1:RuleEngine/LineDetector/Crossed", AGW_KIND_LINE_CROSSING, N,
		NULL, "2008-10-10T12:24:57.321Z",
		"VideoSourceConfigurationToken=1|VideoAnalyticsConfigurationToken=2|Rule=MyImportantFence1", "", "ObjectId=15"}}},

	/* a line crossing whose only Data item is ObjectId 0: a pulse, not a state */
	{"line_detector_crossed_objectid0.xml", 1, NULL, {{"tns1:RuleEngine/LineDetector/Crossed", AGW_KIND_LINE_CROSSING, N,
		"Initialized", "2020-05-24T07:24:47Z",
		"VideoSourceConfigurationToken=video_source_config1|VideoAnalyticsConfigurationToken=analytics_video_source|"
		"Rule=MyLineDetectorRule", "", "ObjectId=0"}}},

	/* a camera that says State (not IsMotion) on CellMotionDetector */
	{"unnamed_cellmotion_state.xml", 1, NULL, {{CMD "Motion", AGW_KIND_MOTION, T, "Initialized", "2021-03-14T13:00:21Z",
		"VideoSource=V_SRC_000|Rule=MyMotionDetectorRule", "", "State=true"}}},

	/* Reolink: 1970 clock, State items, the doorbell's Visitor */
	{"reolink_pull_initialized.xml", 2, NULL, {
		{MYRULE "FaceDetect", AGW_KIND_FACE, F, "Initialized", NULL, "Source=VideoSourceToken", "", "State=false"},
		{MYRULE "PeopleDetect", AGW_KIND_PERSON, F, "Initialized", "2022-06-29T10:45:41Z", "Source=VideoSourceToken", "",
			"State=false"}}},
	/* Reolink package detection: no kind of its own, kept as "other" with its raw topic */
	{"reolink_package.xml", 1, NULL, {{MYRULE "Package", AGW_KIND_OTHER, T, "Initialized", "2025-03-12T09:54:27Z",
		"Source=000", "", "State=true"}}},
	{"reolink_doorbell_visitor.xml", 1, NULL, {{MYRULE "Visitor", AGW_KIND_DOORBELL, T, "Changed", "2022-11-01T11:59:43Z",
		"Source=000", "", "State=true"}}},
	{"reolink_doorbell_pull_oneline.xml", 2, NULL, {
		{MYRULE "VehicleDetect", AGW_KIND_VEHICLE, F, "Initialized", "2024-03-12T00:45:48Z", "Source=VideoSourceToken", "",
			"State=false"},
		{MYRULE "DogCatDetect", AGW_KIND_OTHER, F, "Initialized", "2024-03-12T00:45:48Z", "Source=VideoSourceToken", "",
			"State=false"}}},

	/* Samsung (Hanwha) PNF-9010R: vendor namespace mid-topic; no UtcTime, no Data */
	{"samsung_motion_detection.xml", 1, NULL, {{"tns1:VideoAnalytics/tnssamsung:MotionDetection", AGW_KIND_MOTION, N, NULL,
		NULL, "Window=0", "", ""}}},

	/* TP-Link Tapo: what happened is in the item name */
	{"tplink_tapo_cellmotion_variants.xml", 5, NULL, {
		{CMD "LineCross", AGW_KIND_LINE_CROSSING, T, "Changed", "2025-01-03T21:05:14Z", TAPO_SRC("MyLineCrossDetectorRule"),
			"", "IsLineCross=true"},
		{CMD "TpSmartEvent", AGW_KIND_VEHICLE, T, "Changed", "2025-01-05T14:02:09Z", TAPO_SRC("MyTPSmartEventDetectorRule"),
			"", "IsVehicle=true"},
		{CMD "People", AGW_KIND_PERSON, T, "Changed", "2025-01-03T20:09:22Z", TAPO_SRC("MyPeopleDetectorRule"), "",
			"IsPeople=true"},
		{CMD "Tamper", AGW_KIND_TAMPER, T, "Changed", "2025-01-05T21:01:05Z", TAPO_SRC("MyTamperDetectorRule"), "",
			"IsTamper=true"},
		{CMD "Intrusion", AGW_KIND_INTRUSION, T, "Changed", "2025-01-11T10:40:45Z", TAPO_SRC("MyIntrusionDetectorRule"), "",
			"IsIntrusion=true"}}},
	/* Tapo C200: Value before Name, a 1970 clock */
	{"tplink_tapo_c200_motion.xml", 1, NULL, {{CMD "Motion", AGW_KIND_MOTION, F, "Changed", NULL,
		TAPO_SRC("MyMotionDetectorRule"), "", "IsMotion=false"}}},
	{"tplink_tapo_smart_events.xml", 3, NULL, {
		{"tns1:RuleEngine/TPSmartEventDetector/TPSmartEvent", AGW_KIND_VEHICLE, T, "Changed", "2024-11-02T00:33:11Z",
			TAPO_SRC("MyTPSmartEventDetectorRule"), "", "IsVehicle=true"},
		{"tns1:RuleEngine/PeopleDetector/People", AGW_KIND_PERSON, T, "Changed", "2024-11-03T18:40:43Z",
			TAPO_SRC("MyPeopleDetectorRule"), "", "IsPeople=true"},
		{"tns1:RuleEngine/TPSmartEventDetector/TPSmartEvent", AGW_KIND_OTHER, T, "Changed", "2025-01-22T13:24:57Z",
			TAPO_SRC("MyTPSmartEventDetectorRule"), "", "IsPet=true"}}},
};

struct got {
	struct agw_alert v[MAX_MESSAGES + 1];
	size_t n;
};

static int collect(void *arg, struct agw_alert *a)
{
	struct got *g = arg;
	if (g->n > MAX_MESSAGES)
		return -E2BIG;
	agw_alert_init(&g->v[g->n]);
	int rc = agw_alert_copy(&g->v[g->n], a);
	if (rc == 0)
		g->n++;
	return rc;
}

static void items_text(const struct agw_items *items, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < items->n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s=%s", i ? "|" : "", items->v[i].name,
					items->v[i].value ? items->v[i].value : "");
}

/* Prints each difference; returns how many. */
static int compare_msg(const char *file, size_t i, const struct want_msg *w, const struct agw_alert *a)
{
	int bad = 0;
	char buf[1024];
#define DIFF(what, fmt, want, got)                                                                         \
	do {                                                                                               \
		fprintf(stderr, "%s #%zu %s: want " fmt ", got " fmt "\n", file, i, what, want, got);       \
		bad++;                                                                                     \
	} while (0)
	if (strcmp(w->topic, a->topic ? a->topic : ""))
		DIFF("topic", "'%s'", w->topic, a->topic);
	if (w->kind != a->kind)
		DIFF("kind", "%s", agw_alert_kind_name(w->kind), agw_alert_kind_name(a->kind));
	int active = a->active == AGW_ACTIVE_NONE ? N : a->active == AGW_ACTIVE_TRUE ? T : F;
	if (w->active != active)
		DIFF("active", "%d", w->active, active);
	const char *op = agw_operation_name(a->operation);
	if ((w->operation || op) && (!w->operation || !op || strcmp(w->operation, op)))
		DIFF("operation", "%s", w->operation ? w->operation : "(none)", op ? op : "(none)");
	int64_t want_ms = AGW_TIME_UNKNOWN;
	if (w->camera_time && agw_time_parse_ms(w->camera_time, &want_ms) < 0)
		DIFF("camera_time (expectation unreadable)", "%s", w->camera_time, "");
	if (want_ms != a->camera_time_ms)
		DIFF("camera_time ms", "%lld", (long long)want_ms, (long long)a->camera_time_ms);
	/* an unmapped topic is kept whole: its raw message goes with it */
	if (w->kind == AGW_KIND_OTHER && !a->payload)
		DIFF("payload", "%s", "(the raw message)", "(none)");
	const struct agw_items *lists[] = {&a->source, &a->key, &a->data};
	const char *wants[] = {w->source, w->key, w->data};
	const char *names[] = {"source", "key", "data"};
	for (size_t k = 0; k < 3; k++) {
		items_text(lists[k], buf, sizeof(buf));
		if (strcmp(wants[k], buf))
			DIFF(names[k], "'%s'", wants[k], buf);
	}
#undef DIFF
	return bad;
}

/* Returns the number of differences of one document (0: right). */
static int check_doc(const struct want_doc *d)
{
	char path[512], err[512] = "";
	snprintf(path, sizeof(path), "%s/onvif/real/%s", AGW_FIXTURES, d->file);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: cannot open\n", path);
		return 1;
	}
	char *xml = malloc(1 << 20);
	assert_non_null(xml);
	size_t len = fread(xml, 1, 1 << 20, f);
	fclose(f);
	struct got g = {0};
	int rc = agw_onvif_normalize(xml, len, NULL, collect, &g, err, sizeof(err));
	free(xml);
	int bad = 0;
	if (rc != d->rc) {
		fprintf(stderr, "%s: normalize returned %d (%s), want %d\n", d->file, rc, err, d->rc);
		bad++;
	} else if (rc < 0 && strncmp(err, d->err, strlen(d->err))) {
		fprintf(stderr, "%s: error '%s', want it to start with '%s'\n", d->file, err, d->err);
		bad++;
	}
	size_t want_n = d->rc > 0 ? (size_t)d->rc : 0;
	for (size_t i = 0; i < g.n && i < want_n; i++)
		bad += compare_msg(d->file, i, &d->msg[i], &g.v[i]);
	if (g.n != want_n && rc == d->rc) {
		fprintf(stderr, "%s: %zu messages, want %zu\n", d->file, g.n, want_n);
		bad++;
	}
	for (size_t i = 0; i < g.n; i++)
		agw_alert_clear(&g.v[i]);
	return bad;
}

static void test_real_captures(void **state)
{
	(void)state;
	size_t n = sizeof(docs) / sizeof(docs[0]), wrong = 0, messages = 0;
	for (size_t i = 0; i < n; i++) {
		if (check_doc(&docs[i]))
			wrong++;
		messages += docs[i].rc > 0 ? (size_t)docs[i].rc : 0;
	}
	fprintf(stderr, "real captures: %zu of %zu documents (%zu notification messages) normalized wrong\n", wrong, n,
		messages);
	assert_int_equal(wrong, 0);
}

/* The fixture set is the whole directory: a capture added without an expectation fails here. */
static void test_every_fixture_has_expectations(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "ls '%s/onvif/real' | grep -c '\\.xml$'", AGW_FIXTURES);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	unsigned files = 0;
	assert_int_equal(fscanf(p, "%u", &files), 1);
	pclose(p);
	assert_int_equal(files, sizeof(docs) / sizeof(docs[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_captures),
		cmocka_unit_test(test_every_fixture_has_expectations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
