/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MANSCDP bytes to UTF-8: declared and actual encodings, declarations an XML parser refuses, and
 * bytes no encoding accepts. The GB byte sequences were encoded by hand from the GB 18030 tables
 * (大 B4F3, 华 BBAA, 镕 E946 (GBK, not GB2312), ® 81308533 (a four-byte GB18030 code)). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gb_text.h"

struct conv {
	const char *name;
	const char *in;
	size_t in_len; /* 0: strlen */
	const char *out;
	const char *read_as;
	const char *declared;
	const char *note; /* start of the note, "" for none */
};

static const struct conv convs[] = {
	{"ASCII, GB2312 declared", "<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n<a>x</a>", 0, "\r\n<a>x</a>", "UTF-8",
	 "GB2312", ""},
	{"GB2312 as declared", "<?xml version=\"1.0\" encoding=\"GB2312\"?><a>\xB4\xF3\xBB\xAA</a>", 0,
	 "<a>\xE5\xA4\xA7\xE5\x8D\x8E</a>", "GB18030", "GB2312", ""},
	{"GBK character", "<?xml version=\"1.0\" encoding=\"gbk\"?><a>\xE9\x46</a>", 0, "<a>\xE9\x95\x95</a>", "GB18030",
	 "gbk", ""},
	{"GB18030 four-byte character", "<?xml version='1.0' encoding='GB18030'?><a>\x81\x30\x85\x33</a>", 0,
	 "<a>\xC2\xAE</a>", "GB18030", "GB18030", ""},
	{"UTF-8 declared, GB2312 sent", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>\xB4\xF3\xBB\xAA</a>", 0,
	 "<a>\xE5\xA4\xA7\xE5\x8D\x8E</a>", "GB18030", "UTF-8",
	 "declared UTF-8 but byte 0xB4 at offset 41 is not UTF-8: read as GB18030"},
	{"nothing declared, GB2312 sent", "<a>\xB4\xF3\xBB\xAA</a>", 0, "<a>\xE5\xA4\xA7\xE5\x8D\x8E</a>", "GB18030", "",
	 "no encoding declared but byte 0xB4 at offset 3 is not UTF-8: read as GB18030"},
	{"GB2312 declared, UTF-8 sent", "<?xml version=\"1.0\" encoding=\"GB2312\"?><a>\xE5\xA4\xA7\xE5\x8D\x8E</a>", 0,
	 "<a>\xE5\xA4\xA7\xE5\x8D\x8E</a>", "UTF-8", "GB2312", "declared GB2312 but the bytes are UTF-8: read as UTF-8"},
	{"standalone=\"true\"", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"true\"?>\n<a/>", 0, "\n<a/>",
	 "UTF-8", "UTF-8", ""},
	{"encoding-\"gb2312\"", "<?xml version=\"1.0\" encoding-\"gb2312\"?>\r\n<a>\xB4\xF3</a>", 0,
	 "\r\n<a>\xE5\xA4\xA7</a>", "GB18030", "gb2312", ""},
	{"byte order mark and blank lines", "\xEF\xBB\xBF\n\n<?xml version=\"1.0\"?><a/>", 0, "\n\n<a/>", "UTF-8", "", ""},
	{"NULs after the document", "<a/>\0\0\0", 7, "<a/>", "UTF-8", "", ""},
	{"ISO-8859-1 as declared", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xE9</a>", 0, "<a>\xC3\xA9</a>",
	 "ISO-8859-1", "ISO-8859-1", ""},
	{"an encoding iconv does not know", "<?xml version=\"1.0\" encoding=\"X-NOPE\"?><a>\xE5\xA4\xA7</a>", 0,
	 "<a>\xE5\xA4\xA7</a>", "UTF-8", "X-NOPE", "declared X-NOPE, an encoding iconv does not know; the bytes are UTF-8"},
	{"not a declaration", "<?xml-stylesheet href=\"a\"?><a/>", 0, "<?xml-stylesheet href=\"a\"?><a/>", "UTF-8", "", ""},
};

static void test_conversions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(convs) / sizeof(convs[0]); i++) {
		const struct conv *c = &convs[i];
		struct agw_gb_text t;
		char err[256] = "";
		size_t len = c->in_len ? c->in_len : strlen(c->in);
		int rc = agw_gb_text_to_utf8(c->in, len, &t, err, sizeof(err));
		if (rc != 0)
			fail_msg("%s: %d %s", c->name, rc, err);
		if (strcmp(t.utf8, c->out) != 0 || t.len != strlen(c->out))
			fail_msg("%s: got '%s'", c->name, t.utf8);
		if (strcmp(t.read_as, c->read_as) != 0 || strcmp(t.declared, c->declared) != 0 ||
		    strncmp(t.note, c->note, strlen(c->note)) != 0 || (!c->note[0] && t.note[0]))
			fail_msg("%s: read as %s, declared '%s', note '%s'", c->name, t.read_as, t.declared, t.note);
		agw_gb_text_clear(&t);
	}
}

struct bad {
	const char *name, *in;
	int rc;
	const char *err;
};

static const struct bad bads[] = {
	{"neither GB18030 nor UTF-8", "<?xml version=\"1.0\" encoding=\"GB2312\"?>\n<a>ok \xFF\xFF</a>", -EILSEQ,
	 "offset 46: byte 0xFF is not GB18030 (and offset 46: byte 0xFF not UTF-8); GB2312 declared"},
	{"UTF-8 declared, garbage sent", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>\x80</a>", -EILSEQ,
	 "offset 41: byte 0x80 is not GB18030"},
	{"declaration without end", "  <?xml version=\"1.0\" encoding=\"GB2312\" <a/>", -EINVAL,
	 "offset 2: the XML declaration does not end with '?>'"},
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		struct agw_gb_text t = {.utf8 = (char *)0x1};
		char err[256] = "";
		int rc = agw_gb_text_to_utf8(b->in, strlen(b->in), &t, err, sizeof(err));
		if (rc != b->rc || strncmp(err, b->err, strlen(b->err)) != 0)
			fail_msg("%s: %d '%s'", b->name, rc, err);
		assert_ptr_equal(t.utf8, (char *)0x1);
	}
}

static void test_utf8_check(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t bad;
	} cases[] = {
		{"plain", 5},
		{"\xE5\xA4\xA7", 3},            /* 大 */
		{"\xF0\x9F\x98\x80", 4},        /* U+1F600 */
		{"a\xC0\x80", 1},               /* overlong NUL */
		{"ab\xE0\x80\xAF", 2},          /* overlong '/' */
		{"\xED\xA0\x80", 0},            /* surrogate */
		{"\xF4\x90\x80\x80", 0},        /* above U+10FFFF */
		{"x\xE5\xA4", 1},               /* cut short */
		{"\xB4\xF3\xBB\xAA", 0},        /* GB2312 大华 */
		{"\xE5\xA4\xA7\xB4", 3},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (agw_gb_utf8_check(cases[i].s, strlen(cases[i].s)) != cases[i].bad)
			fail_msg("case %zu: %zu", i, agw_gb_utf8_check(cases[i].s, strlen(cases[i].s)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_utf8_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
