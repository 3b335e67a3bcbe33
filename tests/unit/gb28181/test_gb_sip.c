/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SIP framing and parsing: real captures (tests/fixtures/gb28181/README.md) and broken messages,
 * each with the error it must give and where. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gb_sip.h"

static char *read_fixture(const char *name, size_t *ret_len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/gb28181/%s", AGW_FIXTURES, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*ret_len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*ret_len] = '\0';
	fclose(f);
	return buf;
}

struct good {
	const char *file;
	const char *method, *from, *to, *call_id, *content_type;
	unsigned long cseq;
	size_t body_len; /* as the Content-Length header says */
	unsigned body_line;
	bool lf_only;
};

/* Expected values read off the captures by hand. */
static const struct good goods[] = {
	{"dahua-ipc-keepalive.sip", "MESSAGE", "34020000001320000001", "34020000002000000001", "432363298@192.168.1.107",
	 "Application/MANSCDP+xml", 20, 178, 12, false},
	{"hikvision-ipc-catalog.sip", "MESSAGE", "62010201001320000393", "51000000002000000001", "17524357",
	 "Application/MANSCDP+xml", 20, 586, 12, false},
	{"ipcam-keepalive-info.sip", "MESSAGE", "34020000002000000719", "34020000002000000001", "1910992793",
	 "Application/MANSCDP+xml", 20, 177, 12, false},
	{"alarm-2016-intrusion-gb2312.sip", "MESSAGE", "34020000001320000011", "34020000002000000001",
	 "1017001@192.168.1.64", "Application/MANSCDP+xml", 21, 475, 12, false},
	{"alarm-lf-only.sip", "MESSAGE", "34020000001320000011", "34020000002000000001", "7007@192.168.1.64",
	 "Application/MANSCDP+xml", 21, 281, 12, true},
};

static void test_captures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		size_t len;
		char *buf = read_fixture(g->file, &len);
		struct agw_gb_sip_msg *m = NULL;
		char err[256] = "";
		int rc = agw_gb_sip_parse(buf, len, 0, &m, err, sizeof(err));
		if (rc != 0)
			fail_msg("%s: %s", g->file, err);
		assert_string_equal(m->method, g->method);
		assert_int_equal(m->status, 0);
		assert_string_equal(m->from_user, g->from);
		assert_string_equal(m->to_user, g->to);
		assert_string_equal(m->call_id, g->call_id);
		assert_string_equal(m->content_type, g->content_type);
		assert_int_equal(m->cseq, g->cseq);
		assert_int_equal(m->body_len, g->body_len);
		assert_int_equal(m->body_line, g->body_line);
		assert_int_equal(m->lf_only, g->lf_only);
		assert_int_equal(m->discarded, 0);
		/* the body is the input's last Content-Length bytes, untouched */
		assert_memory_equal(m->body, buf + len - g->body_len, g->body_len);
		assert_int_equal(m->body_offset, len - g->body_len);
		assert_int_equal(m->body[m->body_len], '\0');
		agw_gb_sip_msg_free(m);
		free(buf);
	}
}

#define HDRS                                                                                       \
	"Via: SIP/2.0/UDP 10.0.0.2:5060;rport;branch=z9hG4bK1\r\n"                                 \
	"From: <sip:34020000001320000001@3402000000>;tag=1\r\n"                                    \
	"To: <sip:34020000002000000001@3402000000>\r\n"                                            \
	"Call-ID: abc\r\n"                                                                         \
	"CSeq: 7 MESSAGE\r\n"

struct bad {
	const char *name;
	const char *msg;
	unsigned flags;
	int rc;
	const char *err; /* the start of the message */
};

static const struct bad bads[] = {
	{"Content-Length beyond the bytes", "MESSAGE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: 12\r\n\r\n<Notify/>", 0,
	 -EBADMSG, "line 7: Content-Length is 12 but 9 bytes follow the headers"},
	{"a capture that lost its CRs", "MESSAGE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: 23\r\n\r\n<a>\n<b/>\n</a>\n<c/>\n", 0,
	 -EBADMSG, "line 7: Content-Length is 23 but 19 bytes follow the headers (it counts CRLF line ends"},
	{"Content-Length not a number", "MESSAGE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: 1x\r\n\r\n", 0, -EBADMSG,
	 "line 7: Content-Length '1x' is not a number"},
	{"two Content-Lengths", "MESSAGE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: 1\r\nl: 2\r\n\r\nxy", 0, -EBADMSG,
	 "line 8: a second Content-Length (2) differs from the first (1)"},
	{"no blank line", "MESSAGE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: 0\r\n", 0, -EINVAL,
	 "offset 223: the headers do not end"},
	{"not SIP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, -EINVAL, "line 1: not a SIP request or status line"},
	{"no URI", "MESSAGE SIP/2.0\r\n" HDRS "\r\n", 0, -EINVAL, "line 1: not a SIP request or status line"},
	{"header without colon", "MESSAGE sip:a@b SIP/2.0\r\n" HDRS "Garbage here\r\n\r\n", 0, -EINVAL,
	 "line 7: header line without a name and colon"},
	{"NUL in a header", "MESSAGE sip:a@b SIP/2.0\r\nX-A: a\0b\r\n\r\n", 0, -EINVAL, "line 2: NUL byte in the headers"},
	{"missing Call-ID", "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1\r\n"
	 "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCSeq: 1 MESSAGE\r\n\r\n", 0, -EINVAL, "line 1: no Call-ID header"},
	{"CSeq of another method", "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1\r\n"
	 "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\n\r\n", 0, -EINVAL,
	 "line 1: CSeq method 'REGISTER' is not the request's method 'MESSAGE'"},
	{"malformed Via", "MESSAGE sip:a@b SIP/2.0\r\nVia: nonsense\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
	 "Call-ID: x\r\nCSeq: 1 MESSAGE\r\n\r\n", 0, -EINVAL, "line 2: malformed Via header: 'nonsense'"},
	{"stream without Content-Length", "MESSAGE sip:a@b SIP/2.0\r\n" HDRS "\r\n", AGW_GB_SIP_STREAM, -EBADMSG,
	 "line 1: a message on a stream needs a Content-Length"},
	{"stream with bytes after the body", "MESSAGE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: 2\r\n\r\nabcd",
	 AGW_GB_SIP_STREAM, -EBADMSG, "offset 227: 2 bytes after the body of Content-Length 2"},
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		/* the NUL case: its length is that of the literal */
		size_t len = !strcmp(b->name, "NUL in a header") ? sizeof("MESSAGE sip:a@b SIP/2.0\r\nX-A: a\0b\r\n\r\n") - 1
								 : strlen(b->msg);
		struct agw_gb_sip_msg *m = (struct agw_gb_sip_msg *)0x1;
		char err[256] = "";
		int rc = agw_gb_sip_parse(b->msg, len, b->flags, &m, err, sizeof(err));
		if (rc != b->rc || strncmp(err, b->err, strlen(b->err)) != 0)
			fail_msg("%s: rc %d err '%s', expected %d '%s'", b->name, rc, err, b->rc, b->err);
		assert_ptr_equal(m, (struct agw_gb_sip_msg *)0x1); /* untouched on failure */
	}
}

static void test_fixture_errors(void **state)
{
	(void)state;
	size_t len;
	char *buf = read_fixture("bad-content-length.sip", &len);
	struct agw_gb_sip_msg *m = NULL;
	char err[256];
	assert_int_equal(agw_gb_sip_parse(buf, len, 0, &m, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 10: Content-Length is 515 but 475 bytes follow the headers");
	free(buf);
	buf = read_fixture("bad-from.sip", &len);
	assert_int_equal(agw_gb_sip_parse(buf, len, 0, &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 3: malformed From header: '<sip:34020000001320000011@3402000000;tag=998877'");
	free(buf);
}

static void test_limits(void **state)
{
	(void)state;
	char err[256];
	struct agw_gb_sip_msg *m = NULL;
	/* one byte over 64 KiB */
	size_t n = AGW_GB_SIP_MAX_MESSAGE + 1;
	char *big = malloc(n);
	assert_non_null(big);
	memset(big, 'a', n);
	assert_int_equal(agw_gb_sip_parse(big, n, 0, &m, err, sizeof(err)), -EMSGSIZE);
	assert_string_equal(err, "offset 0: message of 65537 bytes, larger than the limit of 65536");
	free(big);

	/* 64 header lines pass, 65 do not */
	char msg[8192];
	for (unsigned lines = 64; lines <= 65; lines++) {
		int o = snprintf(msg, sizeof(msg), "MESSAGE sip:a@b SIP/2.0\r\n" HDRS);
		for (unsigned i = 5; i < lines; i++)
			o += snprintf(msg + o, sizeof(msg) - (size_t)o, "X-H%u: v\r\n", i);
		o += snprintf(msg + o, sizeof(msg) - (size_t)o, "\r\n");
		int rc = agw_gb_sip_parse(msg, (size_t)o, 0, &m, err, sizeof(err));
		if (lines == 64) {
			assert_int_equal(rc, 0);
			agw_gb_sip_msg_free(m);
		} else {
			assert_int_equal(rc, -E2BIG);
			assert_string_equal(err, "line 66: more than 64 header lines");
		}
	}
}

static void test_datagram_body(void **state)
{
	(void)state;
	char err[256];
	struct agw_gb_sip_msg *m = NULL;
	/* over UDP bytes after Content-Length are discarded (RFC 3261 18.3) */
	const char *msg = "\r\n\r\nMESSAGE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: 4\r\n\r\n<a/>\r\n\r\ntrailing";
	assert_int_equal(agw_gb_sip_parse(msg, strlen(msg), 0, &m, err, sizeof(err)), 0);
	assert_int_equal(m->body_len, 4);
	assert_string_equal(m->body, "<a/>");
	assert_int_equal(m->discarded, 12);
	assert_int_equal(m->body_line, 11); /* two blank lines, start line, five headers, CL, blank */
	agw_gb_sip_msg_free(m);
	/* without Content-Length, the rest is the body */
	msg = "MESSAGE sip:a@b SIP/2.0\r\n" HDRS "Content-Type: Application/MANSCDP+xml\r\n\r\n<a/>";
	assert_int_equal(agw_gb_sip_parse(msg, strlen(msg), 0, &m, err, sizeof(err)), 0);
	assert_int_equal(m->body_len, 4);
	assert_string_equal(m->content_type, "Application/MANSCDP+xml");
	agw_gb_sip_msg_free(m);
	/* a response */
	msg = "SIP/2.0 200 OK\r\n" HDRS "Content-Length: 0\r\n\r\n";
	assert_int_equal(agw_gb_sip_parse(msg, strlen(msg), 0, &m, err, sizeof(err)), 0);
	assert_null(m->method);
	assert_int_equal(m->status, 200);
	assert_int_equal(m->body_len, 0);
	assert_string_equal(m->content_type, "");
	agw_gb_sip_msg_free(m);
}

static void test_frame(void **state)
{
	(void)state;
	char err[256];
	char stream[4096];
	const char *one = "MESSAGE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: 4\r\n\r\n<a/>";
	const char *two = "MESSAGE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: 6\r\n\r\n<bb/>\n";
	int n = snprintf(stream, sizeof(stream), "\r\n\r\n%s%s", one, two);
	size_t skip = 99, len = 0;
	assert_int_equal(agw_gb_sip_frame(stream, (size_t)n, &skip, &len, err, sizeof(err)), 1);
	assert_int_equal(skip, 4); /* a CRLF CRLF keep-alive (RFC 5626) before it */
	assert_int_equal(len, strlen(one));
	size_t off = skip + len;
	assert_int_equal(agw_gb_sip_frame(stream + off, (size_t)n - off, &skip, &len, err, sizeof(err)), 1);
	assert_int_equal(skip, 0);
	assert_int_equal(len, strlen(two));
	/* every proper prefix of the second message needs more bytes */
	for (size_t cut = 0; cut < strlen(two); cut++)
		assert_int_equal(agw_gb_sip_frame(two, cut, &skip, &len, err, sizeof(err)), 0);
	/* framed messages parse as stream messages */
	struct agw_gb_sip_msg *m = NULL;
	assert_int_equal(agw_gb_sip_parse(two, strlen(two), AGW_GB_SIP_STREAM, &m, err, sizeof(err)), 0);
	assert_string_equal(m->body, "<bb/>\n");
	agw_gb_sip_msg_free(m);
	/* a stream message needs a Content-Length, and a declared size over the limit is refused at once */
	const char *nocl = "MESSAGE sip:a@b SIP/2.0\r\n" HDRS "\r\n";
	assert_int_equal(agw_gb_sip_frame(nocl, strlen(nocl), &skip, &len, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "offset 0: a message on a stream needs a Content-Length");
	const char *huge = "MESSAGE sip:a@b SIP/2.0\r\n" HDRS "Content-Length: 70000\r\n\r\n";
	assert_int_equal(agw_gb_sip_frame(huge, strlen(huge), &skip, &len, err, sizeof(err)), -EMSGSIZE);
	/* headers that never end within the limit */
	size_t big = AGW_GB_SIP_MAX_MESSAGE + 10;
	char *junk = malloc(big);
	assert_non_null(junk);
	memset(junk, 'x', big);
	assert_int_equal(agw_gb_sip_frame(junk, big, &skip, &len, err, sizeof(err)), -EMSGSIZE);
	assert_string_equal(err, "offset 0: no end of the headers within 65536 bytes");
	free(junk);
}

static void test_looks_like(void **state)
{
	(void)state;
	assert_true(agw_gb_sip_looks_like("MESSAGE sip:a@b SIP/2.0\r\n", 25));
	assert_true(agw_gb_sip_looks_like("\r\nSIP/2.0 200 OK\r\n", 18));
	assert_false(agw_gb_sip_looks_like("<?xml version=\"1.0\"?>", 21));
	assert_false(agw_gb_sip_looks_like("message sip:a@b SIP/2.0", 23));
	assert_false(agw_gb_sip_looks_like("", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captures),   cmocka_unit_test(test_bad),   cmocka_unit_test(test_fixture_errors),
		cmocka_unit_test(test_limits),     cmocka_unit_test(test_datagram_body), cmocka_unit_test(test_frame),
		cmocka_unit_test(test_looks_like),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
