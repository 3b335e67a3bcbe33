/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What vendorsim writes, read back with the gateway's own multipart parser in every dialect, whole
 * and a byte at a time: each part's Content-Length is its length, the ids and the picture are where
 * they belong, and a wrong-boundary stream frames nothing. Dialect names round-trip. */
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
#include "vendorsim.h"

#define MAX_PARTS 16

struct seen {
	size_t n;
	char ctype[MAX_PARTS][64];
	char *body[MAX_PARTS];
	size_t len[MAX_PARTS];
	bool bad_length;
};

static int on_part(void *arg, const struct agw_multipart_part *p)
{
	struct seen *s = arg;
	assert_true(s->n < MAX_PARTS);
	snprintf(s->ctype[s->n], sizeof(s->ctype[0]), "%s", p->content_type);
	s->body[s->n] = malloc(p->len + 1);
	memcpy(s->body[s->n], p->body, p->len);
	s->body[s->n][p->len] = '\0';
	s->len[s->n] = p->len;
	if (p->content_length != (int64_t)p->len || p->short_body)
		s->bad_length = true;
	s->n++;
	return 0;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->body[i]);
	memset(s, 0, sizeof(*s));
}

/* Splits the stream at its head: the Content-Type and the body's offset. */
static size_t head_split(const struct camsim_buf *b, char *ctype, size_t len)
{
	const char *end = strstr(b->data, "\r\n\r\n");
	assert_non_null(end);
	const char *ct = strstr(b->data, "Content-Type: ");
	assert_true(ct && ct < end);
	ct += 14;
	size_t n = strcspn(ct, "\r");
	assert_true(n < len);
	memcpy(ctype, ct, n);
	ctype[n] = '\0';
	return (size_t)(end + 4 - b->data);
}

static void parse(const struct camsim_buf *b, bool bytewise, struct seen *s)
{
	char ctype[128];
	size_t off = head_split(b, ctype, sizeof(ctype));
	struct agw_multipart_config cfg = {.content_type = ctype, .on_part = on_part, .arg = s};
	struct agw_multipart *m;
	assert_int_equal(agw_multipart_new(&cfg, &m), 0);
	if (bytewise)
		for (size_t i = off; i < b->len; i++)
			assert_int_equal(agw_multipart_feed(m, b->data + i, 1), 0);
	else
		assert_int_equal(agw_multipart_feed(m, b->data + off, b->len - off), 0);
	assert_int_equal(agw_multipart_finish(m), 0);
	agw_multipart_free(m);
}

static struct vsim sim;
static struct vsim_device dev;

static void setup_protocol(enum vsim_protocol p, unsigned channels)
{
	memset(&sim, 0, sizeof(sim));
	memset(&dev, 0, sizeof(dev));
	sim.opt.protocol = p;
	sim.opt.channels = channels;
	sim.opt.common.host = "127.0.0.1";
	dev.sim = &sim;
	dev.port = 19000;
	snprintf(dev.id, sizeof(dev.id), "%s-00001", p == VSIM_ISAPI ? "hik" : "dh");
}

/* head, heartbeat, a plain active edge, a smart one with its picture, a pulse or an inactive */
static void render_stream(struct vsim_conn *c, struct camsim_buf *b)
{
	size_t n;
	const struct vsim_type *t = vsim_types(sim.opt.protocol, &n);
	int smart = sim.opt.protocol == VSIM_ISAPI ? vsim_type_find(VSIM_ISAPI, "linedetection")
						   : vsim_type_find(VSIM_DAHUA, "CrossLineDetection");
	int pulse = vsim_type_find(VSIM_DAHUA, "LeftDetection");
	vsim_render_stream_head(&dev, c, b);
	vsim_render_heartbeat(&dev, c, b);
	struct vsim_edge e1 = {.type = &t[0], .channel = 1, .seq = 7, .post = 3, .state = 1, .time = 1796285174};
	struct vsim_edge e2 = {.type = &t[smart], .channel = sim.opt.channels, .seq = 8, .post = 1, .state = 1,
			       .time = 1796285175, .picture = sim.opt.protocol == VSIM_ISAPI};
	struct vsim_edge e3 = {.type = sim.opt.protocol == VSIM_ISAPI ? &t[0] : &t[pulse], .channel = 1, .seq = 9,
			       .post = 1, .state = sim.opt.protocol == VSIM_ISAPI ? 0 : -1, .time = 1796285176};
	vsim_render_edge(&dev, c, &e1, b);
	size_t doc = vsim_render_edge(&dev, c, &e2, b);
	assert_true(doc > 0);
	vsim_render_edge(&dev, c, &e3, b);
	vsim_render_heartbeat(&dev, c, b);
	assert_false(b->failed);
}

static void check_isapi(const struct seen *s, const struct vsim_dialect *d)
{
	assert_false(s->bad_length);
	assert_int_equal(s->n, 6); /* heartbeat, e1, e2, picture, e3, heartbeat */
	const char *want = d->format == VSIM_FMT_JSON ? "application/json" : "application/xml";
	for (size_t i = 0; i < s->n; i++)
		if (i != 3)
			assert_non_null(strstr(s->ctype[i], want));
	assert_non_null(strstr(s->body[0], "videoloss"));
	assert_null(strstr(s->body[0], "simEventId"));
	assert_non_null(strstr(s->body[1], "hik-00001-7"));
	assert_non_null(strstr(s->body[2], "hik-00001-8"));
	assert_string_equal(s->ctype[3], "image/jpeg");
	assert_int_equal(s->len[3], vsim_jpeg_len);
	assert_memory_equal(s->body[3], vsim_jpeg, vsim_jpeg_len);
	assert_non_null(strstr(s->body[4], "hik-00001-9"));
	assert_non_null(strstr(s->body[4], "inactive"));
	if (d->format != VSIM_FMT_JSON) {
		assert_non_null(strstr(s->body[1], "<activePostCount>3</activePostCount>"));
		assert_true(d->lf == (strstr(s->body[1], "\r\n") == NULL));
	}
	static const char *const ns[] = {"ver20/XMLSchema", "ver10/XMLSchema", NULL, NULL};
	if (ns[d->format])
		assert_non_null(strstr(s->body[1], ns[d->format]));
	if (d->format == VSIM_FMT_XMLNS)
		assert_null(strstr(s->body[1], "xmlns"));
}

static void test_isapi_dialects(void **state)
{
	(void)state;
	for (unsigned channels = 1; channels <= 4; channels += 3) {
		setup_protocol(VSIM_ISAPI, channels);
		for (unsigned i = 0; i < 16; i++) {
			struct vsim_conn c = {.dev = &dev};
			vsim_dialect_mixed(VSIM_ISAPI, i, &c.dialect);
			struct camsim_buf b = {0};
			render_stream(&c, &b);
			assert_true(strstr(b.data, c.dialect.mime_boundary ? "boundary=MIME_boundary\r\n" : "boundary=boundary\r\n"));
			for (int bytewise = 0; bytewise < 2; bytewise++) {
				struct seen s = {0};
				parse(&b, bytewise, &s);
				check_isapi(&s, &c.dialect);
				/* an NVR names the channel with dynChannelID only */
				if (c.dialect.format != VSIM_FMT_JSON) {
					assert_true((strstr(s.body[2], "<dynChannelID>4</dynChannelID>") != NULL) == (channels == 4));
					assert_true((strstr(s.body[2], "<channelID>") != NULL) == (channels == 1));
				}
				seen_free(&s);
			}
			camsim_buf_free(&b);
		}
	}
}

static void test_dahua_dialects(void **state)
{
	(void)state;
	setup_protocol(VSIM_DAHUA, 3);
	for (unsigned i = 0; i < 3; i++) {
		struct vsim_conn c = {.dev = &dev};
		vsim_dialect_mixed(VSIM_DAHUA, i, &c.dialect);
		strcpy(c.codes, "All");
		struct camsim_buf b = {0};
		render_stream(&c, &b);
		assert_non_null(strstr(b.data, "multipart/x-mixed-replace; boundary=myboundary\r\n"));
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			struct seen s = {0};
			parse(&b, bytewise, &s);
			assert_false(s.bad_length);
			assert_int_equal(s.n, 5);
			assert_string_equal(s.body[0], "Heartbeat");
			assert_true(strncmp(s.body[1], "Code=VideoMotion;action=Start;index=0;data={", 44) == 0);
			assert_non_null(strstr(s.body[1], "\"EventID\" : 7,"));
			/* the NVR's last channel is index channels - 1 */
			assert_true(strncmp(s.body[2], "Code=CrossLineDetection;action=Start;index=2;data={", 51) == 0);
			assert_true(strncmp(s.body[3], "Code=LeftDetection;action=Pulse;index=0;data={", 46) == 0);
			assert_true(s.body[3][s.len[3] - 1] == '}');
			assert_string_equal(s.body[4], "Heartbeat");
			seen_free(&s);
		}
		if (c.dialect.amcrest)
			assert_non_null(strstr(b.data, "-- myboundary\nContent-Type: text/plain\nContent-Length:9\nHeartbeat"));
		camsim_buf_free(&b);
	}
}

static void test_wrong_boundary(void **state)
{
	(void)state;
	for (int p = 0; p < 2; p++) {
		setup_protocol(p ? VSIM_DAHUA : VSIM_ISAPI, 1);
		struct vsim_conn c = {.dev = &dev, .wrong_boundary = true};
		strcpy(c.codes, "All");
		struct camsim_buf b = {0};
		render_stream(&c, &b);
		assert_non_null(strstr(b.data, "boundary=WrongBoundary0123\r\n"));
		struct seen s = {0};
		parse(&b, false, &s);
		assert_int_equal(s.n, 0); /* what the misbehaviour is for: a strict reader frames nothing */
		seen_free(&s);
		camsim_buf_free(&b);
	}
}

static void test_dialect_names(void **state)
{
	(void)state;
	struct vsim_dialect d;
	char name[48];
	const char *isapi[] = {"xml20", "xml10", "xml", "json", "xml10+lf+mime", "json+mime", "xml+lf"};
	for (size_t i = 0; i < sizeof(isapi) / sizeof(isapi[0]); i++) {
		assert_int_equal(vsim_dialect_parse(VSIM_ISAPI, isapi[i], &d), 0);
		vsim_dialect_name(VSIM_ISAPI, &d, name, sizeof(name));
		struct vsim_dialect again;
		assert_int_equal(vsim_dialect_parse(VSIM_ISAPI, name, &again), 0);
		assert_memory_equal(&d, &again, sizeof(d));
	}
	assert_int_equal(vsim_dialect_parse(VSIM_DAHUA, "amcrest+lf", &d), 0);
	assert_true(d.amcrest && d.lf);
	assert_int_equal(vsim_dialect_parse(VSIM_DAHUA, "standard", &d), 0);
	const char *bad_isapi[] = {"", "xml30", "amcrest", "lf+xml10", "xml10+", "xml10+lf+lf+lf+lf+lf+lf+lf+lf+lf+lf+lf+lf+lf+lf"
				   "+lf+lf+lf+lf+lf+lf+lf+lf"};
	for (size_t i = 0; i < sizeof(bad_isapi) / sizeof(bad_isapi[0]); i++)
		assert_int_equal(vsim_dialect_parse(VSIM_ISAPI, bad_isapi[i], &d), -EINVAL);
	assert_int_equal(vsim_dialect_parse(VSIM_DAHUA, "mime", &d), -EINVAL);
	assert_int_equal(vsim_dialect_parse(VSIM_DAHUA, "xml20", &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isapi_dialects),
		cmocka_unit_test(test_dahua_dialects),
		cmocka_unit_test(test_wrong_boundary),
		cmocka_unit_test(test_dialect_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
