/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Digest verification (RFC 2617's own example, and a GB-style REGISTER without qop whose response
 * was computed with Python's hashlib), stateless nonces, and SIP responses built from a captured
 * request. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gb_digest.h"
#include "gb_reply.h"
#include "gb_sip.h"

static osip_authorization_t *auth(const char *value)
{
	osip_authorization_t *a = NULL;
	assert_int_equal(osip_authorization_init(&a), 0);
	if (osip_authorization_parse(a, value) != 0)
		fail_msg("libosip2 refused '%s'", value);
	return a;
}

static void test_rfc2617_example(void **state)
{
	(void)state;
	osip_authorization_t *a = auth("Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
				       "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, "
				       "nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\", "
				       "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
	char why[128];
	assert_int_equal(agw_gb_digest_verify(a, "GET", "Circle Of Life", why, sizeof(why)), 0);
	assert_int_equal(agw_gb_digest_verify(a, "GET", "circle of life", why, sizeof(why)), -EACCES);
	assert_int_equal(agw_gb_digest_verify(a, "POST", "Circle Of Life", why, sizeof(why)), -EACCES);
	osip_authorization_free(a);
}

static void test_register_without_qop(void **state)
{
	(void)state;
	/* as a GB device sends it: no qop, algorithm=MD5, response in upper case */
	osip_authorization_t *a = auth("Digest username=\"34020000001320000001\", realm=\"3402000000\", "
				       "nonce=\"0123456789abcdef\", uri=\"sip:34020000002000000001@3402000000\", "
				       "response=\"F5B64B8293FFD8F5FBC7F54849C0A4CA\", algorithm=MD5");
	char why[128];
	assert_int_equal(agw_gb_digest_verify(a, "REGISTER", "12345678", why, sizeof(why)), 0);
	assert_int_equal(agw_gb_digest_verify(a, "REGISTER", "12345679", why, sizeof(why)), -EACCES);
	osip_free(a->auth_type);
	a->auth_type = osip_strdup("Basic");
	assert_int_equal(agw_gb_digest_verify(a, "REGISTER", "12345678", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "not Digest authentication");
	osip_authorization_free(a);

	static const struct {
		const char *value, *why;
	} bad[] = {
		{"Digest realm=\"r\", nonce=\"n\", uri=\"u\", response=\"f5b64b8293ffd8f5fbc7f54849c0a4ca\"",
		 "Authorization without a usable username"},
		{"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"f5\"",
		 "a response that is not 32 hex digits"},
		{"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", algorithm=SHA-256, "
		 "response=\"f5b64b8293ffd8f5fbc7f54849c0a4ca\"",
		 "algorithm SHA-256 (only MD5 and MD5-sess)"},
		{"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", qop=auth, "
		 "response=\"f5b64b8293ffd8f5fbc7f54849c0a4ca\"",
		 "Authorization without a usable nc"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = auth(bad[i].value);
		why[0] = '\0';
		int rc = agw_gb_digest_verify(a, "REGISTER", "x", why, sizeof(why));
		if (rc != -EINVAL || strcmp(why, bad[i].why) != 0)
			fail_msg("case %zu: %d '%s'", i, rc, why);
		osip_authorization_free(a);
	}
}

static void test_nonce(void **state)
{
	(void)state;
	struct agw_gb_nonce_key k, other;
	assert_int_equal(agw_gb_nonce_key_init(&k), 0);
	assert_int_equal(agw_gb_nonce_key_init(&other), 0);
	char n[AGW_GB_NONCE_LEN + 1];
	agw_gb_nonce_make(&k, 1700000000, n);
	assert_int_equal(strlen(n), AGW_GB_NONCE_LEN);
	assert_memory_equal(n, "6553f100", 8); /* 1700000000 in hex */
	assert_int_equal(agw_gb_nonce_check(&k, n, 1700000000, 300), 0);
	assert_int_equal(agw_gb_nonce_check(&k, n, 1700000300, 300), 0);
	assert_int_equal(agw_gb_nonce_check(&k, n, 1700000301, 300), -ETIMEDOUT);
	assert_int_equal(agw_gb_nonce_check(&other, n, 1700000000, 300), -EINVAL);
	n[20] = n[20] == 'a' ? 'b' : 'a';
	assert_int_equal(agw_gb_nonce_check(&k, n, 1700000000, 300), -EINVAL);
	assert_int_equal(agw_gb_nonce_check(&k, "short", 1700000000, 300), -EINVAL);
	assert_int_equal(agw_gb_nonce_check(&k, NULL, 1700000000, 300), -EINVAL);
	/* a forged time with the MAC of another */
	char m[AGW_GB_NONCE_LEN + 1];
	agw_gb_nonce_make(&k, 1700000000, m);
	memcpy(m, "6553f200", 8);
	assert_int_equal(agw_gb_nonce_check(&k, m, 1700000256, 300), -EINVAL);
}

static void test_reply(void **state)
{
	(void)state;
	/* the Dahua IPC's REGISTER from the capture file of tests/fixtures/gb28181/README.md */
	const char *req = "REGISTER sip:34020000002000000001@192.168.1.125:5060 SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 192.168.1.107:5060;rport;branch=z9hG4bK1821122895\r\n"
			  "From: <sip:34020000001320000001@192.168.1.107:5060>;tag=836318699\r\n"
			  "To: <sip:34020000001320000001@192.168.1.107:5060>\r\n"
			  "Call-ID: 1280868601@192.168.1.107\r\n"
			  "CSeq: 1 REGISTER\r\n"
			  "Contact: <sip:34020000001320000001@192.168.1.107:5060>\r\n"
			  "Max-Forwards: 70\r\n"
			  "User-Agent: DH SIP UAS V1.0\r\n"
			  "Expires: 3600\r\n"
			  "Content-Length: 0\r\n\r\n";
	struct agw_gb_sip_msg *m = NULL;
	char err[256];
	assert_int_equal(agw_gb_sip_parse(req, strlen(req), 0, &m, err, sizeof(err)), 0);
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(agw_gb_reply(m, 401, "gw1", "10.9.8.7", 40000,
				      "WWW-Authenticate: Digest realm=\"3402000000\", nonce=\"abc\", algorithm=MD5\r\n", &out,
				      &len),
			 0);
	const char *want = "SIP/2.0 401 Unauthorized\r\n"
			   "Via: SIP/2.0/UDP 192.168.1.107:5060;rport=40000;branch=z9hG4bK1821122895;received=10.9.8.7\r\n"
			   "From: <sip:34020000001320000001@192.168.1.107:5060>;tag=836318699\r\n"
			   "To: <sip:34020000001320000001@192.168.1.107:5060>;tag=gw1\r\n"
			   "Call-ID: 1280868601@192.168.1.107\r\n"
			   "CSeq: 1 REGISTER\r\n"
			   "User-Agent: alarmgw\r\n"
			   "WWW-Authenticate: Digest realm=\"3402000000\", nonce=\"abc\", algorithm=MD5\r\n"
			   "Content-Length: 0\r\n\r\n";
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	/* the reply parses as a response with the request's transaction */
	struct agw_gb_sip_msg *r = NULL;
	assert_int_equal(agw_gb_sip_parse(out, len, AGW_GB_SIP_STREAM, &r, err, sizeof(err)), 0);
	assert_int_equal(r->status, 401);
	assert_string_equal(r->call_id, "1280868601@192.168.1.107");
	agw_gb_sip_msg_free(r);
	free(out);
	agw_gb_sip_msg_free(m);
	assert_string_equal(agw_gb_reason(413), "Request Entity Too Large");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2617_example),
		cmocka_unit_test(test_register_without_qop),
		cmocka_unit_test(test_nonce),
		cmocka_unit_test(test_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
