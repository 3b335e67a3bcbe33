/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SOAP request parsing: namespaces decide, not prefixes; headers; broken documents. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "soap.h"

static int parse(const char *doc, struct camsim_soap_request *r)
{
	return camsim_soap_parse(doc, strlen(doc), r);
}

static void test_prefixes(void **state)
{
	static const char *const docs[] = {
		"<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\"><env:Body>"
		"<tev:PullMessages xmlns:tev=\"http://www.onvif.org/ver10/events/wsdl\"/></env:Body></env:Envelope>",
		"<?xml version=\"1.0\" standalone=\"yes\"?><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\">"
		"<s:Header/><s:Body>\n  <PullMessages xmlns=\"http://www.onvif.org/ver10/events/wsdl\"/></s:Body></s:Envelope>",
		"<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Body>"
		"<x:PullMessages xmlns:x=\"urn:x\"/></SOAP-ENV:Body></SOAP-ENV:Envelope>",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct camsim_soap_request r;
		assert_int_equal(parse(docs[i], &r), 0);
		assert_string_equal(r.op_name, "PullMessages");
		camsim_soap_request_free(&r);
	}
}

static void test_headers(void **state)
{
	static const char doc[] =
		"<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:w=\"http://www.w3.org/2005/08/addressing\">"
		"<e:Header><w:MessageID> urn:uuid:1 </w:MessageID><w:To>http://h/onvif/subscription?Idx=3</w:To>"
		"<w:Action>urn:act</w:Action></e:Header><e:Body><Renew><TerminationTime>PT60S</TerminationTime></Renew>"
		"</e:Body></e:Envelope>";
	struct camsim_soap_request r;
	char buf[32];
	assert_int_equal(parse(doc, &r), 0);
	assert_string_equal(r.message_id, "urn:uuid:1");
	assert_string_equal(r.to, "http://h/onvif/subscription?Idx=3");
	assert_string_equal(r.action, "urn:act");
	assert_string_equal(r.op_name, "Renew");
	assert_string_equal(camsim_soap_text(r.op, NULL, "TerminationTime", buf, sizeof(buf)), "PT60S");
	assert_null(camsim_soap_text(r.op, NULL, "Missing", buf, sizeof(buf)));
	assert_null(camsim_soap_text(r.op, NULL, "TerminationTime", buf, 3)); /* too long for buf */
	camsim_soap_request_free(&r);
}

static void test_broken(void **state)
{
	static const char *const docs[] = {
		"",
		"not xml",
		"<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Body><x></e:Body></e:Envelope>",
		/* the right prefix bound to the wrong namespace */
		"<env:Envelope xmlns:env=\"urn:not-soap\"><env:Body><x/></env:Body></env:Envelope>",
		"<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Body/></e:Envelope>",
		"<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Header/></e:Envelope>",
		"<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Body><u:x/></e:Body></e:Envelope>",
		"<a/><b/>",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct camsim_soap_request r;
		assert_int_equal(parse(docs[i], &r), -EBADMSG);
	}
}

static void test_entities_not_expanded(void **state)
{
	/* an external entity must not be fetched or expanded into the operation */
	static const char doc[] =
		"<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
		"<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Body><Op><V>&x;</V></Op></e:Body>"
		"</e:Envelope>";
	struct camsim_soap_request r;
	char buf[64];
	if (parse(doc, &r) == 0) {
		const char *v = camsim_soap_text(r.op, NULL, "V", buf, sizeof(buf));
		assert_true(v == NULL || strstr(v, "root") == NULL);
		camsim_soap_request_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_entities_not_expanded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
