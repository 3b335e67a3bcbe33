/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Catalog answers as channel records (real captures from a Dahua NVR and a Hikvision IPC, and
 * made-up bad items), their stored JSON, and the utc_offsets option. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gb_manscdp.h"
#include "gb_message.h"
#include "gb_alarm.h"

static void parse_file(const char *name, struct agw_gb_message *m)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/gb28181/%s", AGW_FIXTURES, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: cannot open", path);
	static char buf[1 << 16];
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	char err[256] = "";
	if (agw_gb_message_parse(buf, len, 0, m, err, sizeof(err)) != 0)
		fail_msg("%s: %s", name, err);
}

static void test_nvr_capture(void **state)
{
	(void)state;
	struct agw_gb_message m;
	parse_file("dahua-nvr-catalog.xml", &m);
	struct agw_gb_channel *v = NULL;
	size_t skipped = 99;
	assert_int_equal(agw_gb_catalog_read(&m.doc, "34020000001180000001", &v, &skipped), 1);
	assert_int_equal(skipped, 0);
	assert_int_equal(agw_gb_catalog_sum(&m.doc), 4); /* the other three come in later MESSAGEs */
	assert_string_equal(v[0].id, "34020000001310000001");
	assert_string_equal(v[0].device, "34020000001180000001");
	assert_string_equal(v[0].manufacturer, "General");
	assert_string_equal(v[0].model, "IPC-HFW4150D-V2");
	assert_string_equal(v[0].status, "ON");
	assert_string_equal(v[0].parent_id, "34020000001180000001");
	assert_non_null(strstr(v[0].name, "1.107"));
	assert_true(isnan(v[0].lon));
	char *json = agw_gb_channel_json(&v[0], 0);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"manufacturer\":\"General\""));
	assert_null(strstr(json, "longitude"));
	assert_null(strstr(json, "first_unmatched_alarm_ms"));
	free(json);
	agw_gb_channels_free(v, 1);
	agw_gb_message_clear(&m);
}

static void test_ipc_lists_itself(void **state)
{
	(void)state;
	struct agw_gb_message m;
	parse_file("hikvision-ipc-catalog.sip", &m);
	struct agw_gb_channel *v = NULL;
	size_t skipped;
	assert_int_equal(agw_gb_catalog_read(&m.doc, "62010201001320000393", &v, &skipped), 1);
	assert_string_equal(v[0].id, "62010201001320000393");
	assert_string_equal(v[0].name, "Camera 01");
	agw_gb_channels_free(v, 1);
	agw_gb_message_clear(&m);
}

static void parse_text(const char *xml, struct agw_gb_message *m)
{
	char err[256] = "";
	if (agw_gb_message_parse(xml, strlen(xml), 0, m, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

static void test_bad_items(void **state)
{
	(void)state;
	char name[400];
	memset(name, 'x', 126);
	memcpy(name + 126, "东门", 6); /* the bound (128 bytes) falls inside 东 */
	name[132] = '\0';
	char xml[2048];
	snprintf(xml, sizeof(xml),
		 "<Response><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>34020000002000000002</DeviceID>"
		 "<SumNum>9999999</SumNum><DeviceList Num=\"4\">"
		 "<Item><DeviceID>340200</DeviceID><Name>a civil code</Name></Item>"
		 "<Item><DeviceID>3402000000131000000x</DeviceID></Item>"
		 "<Item><DeviceID>34020000001310000007</DeviceID><Name>%s</Name><Longitude>200</Longitude>"
		 "<Latitude>30</Latitude></Item>"
		 "<Item><DeviceID>34020000001310000008</DeviceID><Longitude> 108.9 </Longitude><Latitude>34.2x</Latitude></Item>"
		 "</DeviceList></Response>",
		 name);
	struct agw_gb_message m;
	parse_text(xml, &m);
	struct agw_gb_channel *v = NULL;
	size_t skipped;
	assert_int_equal(agw_gb_catalog_read(&m.doc, "34020000002000000002", &v, &skipped), 2);
	assert_int_equal(skipped, 2);
	assert_int_equal(agw_gb_catalog_sum(&m.doc), -1); /* over the bound */
	assert_int_equal(strlen(v[0].name), 126);          /* cut before the character, not inside it */
	assert_true(isnan(v[0].lon) && isnan(v[0].lat));    /* longitude out of range: no position */
	assert_true(isnan(v[1].lon) && isnan(v[1].lat));    /* latitude unreadable: no position */
	agw_gb_channels_free(v, 2);
	agw_gb_message_clear(&m);
	/* not a catalog answer */
	parse_text("<Query><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>34020000001180000001</DeviceID></Query>", &m);
	assert_int_equal(agw_gb_catalog_read(&m.doc, "34020000001180000001", &v, &skipped), -EINVAL);
	agw_gb_message_clear(&m);
}

static void test_zones(void **state)
{
	(void)state;
	struct agw_gb_zones *z = NULL;
	char err[256];
	assert_int_equal(agw_gb_zones_parse(" 34020000001180000001=+07:00, 34020000001310000002=-0330;"
					    "34020000001310000003=0 ,34020000001310000004=Z, ",
					    &z, err, sizeof(err)),
			 0);
	assert_int_equal(agw_gb_zones_offset(z, NULL, "34020000001180000001", 480), 420);
	assert_int_equal(agw_gb_zones_offset(z, "34020000001310000002", "34020000001180000001", 480), -210);
	assert_int_equal(agw_gb_zones_offset(z, "34020000001310000003", NULL, 480), 0);
	assert_int_equal(agw_gb_zones_offset(z, "34020000001310000004", NULL, 480), 0);
	assert_int_equal(agw_gb_zones_offset(z, "34020000001310000009", "34020000001180000009", 480), 480);
	assert_int_equal(agw_gb_zones_offset(NULL, "x", NULL, 480), 480);
	agw_gb_zones_free(z);
	const char *bad[] = {"3402=480", "34020000001180000001", "34020000001180000001=+25:00",
			     "34020000001180000001=900", "34020000001180000001=+7:0x", "34020000001180000001=abc"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		z = (void *)1;
		err[0] = '\0';
		assert_int_equal(agw_gb_zones_parse(bad[i], &z, err, sizeof(err)), -EINVAL);
		assert_ptr_equal(z, (void *)1); /* untouched */
		assert_non_null(strstr(err, "utc_offsets: entry 1 ("));
	}
	assert_int_equal(agw_gb_zones_parse(NULL, &z, err, sizeof(err)), 0);
	assert_int_equal(agw_gb_zones_offset(z, "34020000001310000004", NULL, 480), 480);
	agw_gb_zones_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nvr_capture),
		cmocka_unit_test(test_ipc_lists_itself),
		cmocka_unit_test(test_bad_items),
		cmocka_unit_test(test_zones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
