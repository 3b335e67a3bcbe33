/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fast PullMessagesResponse reader (adapters/onvif/onvif_fastpull.c) against the gSOAP path:
 * every file under tests/fixtures (real captures of many vendors, broken documents, other
 * protocols' files), every answer camsim writes (four dialects, every kind and edge) and variants
 * that the fast reader must decline, each read by agw_onvif_normalize_soap (fast reader first) and
 * by agw_onvif_normalize_gsoap (gSOAP only): same return, same error text, same times, same alerts
 * field by field. It also checks which documents the fast reader takes, so a reader that declined
 * everything (and so agreed with gSOAP trivially) fails. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fastpull_diff.h"
#include "kinds.h"
#include "onvif_events.h"
#include "onvif_normalize.h"
#include "onvif_topics.h"
#include "templates.h"

static struct soap *soap;
static int differences;

/* Reads buf both ways and compares; returns true when the fast reader took it. */
static bool check_doc(const char *name, const char *buf, size_t len, int stop_after)
{
	bool taken;
	differences += agw_fastpull_diff(soap, name, buf, len, stop_after, &taken);
	return taken;
}

static char *read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	*ret_len = n;
	return buf;
}

static int n_files;
static char taken[4096];

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	size_t len;
	char *buf;
	if (type != FTW_F || !(buf = read_file(path, &len)))
		return 0;
	n_files++;
	const char *name = path + strlen(AGW_FIXTURES) + 1;
	if (check_doc(name, buf, len, 0) && strlen(taken) + strlen(name) + 2 < sizeof(taken)) {
		strcat(taken, name);
		strcat(taken, " ");
	}
	check_doc(name, buf, len, 1); /* the consumer refuses the first alert */
	free(buf);
	return 0;
}

static void test_every_fixture(void **state)
{
	(void)state;
	differences = 0;
	assert_int_equal(nftw(AGW_FIXTURES, visit, 16, FTW_PHYS), 0);
	printf("%d files; the fast reader took: %s\n", n_files, taken);
	assert_true(n_files > 100);
	assert_int_equal(differences, 0);
	/* PullMessagesResponses of ordinary shape from real cameras: taken, not declined */
	static const char *const want[] = {"onvif/real/milesight_pull_messages.xml ",
					   "onvif/real/reolink_pull_initialized.xml ",
					   "onvif/real/idx_camera_pull_s_sc.xml ", "onvif/hikvision_pull.xml ",
					   "onvif/real/onvif_core_spec_pull_crossed.xml ", "onvif/axis_initialized.xml ",
					   "onvif/real/hikvision_nvr_channel_pull.xml ",
					   "onvif/real/tplink_tapo_cellmotion_variants.xml "};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(taken, want[i]))
			fail_msg("the fast reader declined %s", want[i]);
}

/* An answer as camsim writes it: n messages from seq, kind k, dialect d. */
static void camsim_answer(struct camsim_buf *b, int d, uint8_t k, int n, bool active, bool initialized)
{
	camsim_tpl_pull_begin(b, "urn:uuid:0d5e1c6a-4c1f-4b8e-9a0e-000000000001", 1796300000, 1796300060);
	for (int i = 0; i < n; i++) {
		struct camsim_event ev = {.seq = (uint64_t)(40 + i), .time = 1796299990 + i, .kind = k,
					  .active = active, .initialized = initialized};
		camsim_tpl_notification(b, "http://127.0.0.1:20001/onvif/subscription/7", "cam-00007", &ev,
					&camsim_dialects[d]);
	}
	camsim_tpl_pull_end(b);
	camsim_tpl_restyle(b, &camsim_dialects[d]);
}

static void test_camsim_answers(void **state)
{
	(void)state;
	differences = 0;
	int n = 0, wrong = 0;
	for (int d = 0; d < CAMSIM_DIALECT_COUNT; d++)
		for (uint8_t k = 0; k < CAMSIM_KIND_COUNT; k++)
			for (int v = 0; v < 4; v++) {
				struct camsim_buf b = {0};
				camsim_answer(&b, d, k, v == 3 ? 3 : 1, v & 1, v == 2);
				assert_false(b.failed);
				char name[96];
				snprintf(name, sizeof(name), "camsim %s %s variant %d", camsim_dialects[d].name,
					 camsim_kinds[k].name, v);
				n++;
				/* a topic the table does not map is kept with gSOAP's XML of its message:
				 * declined by design (camsim's "package"); every other answer is taken */
				bool other = agw_onvif_topic_kind_of(agw_onvif_topic_table_default(), camsim_kinds[k].topic,
								     NULL) == AGW_KIND_OTHER;
				if (check_doc(name, b.data, b.len, 0) == other) {
					printf("%s: %s\n", other ? "taken" : "declined", name);
					wrong++;
				}
				check_doc(name, b.data, b.len, 2);
				free(b.data);
			}
	printf("%d camsim answers, %d taken or declined wrongly\n", n, wrong);
	assert_int_equal(differences, 0);
	assert_int_equal(wrong, 0); /* the workload of bench/scale takes the fast path */
}

/* Variants of a camsim answer the fast reader must decline; gSOAP decides what they give. */
static void test_declined_variants(void **state)
{
	(void)state;
	static const struct {
		const char *from, *to;
	} edits[] = {
		{"Value=\"true\"", "Value=\"tr&#117;e\""},
		{"Value=\"true\"", "Value=\"&lt;true\""},
		{"<tt:Data>", "<tt:Data xsi:type=\"tt:ItemList\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"},
		{"<tt:Data>", "<tt:Data id=\"d1\">"},
		{"<tt:Data>", "<tt:Data><!-- a comment -->"},
		{"<tt:Data>", "<tt:Data><![CDATA[ ]]>"},
		{"<tt:Data>", "<tt:Data><tt:ElementItem Name=\"x\"><a/></tt:ElementItem>"},
		{"<tt:Data>", "<tt:Data><tt:Unknown/>"},
		{"<tt:Source>", "<tt:Key/><tt:Source>"},
		{"</tt:Data>", "</tt:Data><tt:Data/>"},
		{"<wsa:Action>", "<x:Other xmlns:x=\"urn:x\" env:mustUnderstand=\"true\">y</x:Other><wsa:Action>"},
		{"<wsa:Action>", "<wsa:ReplyTo><wsa:Address>x</wsa:Address></wsa:ReplyTo><wsa:Action>"},
		{"tns1:RuleEngine/CellMotionDetector/Motion", "tns1:Vendor/Unknown/Thing"},
		{"tns1:RuleEngine/CellMotionDetector/Motion", "tns1:RuleEngine/Cell&#77;otionDetector/Motion"},
		{"Z</tev:CurrentTime>", " Z</tev:CurrentTime>"},
		{"Z\" PropertyOperation", " Z\" PropertyOperation"},
		/* gSOAP reads a control character in a date-time as a space (fuzz_onvif_fastpull found it) */
		{"Z</tev:TerminationTime>", "\x01Z</tev:TerminationTime>"},
		{"<tev:CurrentTime>", "<tev:CurrentTime><!-- -->"},
		{"<wsnt:Topic", "<wsnt:Topic xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\" e:mustUnderstand=\"true\""},
		{"<tev:TerminationTime>", "<tev:Other/><tev:TerminationTime>"},
		{"</tev:PullMessagesResponse>", "</tev:PullMessagesResponse><tev:PullMessagesResponse/>"},
		{"xmlns:tt=\"http://www.onvif.org/ver10/schema\"", "xmlns:tt=\"http://www.onvif.org/VER10/schema\""},
		{"Name=\"Rule\"", "Name=\"R\xc3\xa8gle\""},
		{"<wsnt:Message>", "<wsnt:Message><vendor:X xmlns:vendor=\"urn:x\"/>"},
		/* markup inside the XML declaration, where gSOAP and a search for "?>" part ways
		 * (fuzz_onvif_fastpull found one; the input is in its corpus) */
		{"encoding=\"UTF-8\"?>", "encoding=\"UTF-8\" <tt:Source/>?>"},
		{"encoding=\"UTF-8\"?>", "encoding=\"UTF-8\" x=\"/>\"?>"},
	};
	differences = 0;
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		struct camsim_buf b = {0};
		camsim_answer(&b, 0, 0, 2, true, false);
		assert_false(b.failed);
		char *at = strstr(b.data, edits[i].from);
		assert_non_null(at);
		size_t from = strlen(edits[i].from), to = strlen(edits[i].to);
		char *doc = malloc(b.len + to + 1);
		assert_non_null(doc);
		memcpy(doc, b.data, (size_t)(at - b.data));
		memcpy(doc + (at - b.data), edits[i].to, to);
		strcpy(doc + (at - b.data) + to, at + from);
		char name[128];
		snprintf(name, sizeof(name), "variant %zu (%s)", i, edits[i].to);
		bool took = check_doc(name, doc, strlen(doc), 0);
		free(doc);
		free(b.data);
		if (took)
			fail_msg("the fast reader took %s", name);
	}
	assert_int_equal(differences, 0);
}

/* A byte outside printable ASCII, tab, LF and CR, wherever it sits (the check reads eight bytes at
 * a time: every offset within and across words), sends the answer to gSOAP. */
static void test_declined_bytes(void **state)
{
	(void)state;
	static const unsigned char bad[] = {0x01, 0x08, 0x1f, 0x7f, 0x80, 0xc3, 0xff};
	struct camsim_buf b = {0};
	camsim_answer(&b, 0, 0, 1, true, false);
	assert_false(b.failed);
	struct agw_onvif_fast_batch batch;
	assert_int_equal(agw_onvif_fast_read(b.data, b.len, NULL, &batch), 0);
	agw_onvif_fast_batch_clear(&batch);
	char *doc = malloc(b.len);
	assert_non_null(doc);
	for (size_t i = 0; i < b.len; i++) {
		for (size_t k = 0; k < sizeof(bad); k++) {
			memcpy(doc, b.data, b.len);
			doc[i] = (char)bad[k];
			if (agw_onvif_fast_read(doc, b.len, NULL, &batch) != -ENOTSUP)
				fail_msg("byte 0x%02x at offset %zu of %zu was not declined", bad[k], i, b.len);
		}
	}
	free(doc);
	free(b.data);
}

/* The well-formedness check's text rules, wherever the character sits in a value or text. */
static void test_xml_text_rules(void **state)
{
	(void)state;
	static const struct {
		const char *doc;
		int rc;
	} docs[] = {
		{"<a x=\"1&amp;2&lt;&gt;&quot;&apos;&#65;&#x41;\">t&amp;u&#10;</a>", 0},
		{"<a x=\"12345678<\"/>", -EINVAL},
		{"<a x=\"<\"/>", -EINVAL},
		{"<a x='1234567890123&amp'/>", -EINVAL},
		{"<a>123456789&bogus;</a>", -EINVAL},
		{"<a>&#;</a>", -EINVAL},
		{"<a>&#x;</a>", -EINVAL},
		{"<a>text &amp; more text &</a>", -EINVAL},
		{"<a>text with no reference at all, longer than a word</a>", 0},
	};
	char err[256];
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		if (agw_onvif_xml_check(docs[i].doc, strlen(docs[i].doc), err, sizeof(err)) != docs[i].rc)
			fail_msg("%s: expected %d (%s)", docs[i].doc, docs[i].rc, err);
}

static int setup(void **state)
{
	(void)state;
	soap = agw_onvif_soap_new();
	return soap ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	agw_onvif_soap_free(soap);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_fixture),
		cmocka_unit_test(test_camsim_answers),
		cmocka_unit_test(test_declined_variants),
		cmocka_unit_test(test_declined_bytes),
		cmocka_unit_test(test_xml_text_rules),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
