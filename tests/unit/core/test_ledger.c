/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Camera ledger import: the shapes real spreadsheets export are accepted; every kind of bad row
 * aborts the whole import with its line and reason, and the stored ledger stays as it was. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ledger.h"
#include "testutil.h"

#define HEADER "id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n"

static struct agw_store *open_store(char **dir)
{
	*dir = temp_dir();
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/t.db", *dir);
	struct agw_store *s = NULL;
	assert_int_equal(agw_store_open(path, &s, err, sizeof(err)), 0);
	return s;
}

static void good_ledger(void **state)
{
	(void)state;
	/* BOM, CRLF, columns in another order, quoted fields with a comma, a quote and a newline,
	 * a blank line, GCJ-02 spelled as exported, no coordinates for one camera */
	char *path = write_temp(".csv",
				"\xEF\xBB\xBFname,id,vendor,protocol,address,username,password,longitude,latitude,crs,tags\r\n"
				"\"North Gate, east\",cam-001,Hikvision,onvif,192.168.1.10:80,admin,\"p,a\"\"ss\",108.94,34.26,"
				"GCJ-02,gate;entrance\r\n"
				"\r\n"
				"\"Square\nline two\",cam-002,Dahua,rtsp,rtsp://10.0.0.2:554/live,,,,,,\r\n");
	char *dir;
	struct agw_store *s = open_store(&dir);
	struct agw_errors errs = {0};
	int n = agw_ledger_import(s, path, &errs);
	for (size_t i = 0; i < errs.n; i++)
		print_message("%s\n", errs.v[i]);
	assert_int_equal(n, 2);
	struct agw_camera *cams;
	size_t count;
	assert_int_equal(agw_store_cameras_load(s, &cams, &count), 2);
	assert_string_equal(cams[0].id, "cam-001");
	assert_string_equal(cams[0].name, "North Gate, east");
	assert_string_equal(cams[0].password, "p,a\"ss");
	assert_string_equal(cams[0].crs, "gcj02");
	assert_string_equal(cams[0].tags, "gate;entrance");
	assert_true(fabs(cams[0].lon - 108.94) < 1e-9 && fabs(cams[0].lat - 34.26) < 1e-9);
	assert_string_equal(cams[1].name, "Square\nline two");
	assert_true(isnan(cams[1].lon));
	assert_null(cams[1].username);
	agw_cameras_free(cams, count);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
	unlink(path);
	free(path);
}

/* Each bad row, after one good row, gives exactly this line and reason and imports nothing. */
static void bad_rows(void **state)
{
	(void)state;
	static const struct {
		const char *row;
		int line;
		const char *reason;
	} cases[] = {
		{",Nameless id,V,onvif,10.0.0.1,,,,,,\n", 3, "id must be"},
		{"cam-9,,V,onvif,10.0.0.1,,,,,,\n", 3, "name is empty"},
		{"cam-9,N,V,ftp,10.0.0.1,,,,,,\n", 3, "protocol must be one of: "},
		{"cam-9,N,V,rtsp,http://10.0.0.1/x,,,,,,\n", 3, "rtsp:// or rtsps://"},
		{"cam-9,N,V,onvif,http://admin:secret@10.0.0.1/onvif,,,,,,\n", 3, "contains credentials"},
		{"cam-9,N,V,onvif,,,,,,,\n", 3, "address is empty"},
		{"cam-9,N,V,onvif,10.0.0.1,,pw,,,,\n", 3, "password without a username"},
		{"cam-9,N,V,onvif,10.0.0.1,,,108.9,,wgs84,\n", 3, "go together"},
		{"cam-9,N,V,onvif,10.0.0.1,,,190,34,wgs84,\n", 3, "longitude must be"},
		{"cam-9,N,V,onvif,10.0.0.1,,,108,north,wgs84,\n", 3, "latitude must be"},
		{"cam-9,N,V,onvif,10.0.0.1,,,108,34,bd09,\n", 3, "crs must be"},
		{"cam-1,N,V,onvif,10.0.0.1,,,,,,\n", 3, "duplicate camera id"},
		{"cam-9,N,V,onvif,10.0.0.1,,,,,\n", 3, "10 fields, the header has 11"},
		{"cam-9,\"N,V,onvif,10.0.0.1,,,,,,\n", 3, "quoted field is not closed"},
		{"cam-9,\"N\"x,V,onvif,10.0.0.1,,,,,,\n", 3, "after a closing quote"},
		{"cam-9,N\xff,V,onvif,10.0.0.1,,,,,,\n", 3, "UTF-8"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024];
		snprintf(text, sizeof(text), HEADER "cam-1,Good,V,onvif,10.0.0.1,,,,,,\n%s", cases[i].row);
		char *path = write_temp(".csv", text);
		char *dir;
		struct agw_store *s = open_store(&dir);
		/* a ledger that is already there must survive the failed import */
		char *before = write_temp(".csv", HEADER "old-1,Old,V,onvif,10.9.9.9,,,,,,\n");
		struct agw_errors errs = {0};
		assert_int_equal(agw_ledger_import(s, before, &errs), 1);
		assert_int_equal(agw_ledger_import(s, path, &errs), -EINVAL);
		char want[600];
		snprintf(want, sizeof(want), "%s:%d:", path, cases[i].line);
		if (errs.n < 1 || !strstr(errs.v[0], want) || !strstr(errs.v[0], cases[i].reason))
			fail_msg("case %zu: got \"%s\", want %s ... %s", i, errs.n ? errs.v[0] : "(none)", want,
				 cases[i].reason);
		/* a password in a bad row is never echoed */
		assert_null(strstr(errs.v[0], "secret"));
		struct agw_camera *cams;
		size_t n;
		assert_int_equal(agw_store_cameras_load(s, &cams, &n), 1);
		assert_string_equal(cams[0].id, "old-1");
		agw_cameras_free(cams, n);
		agw_errors_clear(&errs);
		agw_store_close(s);
		remove_tree(dir);
		free(dir);
		unlink(path);
		unlink(before);
		free(path);
		free(before);
	}
}

static void bad_headers(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *reason;
	} cases[] = {
		{"", "empty file"},
		{"id,name,vendor,protocol,address,username,password,longitude,latitude,crs\n", "missing column \"tags\""},
		{"id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags,colour\n",
		 "unknown column \"colour\""},
		{"id,id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n", "appears twice"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = write_temp(".csv", cases[i].text);
		struct agw_camera *cams = NULL;
		size_t n = 0;
		struct agw_errors errs = {0};
		assert_int_equal(agw_ledger_parse(path, &cams, &n, &errs), -EINVAL);
		assert_true(errs.n >= 1);
		if (!strstr(errs.v[0], cases[i].reason))
			fail_msg("case %zu: \"%s\" lacks %s", i, errs.v[0], cases[i].reason);
		agw_errors_clear(&errs);
		unlink(path);
		free(path);
	}
	struct agw_camera *cams = NULL;
	size_t n = 0;
	struct agw_errors errs = {0};
	assert_int_equal(agw_ledger_parse("/nonexistent.csv", &cams, &n, &errs), -EINVAL);
	assert_non_null(strstr(errs.v[0], "cannot open"));
	agw_errors_clear(&errs);
}

static void every_bad_row_reported(void **state)
{
	(void)state;
	char *path = write_temp(".csv", HEADER "a,A,V,onvif,10.0.0.1,,,,,,\n"
					       "b,,V,onvif,10.0.0.1,,,,,,\n"
					       "c,C,V,ftp,10.0.0.1,,,,,,\n"
					       "d,D,V,onvif,10.0.0.1,,,,,,\n");
	struct agw_camera *cams = NULL;
	size_t n = 0;
	struct agw_errors errs = {0};
	assert_int_equal(agw_ledger_parse(path, &cams, &n, &errs), -EINVAL);
	assert_int_equal(errs.n, 2);
	char want[600];
	snprintf(want, sizeof(want), "%s:3: camera b: name is empty", path);
	assert_string_equal(errs.v[0], want);
	snprintf(want, sizeof(want), "%s:4: camera c: protocol must be one of: %s", path, agw_adapter_protocol_list());
	assert_string_equal(errs.v[1], want);
	agw_errors_clear(&errs);
	unlink(path);
	free(path);
}

#define NVR_HEADER "id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags,device,channel\n"
#define NVR_ROW "nvr-1,NVR,Hikvision,isapi,10.0.0.50,admin,pw,,,,,,\n"

/* An NVR row and its channels: each channel row is a camera with its own place; the device and
 * channel survive the store; a channel row may leave its address empty. */
static void nvr_channels(void **state)
{
	(void)state;
	char *path = write_temp(".csv", NVR_HEADER NVR_ROW
				"gate,Gate,Hikvision,isapi,,,,108.90,34.20,,,nvr-1,1\n"
				"yard,Yard,Hikvision,isapi,10.0.0.62,,,108.91,34.21,,,nvr-1,2\n"
				"cam-x,Standalone,Hikvision,isapi,10.0.0.70,,,,,,,,\n");
	char *dir;
	struct agw_store *s = open_store(&dir);
	struct agw_errors errs = {0};
	int n = agw_ledger_import(s, path, &errs);
	for (size_t i = 0; i < errs.n; i++)
		print_message("%s\n", errs.v[i]);
	assert_int_equal(n, 4);
	struct agw_camera *cams;
	size_t count;
	assert_int_equal(agw_store_cameras_load(s, &cams, &count), 4);
	/* ordered by id: cam-x, gate, nvr-1, yard */
	assert_null(cams[0].device);
	assert_int_equal(cams[0].channel, 0);
	assert_string_equal(cams[1].device, "nvr-1");
	assert_int_equal(cams[1].channel, 1);
	assert_string_equal(cams[1].address, "");
	assert_null(cams[2].device);
	assert_string_equal(cams[3].device, "nvr-1");
	assert_int_equal(cams[3].channel, 2);
	/* a changed channel is a changed camera (reload re-adds it) */
	struct agw_camera copy;
	assert_int_equal(agw_camera_copy(&copy, &cams[3]), 0);
	assert_true(agw_camera_equal(&copy, &cams[3]));
	copy.channel = 3;
	assert_false(agw_camera_equal(&copy, &cams[3]));
	agw_camera_clear(&copy);
	agw_cameras_free(cams, count);
	agw_store_close(s);
	remove_tree(dir);
	free(dir);
	unlink(path);
	free(path);
}

/* Each broken channel rule gives its line and reason, and nothing is imported. */
static void nvr_bad_rows(void **state)
{
	(void)state;
	static const struct {
		const char *rows;
		int line;
		const char *reason;
	} cases[] = {
		{"c1,C1,V,isapi,,,,,,,,nvr-9,1\n", 3, "camera c1: device nvr-9 is not a row of the ledger"},
		{"c1,C1,V,isapi,,,,,,,,nvr-1,\n", 3, "camera c1: a row with a device needs its channel"},
		{"c1,C1,V,isapi,,,,,,,,nvr-1,0\n", 3, "channel must be a whole number in [1, 4096]"},
		{"c1,C1,V,isapi,,,,,,,,nvr-1,two\n", 3, "channel must be a whole number"},
		{"c1,C1,V,isapi,,,,,,,,nvr-1,4097\n", 3, "channel must be a whole number"},
		{"c1,C1,V,isapi,,,,,,,,c1,1\n", 3, "device names the row itself"},
		{"c1,C1,V,isapi,,,,,,,,nvr-1,1\nc2,C2,V,isapi,,,,,,,,nvr-1,1\n", 4,
		 "camera c2: channel 1 of device nvr-1 is already camera c1 (line 3)"},
		{"c1,C1,V,dahua,,,,,,,,nvr-1,1\n", 3, "camera c1: device nvr-1 is an isapi row; a channel's device has its protocol (dahua)"},
		{"c1,C1,V,isapi,,,,,,,,nvr-1,1\nc2,C2,V,isapi,,,,,,,,c1,1\n", 4,
		 "camera c2: device c1 is itself a channel of nvr-1; name the device row nvr-1"},
		{"r1,R1,V,rtsp,rtsp://10.0.0.9/s,,,,,,,nvr-1,1\n", 3, "the rtsp adapter does not route device channels"},
		{"c1,C1,V,isapi,http://u:p@10.0.0.9/,,,,,,,nvr-1,1\n", 3, "contains credentials"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024];
		snprintf(text, sizeof(text), NVR_HEADER NVR_ROW "%s", cases[i].rows);
		char *path = write_temp(".csv", text);
		struct agw_camera *cams = NULL;
		size_t n = 0;
		struct agw_errors errs = {0};
		assert_int_equal(agw_ledger_parse(path, &cams, &n, &errs), -EINVAL);
		assert_null(cams);
		char want[600];
		snprintf(want, sizeof(want), "%s:%d:", path, cases[i].line);
		if (errs.n != 1 || !strstr(errs.v[0], want) || !strstr(errs.v[0], cases[i].reason))
			fail_msg("case %zu: got %zu errors, \"%s\", want %s ... %s", i, errs.n, errs.n ? errs.v[0] : "(none)",
				 want, cases[i].reason);
		agw_errors_clear(&errs);
		unlink(path);
		free(path);
	}
}

/* source_token: read for adapters that name channels by token (onvif), refused elsewhere and
 * without a channel, with its line. */
static void source_tokens(void **state)
{
	(void)state;
	static const char head[] = "id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags,device,"
				   "channel,source_token\nnvr-1,NVR,V,onvif,10.0.0.50,,,,,,,,,\n";
	char *path = write_temp(".csv", "id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags,"
					"device,channel,source_token\nnvr-1,NVR,V,onvif,10.0.0.50,,,,,,,,,\n"
					"c1,C1,V,onvif,,,,,,,,nvr-1,9,VideoSource_3\nc2,C2,V,onvif,,,,,,,,nvr-1,2,\n");
	struct agw_camera *cams = NULL;
	size_t n = 0;
	struct agw_errors errs = {0};
	char *dir;
	struct agw_store *st = open_store(&dir);
	/* through the store: what the daemon hands the adapter */
	assert_int_equal(agw_ledger_import(st, path, &errs), 3);
	assert_int_equal(agw_store_cameras_load(st, &cams, &n), 3);
	assert_string_equal(cams[0].id, "c1");
	assert_string_equal(cams[0].source_token, "VideoSource_3");
	assert_int_equal(cams[0].channel, 9);
	assert_null(cams[1].source_token);
	agw_cameras_free(cams, n);
	agw_store_close(st);
	remove_tree(dir);
	free(dir);
	unlink(path);
	free(path);
	static const struct {
		const char *row, *reason;
	} bad[] = {
		{"c1,C1,V,isapi,10.0.0.51,,,,,,,,,VideoSource_1\n", "the isapi adapter does not name channels by token"},
		{"c1,C1,V,onvif,10.0.0.51,,,,,,,,,VideoSource_1\n", "a source_token needs the row's channel"},
		{"c1,C1,V,onvif,,,,,,,,nvr-1,1,a<b\n", "source_token must be at most 64 characters"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[1024];
		snprintf(text, sizeof(text), "%s%s", head, bad[i].row);
		path = write_temp(".csv", text);
		cams = NULL;
		assert_int_equal(agw_ledger_parse(path, &cams, &n, &errs), -EINVAL);
		assert_null(cams);
		char want[600];
		snprintf(want, sizeof(want), "%s:3:", path);
		if (errs.n != 1 || !strstr(errs.v[0], want) || !strstr(errs.v[0], bad[i].reason))
			fail_msg("case %zu: got %zu errors, \"%s\", want %s ... %s", i, errs.n, errs.n ? errs.v[0] : "(none)",
				 want, bad[i].reason);
		agw_errors_clear(&errs);
		unlink(path);
		free(path);
	}
}

/* snapshot_url and its account: kept through the store (what the evidence fallback reads), checked
 * with their line: a URL of another scheme, with credentials, an account without a URL. */
static void snapshot_urls(void **state)
{
	(void)state;
	static const char head[] = "id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags,"
				   "snapshot_url,snapshot_username,snapshot_password\n";
	char text[1024];
	snprintf(text, sizeof(text), "%sg1,G1,V,gb28181,34020000001320000001,34020000001320000001,sip,,,,,"
		 "http://10.0.7.21/ISAPI/Streaming/channels/101/picture,admin,snap\n"
		 "g2,G2,V,gb28181,34020000001320000002,,,,,,,,,\n", head);
	char *path = write_temp(".csv", text);
	struct agw_camera *cams = NULL;
	size_t n = 0;
	struct agw_errors errs = {0};
	char *dir;
	struct agw_store *st = open_store(&dir);
	assert_int_equal(agw_ledger_import(st, path, &errs), 2);
	assert_int_equal(agw_store_cameras_load(st, &cams, &n), 2);
	assert_string_equal(cams[0].snapshot_url, "http://10.0.7.21/ISAPI/Streaming/channels/101/picture");
	assert_string_equal(cams[0].snapshot_username, "admin");
	assert_string_equal(cams[0].snapshot_password, "snap");
	assert_string_equal(cams[0].password, "sip");
	assert_null(cams[1].snapshot_url);
	assert_null(cams[1].snapshot_username);
	struct agw_camera copy;
	assert_int_equal(agw_camera_copy(&copy, &cams[0]), 0);
	assert_true(agw_camera_equal(&copy, &cams[0]));
	free(copy.snapshot_password);
	copy.snapshot_password = strdup("other");
	assert_false(agw_camera_equal(&copy, &cams[0])); /* a changed account is a changed camera */
	agw_camera_clear(&copy);
	agw_cameras_free(cams, n);
	agw_store_close(st);
	remove_tree(dir);
	free(dir);
	unlink(path);
	free(path);
	static const struct {
		const char *row, *reason;
	} bad[] = {
		{"g1,G1,V,gb28181,34020000001320000001,,,,,,,ftp://10.0.7.21/p.jpg,,\n", "snapshot_url must be an http:// or https:// URL"},
		{"g1,G1,V,gb28181,34020000001320000001,,,,,,,http://admin:pw@10.0.7.21/p.jpg,,\n", "snapshot_url contains credentials"},
		{"g1,G1,V,gb28181,34020000001320000001,,,,,,,http:///p.jpg,,\n", "snapshot_url has no host"},
		{"g1,G1,V,gb28181,34020000001320000001,,,,,,,,admin,pw\n", "need a snapshot_url"},
		{"g1,G1,V,gb28181,34020000001320000001,,,,,,,http://10.0.7.21/p.jpg,,pw\n", "a snapshot_password without a snapshot_username"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", head, bad[i].row);
		path = write_temp(".csv", text);
		cams = NULL;
		assert_int_equal(agw_ledger_parse(path, &cams, &n, &errs), -EINVAL);
		char want[600];
		snprintf(want, sizeof(want), "%s:2:", path);
		if (errs.n != 1 || !strstr(errs.v[0], want) || !strstr(errs.v[0], bad[i].reason))
			fail_msg("case %zu: got %zu errors, \"%s\", want %s ... %s", i, errs.n, errs.n ? errs.v[0] : "(none)",
				 want, bad[i].reason);
		agw_errors_clear(&errs);
		unlink(path);
		free(path);
	}
}

/* A device row's own channel counts among its channels; another device may reuse the number. */
static void nvr_own_channel(void **state)
{
	(void)state;
	char *path = write_temp(".csv", NVR_HEADER "nvr-1,NVR,V,isapi,10.0.0.50,,,,,,,,1\n"
						  "nvr-2,NVR2,V,isapi,10.0.0.51,,,,,,,,\n"
						  "c2,C2,V,isapi,,,,,,,,nvr-2,1\n"
						  "c1,C1,V,isapi,,,,,,,,nvr-1,1\n");
	struct agw_camera *cams = NULL;
	size_t n = 0;
	struct agw_errors errs = {0};
	assert_int_equal(agw_ledger_parse(path, &cams, &n, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	char want[600];
	snprintf(want, sizeof(want), "%s:5: camera c1: channel 1 of device nvr-1 is already camera nvr-1 (line 2)", path);
	assert_string_equal(errs.v[0], want);
	agw_errors_clear(&errs);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_ledger),
		cmocka_unit_test(bad_rows),
		cmocka_unit_test(bad_headers),
		cmocka_unit_test(every_bad_row_reported),
		cmocka_unit_test(nvr_channels),
		cmocka_unit_test(nvr_bad_rows),
		cmocka_unit_test(nvr_own_channel),
		cmocka_unit_test(source_tokens),
		cmocka_unit_test(snapshot_urls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
