/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Requests written by the gSOAP bindings: SOAP 1.2, WS-Addressing on subscription calls,
 * WS-Security PasswordDigest in camera time; responses read back from memory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "alarmgw/alert.h"
#include "onvif_requests.h"
#include "onvif_normalize.h"

/* Text between <prefix:name ...> and </prefix:name>, for any prefix; NULL when absent. */
static char *element_text(const char *xml, const char *local)
{
	char open[64];
	snprintf(open, sizeof(open), ":%s", local);
	const char *p = xml;
	while ((p = strstr(p, open))) {
		const char *lt = p;
		while (lt > xml && *lt != '<' && *lt != '/' && *lt != ' ')
			lt--;
		char after = p[strlen(open)];
		if (*lt == '<' && (after == '>' || after == ' ')) {
			const char *gt = strchr(p, '>');
			assert_non_null(gt);
			const char *end = strstr(gt, "</");
			assert_non_null(end);
			return strndup(gt + 1, (size_t)(end - gt - 1));
		}
		p += strlen(open);
	}
	return NULL;
}

static void test_digest_vector(void **state)
{
	(void)state;
	/* expected value computed independently: base64(sha1(bytes(range(16)) + created + password)) */
	unsigned char nonce[16];
	for (int i = 0; i < 16; i++)
		nonce[i] = (unsigned char)i;
	char out[64];
	assert_int_equal(agw_onvif_wsse_digest(nonce, sizeof(nonce), "2026-11-22T08:15:01.123Z", "s3cret", out, sizeof(out)), 0);
	assert_string_equal(out, "c6U0oqQEnX6/gXT9Niz0lRq+TjI=");
	assert_int_equal(agw_onvif_wsse_digest(nonce, sizeof(nonce), "x", "y", out, 10), -EINVAL);
}

static void test_pull_request(void **state)
{
	(void)state;
	struct soap *soap = agw_onvif_soap_new();
	assert_non_null(soap);
	int64_t camera_now;
	assert_int_equal(agw_time_parse_ms("2000-01-01T00:00:05.250Z", &camera_now), 0);
	struct agw_onvif_request req = {
		.op = AGW_ONVIF_PULL_MESSAGES,
		.to = "http://10.1.2.3:8080/onvif/Subscription?Idx=11",
		.username = "admin",
		.password = "pa<ss&word",
		.camera_now_ms = camera_now,
		.duration = "PT10S",
		.message_limit = 50,
	};
	char *xml = NULL;
	const char *action = NULL;
	assert_int_equal(agw_onvif_request_build(soap, &req, &xml, &action), 0);
	assert_string_equal(action, "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest");
	assert_non_null(strstr(xml, "http://www.w3.org/2003/05/soap-envelope"));
	char *to = element_text(xml, "To"), *act = element_text(xml, "Action");
	assert_non_null(to);
	assert_string_equal(to, "http://10.1.2.3:8080/onvif/Subscription?Idx=11");
	assert_string_equal(act, action);
	char *timeout = element_text(xml, "Timeout"), *limit = element_text(xml, "MessageLimit");
	assert_string_equal(timeout, "PT10S");
	assert_string_equal(limit, "50");
	/* the digest in the document verifies against its own nonce and Created */
	char *user = element_text(xml, "Username"), *created = element_text(xml, "Created");
	char *nonce64 = element_text(xml, "Nonce"), *digest = element_text(xml, "Password");
	assert_string_equal(user, "admin");
	assert_string_equal(created, "2000-01-01T00:00:05.250Z");
	unsigned char nonce[64];
	int n = EVP_DecodeBlock(nonce, (const unsigned char *)nonce64, (int)strlen(nonce64));
	assert_int_equal(n, 18); /* 16 bytes, padded to a multiple of 3 by the decoder */
	char want[64];
	assert_int_equal(agw_onvif_wsse_digest(nonce, 16, created, "pa<ss&word", want, sizeof(want)), 0);
	assert_string_equal(digest, want);
	assert_non_null(strstr(xml, "#PasswordDigest"));
	assert_null(strstr(xml, "pa<ss&word"));
	assert_null(strstr(xml, "pa&lt;ss"));
	free(to);
	free(act);
	free(timeout);
	free(limit);
	free(user);
	free(created);
	free(digest);

	/* a second request has a fresh nonce */
	char *xml2 = NULL;
	assert_int_equal(agw_onvif_request_build(soap, &req, &xml2, &action), 0);
	char *nonce2 = element_text(xml2, "Nonce");
	assert_string_not_equal(nonce64, nonce2);
	free(nonce64);
	free(nonce2);
	free(xml2);
	free(xml);

	/* GetSystemDateAndTime without credentials carries neither WS-Security nor WS-Addressing */
	struct agw_onvif_request t = {.op = AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME, .to = "http://10.1.2.3/onvif/device_service"};
	assert_int_equal(agw_onvif_request_build(soap, &t, &xml, &action), 0);
	assert_null(strstr(xml, "Security"));
	assert_null(strstr(xml, ":To"));
	assert_non_null(strstr(xml, "GetSystemDateAndTime"));
	free(xml);
	agw_onvif_soap_free(soap);
}

static void test_responses(void **state)
{
	(void)state;
	struct soap *soap = agw_onvif_soap_new();
	struct agw_onvif_response r;
	char err[256];
	const char *time_xml =
		"<env:Envelope xmlns:env='http://www.w3.org/2003/05/soap-envelope' xmlns:tds='http://www.onvif.org/ver10/device/wsdl' "
		"xmlns:tt='http://www.onvif.org/ver10/schema'><env:Body><tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
		"<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone>"
		"<tt:UTCDateTime><tt:Time><tt:Hour>1</tt:Hour><tt:Minute>2</tt:Minute><tt:Second>3</tt:Second></tt:Time>"
		"<tt:Date><tt:Year>1970</tt:Year><tt:Month>1</tt:Month><tt:Day>2</tt:Day></tt:Date></tt:UTCDateTime>"
		"</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse></env:Body></env:Envelope>";
	assert_int_equal(agw_onvif_response_parse(soap, AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME, time_xml, strlen(time_xml), &r,
						  err, sizeof(err)), 0);
	/* a camera reset to 1970 still has a clock: the offset is what matters */
	assert_int_equal(r.camera_time_ms, (int64_t)(86400 + 3600 + 120 + 3) * 1000);
	agw_onvif_response_clear(&r);

	const char *sub_xml =
		"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope' xmlns:a='http://www.w3.org/2005/08/addressing' "
		"xmlns:tev='http://www.onvif.org/ver10/events/wsdl' xmlns:wsnt='http://docs.oasis-open.org/wsn/b-2'><s:Header/><s:Body>"
		"<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><a:Address>http://192.168.1.64/onvif/Subscription?Idx=11"
		"</a:Address></tev:SubscriptionReference><wsnt:CurrentTime>2026-11-22T08:00:00Z</wsnt:CurrentTime>"
		"<wsnt:TerminationTime>2026-11-22T08:01:00Z</wsnt:TerminationTime></tev:CreatePullPointSubscriptionResponse></s:Body></s:Envelope>";
	assert_int_equal(agw_onvif_response_parse(soap, AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION, sub_xml, strlen(sub_xml), &r,
						  err, sizeof(err)), 0);
	assert_string_equal(r.subscription_address, "http://192.168.1.64/onvif/Subscription?Idx=11");
	assert_int_equal(r.termination_ms - r.camera_time_ms, 60000);
	agw_onvif_response_clear(&r);

	const char *svc_xml =
		"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope' xmlns:tds='http://www.onvif.org/ver10/device/wsdl'><s:Body>"
		"<tds:GetServicesResponse><tds:Service><tds:Namespace>http://www.onvif.org/ver10/device/wsdl</tds:Namespace>"
		"<tds:XAddr>http://192.168.1.64/onvif/device_service</tds:XAddr></tds:Service><tds:Service><tds:Namespace> "
		"http://www.onvif.org/ver10/events/wsdl</tds:Namespace><tds:XAddr>http://192.168.1.64/onvif/Events</tds:XAddr>"
		"<tds:Version><tds:Major>2</tds:Major><tds:Minor>60</tds:Minor></tds:Version></tds:Service></tds:GetServicesResponse>"
		"</s:Body></s:Envelope>";
	assert_int_equal(agw_onvif_response_parse(soap, AGW_ONVIF_GET_SERVICES, svc_xml, strlen(svc_xml), &r, err, sizeof(err)), 0);
	assert_string_equal(r.events_xaddr, "http://192.168.1.64/onvif/Events");
	assert_int_equal(r.count, 2);
	agw_onvif_response_clear(&r);

	/* the fault of a subscription call; a response to another operation is an error */
	const char *fault =
		"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope' xmlns:ter='http://www.onvif.org/ver10/error'><s:Body>"
		"<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>ter:Action</s:Value></s:Subcode></s:Code>"
		"<s:Reason><s:Text xml:lang='en'>no such subscription</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>";
	assert_int_equal(agw_onvif_response_parse(soap, AGW_ONVIF_RENEW, fault, strlen(fault), &r, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "ter:Action"));
	assert_non_null(strstr(err, "no such subscription"));
	assert_int_not_equal(agw_onvif_response_parse(soap, AGW_ONVIF_RENEW, svc_xml, strlen(svc_xml), &r, err, sizeof(err)), 0);
	const char *nosub =
		"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope' xmlns:tev='http://www.onvif.org/ver10/events/wsdl'>"
		"<s:Body><tev:CreatePullPointSubscriptionResponse/></s:Body></s:Envelope>";
	assert_int_equal(agw_onvif_response_parse(soap, AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION, nosub, strlen(nosub), &r, err,
						  sizeof(err)), -ENOENT);
	assert_int_equal(agw_onvif_response_parse(soap, AGW_ONVIF_GET_SERVICES, "<a>", 3, &r, err, sizeof(err)), -EINVAL);
	agw_onvif_soap_free(soap);
}

/* Axis identifies subscriptions by a ReferenceParameter whose prefix the Envelope declares: it is
 * echoed in the header of every subscription call, with its declaration. */
static void test_reference_parameters(void **state)
{
	(void)state;
	struct soap *soap = agw_onvif_soap_new();
	struct agw_onvif_response r;
	char err[256];
	const char *xml =
		"<SOAP-ENV:Envelope xmlns:SOAP-ENV='http://www.w3.org/2003/05/soap-envelope' "
		"xmlns:wsa5='http://www.w3.org/2005/08/addressing' xmlns:tev='http://www.onvif.org/ver10/events/wsdl' "
		"xmlns:dom0='http://www.axis.com/2009/event'><SOAP-ENV:Body><tev:CreatePullPointSubscriptionResponse>"
		"<tev:SubscriptionReference><wsa5:Address>http://192.168.0.90/onvif/services</wsa5:Address>"
		"<wsa5:ReferenceParameters><dom0:SubscriptionId>14</dom0:SubscriptionId></wsa5:ReferenceParameters>"
		"</tev:SubscriptionReference></tev:CreatePullPointSubscriptionResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>";
	assert_int_equal(agw_onvif_response_parse(soap, AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION, xml, strlen(xml), &r,
						  err, sizeof(err)), 0);
	assert_string_equal(r.reference_params,
			    "<dom0:SubscriptionId xmlns:dom0=\"http://www.axis.com/2009/event\">14</dom0:SubscriptionId>");
	struct agw_onvif_request req = {.op = AGW_ONVIF_PULL_MESSAGES, .to = r.subscription_address, .duration = "PT5S",
					.message_limit = 10, .reference_params = r.reference_params};
	char *out = NULL;
	const char *action;
	assert_int_equal(agw_onvif_request_build(soap, &req, &out, &action), 0);
	const char *hdr = strstr(out, "Header>"), *body = strstr(out, ":Body>");
	const char *ref = strstr(out, "<dom0:SubscriptionId xmlns:dom0=\"http://www.axis.com/2009/event\">14<");
	assert_non_null(ref);
	assert_true(hdr && body && ref > hdr && ref < body);
	/* what goes out is well-formed, prefixes declared */
	assert_int_equal(agw_onvif_xml_check(out, strlen(out), err, sizeof(err)), 0);
	free(out);
	/* a subscription without them sends none */
	agw_onvif_response_clear(&r);
	req.reference_params = NULL;
	req.to = "http://192.168.0.90/onvif/services";
	assert_int_equal(agw_onvif_request_build(soap, &req, &out, &action), 0);
	assert_null(strstr(out, "SubscriptionId"));
	free(out);
	agw_onvif_soap_free(soap);
}

/* The PullMessages document refreshed in place is, byte for byte, what gSOAP writes with the same
 * WS-Security fields, poll after poll; fields it cannot place exactly are refused. */
static void test_pull_doc(void **state)
{
	(void)state;
	struct soap *soap = agw_onvif_soap_new();
	const char *refs[] = {NULL, "<dom0:SubscriptionId xmlns:dom0=\"http://www.axis.com/2009/event\">14</dom0:SubscriptionId>"};
	const char *users[] = {"admin", NULL};
	int64_t t0;
	assert_int_equal(agw_time_parse_ms("2026-12-03T16:44:33.657Z", &t0), 0);
	for (int k = 0; k < 4; k++) {
		struct agw_onvif_request req = {.op = AGW_ONVIF_PULL_MESSAGES, .to = "http://10.1.2.3/onvif/Sub?Idx=7&x=<y>",
						.username = users[k / 2], .password = "pa<ss&word", .camera_now_ms = t0,
						.duration = "PT10S", .message_limit = 100, .reference_params = refs[k % 2]};
		struct agw_onvif_pull_doc doc;
		char *xml = NULL, *want = NULL;
		const char *action;
		assert_int_equal(agw_onvif_pull_doc_build(soap, &req, &xml, &doc), 0);
		assert_int_equal(doc.wsse, users[k / 2] != NULL);
		char last_nonce[32] = "";
		for (int poll = 0; poll < 3; poll++) {
			struct agw_onvif_wsse f;
			/* a later time, and one of another day and month */
			assert_int_equal(agw_onvif_wsse_make(req.password, t0 + poll * 86400123LL * 40, &f), 0);
			assert_int_equal(agw_onvif_pull_doc_refresh(xml, &doc, &f), 0);
			req.wsse = &f;
			assert_int_equal(agw_onvif_request_build(soap, &req, &want, &action), 0);
			req.wsse = NULL;
			assert_string_equal(xml, want);
			free(want);
			if (doc.wsse) {
				assert_non_null(strstr(xml, f.created));
				assert_string_not_equal(f.nonce, last_nonce);
				strcpy(last_nonce, f.nonce);
			}
		}
		free(xml);
	}
	/* a Created of another length leaves the document as it was */
	struct agw_onvif_request req = {.op = AGW_ONVIF_PULL_MESSAGES, .to = "http://10.1.2.3/s", .username = "u",
					.password = "p", .camera_now_ms = t0, .duration = "PT10S", .message_limit = 10};
	struct agw_onvif_pull_doc doc;
	struct agw_onvif_wsse f;
	char *xml = NULL;
	assert_int_equal(agw_onvif_pull_doc_build(soap, &req, &xml, &doc), 0);
	char *before = strdup(xml);
	assert_int_equal(agw_onvif_wsse_make("p", 253402300800000LL, &f), 0); /* year 10000 */
	assert_int_equal(strlen(f.created), 25);
	assert_int_equal(agw_onvif_pull_doc_refresh(xml, &doc, &f), -ERANGE);
	assert_string_equal(xml, before);
	free(before);
	free(xml);
	/* a reference parameter that repeats a field's value: the field cannot be placed */
	assert_int_equal(agw_onvif_wsse_make("p", t0, &f), 0);
	char echo[128];
	snprintf(echo, sizeof(echo), "<a:Id xmlns:a=\"urn:x\">%s</a:Id>", f.nonce);
	req.wsse = &f;
	req.reference_params = echo;
	assert_int_equal(agw_onvif_pull_doc_build(soap, &req, &xml, &doc), -EINVAL);
	/* only PullMessages */
	req.op = AGW_ONVIF_RENEW;
	assert_int_equal(agw_onvif_pull_doc_build(soap, &req, &xml, &doc), -EINVAL);
	agw_onvif_soap_free(soap);
}

static void test_op_names(void **state)
{
	(void)state;
	enum agw_onvif_op op;
	for (int i = 0; i < AGW_ONVIF_OP__COUNT; i++) {
		assert_int_equal(agw_onvif_op_parse(agw_onvif_op_name((enum agw_onvif_op)i), &op), 0);
		assert_int_equal(op, i);
	}
	assert_int_equal(agw_onvif_op_parse("Reboot", &op), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_vector),
		cmocka_unit_test(test_pull_request),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_reference_parameters),
		cmocka_unit_test(test_pull_doc),
		cmocka_unit_test(test_op_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
