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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_loopback_hosts),
		cmocka_unit_test(test_token_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
