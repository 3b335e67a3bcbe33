/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP Digest: the RFC 7616 MD5 example, header parsing, stateless nonces, verification. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "digest.h"

static void test_rfc7616_md5_example(void **state)
{
	char out[33];
	/* RFC 7616 section 3.9.1, MD5 */
	camsim_digest_compute("Mufasa", "http-auth@example.org", "Circle of Life", "GET", "/dir/index.html",
			      "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
			      "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth", out);
	assert_string_equal(out, "8ca523f5e9506fed4657c9700eebdbec");
}

static void test_parse(void **state)
{
	struct camsim_digest_auth a;
	assert_int_equal(camsim_digest_parse("Digest username=\"Mufasa\", realm=\"r\", nonce=\"n1\", "
					     "uri=\"/onvif/device_service\", qop=auth, nc=00000001, cnonce=\"c\", "
					     "response=\"abc\", algorithm=MD5, opaque=\"ignored\"",
					     &a),
			 0);
	assert_string_equal(a.username, "Mufasa");
	assert_string_equal(a.uri, "/onvif/device_service");
	assert_string_equal(a.qop, "auth");
	assert_string_equal(a.nc, "00000001");
	assert_string_equal(a.algorithm, "MD5");
	assert_int_equal(camsim_digest_parse("Basic dXNlcjpwYXNz", &a), -EINVAL);
	assert_int_equal(camsim_digest_parse("Digest username=\"x\"", &a), -EINVAL);
	assert_int_equal(camsim_digest_parse("Digest username=\"unterminated", &a), -EINVAL);
	char big[2048];
	snprintf(big, sizeof(big), "Digest username=\"%0300d\", nonce=\"n\", uri=\"/\", response=\"r\"", 1);
	assert_int_equal(camsim_digest_parse(big, &a), -EINVAL);
}

static void test_nonce(void **state)
{
	char nonce[64];
	camsim_digest_nonce_make("key", 1000000, nonce, sizeof(nonce));
	assert_int_equal(camsim_digest_nonce_check("key", nonce, 1000000), 0);
	assert_int_equal(camsim_digest_nonce_check("key", nonce, 1000000 + CAMSIM_DIGEST_NONCE_TTL + 1), -ESTALE);
	assert_int_equal(camsim_digest_nonce_check("other", nonce, 1000000), -EINVAL);
	nonce[strlen(nonce) - 1] ^= 1;
	assert_int_equal(camsim_digest_nonce_check("key", nonce, 1000000), -EINVAL);
	assert_int_equal(camsim_digest_nonce_check("key", "nodot", 1000000), -EINVAL);
}

static void make_auth(struct camsim_digest_auth *a, const char *nonce, const char *password)
{
	memset(a, 0, sizeof(*a));
	strcpy(a->username, "admin");
	strcpy(a->realm, CAMSIM_DIGEST_REALM);
	strcpy(a->nonce, nonce);
	strcpy(a->uri, "/onvif/device_service");
	strcpy(a->qop, "auth");
	strcpy(a->nc, "00000001");
	strcpy(a->cnonce, "0a4f113b");
	camsim_digest_compute("admin", CAMSIM_DIGEST_REALM, password, "POST", a->uri, nonce, a->nc, a->cnonce, "auth",
			      a->response);
}

static void test_verify(void **state)
{
	char nonce[64];
	struct camsim_digest_auth a;
	camsim_digest_nonce_make("key", 5000, nonce, sizeof(nonce));
	make_auth(&a, nonce, "pw");
	assert_int_equal(camsim_digest_verify(&a, "key", 5001, "POST", "admin", "pw"), 0);
	assert_int_equal(camsim_digest_verify(&a, "key", 5001, "GET", "admin", "pw"), -EACCES);
	assert_int_equal(camsim_digest_verify(&a, "key", 5001, "POST", "admin", "other"), -EACCES);
	assert_int_equal(camsim_digest_verify(&a, "key", 5001, "POST", "root", "pw"), -EACCES);
	assert_int_equal(camsim_digest_verify(&a, "key", 5000 + CAMSIM_DIGEST_NONCE_TTL + 10, "POST", "admin", "pw"),
			 -ESTALE);
	strcpy(a.algorithm, "SHA-256");
	assert_int_equal(camsim_digest_verify(&a, "key", 5001, "POST", "admin", "pw"), -EACCES);
	make_auth(&a, "1234.00000000000000000000000000000000", "pw");
	assert_int_equal(camsim_digest_verify(&a, "key", 5001, "POST", "admin", "pw"), -EACCES);
}

static void test_challenge(void **state)
{
	char h[256];
	camsim_digest_challenge("key", 42, 1, h, sizeof(h));
	assert_non_null(strstr(h, "WWW-Authenticate: Digest realm=\"camsim\""));
	assert_non_null(strstr(h, "qop=\"auth\""));
	assert_non_null(strstr(h, "stale=true"));
	assert_string_equal(h + strlen(h) - 2, "\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7616_md5_example), cmocka_unit_test(test_parse), cmocka_unit_test(test_nonce),
		cmocka_unit_test(test_verify), cmocka_unit_test(test_challenge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
