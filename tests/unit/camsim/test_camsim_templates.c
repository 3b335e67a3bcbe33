/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SOAP answers: every template is well-formed, namespaced XML with the right content. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "kinds.h"
#include "soap.h"
#include "templates.h"

#define NS_TT "http://www.onvif.org/ver10/schema"
#define NS_WSNT "http://docs.oasis-open.org/wsn/b-2"

/* Parses b as a request would be parsed: the body element is the answer. */
static void parse_answer(struct camsim_buf *b, struct camsim_soap_request *r, const char *op)
{
	assert_false(b->failed);
	assert_int_equal(camsim_soap_parse(b->data, b->len, r), 0);
	assert_string_equal(r->op_name, op);
}

static void test_all_well_formed(void **state)
{
	struct camsim_buf b = {0};
	struct camsim_soap_request r;
	char text[128];
	camsim_tpl_system_date_time(&b, "urn:uuid:7", 0, false);
	parse_answer(&b, &r, "GetSystemDateAndTimeResponse");
	assert_string_equal(camsim_soap_text(r.op, NS_TT, "Year", text, sizeof(text)), "1970");
	assert_string_equal(camsim_soap_text(r.header, NULL, "RelatesTo", text, sizeof(text)), "urn:uuid:7");
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);

	camsim_tpl_device_information(&b, "", "cam-00007");
	parse_answer(&b, &r, "GetDeviceInformationResponse");
	assert_string_equal(camsim_soap_text(r.op, NULL, "SerialNumber", text, sizeof(text)), "cam-00007");
	assert_null(camsim_soap_find(r.header, NULL, "RelatesTo"));
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);

	camsim_tpl_capabilities(&b, "", "http://127.0.0.1:9");
	parse_answer(&b, &r, "GetCapabilitiesResponse");
	xmlNode *ev = camsim_soap_find(r.op, NS_TT, "Events");
	assert_string_equal(camsim_soap_text(ev, NS_TT, "XAddr", text, sizeof(text)),
			    "http://127.0.0.1:9/onvif/event_service");
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);

	camsim_tpl_services(&b, "", "http://h:1");
	parse_answer(&b, &r, "GetServicesResponse");
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);
	camsim_tpl_profiles(&b, "", 1);
	parse_answer(&b, &r, "GetProfilesResponse");
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);
	camsim_tpl_stream_uri(&b, "", "127.0.0.1", "cam-00001", "");
	parse_answer(&b, &r, "GetStreamUriResponse");
	assert_string_equal(camsim_soap_text(r.op, NS_TT, "Uri", text, sizeof(text)),
			    "rtsp://127.0.0.1:554/camsim/cam-00001?channel=1&subtype=0");
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);
	/* --stream-url: the configured server's URL, escaped */
	camsim_tpl_stream_uri(&b, "", "127.0.0.1", "cam-00001", "rtsp://127.0.0.1:8554/normal?a=1&b=2");
	parse_answer(&b, &r, "GetStreamUriResponse");
	assert_string_equal(camsim_soap_text(r.op, NS_TT, "Uri", text, sizeof(text)),
			    "rtsp://127.0.0.1:8554/normal?a=1&b=2");
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);
	camsim_tpl_snapshot_uri(&b, "", "http://h:1");
	parse_answer(&b, &r, "GetSnapshotUriResponse");
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);
	camsim_tpl_subscription_created(&b, "", "http://h:1/onvif/subscription?Idx=1&x=<y>", 100, 160);
	parse_answer(&b, &r, "CreatePullPointSubscriptionResponse");
	assert_string_equal(camsim_soap_text(r.op, NULL, "Address", text, sizeof(text)),
			    "http://h:1/onvif/subscription?Idx=1&x=<y>");
	assert_string_equal(camsim_soap_text(r.op, NS_WSNT, "TerminationTime", text, sizeof(text)),
			    "1970-01-01T00:02:40Z");
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);
	camsim_tpl_renewed(&b, "", 100, 200);
	parse_answer(&b, &r, "RenewResponse");
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);
	camsim_tpl_unsubscribed(&b, "");
	parse_answer(&b, &r, "UnsubscribeResponse");
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);
}

static void test_fault(void **state)
{
	struct camsim_buf b = {0};
	struct camsim_soap_request r;
	char text[128];
	camsim_tpl_fault(&b, "", "env:Sender", "ter:NotAuthorized", "Sender <not> Authorized", NULL);
	parse_answer(&b, &r, "Fault");
	xmlNode *sub = camsim_soap_find(r.op, CAMSIM_NS_SOAP12, "Subcode");
	assert_string_equal(camsim_soap_text(sub, CAMSIM_NS_SOAP12, "Value", text, sizeof(text)), "ter:NotAuthorized");
	assert_string_equal(camsim_soap_text(r.op, CAMSIM_NS_SOAP12, "Text", text, sizeof(text)),
			    "Sender <not> Authorized");
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);
}

static void test_pull_messages(void **state)
{
	struct camsim_buf b = {0};
	struct camsim_soap_request r;
	char text[128];
	camsim_tpl_pull_begin(&b, "", 1000, 2000);
	for (int k = 0; k < CAMSIM_KIND_COUNT; k++) {
		struct camsim_event ev = {.seq = (uint64_t)k + 40, .time = 1000, .kind = (uint8_t)k, .active = k % 2,
					  .initialized = k == 0};
		camsim_tpl_notification(&b, "http://h/onvif/subscription?Idx=1", "cam-00003", &ev, &camsim_dialects[0]);
	}
	camsim_tpl_pull_end(&b);
	parse_answer(&b, &r, "PullMessagesResponse");
	int n = 0;
	for (xmlNode *c = r.op->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "NotificationMessage") != 0)
			continue;
		assert_string_equal(camsim_soap_text(c, NS_WSNT, "Topic", text, sizeof(text)), camsim_kinds[n].topic);
		xmlNode *msg = camsim_soap_find(c, NS_TT, "Message");
		xmlChar *op = xmlGetProp(msg, (const xmlChar *)"PropertyOperation");
		xmlChar *utc = xmlGetProp(msg, (const xmlChar *)"UtcTime");
		assert_string_equal((const char *)op, n == 0 ? "Initialized" : "Changed");
		assert_string_equal((const char *)utc, "1970-01-01T00:16:40Z");
		xmlFree(op);
		xmlFree(utc);
		/* the last Data item is the EventId */
		xmlNode *data = camsim_soap_find(msg, NS_TT, "Data");
		xmlNode *last = xmlLastElementChild(data);
		xmlChar *name = xmlGetProp(last, (const xmlChar *)"Name");
		xmlChar *value = xmlGetProp(last, (const xmlChar *)"Value");
		char expect[32];
		camsim_event_id("cam-00003", (uint64_t)n + 40, expect, sizeof(expect));
		assert_string_equal((const char *)name, "EventId");
		assert_string_equal((const char *)value, expect);
		xmlFree(name);
		xmlFree(value);
		if (camsim_kinds[n].state_item) {
			xmlNode *first = xmlFirstElementChild(data);
			xmlChar *item_name = xmlGetProp(first, (const xmlChar *)"Name");
			xmlChar *item_value = xmlGetProp(first, (const xmlChar *)"Value");
			assert_string_equal((const char *)item_name, camsim_kinds[n].state_item);
			assert_string_equal((const char *)item_value, n % 2 ? "true" : "false");
			xmlFree(item_name);
			xmlFree(item_value);
		}
		n++;
	}
	assert_int_equal(n, CAMSIM_KIND_COUNT);
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);
}

/* Every kind's topic appears as a nested element path marked wstop:topic. */
static void test_event_properties(void **state)
{
	struct camsim_buf b = {0};
	struct camsim_soap_request r;
	camsim_tpl_event_properties(&b, "");
	parse_answer(&b, &r, "GetEventPropertiesResponse");
	xmlNode *set = camsim_soap_find(r.op, "http://docs.oasis-open.org/wsn/t-1", "TopicSet");
	assert_non_null(set);
	for (int k = 0; k < CAMSIM_KIND_COUNT; k++) {
		char path[128];
		strcpy(path, strchr(camsim_kinds[k].topic, ':') + 1);
		xmlNode *n = set;
		for (char *part = strtok(path, "/"); part; part = strtok(NULL, "/")) {
			xmlNode *child = NULL;
			for (xmlNode *c = n->children; c; c = c->next)
				if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, part) == 0)
					child = c;
			assert_non_null(child);
			n = child;
		}
		xmlChar *topic = xmlGetNsProp(n, (const xmlChar *)"topic", (const xmlChar *)"http://docs.oasis-open.org/wsn/t-1");
		assert_string_equal((const char *)topic, "true");
		xmlFree(topic);
	}
	/* kinds sharing a root share one element */
	int roots = 0;
	for (xmlNode *c = set->children; c; c = c->next)
		roots += c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "RuleEngine") == 0;
	assert_int_equal(roots, 1);
	camsim_soap_request_free(&r);
	camsim_buf_free(&b);
}

/* Dialects: another envelope prefix (same namespace), boolean spellings, time styles, padded topics. */
static void test_dialects(void **state)
{
	for (int d = 0; d < CAMSIM_DIALECT_COUNT; d++) {
		const struct camsim_dialect *dl = &camsim_dialects[d];
		struct camsim_buf b = {0};
		struct camsim_soap_request r;
		char text[128];
		struct camsim_event ev = {.seq = 9, .time = 60, .kind = 0, .active = true};
		assert_int_equal(camsim_dialect_find(dl->name), d);
		camsim_tpl_pull_begin(&b, "urn:x", 60, 120);
		camsim_tpl_notification(&b, "http://h/s?Idx=1", "cam-00001", &ev, dl);
		camsim_tpl_pull_end(&b);
		camsim_tpl_restyle(&b, dl);
		char open_tag[64];
		snprintf(open_tag, sizeof(open_tag), "<%s:Envelope xmlns:%s=", dl->prefix, dl->prefix);
		assert_non_null(strstr(b.data, open_tag));
		assert_true(strcmp(dl->prefix, "env") == 0 || strstr(b.data, "env:") == NULL);
		parse_answer(&b, &r, "PullMessagesResponse");
		xmlNode *msg = camsim_soap_find(r.op, NS_TT, "Message");
		xmlChar *utc = xmlGetProp(msg, (const xmlChar *)"UtcTime");
		const char *expect_time = dl->time == CAMSIM_TIME_MICROS    ? "1970-01-01T00:01:00.000000Z"
					  : dl->time == CAMSIM_TIME_NO_ZONE ? "1970-01-01T00:01:00"
									    : "1970-01-01T00:01:00Z";
		assert_string_equal((const char *)utc, expect_time);
		xmlFree(utc);
		xmlNode *item = xmlFirstElementChild(camsim_soap_find(msg, NS_TT, "Data"));
		xmlChar *value = xmlGetProp(item, (const xmlChar *)"Value");
		assert_string_equal((const char *)value, dl->yes);
		xmlFree(value);
		xmlNode *topic = camsim_soap_find(r.op, NS_WSNT, "Topic");
		xmlChar *raw = xmlNodeGetContent(topic);
		assert_int_equal(raw[0] == '\n', dl->padded_topic);
		xmlFree(raw);
		assert_string_equal(camsim_soap_text(r.op, NS_WSNT, "Topic", text, sizeof(text)), camsim_kinds[0].topic);
		camsim_soap_request_free(&r);
		camsim_buf_free(&b);
	}
	assert_int_equal(camsim_dialect_find("nonsense"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_well_formed),
		cmocka_unit_test(test_fault),
		cmocka_unit_test(test_pull_messages),
		cmocka_unit_test(test_event_properties),
		cmocka_unit_test(test_dialects),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return r;
}
