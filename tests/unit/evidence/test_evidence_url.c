/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Signed evidence URLs (gateway/evidence/evidence_url.c): a made URL checks; a changed path, case,
 * picture number, expiry or signature does not; expiry is refused before the signature; the key
 * file's limits. The signature is also computed independently with `openssl dgst -hmac` over
 * "<path>\n<exp>", as a platform developer would. */
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

#include "evidence_url.h"

static struct agw_evidence_url_key key(void)
{
	struct agw_evidence_url_key k = {.len = 32};
	for (size_t i = 0; i < k.len; i++)
		k.bytes[i] = (uint8_t)('a' + i % 26);
	return k;
}

/* 64 hex digits: well formed, not a valid signature */
#define ANY_SIG "2b0fe2d0bbb1d7fb0d5a30b8e7a6b5e1a8fb3fb5e9d2b1b8a27c7b7cd7f2a3c4"

static void test_sign_and_check(void **state)
{
	(void)state;
	struct agw_evidence_url_key k = key();
	char *url = agw_evidence_url_make(&k, "https://gw.example:8443/", "agw-1", 2, 1800000000);
	assert_non_null(url);
	const char *q = strchr(url, '?');
	assert_non_null(q);
	assert_memory_equal(url, "https://gw.example:8443/evidence/agw-1/2?exp=1800000000&sig=", 60);
	char why[80];
	assert_int_equal(agw_evidence_url_check(&k, "/evidence/agw-1/2", q + 1, 1799999999, why, sizeof(why)), 0);
	assert_int_equal(agw_evidence_url_check(&k, "/evidence/agw-1/2", q + 1, 1800000000, why, sizeof(why)), 0);
	/* expired: said so, before the signature is looked at */
	assert_int_equal(agw_evidence_url_check(&k, "/evidence/agw-1/2", q + 1, 1800000120, why, sizeof(why)),
			 -EKEYEXPIRED);
	assert_string_equal(why, "link expired 120 s ago");
	/* another picture, another case, a later expiry: the signature does not carry over */
	assert_int_equal(agw_evidence_url_check(&k, "/evidence/agw-1/3", q + 1, 1799999999, why, sizeof(why)), -EPERM);
	assert_string_equal(why, "signature does not match");
	assert_int_equal(agw_evidence_url_check(&k, "/evidence/agw-2/2", q + 1, 1799999999, why, sizeof(why)), -EPERM);
	char forged[200];
	snprintf(forged, sizeof(forged), "exp=1900000000&%s", strstr(q, "sig="));
	assert_int_equal(agw_evidence_url_check(&k, "/evidence/agw-1/2", forged, 1799999999, why, sizeof(why)), -EPERM);
	/* one hex digit changed */
	snprintf(forged, sizeof(forged), "%s", q + 1);
	char *last = forged + strlen(forged) - 1;
	*last = *last == '0' ? '1' : '0';
	assert_int_equal(agw_evidence_url_check(&k, "/evidence/agw-1/2", forged, 1799999999, why, sizeof(why)), -EPERM);
	/* another key */
	struct agw_evidence_url_key k2 = k;
	k2.bytes[0] ^= 1;
	assert_int_equal(agw_evidence_url_check(&k2, "/evidence/agw-1/2", q + 1, 1799999999, why, sizeof(why)), -EPERM);
	free(url);
}

static void test_malformed(void **state)
{
	(void)state;
	struct agw_evidence_url_key k = key();
	char why[80];
	const char *bad[] = {"", "exp=1", "sig=00", "exp=x&sig=" ANY_SIG, "exp=-5&sig=" ANY_SIG, "exp=1900000000&sig=zz",
			     "exp=1900000000&sig=" ANY_SIG "00",
			     "exp=1900000000&sig=gb0fe2d0bbb1d7fb0d5a30b8e7a6b5e1a8fb3fb5e9d2b1b8a27c7b7cd7f2a3c4"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(agw_evidence_url_check(&k, "/evidence/agw-1/2", bad[i], 1, why, sizeof(why)), -EINVAL);
	assert_int_equal(agw_evidence_url_check(&k, "/evidence/agw-1/2", NULL, 1, why, sizeof(why)), -EINVAL);
	/* ids that would change the path are not signed */
	assert_null(agw_evidence_url_make(&k, "https://gw", "../x", 1, 1));
	assert_null(agw_evidence_url_make(&k, "https://gw", "a?b", 1, 1));
	assert_null(agw_evidence_url_make(&k, "https://gw", "", 1, 1));
	assert_null(agw_evidence_url_make(&k, "https://gw", "agw-1", 0, 1));
}

/* The signature is what a platform computes with openssl dgst -hmac over "<path>\n<exp>". */
static void test_independent(void **state)
{
	(void)state;
	struct agw_evidence_url_key k = key();
	char hex[65], cmd[300];
	agw_evidence_url_sign(&k, "/evidence/agw-1/2", 1800000000, hex);
	snprintf(cmd, sizeof(cmd),
		 "printf '/evidence/agw-1/2\\n1800000000' | openssl dgst -sha256 -hmac %.*s | sed 's/.*= //'",
		 (int)k.len, (const char *)k.bytes);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char out[100] = "";
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	out[strcspn(out, "\n")] = '\0';
	assert_string_equal(hex, out);
}

static void test_key_file(void **state)
{
	(void)state;
	char path[] = "/tmp/agw-urlkey-XXXXXX", err[160];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	struct agw_evidence_url_key k;
	assert_int_equal(write(fd, "short\n", 6), 6);
	assert_int_equal(agw_evidence_url_key_load(path, &k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "5 bytes, a key needs at least 32"));
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", 65, 0), 65);
	assert_int_equal(agw_evidence_url_key_load(path, &k, err, sizeof(err)), 0);
	assert_int_equal(k.len, 64); /* the newline is not part of it */
	char big[AGW_EVIDENCE_URL_KEY_MAX + 1];
	memset(big, 'k', sizeof(big));
	assert_int_equal(pwrite(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(agw_evidence_url_key_load(path, &k, err, sizeof(err)), -EMSGSIZE);
	close(fd);
	unlink(path);
	assert_true(agw_evidence_url_key_load(path, &k, err, sizeof(err)) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_and_check),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_independent),
		cmocka_unit_test(test_key_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
