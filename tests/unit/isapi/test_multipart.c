/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The multipart push parser (gateway/core/multipart.c): every stream is fed whole, one byte at a time
 * and in uneven chunks, and must give the same parts and errors each way. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alarmgw/multipart.h"

#define MAX_PARTS 64
#define MAX_ERRS 64

struct got_part {
	char ctype[64];
	int64_t clen;
	char *body;
	size_t len;
	uint64_t offset;
	bool short_body, unterminated;
};

struct got {
	struct got_part p[MAX_PARTS];
	size_t n;
	uint64_t err_off[MAX_ERRS];
	char err[MAX_ERRS][256];
	size_t nerr;
	int stop_after; /* >0: on_part fails after that many parts */
};

static int on_part(void *arg, const struct agw_multipart_part *part)
{
	struct got *g = arg;
	if (g->stop_after && (int)g->n >= g->stop_after)
		return -ECANCELED;
	assert_true(g->n < MAX_PARTS);
	assert_int_equal(part->body[part->len], '\0');
	struct got_part *p = &g->p[g->n++];
	snprintf(p->ctype, sizeof(p->ctype), "%s", part->content_type);
	p->clen = part->content_length;
	p->body = malloc(part->len + 1);
	assert_non_null(p->body);
	memcpy(p->body, part->body, part->len + 1);
	p->len = part->len;
	p->offset = part->offset;
	p->short_body = part->short_body;
	p->unterminated = part->unterminated;
	return 0;
}

static void on_error(void *arg, uint64_t offset, const char *what)
{
	struct got *g = arg;
	assert_true(g->nerr < MAX_ERRS);
	g->err_off[g->nerr] = offset;
	snprintf(g->err[g->nerr], sizeof(g->err[0]), "%s", what);
	g->nerr++;
}

static void got_clear(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->p[i].body);
	memset(g, 0, sizeof(*g));
}

/* Feeds `in` in pieces of `step` bytes (0 = whole); returns the last feed/finish result. */
static int run(const char *ctype, const char *in, size_t len, size_t step, size_t max_part, struct got *g)
{
	struct agw_multipart_config cfg = {
		.content_type = ctype, .max_part = max_part, .max_header = 256,
		.on_part = on_part, .on_error = on_error, .arg = g,
	};
	struct agw_multipart *m = NULL;
	assert_int_equal(agw_multipart_new(&cfg, &m), 0);
	int rc = 0;
	size_t i = 0;
	while (i < len && rc == 0) {
		size_t k = step ? step : len;
		if (k > len - i)
			k = len - i;
		rc = agw_multipart_feed(m, in + i, k);
		i += k;
	}
	if (rc == 0)
		rc = agw_multipart_finish(m);
	assert_int_equal(agw_multipart_offset(m), i);
	agw_multipart_free(m);
	return rc;
}

struct want_part {
	const char *ctype;
	const char *body;
	uint64_t offset;
	bool short_body, unterminated;
};

struct want_err {
	uint64_t offset;
	const char *substr;
};

/* Runs the stream whole, byte by byte and in 7-byte pieces, checking the same results each time. */
static void check(const char *ctype, const char *in, size_t max_part, const struct want_part *wp, size_t nwp,
		  const struct want_err *we, size_t nwe)
{
	static const size_t steps[] = {0, 1, 7, 3};
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		struct got g = {0};
		assert_int_equal(run(ctype, in, strlen(in), steps[s], max_part, &g), 0);
		if (g.n != nwp || g.nerr != nwe) {
			for (size_t i = 0; i < g.n; i++)
				print_message("step %zu part %zu @%llu: [%s]\n", steps[s], i, (unsigned long long)g.p[i].offset,
					      g.p[i].body);
			for (size_t i = 0; i < g.nerr; i++)
				print_message("step %zu error @%llu: %s\n", steps[s], (unsigned long long)g.err_off[i], g.err[i]);
		}
		assert_int_equal(g.n, nwp);
		assert_int_equal(g.nerr, nwe);
		for (size_t i = 0; i < nwp; i++) {
			assert_string_equal(g.p[i].ctype, wp[i].ctype);
			assert_string_equal(g.p[i].body, wp[i].body);
			assert_int_equal(g.p[i].offset, wp[i].offset);
			assert_int_equal(g.p[i].short_body, wp[i].short_body);
			assert_int_equal(g.p[i].unterminated, wp[i].unterminated);
		}
		for (size_t i = 0; i < nwe; i++) {
			assert_int_equal(g.err_off[i], we[i].offset);
			if (!strstr(g.err[i], we[i].substr))
				fail_msg("error '%s' lacks '%s'", g.err[i], we[i].substr);
		}
		got_clear(&g);
	}
}

static void test_boundary_parse(void **state)
{
	(void)state;
	static const struct {
		const char *ctype;
		int rc;
		const char *want;
	} cases[] = {
		{"multipart/mixed; boundary=boundary", 0, "boundary"},
		{"multipart/mixed; boundary=\"MIME_boundary\"", 0, "MIME_boundary"},
		{"multipart/x-mixed-replace;boundary=myboundary", 0, "myboundary"},
		{"multipart/x-mixed-replace; boundary = myboundary ", 0, "myboundary"},
		{"Multipart/Mixed; charset=utf-8; BOUNDARY=--myboundary; x=y", 0, "--myboundary"},
		{"multipart/form-data; boundary=\"a b\"", 0, "a b"},
		{"multipart/mixed", -ENOENT, NULL},
		{"multipart/mixed; boundary=", -EINVAL, NULL},
		{"multipart/mixed; boundary=\"unclosed", -EINVAL, NULL},
		{"application/xml; charset=\"UTF-8\"", -ENOENT, NULL},
		{"multipart/mixed; xboundary=zz", -ENOENT, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[AGW_MULTIPART_MAX_BOUNDARY + 1] = "";
		int rc = agw_multipart_boundary_parse(cases[i].ctype, out, sizeof(out));
		if (rc != cases[i].rc)
			fail_msg("%s: %d, want %d", cases[i].ctype, rc, cases[i].rc);
		if (cases[i].want)
			assert_string_equal(out, cases[i].want);
	}
	char tooshort[4];
	assert_int_equal(agw_multipart_boundary_parse("multipart/mixed; boundary=boundary", tooshort, sizeof(tooshort)), -EINVAL);
}

/* The Hikvision framing: CRLF, Content-Length, the XML followed by CRLF and the next delimiter. */
static void test_crlf_with_length(void **state)
{
	(void)state;
	const char *in = "--boundary\r\n"
			 "Content-Type: application/xml; charset=\"UTF-8\"\r\n"
			 "Content-Length: 9\r\n"
			 "\r\n"
			 "<a>1</a>\n"
			 "\r\n"
			 "--boundary\r\n"
			 "Content-Type: image/jpeg\r\n"
			 "Content-Length: 7\r\n"
			 "\r\n"
			 "\xff\xd8\n--\xff\xd9"
			 "\r\n--boundary\r\n";
	const struct want_part wp[] = {
		{"application/xml; charset=\"UTF-8\"", "<a>1</a>\n", 0, false, false},
		{"image/jpeg", "\xff\xd8\n--\xff\xd9", 92, false, false},
	};
	check("multipart/mixed; boundary=boundary", in, 0, wp, 2, NULL, 0);
	/* the same stream without a Content-Type: the boundary comes from the first line */
	check(NULL, in, 0, wp, 2, NULL, 0);
}

/* LF-only framing, no Content-Length: parts end at the next delimiter line, whose line break is
 * not part of the body. */
static void test_lf_only_without_length(void **state)
{
	(void)state;
	const char *in = "--myboundary\n"
			 "Content-Type: text/plain\n"
			 "\n"
			 "Code=VideoMotion;action=Start;index=0;data={\n"
			 "   \"Id\" : [ 0 ]\n"
			 "}\n"
			 "--myboundary\n"
			 "Content-Type: text/plain\n"
			 "\n"
			 "Heartbeat\n"
			 "--myboundary\n";
	const struct want_part wp[] = {
		{"text/plain", "Code=VideoMotion;action=Start;index=0;data={\n   \"Id\" : [ 0 ]\n}", 0, false, false},
		{"text/plain", "Heartbeat", 102, false, false},
	};
	check("multipart/x-mixed-replace; boundary=myboundary", in, 0, wp, 2, NULL, 0);
}

/* Dahua as captured (rroller/dahua#166): "Content-Length:9" without a space, Heartbeat parts, extra
 * blank lines after some bodies. */
static void test_dahua_capture_framing(void **state)
{
	(void)state;
	const char *in = "--myboundary\r\n"
			 "Content-Type: text/plain\r\n"
			 "Content-Length:9\r\n"
			 "\r\n"
			 "Heartbeat\r\n"
			 "--myboundary\r\n"
			 "Content-Type: text/plain\r\n"
			 "Content-Length:41\r\n"
			 "\r\n"
			 "Code=VideoMotionInfo;action=State;index=0\r\n"
			 "\r\n"
			 "\r\n"
			 "--myboundary\r\n";
	const struct want_part wp[] = {
		{"text/plain", "Heartbeat", 0, false, false},
		{"text/plain", "Code=VideoMotionInfo;action=State;index=0", 71, false, false},
	};
	check("multipart/x-mixed-replace; boundary=myboundary", in, 0, wp, 2, NULL, 0);
}

/* Delimiter spellings: the token with its own dashes, none, extra ones, a space after them. */
static void test_boundary_variants(void **state)
{
	(void)state;
	const char *in = "--myboundary\n\nA\n"
			 "myboundary\n\nB\n"
			 "----myboundary\n\nC\n"
			 "-- myboundary\n\nD\n"
			 "--myboundary--\n"
			 "epilogue text is not an error\n";
	const struct want_part wp[] = {
		{"", "A", 0, false, false},
		{"", "B", 16, false, false},
		{"", "C", 30, false, false},
		{"", "D", 48, false, false},
	};
	check("multipart/mixed; boundary=--myboundary", in, 0, wp, 4, NULL, 0);
	check("multipart/mixed;boundary=\"myboundary\"", in, 0, wp, 4, NULL, 0);
}

/* A delimiter that is not this stream's is body text; a different boundary from the header finds
 * no part at all (everything is preamble). */
static void test_wrong_boundary(void **state)
{
	(void)state;
	const char *in = "--boundary\n\nX\n--boundaryX\nY\n--boundary\n";
	const struct want_part wp[] = {{"", "X\n--boundaryX\nY", 0, false, false}};
	check("multipart/mixed; boundary=boundary", in, 0, wp, 1, NULL, 0);
	check("multipart/mixed; boundary=other", in, 0, NULL, 0, NULL, 0);
}

/* Firmware that repeats the delimiter line (toxuin/alarmserver#51): an empty part, no error. */
static void test_repeated_delimiter(void **state)
{
	(void)state;
	const char *in = "--boundary\r\n--boundary\r\nContent-Length: 2\r\n\r\nok\r\n--boundary\r\n";
	const struct want_part wp[] = {{"", "ok", 12, false, false}};
	check("multipart/mixed; boundary=boundary", in, 0, wp, 1, NULL, 0);
}

/* A capture whose CRs were lost: Content-Length is larger than the body; the delimiter ends the
 * part, which says so. */
static void test_short_body(void **state)
{
	(void)state;
	const char *in = "--boundary\nContent-Length: 12\n\n<a/>\n<b/>\n--boundary\nContent-Length: 3\n\nxyz--boundary\n";
	const struct want_part wp[] = {
		{"", "<a/>\n<b/>", 0, true, false},
		{"", "xyz", 41, false, false},
	};
	check("multipart/mixed; boundary=boundary", in, 0, wp, 2, NULL, 0);
}

/* No blank line between the part headers and the body (python-amcrest#22). */
static void test_no_blank_line_after_headers(void **state)
{
	(void)state;
	const char *in = "-- myboundary\nContent-Type: text/plain\nContent-Length:37\n"
			 "Code=VideoMotion;action=Start;index=0\n\n"
			 "-- myboundary\nContent-Type: text/plain\nContent-Length:36\n"
			 "Code=VideoMotion;action=Stop;index=0\n";
	const struct want_part wp[] = {
		{"text/plain", "Code=VideoMotion;action=Start;index=0", 0, false, false},
		{"text/plain", "Code=VideoMotion;action=Stop;index=0", 96, false, false},
	};
	check(NULL, in, 0, wp, 2, NULL, 0);
}

/* Garbage between parts is reported once, where it starts, and skipped. */
static void test_garbage_between_parts(void **state)
{
	(void)state;
	const char *in = "--b\nContent-Length: 1\n\n1\r\n"
			 "garbage <<<\nmore garbage\n"
			 "--b\nContent-Length: 1\n\n2\n--b\n";
	const struct want_part wp[] = {{"", "1", 0, false, false}, {"", "2", 51, false, false}};
	const struct want_err we[] = {{26, "unexpected data between parts"}};
	check("multipart/mixed; boundary=b", in, 0, wp, 2, we, 1);
}

/* A garbage line longer than any delimiter, fed in any pieces, does not hide the delimiter after it. */
static void test_long_garbage_line(void **state)
{
	(void)state;
	char in[1024];
	char junk[301];
	memset(junk, 'j', sizeof(junk) - 1);
	junk[sizeof(junk) - 1] = '\0';
	snprintf(in, sizeof(in), "--b\nContent-Length: 1\n\n1\n%s\n--b\n\n2\n--b\n", junk);
	const struct want_part wp[] = {{"", "1", 0, false, false}, {"", "2", 326, false, false}};
	const struct want_err we[] = {{25, "unexpected data between parts"}};
	check("multipart/mixed; boundary=b", in, 0, wp, 2, we, 1);
}

/* A stream cut inside a part with Content-Length: the parts before it, then an error at the cut
 * part's delimiter. Without Content-Length the last part is given, marked unterminated. */
static void test_cut_stream(void **state)
{
	(void)state;
	const char *in = "--b\nContent-Length: 1\n\n1\n--b\nContent-Length: 100\n\n<EventNotif";
	const struct want_part wp[] = {{"", "1", 0, false, false}};
	const struct want_err we[] = {{25, "ends inside a part: 11 of 100 bytes"}};
	check("multipart/mixed; boundary=b", in, 0, wp, 1, we, 1);

	const char *in2 = "--b\n\n1\n--b\n\n<EventNotif";
	const struct want_part wp2[] = {{"", "1", 0, false, false}, {"", "<EventNotif", 7, false, true}};
	check("multipart/mixed; boundary=b", in2, 0, wp2, 2, NULL, 0);

	const char *in3 = "--b\nContent-Type: text/pl";
	const struct want_err we3[] = {{0, "inside a part's headers"}};
	check("multipart/mixed; boundary=b", in3, 0, NULL, 0, we3, 1);
}

/* Parts over the size limit are reported and skipped; the parser finds the next part. */
static void test_oversize(void **state)
{
	(void)state;
	/* announced by Content-Length */
	const char *in = "--b\nContent-Length: 40\n\n0123456789012345678901234567890123456789\n--b\n\nok\n--b\n";
	const struct want_part wp[] = {{"", "ok", 65, false, false}};
	const struct want_err we[] = {{0, "40 bytes is over the limit of 16"}};
	check("multipart/mixed; boundary=b", in, 16, wp, 1, we, 1);
	/* found while reading */
	const char *in2 = "--b\n\n0123456789\n0123456789\n0123456789\n--b\n\nok\n--b\n";
	const struct want_part wp2[] = {{"", "ok", 38, false, false}};
	const struct want_err we2[] = {{0, "larger than 16 bytes"}};
	check("multipart/mixed; boundary=b", in2, 16, wp2, 1, we2, 1);
	/* headers over max_header (256) */
	char big[1024];
	snprintf(big, sizeof(big), "--b\nX-Pad: %0300d\n\nlost\n--b\n\nok\n--b\n", 0);
	const struct want_part wp3[] = {{"", "ok", 318, false, false}};
	const struct want_err we3[] = {{0, "part headers longer than 256 bytes"}};
	check("multipart/mixed; boundary=b", big, 0, wp3, 1, we3, 1);
}

/* A capture that starts with the HTTP response head; a chunked one; one whose head says chunked
 * over a body curl already de-chunked; an HTTP error. */
static void test_http_head(void **state)
{
	(void)state;
	const char *in = "HTTP/1.1 200 OK\r\n"
			 "MIME-Version: 1.0\r\n"
			 "Content-Type: multipart/mixed; boundary=hikboundary\r\n"
			 "\r\n"
			 "--hikboundary\r\nContent-Type: application/xml\r\nContent-Length: 4\r\n\r\n<a/>\r\n"
			 "--hikboundary\r\n";
	const struct want_part wp[] = {{"application/xml", "<a/>", 91, false, false}};
	check(NULL, in, 0, wp, 1, NULL, 0);

	/* a raw capture of a chunked answer: the body cut into chunks of 5 bytes */
	const char *body = "--myboundary\r\n\r\nAbc\r\n--myboundary\r\nContent-Length: 1\r\n\r\nD\r\n--myboundary\r\n\r\nE";
	char chunked[1024];
	size_t cl = (size_t)snprintf(chunked, sizeof(chunked), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
					"Content-Type: multipart/x-mixed-replace; boundary=myboundary\r\n\r\n");
	for (size_t i = 0; i < strlen(body); i += 5) {
		size_t k = strlen(body) - i < 5 ? strlen(body) - i : 5;
		cl += (size_t)snprintf(chunked + cl, sizeof(chunked) - cl, "%zx\r\n%.*s\r\n", k, (int)k, body + i);
	}
	snprintf(chunked + cl, sizeof(chunked) - cl, "0\r\n\r\n");
	struct got g = {0};
	for (size_t step = 0; step < 3; step++) {
		assert_int_equal(run(NULL, chunked, strlen(chunked), step, 0, &g), 0);
		assert_int_equal(g.nerr, 0);
		assert_int_equal(g.n, 3);
		assert_string_equal(g.p[0].body, "Abc");
		assert_string_equal(g.p[1].body, "D");
		assert_string_equal(g.p[2].body, "E");
		assert_true(g.p[2].unterminated);
		got_clear(&g);
	}
	/* cut inside a chunk */
	chunked[cl - 9] = '\0';
	assert_int_equal(run(NULL, chunked, strlen(chunked), 1, 0, &g), 0);
	assert_int_equal(g.nerr, 1);
	assert_non_null(strstr(g.err[0], "chunked body ends without its last chunk"));
	got_clear(&g);

	const char *curl_i = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			     "Content-Type: multipart/x-mixed-replace; boundary=myboundary\r\n\r\n"
			     "--myboundary\r\nContent-Length:9\r\n\r\nHeartbeat\r\n--myboundary\r\n\r\nX\r\n--myboundary\r\n";
	assert_int_equal(run(NULL, curl_i, strlen(curl_i), 1, 0, &g), 0);
	assert_int_equal(g.nerr, 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.p[0].body, "Heartbeat");
	assert_string_equal(g.p[1].body, "X");
	got_clear(&g);

	const char *denied = "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/html\r\n\r\n<html>no</html>";
	const struct want_err we4[] = {{0, "HTTP status 401"}};
	check(NULL, denied, 0, NULL, 0, we4, 1);
}

/* Input that is not multipart: one document, with or without a leading HTTP head. */
static void test_single_document(void **state)
{
	(void)state;
	const char *xml = "\n<?xml version=\"1.0\"?>\n<EventNotificationAlert/>\n";
	const struct want_part wp[] = {{"", "<?xml version=\"1.0\"?>\n<EventNotificationAlert/>\n", 1, false, true}};
	check(NULL, xml, 0, wp, 1, NULL, 0);
	const char *post = "POST /alarm HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"eventType\":\"VMD\"}";
	const struct want_part wp2[] = {{"application/json", "{\"eventType\":\"VMD\"}", 56, false, true}};
	check(NULL, post, 0, wp2, 1, NULL, 0);
	check("application/xml", "<a/>", 0, (const struct want_part[]){{"application/xml", "<a/>", 0, false, true}}, 1,
	      NULL, 0);
	check(NULL, "", 0, NULL, 0, NULL, 0);
	check(NULL, "\r\n\r\n", 0, NULL, 0, NULL, 0);
}

static uint64_t rng_next(uint64_t *r)
{
	*r = *r * 6364136223846793005ull + 1442695040888963407ull;
	return *r >> 33;
}

/* Random streams built from what real streams hold (parts with and without Content-Length, right
 * and wrong lengths, delimiter spellings, CRLF and LF, blank lines, garbage lines short and long,
 * binary bodies, a cut end) must give exactly the same parts and errors however they are cut into
 * chunks: whole, byte by byte, in random pieces. */
static void test_chunking_invariance(void **state)
{
	(void)state;
	uint64_t r = 4242;
	char *in = malloc(1 << 16);
	assert_non_null(in);
	for (int iter = 0; iter < 600; iter++) {
		/* half with the boundary from a Content-Type, half sniffed from the first line */
		const char *ctype = iter % 2 ? NULL : "multipart/mixed; boundary=myboundary";
		size_t n = 0;
		int parts = 1 + (int)(rng_next(&r) % 12);
		for (int i = 0; i < parts && n < 50000; i++) {
			const char *eol = rng_next(&r) % 2 ? "\r\n" : "\n";
			static const char *delims[] = {"--myboundary", "myboundary", "-- myboundary", "----myboundary", "--myboundaryX"};
			n += (size_t)sprintf(in + n, "%s%s", delims[rng_next(&r) % 5], eol);
			char body[600];
			size_t bl = rng_next(&r) % sizeof(body);
			for (size_t k = 0; k < bl; k++) {
				uint64_t c = rng_next(&r) % 40;
				body[k] = c == 0 ? '\n' : c == 1 ? '-' : c == 2 ? '\r' : c == 3 ? (char)0xff : (char)('a' + c % 26);
			}
			switch (rng_next(&r) % 4) {
			case 0: n += (size_t)sprintf(in + n, "Content-Length: %zu%s", bl, eol); break;
			case 1: n += (size_t)sprintf(in + n, "Content-Length:%zu%s", bl + rng_next(&r) % 20, eol); break;
			case 2: n += (size_t)sprintf(in + n, "Content-Length: x%s", eol); break;
			default: break;
			}
			if (rng_next(&r) % 5)
				n += (size_t)sprintf(in + n, "Content-Type: text/plain%s", eol);
			n += (size_t)sprintf(in + n, "%s", eol);
			memcpy(in + n, body, bl);
			n += bl;
			n += (size_t)sprintf(in + n, "%s", eol);
			if (rng_next(&r) % 4 == 0) {
				size_t gl = rng_next(&r) % 300;
				memset(in + n, 'g', gl);
				n += gl;
				n += (size_t)sprintf(in + n, "%s", eol);
			}
		}
		if (rng_next(&r) % 3 == 0)
			n -= rng_next(&r) % (n / 2 + 1);
		struct got ref = {0};
		assert_int_equal(run(ctype, in, n, 0, 256, &ref), 0);
		static const size_t steps[] = {1, 2, 5, 64};
		for (size_t st = 0; st < sizeof(steps) / sizeof(steps[0]); st++) {
			struct got g = {0};
			assert_int_equal(run(ctype, in, n, steps[st], 256, &g), 0);
			if (g.n != ref.n || g.nerr != ref.nerr) {
				for (size_t i = 0; i < ref.nerr; i++)
					print_message("whole: error @%llu: %s\n", (unsigned long long)ref.err_off[i], ref.err[i]);
				for (size_t i = 0; i < g.nerr; i++)
					print_message("pieces: error @%llu: %s\n", (unsigned long long)g.err_off[i], g.err[i]);
			}
			if (g.n != ref.n || g.nerr != ref.nerr)
				fail_msg("iteration %d step %zu: %zu parts %zu errors, whole: %zu parts %zu errors", iter, steps[st],
					 g.n, g.nerr, ref.n, ref.nerr);
			for (size_t i = 0; i < g.n; i++) {
				assert_int_equal(g.p[i].len, ref.p[i].len);
				assert_memory_equal(g.p[i].body, ref.p[i].body, g.p[i].len);
				assert_int_equal(g.p[i].offset, ref.p[i].offset);
				assert_int_equal(g.p[i].short_body, ref.p[i].short_body);
				assert_int_equal(g.p[i].unterminated, ref.p[i].unterminated);
				assert_true(g.p[i].len <= 256);
			}
			for (size_t i = 0; i < g.nerr; i++) {
				assert_int_equal(g.err_off[i], ref.err_off[i]);
				assert_string_equal(g.err[i], ref.err[i]);
				assert_true(g.err_off[i] <= n);
			}
			got_clear(&g);
		}
		got_clear(&ref);
	}
	free(in);
}

/* A negative return from on_part stops the parser and comes back from feed. */
static void test_callback_stops(void **state)
{
	(void)state;
	const char *in = "--b\n\n1\n--b\n\n2\n--b\n\n3\n--b\n";
	struct got g = {.stop_after = 1};
	assert_int_equal(run("multipart/mixed; boundary=b", in, strlen(in), 1, 0, &g), -ECANCELED);
	assert_int_equal(g.n, 1);
	got_clear(&g);
	struct agw_multipart *m;
	struct agw_multipart_config bad = {.content_type = "multipart/mixed; boundary=\"\"", .on_part = on_part};
	assert_int_equal(agw_multipart_new(&bad, &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundary_parse),
		cmocka_unit_test(test_crlf_with_length),
		cmocka_unit_test(test_lf_only_without_length),
		cmocka_unit_test(test_dahua_capture_framing),
		cmocka_unit_test(test_boundary_variants),
		cmocka_unit_test(test_wrong_boundary),
		cmocka_unit_test(test_repeated_delimiter),
		cmocka_unit_test(test_short_body),
		cmocka_unit_test(test_no_blank_line_after_headers),
		cmocka_unit_test(test_garbage_between_parts),
		cmocka_unit_test(test_long_garbage_line),
		cmocka_unit_test(test_cut_stream),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_http_head),
		cmocka_unit_test(test_single_document),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_chunking_invariance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
