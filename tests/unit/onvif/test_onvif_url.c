/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Camera addresses: device URLs from the ledger, returned service addresses rewritten to the host
 * the gateway reaches the camera on (NAT, 0.0.0.0), Dahua-style query strings kept exactly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "onvif_url.h"

static void check_device(const char *address, const char *want)
{
	char *url = NULL;
	if (!want) {
		assert_int_equal(agw_onvif_device_url(address, &url), -EINVAL);
		assert_null(url);
		return;
	}
	assert_int_equal(agw_onvif_device_url(address, &url), 0);
	assert_string_equal(url, want);
	free(url);
}

static void test_device_url(void **state)
{
	(void)state;
	check_device("192.168.1.64", "http://192.168.1.64/onvif/device_service");
	check_device("10.0.0.5:8080", "http://10.0.0.5:8080/onvif/device_service");
	check_device("[fe80::1]:80", "http://[fe80::1]:80/onvif/device_service");
	check_device("http://10.0.0.5:8080", "http://10.0.0.5:8080/onvif/device_service");
	check_device("http://10.0.0.5:8080/", "http://10.0.0.5:8080/onvif/device_service");
	check_device("https://cam.example/onvif/device", "https://cam.example/onvif/device");
	check_device("rtsp://10.0.0.5/stream1", NULL);
}

static void check_rewrite(const char *addr, const char *want)
{
	char *out = agw_onvif_rewrite_address("http", "203.0.113.7:8081", "203.0.113.7", addr);
	if (!want) {
		assert_null(out);
		return;
	}
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void test_rewrite(void **state)
{
	(void)state;
	/* a private address behind NAT: the configured host and port, path and query untouched */
	check_rewrite("http://192.168.1.108/onvif/Subscription?Idx=11", "http://203.0.113.7:8081/onvif/Subscription?Idx=11");
	check_rewrite("http://0.0.0.0:80/onvif/event_service", "http://203.0.113.7:8081/onvif/event_service");
	/* the same host: kept as the camera wrote it (another port may be a real service port) */
	check_rewrite("http://203.0.113.7:8899/onvif/events", "http://203.0.113.7:8899/onvif/events");
	check_rewrite("https://203.0.113.7/onvif/events", "https://203.0.113.7/onvif/events");
	/* credentials in a returned address are dropped */
	check_rewrite("http://admin:secret@192.168.1.108/onvif/x", "http://203.0.113.7:8081/onvif/x");
	/* a bare path joins the configured authority */
	check_rewrite("/onvif/PullSubManager?id=3", "http://203.0.113.7:8081/onvif/PullSubManager?id=3");
	/* unusable */
	check_rewrite("", NULL);
	check_rewrite(NULL, NULL);
	check_rewrite("not a url", NULL);
	check_rewrite("http://", NULL);
	check_rewrite("http://[::1/x", NULL);
}

static void check_rewrite_https(const char *addr, const char *want)
{
	char *out = agw_onvif_rewrite_address("https", "cam.example:8443", "cam.example", addr);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

/* An https camera that advertises http service addresses (factory XAddrs) must not be talked to
 * in plaintext: the scheme and port the operator configured are kept, the path is the camera's. */
static void test_rewrite_keeps_https(void **state)
{
	(void)state;
	check_rewrite_https("http://cam.example/onvif/events", "https://cam.example:8443/onvif/events");
	check_rewrite_https("http://cam.example:80/onvif/Subscription?Idx=2",
			    "https://cam.example:8443/onvif/Subscription?Idx=2");
	check_rewrite_https("http://192.168.1.108/onvif/events", "https://cam.example:8443/onvif/events");
	/* https on another port of the same host stays as the camera wrote it */
	check_rewrite_https("https://cam.example:9443/onvif/events", "https://cam.example:9443/onvif/events");
	check_rewrite_https("/onvif/events", "https://cam.example:8443/onvif/events");
}

static void test_split(void **state)
{
	(void)state;
	char *scheme = NULL, *authority = NULL, *host = NULL;
	const char *rest = NULL;
	assert_int_equal(agw_onvif_url_split("http://[2001:db8::5]:8080/a?b=c", &scheme, &authority, &host, &rest), 0);
	assert_string_equal(scheme, "http");
	assert_string_equal(authority, "[2001:db8::5]:8080");
	assert_string_equal(host, "[2001:db8::5]");
	assert_string_equal(rest, "/a?b=c");
	free(scheme);
	free(authority);
	free(host);
}

static void check_stream(const char *addr, const char *want)
{
	char *out = agw_onvif_stream_address("203.0.113.7", addr);
	if (!want) {
		assert_null(out);
		return;
	}
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

/* GetStreamUri: the RTSP port is the stream's own, only a foreign host is replaced */
static void test_stream_address(void **state)
{
	(void)state;
	check_stream("rtsp://192.168.1.108:554/Streaming/Channels/101?transportmode=unicast",
		     "rtsp://203.0.113.7:554/Streaming/Channels/101?transportmode=unicast");
	check_stream("rtsp://203.0.113.7:8554/normal", "rtsp://203.0.113.7:8554/normal");
	check_stream("rtsp://0.0.0.0/live", "rtsp://203.0.113.7/live");
	check_stream("rtsps://admin:secret@203.0.113.7:322/live", "rtsps://203.0.113.7:322/live");
	check_stream("http://203.0.113.7/live.mjpg", NULL);
	check_stream("/live", NULL);
	check_stream("", NULL);
	check_stream(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_url),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_rewrite_keeps_https),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_stream_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
