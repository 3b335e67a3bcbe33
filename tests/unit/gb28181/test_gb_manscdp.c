/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MANSCDP documents: what each capture is (root, CmdType, SN, DeviceID, fields, catalog items),
 * and the documents that must be refused, with where. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gb_message.h"

static char *read_fixture(const char *name, size_t *ret_len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/gb28181/%s", AGW_FIXTURES, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: cannot open", path);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*ret_len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*ret_len] = '\0';
	fclose(f);
	return buf;
}

static void parse_fixture(const char *name, struct agw_gb_message *m)
{
	size_t len;
	char *buf = read_fixture(name, &len);
	char err[256] = "";
	int rc = agw_gb_message_parse(buf, len, 0, m, err, sizeof(err));
	free(buf);
	if (rc != 0)
		fail_msg("%s: %s", name, err);
	assert_true(m->has_doc);
}

struct doc_case {
	const char *file;
	enum agw_gb_root root;
	enum agw_gb_cmd cmd;
	const char *cmd_type, *sn, *device_id;
	const char *field, *value; /* one more field to check, NULL for none */
	size_t n_items;
	long list_num;
};

static const struct doc_case docs[] = {
	{"dahua-nvr-keepalive.xml", AGW_GB_ROOT_NOTIFY, AGW_GB_CMD_KEEPALIVE, "Keepalive", "279", "34020000001180000001",
	 "Status", "OK", 0, -1},
	{"dahua-ipc-keepalive.sip", AGW_GB_ROOT_NOTIFY, AGW_GB_CMD_KEEPALIVE, "Keepalive", "4", "34020000001320000001",
	 "Status", "OK", 0, -1},
	{"ipcam-keepalive-info.sip", AGW_GB_ROOT_NOTIFY, AGW_GB_CMD_KEEPALIVE, "Keepalive", "42", "34020000002000000719",
	 "Info", "", 0, -1},
	{"dahua-nvr-alarm.xml", AGW_GB_ROOT_NOTIFY, AGW_GB_CMD_ALARM, "Alarm", "9", "34020000001310000001",
	 "Info/AlarmTypeParam/EventType", "1", 0, -1},
	{"easycvr-alarm-lowercase.xml", AGW_GB_ROOT_NOTIFY, AGW_GB_CMD_ALARM, "Alarm", "51", "31010000001340000001",
	 "AlarmMethod", "2", 0, -1},
	{"response-alarm.xml", AGW_GB_ROOT_RESPONSE, AGW_GB_CMD_ALARM, "Alarm", "1017", "34020000001320000011", "Result",
	 "OK", 0, -1},
	{"query-catalog.xml", AGW_GB_ROOT_QUERY, AGW_GB_CMD_CATALOG, "Catalog", "471", "34020000001320000001", NULL, NULL,
	 0, -1},
	{"devicestatus-response.xml", AGW_GB_ROOT_RESPONSE, AGW_GB_CMD_DEVICE_STATUS, "DeviceStatus", "1708",
	 "34020000001320000001", "Online", "ONLINE", 0, -1},
	{"hik-deviceinfo.xml", AGW_GB_ROOT_RESPONSE, AGW_GB_CMD_DEVICE_INFO, "DeviceInfo", "1", "34020000001320000001",
	 "Firmware", "V5.5.82 build 180314", 0, -1},
	{"dahua-nvr-catalog.xml", AGW_GB_ROOT_RESPONSE, AGW_GB_CMD_CATALOG, "Catalog", "1", "34020000001180000001",
	 "SumNum", "4", 1, 1},
	{"dahua-ipc-catalog.xml", AGW_GB_ROOT_RESPONSE, AGW_GB_CMD_CATALOG, "Catalog", "1", "34020000001320000001",
	 "SumNum", "1", 1, 1},
	{"hikvision-ipc-catalog.sip", AGW_GB_ROOT_RESPONSE, AGW_GB_CMD_CATALOG, "Catalog", "1708",
	 "62010201001320000393", "SumNum", "1", 1, 1},
};

static void test_documents(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		const struct doc_case *c = &docs[i];
		struct agw_gb_message m;
		parse_fixture(c->file, &m);
		const struct agw_gb_doc *d = &m.doc;
		if (d->root != c->root || d->cmd != c->cmd || strcmp(d->cmd_type, c->cmd_type) != 0 ||
		    strcmp(d->sn, c->sn) != 0 || strcmp(d->device_id, c->device_id) != 0 || d->n_items != c->n_items ||
		    d->list_num != c->list_num)
			fail_msg("%s: root %d cmd %d '%s' sn '%s' id '%s' items %zu num %ld", c->file, d->root, d->cmd,
				 d->cmd_type, d->sn, d->device_id, d->n_items, d->list_num);
		if (c->field) {
			const char *v = agw_gb_doc_get(d, c->field);
			if (!v || strcmp(v, c->value) != 0)
				fail_msg("%s: %s is '%s'", c->file, c->field, v ? v : "(none)");
		}
		agw_gb_message_clear(&m);
	}
}

/* Catalog items, with the GB2312 names converted. */
static void test_catalog_items(void **state)
{
	(void)state;
	struct agw_gb_message m;
	parse_fixture("dahua-nvr-catalog.xml", &m);
	const struct agw_gb_item *it = &m.doc.items[0];
	assert_string_equal(agw_gb_item_get(it, "DeviceID"), "34020000001310000001");
	assert_string_equal(agw_gb_item_get(it, "Name"), "大华1.107");
	assert_string_equal(agw_gb_item_get(it, "ParentID"), "34020000001180000001");
	assert_string_equal(agw_gb_item_get(it, "Status"), "ON");
	assert_string_equal(agw_gb_item_get(it, "Password"), "");
	assert_string_equal(agw_gb_item_get(it, "Info/PTZType"), "3");
	assert_null(agw_gb_item_get(it, "Longitude"));
	/* item fields are not document fields */
	assert_null(agw_gb_doc_get(&m.doc, "Name"));
	agw_gb_message_clear(&m);

	parse_fixture("dahua-nvr-catalog-channel4.xml", &m);
	assert_string_equal(agw_gb_item_get(&m.doc.items[0], "Name"), "1.64 海康摄像机");
	assert_string_equal(agw_gb_item_get(&m.doc.items[0], "Model"), "DS-2CD2725EFD-IS");
	assert_string_equal(m.text.read_as, "GB18030");
	agw_gb_message_clear(&m);

	parse_fixture("hikvision-ipc-catalog.sip", &m);
	assert_non_null(m.sip);
	assert_string_equal(agw_gb_item_get(&m.doc.items[0], "CivilCode"), "5100000000");
	assert_string_equal(agw_gb_item_get(&m.doc.items[0], "Manufacturer"), "Hikvision");
	agw_gb_message_clear(&m);
}

static int parse_text(const char *xml, struct agw_gb_doc *d, char *err, size_t errlen)
{
	return agw_gb_manscdp_parse(xml, strlen(xml), d, err, errlen);
}

static void test_many_items(void **state)
{
	(void)state;
	size_t cap = 200000;
	char *xml = malloc(cap);
	assert_non_null(xml);
	for (int n = AGW_GB_MAX_ITEMS; n <= AGW_GB_MAX_ITEMS + 1; n++) {
		size_t o = (size_t)snprintf(xml, cap, "<Response><CmdType>Catalog</CmdType><SN>1</SN><DeviceList Num=\"%d\">", n);
		for (int i = 0; i < n; i++)
			o += (size_t)snprintf(xml + o, cap - o, "<Item><DeviceID>%020d</DeviceID></Item>\n", i);
		snprintf(xml + o, cap - o, "</DeviceList></Response>");
		struct agw_gb_doc d;
		char err[256] = "";
		int rc = parse_text(xml, &d, err, sizeof(err));
		if (n == AGW_GB_MAX_ITEMS) {
			assert_int_equal(rc, 0);
			assert_int_equal(d.n_items, AGW_GB_MAX_ITEMS);
			assert_int_equal(d.list_num, AGW_GB_MAX_ITEMS);
			assert_string_equal(agw_gb_item_get(&d.items[2047], "DeviceID"), "00000000000000002047");
			agw_gb_doc_clear(&d);
		} else {
			assert_int_equal(rc, -E2BIG);
			assert_string_equal(err, "line 2049: more than 2048 DeviceList items");
		}
	}
	free(xml);
}

struct bad {
	const char *name, *xml;
	int rc;
	const char *err;
};

static const struct bad bads[] = {
	{"no CmdType", "<Notify>\n<SN>1</SN>\n</Notify>", -EINVAL, "line 1: <Notify> has no CmdType"},
	{"empty CmdType", "<Notify><CmdType> </CmdType></Notify>", -EINVAL, "line 1: <Notify> has no CmdType"},
	{"tag mismatch", "<Notify>\n<CmdType>Alarm</CmdType>\n<SN>1</Sn>\n</Notify>", -EINVAL,
	 "line 3: XML: Opening and ending tag mismatch: SN line 3 and Sn"},
	{"two roots", "<Notify><CmdType>Alarm</CmdType></Notify>\n<Notify/>", -EINVAL, "line 2: XML: Extra content"},
	{"doctype", "\n\n<!DOCTYPE Notify SYSTEM \"http://example.com/x.dtd\">\n<Notify/>", -EINVAL,
	 "line 3: a DOCTYPE or ENTITY declaration (MANSCDP has none)"},
	{"unescaped ampersand", "<Notify><CmdType>Alarm</CmdType><AlarmDescription>A & B</AlarmDescription></Notify>",
	 -EINVAL, "line 1: XML: xmlParseEntityRef: no name"},
	{"empty", "", -EINVAL, "line 1: XML: "},
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		struct agw_gb_doc d;
		memset(&d, 0xAB, sizeof(d));
		char err[256] = "";
		int rc = parse_text(b->xml, &d, err, sizeof(err));
		if (rc != b->rc || strncmp(err, b->err, strlen(b->err)) != 0)
			fail_msg("%s: %d '%s'", b->name, rc, err);
		assert_int_equal(d.root, (enum agw_gb_root)0xABABABAB); /* untouched on failure */
	}
}

/* Errors inside a SIP body name the line of the file, not of the body. */
static void test_body_errors_in_file_lines(void **state)
{
	(void)state;
	const char *msg = "MESSAGE sip:a@b SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1\r\n"
			  "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\n"
			  "Content-Type: Application/MANSCDP+xml\r\n\r\n"
			  "<?xml version=\"1.0\"?>\r\n<Notify>\r\n<CmdType>Alarm</CmdType>\r\n<SN>1</S>\r\n</Notify>\r\n";
	struct agw_gb_message m;
	char err[256];
	assert_int_equal(agw_gb_message_parse(msg, strlen(msg), 0, &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 12: XML: Opening and ending tag mismatch: SN line 4 and S");
	size_t len;
	char *buf = read_fixture("bad-encoding.xml", &len);
	assert_int_equal(agw_gb_message_parse(buf, len, 0, &m, err, sizeof(err)), -EILSEQ);
	assert_string_equal(err, "offset 141: byte 0xFF is not GB18030 (and offset 141: byte 0xFF not UTF-8); GB2312 declared");
	free(buf);
	/* a SIP body that is not MANSCDP is not read */
	const char *sdp = "MESSAGE sip:a@b SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1\r\n"
			  "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\n"
			  "Content-Type: text/plain\r\n\r\n<not xml";
	assert_int_equal(agw_gb_message_parse(sdp, strlen(sdp), 0, &m, err, sizeof(err)), 0);
	assert_false(m.has_doc);
	agw_gb_message_clear(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_documents),  cmocka_unit_test(test_catalog_items),
		cmocka_unit_test(test_many_items), cmocka_unit_test(test_bad),
		cmocka_unit_test(test_body_errors_in_file_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
