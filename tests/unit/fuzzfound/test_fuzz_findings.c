/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One test per fuzzing finding. Each failed on the code before its fix; the inputs that found
 * them are in tests/fuzz/corpus/ too. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alarmgw/alert.h"
#include "grid_import.h"
#include "ledger.h"
#include "onvif_requests.h"

/* onvif_response: a device answer with an undeclared SOAP-ENV prefix is repaired into a copy;
 * when the copy then held a NUL byte the copy leaked (LeakSanitizer at exit, once per response). */
static void test_onvif_repaired_nul_no_leak(void **state)
{
	static const char doc[] = "<SOAP-ENV:Envelope><SOAP-ENV:Body><x>a\0b</x></SOAP-ENV:Body></SOAP-ENV:Envelope>";
	struct soap *soap = agw_onvif_soap_new();
	assert_non_null(soap);
	struct agw_onvif_response r;
	char err[256];
	for (int i = 0; i < 100; i++)
		assert_int_equal(agw_onvif_response_parse(soap, AGW_ONVIF_GET_SERVICES, doc, sizeof(doc) - 1, &r, err,
							   sizeof(err)),
				 -EINVAL);
	agw_onvif_soap_free(soap);
}

/* alert_json: an alert without a gateway time (a replay line, a captured alert) came out of
 * agw_alert_to_json as "1970-01-01T00:00:00.000Z", which agw_alert_from_json refuses. */
static void test_alert_json_round_trip_without_gateway_time(void **state)
{
	static const char line[] = "{\"camera\":\"cam-2\",\"kind\":\"loitering\",\"active\":true}";
	struct agw_alert a, b;
	char err[256];
	agw_alert_init(&a);
	agw_alert_init(&b);
	assert_int_equal(agw_alert_from_json(line, strlen(line), &a, err, sizeof(err)), 0);
	char *json = NULL;
	assert_int_equal(agw_alert_to_json(&a, &json), 0);
	assert_int_equal(agw_alert_from_json(json, strlen(json), &b, err, sizeof(err)), 0);
	assert_int_equal(b.gateway_time_ms, a.gateway_time_ms);
	free(json);
	agw_alert_clear(&a);
	agw_alert_clear(&b);
}

/* ledger_csv: reading any ledger allocated the 64 MiB limit up front (libFuzzer: malloc(67108865)
 * for an empty file). The largest single allocation for a small ledger must be small. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
					      void (*free_hook)(const volatile void *)) __attribute__((weak));
static size_t largest;
static bool recording;
static void record_size(const volatile void *ptr, size_t size)
{
	if (recording && size > largest)
		largest = size;
}

static void record_free(const volatile void *ptr)
{
}

static void test_ledger_small_file_small_memory(void **state)
{
	if (!__sanitizer_install_malloc_and_free_hooks)
		skip(); /* the hook exists in sanitizer builds (AGW_SANITIZE=ON, as CI builds) */
	char path[] = "/tmp/agw-ledger-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char csv[] = "id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n"
				  "cam-1,Gate,hikvision,onvif,10.0.0.1,,,116.41,39.91,wgs84,\n";
	assert_int_equal(write(fd, csv, sizeof(csv) - 1), (ssize_t)(sizeof(csv) - 1));
	close(fd);
	struct agw_camera *cams = NULL;
	size_t n = 0;
	struct agw_errors errs = {0};
	largest = 0;
	assert_int_not_equal(__sanitizer_install_malloc_and_free_hooks(record_size, record_free), 0);
	recording = true;
	int r = agw_ledger_parse(path, &cams, &n, &errs);
	recording = false; /* hooks cannot be removed; this one stops counting */
	unlink(path);
	assert_int_equal(r, 1);
	agw_cameras_free(cams, n);
	agw_errors_clear(&errs);
	assert_true(largest < (1u << 20));
}

/* time_rfc3339: a local time within range could lie outside it in UTC ("9999-12-31T23:59:59.9-22:11"
 * is in the year 10000): accepted, then formatted as a time nothing reads back. */
static void test_time_offset_stays_in_range(void **state)
{
	int64_t ms = 0, again = 0;
	char buf[64];
	assert_int_equal(agw_time_parse_ms("9999-12-31T23:59:59.9-22:11", &ms), -EINVAL);
	assert_int_equal(agw_time_parse_ms("1971-01-01T00:30:00+01:00", &ms), -EINVAL);
	assert_int_equal(agw_time_parse_ms("9999-12-31T23:59:59.999Z", &ms), 0);
	assert_int_equal(agw_time_parse_ms(agw_time_format_ms(ms, buf, sizeof(buf)), &again), 0);
	assert_int_equal(again, ms);
	assert_int_equal(agw_time_parse_ms("1971-01-01T01:30:00+01:00", &ms), 0);
	assert_int_equal(ms, 31536000000LL + 1800000);
}

/* grid_geojson: a FeatureCollection without features built an empty grid by qsort(NULL, 0, ...),
 * which UBSan reports (nonnull argument). */
static void test_grid_empty_collection(void **state)
{
	static const char text[] = "{\"type\": \"FeatureCollection\", \"features\": [\n \n]}\n";
	struct agw_grid *g = NULL;
	char err[256];
	int r = agw_grid_from_geojson(text, sizeof(text) - 1, "empty", AGW_CRS_WGS84, 1, &g, err, sizeof(err));
	if (r == 0) {
		assert_int_equal(agw_grid_count(g), 0);
		assert_null(agw_grid_locate(g, 116.4, 39.9));
		agw_grid_free(g);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_onvif_repaired_nul_no_leak),
		cmocka_unit_test(test_alert_json_round_trip_without_gateway_time),
		cmocka_unit_test(test_ledger_small_file_small_memory),
		cmocka_unit_test(test_time_offset_stays_in_range),
		cmocka_unit_test(test_grid_empty_collection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
