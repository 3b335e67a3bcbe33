/* SPDX-License-Identifier: GPL-2.0-or-later */
/* URLs are made safe to print: credentials in the userinfo and in query parameters are masked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alarmgw/log.h"

static void redacts(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"rtsp://admin:S3cret@10.0.0.5:554/Streaming/101", "rtsp://***@10.0.0.5:554/Streaming/101"},
		{"rtsp://admin@10.0.0.5/", "rtsp://***@10.0.0.5/"},
		{"http://10.0.0.5/onvif/device_service", "http://10.0.0.5/onvif/device_service"},
		{"http://u:p@h/a?x=1&password=abc&user=root#f", "http://***@h/a?x=1&password=***&user=***#f"},
		{"rtsp://h/live?token=t0k3n", "rtsp://h/live?token=***"},
		{"http://a:b@c@host/x", "http://***@host/x"},
		{"10.0.0.1:80", "10.0.0.1:80"},
		{"", ""},
	};
	char buf[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(agw_url_redact(cases[i].in, buf, sizeof(buf)), cases[i].out);
	/* a short buffer truncates but never overflows, and never shows a secret */
	char small[12];
	agw_url_redact("rtsp://admin:S3cret@10.0.0.5/", small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_null(strstr(small, "S3cret"));
	assert_string_equal(agw_url_redact(NULL, buf, sizeof(buf)), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(redacts)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
