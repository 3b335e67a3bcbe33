/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A request head as the status server reads it (gateway/http/http_request.c): parsing, then the
 * Host and token checks, both with the loopback defaults and with configured names and a token.
 * The input is cut at the first blank line the way the server finds the end of the head. */
#include <stdint.h>

#include "fuzz_util.h"
#include "http.h"
#include "http_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > AGW_HTTP_MAX_REQUEST)
		return 0; /* the server refuses longer heads before parsing */
	static const char *const hosts[] = {"status.example", "10.1.2.3:9108", "[fd00::5]"};
	const struct agw_http_access loopback = {.hosts = NULL, .n_hosts = 0, .port = 9108, .token = NULL};
	const struct agw_http_access remote = {
		.hosts = hosts, .n_hosts = 3, .port = 9108, .token = "0123456789abcdef0123456789abcdef"};
	/* an exact-size copy: a read past the head is an ASan report */
	char *head = malloc(size ? size : 1);
	if (!head)
		abort();
	memcpy(head, data, size);
	struct agw_http_request req;
	struct agw_http_refusal no;
	if (agw_http_request_parse(head, size, &req, &no) == 0) {
		if (!req.path || req.path_len == 0 || req.path[0] != '/')
			abort();
		agw_http_access_check(&loopback, &req, &no);
		agw_http_access_check(&remote, &req, &no);
	} else if (no.code < 400 || no.code > 499 || !no.reason || !no.text || !no.extra) {
		abort();
	}
	free(head);
	return 0;
}
