/* SPDX-License-Identifier: GPL-2.0-or-later */
/* WS-Security UsernameToken: digest vector, extraction whatever the prefixes, clock skew. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "soap.h"
#include "util.h"
#include "wsse.h"

/* nonce = bytes 0..15, Created 2026-01-02T03:04:05Z, password "s3cret" (computed with Python hashlib) */
#define NONCE "AAECAwQFBgcICQoLDA0ODw=="
#define CREATED "2026-01-02T03:04:05Z"
#define DIGEST "8gBWPoUqrWQQlpDO5tjGeI5QgIU="

static const char request[] =
	"<S:Envelope xmlns:S=\"http://www.w3.org/2003/05/soap-envelope\"><S:Header>"
	"<a:Security xmlns:a=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\" "
	"xmlns:u=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\">"
	"<a:UsernameToken><a:Username> admin </a:Username><a:Password Type=\"http://docs.oasis-open.org/wss/2004/01/"
	"oasis-200401-wss-username-token-profile-1.0#PasswordDigest\">" DIGEST "</a:Password>"
	"<a:Nonce>" NONCE "</a:Nonce><u:Created>" CREATED "</u:Created></a:UsernameToken></a:Security>"
	"</S:Header><S:Body><GetDeviceInformation xmlns=\"http://www.onvif.org/ver10/device/wsdl\"/></S:Body>"
	"</S:Envelope>";

static void test_digest_vector(void **state)
{
	char out[64];
	assert_int_equal(camsim_wsse_digest(NONCE, CREATED, "s3cret", out, sizeof(out)), 0);
	assert_string_equal(out, DIGEST);
	assert_int_equal(camsim_wsse_digest("not base64!", CREATED, "s3cret", out, sizeof(out)), -EINVAL);
}

static void test_extract_and_verify(void **state)
{
	struct camsim_soap_request r;
	struct camsim_wsse_token t;
	double created;
	assert_int_equal(camsim_soap_parse(request, sizeof(request) - 1, &r), 0);
	assert_int_equal(camsim_wsse_extract(r.header, &t), 0);
	assert_string_equal(t.username, "admin");
	assert_true(t.is_digest);
	assert_string_equal(t.nonce, NONCE);
	assert_int_equal(camsim_time_parse(CREATED, &created), 0);
	assert_int_equal(camsim_wsse_verify(&t, "admin", "s3cret", created), 0);
	assert_int_equal(camsim_wsse_verify(&t, "admin", "s3cret", created + CAMSIM_WSSE_MAX_SKEW - 0.5), 0);
	assert_int_equal(camsim_wsse_verify(&t, "admin", "s3cret", created - CAMSIM_WSSE_MAX_SKEW + 0.5), 0);
	assert_int_equal(camsim_wsse_verify(&t, "admin", "s3cret", created + 6), -ETIME);
	assert_int_equal(camsim_wsse_verify(&t, "admin", "s3cret", created - 6), -ETIME);
	assert_int_equal(camsim_wsse_verify(&t, "admin", "wrong", created), -EACCES);
	assert_int_equal(camsim_wsse_verify(&t, "root", "s3cret", created), -EACCES);
	camsim_soap_request_free(&r);
}

static void test_missing(void **state)
{
	static const char none[] = "<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Header/>"
				   "<e:Body><x/></e:Body></e:Envelope>";
	/* the right local names in the wrong namespace are not a token */
	static const char wrong_ns[] =
		"<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Header><Security><UsernameToken>"
		"<Username>admin</Username><Password>x</Password></UsernameToken></Security></e:Header>"
		"<e:Body><x/></e:Body></e:Envelope>";
	struct camsim_soap_request r;
	struct camsim_wsse_token t;
	assert_int_equal(camsim_soap_parse(none, sizeof(none) - 1, &r), 0);
	assert_int_equal(camsim_wsse_extract(r.header, &t), -ENOENT);
	camsim_soap_request_free(&r);
	assert_int_equal(camsim_soap_parse(wrong_ns, sizeof(wrong_ns) - 1, &r), 0);
	assert_int_equal(camsim_wsse_extract(r.header, &t), -ENOENT);
	camsim_soap_request_free(&r);
	assert_int_equal(camsim_wsse_extract(NULL, &t), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_vector),
		cmocka_unit_test(test_extract_and_verify),
		cmocka_unit_test(test_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
