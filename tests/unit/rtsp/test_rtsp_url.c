/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The URL a patrol opens: the ledger's credentials percent-encoded into the address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rtsp_url.h"

static void expect_url(const char *addr, const char *user, const char *pass, const char *want)
{
	char *url = agw_rtsp_url_open(addr, user, pass);
	assert_non_null(url);
	assert_string_equal(url, want);
	agw_rtsp_url_free(url);
}

static void test_credentials_encoded(void **state)
{
	(void)state;
	/* '@', ':' and ' ' in a password would otherwise end the userinfo early */
	expect_url("rtsp://10.0.0.1:554/Streaming/Channels/101", "ad@min", "p:ss w/rd",
		   "rtsp://ad%40min:p%3Ass%20w%2Frd@10.0.0.1:554/Streaming/Channels/101");
	expect_url("rtsps://cam.example/live", "user", "a-b.c_d~e", "rtsps://user:a-b.c_d~e@cam.example/live");
}

static void test_without_credentials_or_scheme(void **state)
{
	(void)state;
	expect_url("10.0.0.1/live", NULL, NULL, "rtsp://10.0.0.1/live");
	expect_url("rtsp://10.0.0.1/live", "", "secret", "rtsp://10.0.0.1/live");
	expect_url("rtsp://10.0.0.1/live", "viewer", "", "rtsp://viewer@10.0.0.1/live");
	agw_rtsp_url_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_credentials_encoded),
		cmocka_unit_test(test_without_credentials_or_scheme),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
