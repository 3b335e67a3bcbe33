/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP request parsing: completeness, pipelining, keep-alive, limits, targets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

#define REQ "POST /onvif/subscription?Idx=11 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n" \
	    "Authorization: Digest username=\"a\"\r\n\r\nhello"

static void test_complete(void **state)
{
	struct camsim_http_request r;
	int n = camsim_http_parse(REQ, strlen(REQ), &r);
	assert_int_equal(n, (int)strlen(REQ));
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, "/onvif/subscription");
	assert_string_equal(r.query, "Idx=11");
	assert_string_equal(r.authorization, "Digest username=\"a\"");
	assert_int_equal(r.body_len, 5);
	assert_memory_equal(r.body, "hello", 5);
	assert_true(r.keep_alive);
}

static void test_incomplete_and_pipelined(void **state)
{
	struct camsim_http_request r;
	size_t len = strlen(REQ);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(camsim_http_parse(REQ, cut, &r), 0);
	char two[512];
	snprintf(two, sizeof(two), "%s%s", REQ, REQ);
	assert_int_equal(camsim_http_parse(two, strlen(two), &r), (int)len);
}

static void test_keep_alive(void **state)
{
	struct camsim_http_request r;
	static const char a[] = "GET /stats HTTP/1.0\r\n\r\n";
	static const char b[] = "GET /stats HTTP/1.1\r\nConnection: close\r\n\r\n";
	static const char c[] = "GET /stats HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
	assert_int_equal(camsim_http_parse(a, strlen(a), &r), (int)strlen(a));
	assert_false(r.keep_alive);
	assert_int_equal(camsim_http_parse(b, strlen(b), &r), (int)strlen(b));
	assert_false(r.keep_alive);
	assert_int_equal(camsim_http_parse(c, strlen(c), &r), (int)strlen(c));
	assert_true(r.keep_alive);
}

static void test_expect_continue(void **state)
{
	struct camsim_http_request r;
	static const char a[] = "POST /x HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n";
	assert_int_equal(camsim_http_parse(a, strlen(a), &r), 0);
	assert_true(r.expect_continue);
	assert_int_equal(r.header_len, strlen(a));
}

static void test_errors(void **state)
{
	struct camsim_http_request r;
	static const char chunked[] = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
	static const char huge[] = "POST /x HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n";
	static const char badlen[] = "POST /x HTTP/1.1\r\nContent-Length: 12a\r\n\r\n";
	static const char nover[] = "POST /x\r\n\r\n";
	static const char badver[] = "POST /x SPDY/3\r\n\r\n";
	static const char nocolon[] = "POST /x HTTP/1.1\r\nbroken\r\n\r\n";
	static const char relative[] = "POST x HTTP/1.1\r\n\r\n";
	assert_int_equal(camsim_http_parse(chunked, strlen(chunked), &r), -ENOTSUP);
	assert_int_equal(camsim_http_parse(huge, strlen(huge), &r), -EMSGSIZE);
	assert_int_equal(camsim_http_parse(badlen, strlen(badlen), &r), -EPROTO);
	assert_int_equal(camsim_http_parse(nover, strlen(nover), &r), -EPROTO);
	assert_int_equal(camsim_http_parse(badver, strlen(badver), &r), -EPROTO);
	assert_int_equal(camsim_http_parse(nocolon, strlen(nocolon), &r), -EPROTO);
	assert_int_equal(camsim_http_parse(relative, strlen(relative), &r), -EPROTO);
	/* a header section that never ends is refused once it passes the limit */
	char *big = malloc(CAMSIM_HTTP_MAX_HEADER + 100);
	assert_non_null(big);
	memset(big, 'a', CAMSIM_HTTP_MAX_HEADER + 100);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(camsim_http_parse(big, CAMSIM_HTTP_MAX_HEADER + 100, &r), -EMSGSIZE);
	assert_int_equal(camsim_http_parse(big, 1000, &r), 0);
	free(big);
}

static void test_absolute_target(void **state)
{
	struct camsim_http_request r;
	static const char a[] = "POST http://127.0.0.1:8000/onvif/event_service?a=b HTTP/1.1\r\n\r\n";
	assert_int_equal(camsim_http_parse(a, strlen(a), &r), (int)strlen(a));
	assert_string_equal(r.path, "/onvif/event_service");
	assert_string_equal(r.query, "a=b");
	assert_int_equal(r.body_len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),        cmocka_unit_test(test_incomplete_and_pipelined),
		cmocka_unit_test(test_keep_alive),      cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_errors),          cmocka_unit_test(test_absolute_target),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
