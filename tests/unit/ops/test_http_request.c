/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The status server's request parsing and access policy (gateway/http/http_request.c): what is
 * refused with which status, the Host check that stops DNS rebinding, the bearer token. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http_request.h"

static int parse(const char *head, struct agw_http_request *req, struct agw_http_refusal *no)
{
	memset(no, 0, sizeof(*no));
	int r = agw_http_request_parse(head, strlen(head), req, no);
	return r == 0 ? 0 : no->code;
}

static void test_parse(void **state)
{
	struct agw_http_request req;
	struct agw_http_refusal no;
	assert_int_equal(parse("GET /api/status?x=1 HTTP/1.1\r\nHost: localhost:9108\r\nAuthorization:  Bearer abc \r\n\r\n",
			       &req, &no),
			 0);
	assert_false(req.head);
	assert_int_equal(req.path_len, 11);
	assert_memory_equal(req.path, "/api/status", 11);
	assert_int_equal(req.host_len, strlen("localhost:9108"));
	assert_memory_equal(req.host, "localhost:9108", req.host_len);
	assert_int_equal(req.authorization_len, strlen("Bearer abc"));
	assert_int_equal(parse("HEAD / HTTP/1.0\n\n", &req, &no), 0);
	assert_true(req.head);
	assert_null(req.host);

	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n", &req, &no), 400); /* 1.1 needs Host */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &req, &no), 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: x\r\nAuthorization: y\r\n\r\n", &req, &no),
			 400);
	assert_int_equal(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n", &req, &no), 400);
	assert_int_equal(parse("GET noslash HTTP/1.1\r\nHost: a\r\n\r\n", &req, &no), 400);
	assert_int_equal(parse("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", &req, &no), 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nBad Name: a\r\n\r\n", &req, &no), 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 00\r\n\r\n", &req, &no), 0);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n", &req, &no), 413);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", &req, &no), 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", &req, &no), 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &req, &no), 413);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\n\r\n", &req, &no), 405);
	assert_string_equal(no.extra, "Allow: GET, HEAD\r\n");
	/* a head whose last line has no LF (the server never passes one, the fuzzer does) */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a", &req, &no), 400);
	static const char nul[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
	assert_int_equal(agw_http_request_parse(nul, sizeof(nul) - 1, &req, &no), -EINVAL);
	assert_int_equal(no.code, 400);
}

static int check_access(const struct agw_http_access *a, const char *head)
{
	struct agw_http_request req;
	struct agw_http_refusal no;
	assert_int_equal(agw_http_request_parse(head, strlen(head), &req, &no), 0);
	return agw_http_access_check(a, &req, &no) == 0 ? 0 : no.code;
}

/* On loopback with no names configured: only the loopback names, with our port or none. A page
 * served from a rebound name sends that name. */
static void test_loopback_hosts(void **state)
{
	const struct agw_http_access a = {.port = 9108};
	assert_int_equal(check_access(&a, "GET / HTTP/1.1\r\nHost: 127.0.0.1:9108\r\n\r\n"), 0);
	assert_int_equal(check_access(&a, "GET / HTTP/1.1\r\nHost: LOCALHOST:9108\r\n\r\n"), 0);
	assert_int_equal(check_access(&a, "GET / HTTP/1.1\r\nHost: [::1]:9108\r\n\r\n"), 0);
	assert_int_equal(check_access(&a, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"), 0);
	assert_int_equal(check_access(&a, "GET / HTTP/1.0\r\n\r\n"), 0);
	assert_int_equal(check_access(&a, "GET /api/status HTTP/1.1\r\nHost: attacker.example:9108\r\n\r\n"), 421);
	assert_int_equal(check_access(&a, "GET / HTTP/1.1\r\nHost: 127.0.0.1:9109\r\n\r\n"), 421);
	assert_int_equal(check_access(&a, "GET / HTTP/1.1\r\nHost: 127.0.0.1.attacker.example:9108\r\n\r\n"), 421);
	assert_int_equal(check_access(&a, "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n"), 421);
	assert_int_equal(check_access(&a, "GET / HTTP/1.1\r\nHost: 127.0.0.1:99999\r\n\r\n"), 421);
}

static void test_token_and_names(void **state)
{
	static const char *const hosts[] = {"status.example", "10.1.2.3:9108"};
	const struct agw_http_access a = {.hosts = hosts, .n_hosts = 2, .port = 9108, .token = "0123456789abcdef"};
	assert_int_equal(check_access(&a, "GET / HTTP/1.1\r\nHost: status.example:443\r\n"
					  "Authorization: Bearer 0123456789abcdef\r\n\r\n"),
			 0);
	assert_int_equal(check_access(&a, "GET / HTTP/1.1\r\nHost: 10.1.2.3:9108\r\n"
					  "Authorization: bearer 0123456789abcdef\r\n\r\n"),
			 0);
	assert_int_equal(check_access(&a, "GET / HTTP/1.1\r\nHost: 10.1.2.3\r\n"
					  "Authorization: Bearer 0123456789abcdef\r\n\r\n"),
			 421); /* configured with a port: 80 is not it */
	assert_int_equal(check_access(&a, "GET / HTTP/1.1\r\nHost: localhost:9108\r\n"
					  "Authorization: Bearer 0123456789abcdef\r\n\r\n"),
			 421); /* configured names replace the loopback ones */
	assert_int_equal(check_access(&a, "GET /metrics HTTP/1.1\r\nHost: status.example\r\n\r\n"), 401);
	assert_int_equal(check_access(&a, "GET /metrics HTTP/1.1\r\nHost: status.example\r\n"
					  "Authorization: Bearer 0123456789abcdeX\r\n\r\n"),
			 401);
	assert_int_equal(check_access(&a, "GET /metrics HTTP/1.1\r\nHost: status.example\r\n"
					  "Authorization: Bearer 0123456789abcdef0\r\n\r\n"),
			 401);
	assert_int_equal(check_access(&a, "GET /metrics HTTP/1.1\r\nHost: status.example\r\n"
					  "Authorization: Basic MDEyMzQ1Njc4OWFiY2RlZg==\r\n\r\n"),
			 401);
	assert_int_equal(check_access(&a, "GET /healthz HTTP/1.1\r\nHost: status.example\r\n\r\n"), 0);
	struct agw_http_request req;
	struct agw_http_refusal no;
	const char *head = "GET / HTTP/1.1\r\nHost: status.example\r\n\r\n";
	assert_int_equal(agw_http_request_parse(head, strlen(head), &req, &no), 0);
	assert_int_equal(agw_http_access_check(&a, &req, &no), -EACCES);
	assert_non_null(strstr(no.extra, "WWW-Authenticate: Bearer"));
}

static void test_query(void **state)
{
	(void)state;
	char buf[16];
	const char *q = "q=%E4%B8%AD+x&state=offline&empty=&flag&limit=50";
	size_t n = strlen(q);
	assert_int_equal(agw_http_query_get(q, n, "q", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "\xe4\xb8\xad x");
	assert_int_equal(agw_http_query_get(q, n, "state", buf, sizeof(buf)), 7);
	assert_string_equal(buf, "offline");
	assert_int_equal(agw_http_query_get(q, n, "empty", buf, sizeof(buf)), 0);
	assert_int_equal(agw_http_query_get(q, n, "flag", buf, sizeof(buf)), 0);
	assert_int_equal(agw_http_query_get(q, n, "limit", buf, sizeof(buf)), 2);
	assert_int_equal(agw_http_query_get(q, n, "lim", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(agw_http_query_get(q, n, "stat", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(agw_http_query_get(NULL, 0, "q", buf, sizeof(buf)), -ENOENT);
	/* Only the first n bytes count: "limit=50" cut to "limit=5". */
	assert_int_equal(agw_http_query_get(q, n - 1, "limit", buf, sizeof(buf)), 1);
	/* Bad escapes, a NUL, too long for the buffer: refused, not cut. */
	assert_int_equal(agw_http_query_get("q=%zz", 5, "q", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(agw_http_query_get("q=%4", 4, "q", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(agw_http_query_get("q=%00", 5, "q", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(agw_http_query_get("q=0123456789abcdef", 18, "q", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(agw_http_query_get("q=0123456789abcde", 17, "q", buf, sizeof(buf)), 15);
	/* The parser hands the query over. */
	struct agw_http_request req;
	struct agw_http_refusal no;
	const char *head = "GET /api/cameras?state=offline HTTP/1.1\r\nHost: localhost\r\nAccept-Language: zh-CN\r\n\r\n";
	assert_int_equal(agw_http_request_parse(head, strlen(head), &req, &no), 0);
	assert_int_equal(req.path_len, strlen("/api/cameras"));
	assert_int_equal(req.query_len, strlen("state=offline"));
	assert_memory_equal(req.query, "state=offline", req.query_len);
	assert_int_equal(req.accept_language_len, 5);
	head = "GET /? HTTP/1.1\r\nHost: localhost\r\n\r\n";
	assert_int_equal(agw_http_request_parse(head, strlen(head), &req, &no), 0);
	assert_int_equal(req.path_len, 1);
	assert_int_equal(req.query_len, 0);
	assert_null(req.accept_language);
}

static void test_language(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		const char *want;
	} cases[] = {
		{"zh-CN,zh;q=0.9,en;q=0.8", "zh"},
		{"en-US,en;q=0.9,zh-CN;q=0.8", "en"},
		{"en;q=0.5, zh-TW;q=0.7", "zh"},
		{"de-DE,zh;q=0.3", "zh"},
		{"de-DE,fr", "en"},
		{"zhx,en;q=0.1", "en"},
		{"zh;q=0", "en"},
		{"zh;q=1.0", "zh"},
		{"zh;q=garbage,en;q=0.1", "en"},
		{"ZH-cn", "zh"},
		{"", "en"},
		{",,;;==", "en"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(agw_http_pick_language(cases[i].value, strlen(cases[i].value)), cases[i].want);
	assert_string_equal(agw_http_pick_language(NULL, 0), "en");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_language),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_loopback_hosts),
		cmocka_unit_test(test_token_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
