/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Metadata track reassembly: RTP payloads (as libavformat hands them over) -> tt:MetadataStream
 * documents -> alerts through the ONVIF normalizer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rtsp_meta.h"
#ifdef AGW_RTSP_HAVE_ONVIF_NORMALIZE
#include "onvif_normalize.h"
#endif

#define MAX_DOCS 16

struct sink {
	char *docs[MAX_DOCS];
	size_t n;
	int fail_with;
};

static int collect(void *arg, const char *doc, size_t len)
{
	struct sink *s = arg;
	assert_int_equal(strlen(doc), len);
	if (s->fail_with)
		return s->fail_with;
	assert_true(s->n < MAX_DOCS);
	s->docs[s->n++] = strdup(doc);
	return 0;
}

static void sink_clear(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->docs[i]);
	memset(s, 0, sizeof(*s));
}

static char *make_doc(const char *prefix, const char *state, int id)
{
	char *doc = NULL;
	const char *p = prefix[0] ? prefix : "";
	const char *colon = prefix[0] ? ":" : "";
	int n = asprintf(&doc,
			 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			 "<%s%sMetadataStream xmlns%s%s=\"http://www.onvif.org/ver10/schema\" "
			 "xmlns:wsnt=\"http://docs.oasis-open.org/wsn/b-2\" xmlns:tns1=\"http://www.onvif.org/ver10/topics\">"
			 "<%s%sEvent><wsnt:NotificationMessage>"
			 "<wsnt:Topic Dialect=\"http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet\">"
			 "tns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic><wsnt:Message>"
			 "<%s%sMessage UtcTime=\"2026-11-22T10:00:%02dZ\" PropertyOperation=\"Changed\">"
			 "<%s%sSource><%s%sSimpleItem Name=\"VideoSourceConfigurationToken\" Value=\"vs0\"/></%s%sSource>"
			 "<%s%sData><%s%sSimpleItem Name=\"IsMotion\" Value=\"%s\"/>"
			 "<%s%sSimpleItem Name=\"EventId\" Value=\"ev-%d\"/></%s%sData>"
			 "</%s%sMessage></wsnt:Message></wsnt:NotificationMessage></%s%sEvent></%s%sMetadataStream >",
			 p, colon, colon, p, p, colon, p, colon, id % 60, p, colon, p, colon, p, colon, p, colon, p, colon,
			 state, p, colon, id, p, colon, p, colon, p, colon, p, colon);
	assert_true(n > 0);
	return doc;
}

/* Feeds doc in chunks of `chunk` bytes with one timestamp. Returns the documents completed. */
static int feed(struct agw_rtsp_meta *m, const char *doc, size_t len, size_t chunk, int64_t pts, struct sink *s)
{
	int total = 0;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		int r = agw_rtsp_meta_push(m, doc + off, n, pts, collect, s);
		assert_true(r >= 0);
		total += r;
	}
	return total;
}

static void test_split_documents(void **state)
{
	struct agw_rtsp_meta m;
	struct sink s = {0};
	agw_rtsp_meta_init(&m, 65536);
	char *doc = make_doc("tt", "true", 1);
	size_t len = strlen(doc);
	/* Every chunk size from 1 byte up cuts the closing tag in every possible place. */
	for (size_t chunk = 1; chunk <= 120; chunk++) {
		assert_int_equal(feed(&m, doc, len, chunk, (int64_t)chunk * 3000, &s), 1);
		assert_int_equal(s.n, 1);
		assert_string_equal(s.docs[0], doc);
		sink_clear(&s);
	}
	assert_int_equal(m.docs, 120);
	assert_int_equal(m.dropped, 0);
	free(doc);
	agw_rtsp_meta_free(&m);
}

static void test_prefixes(void **state)
{
	struct agw_rtsp_meta m;
	struct sink s = {0};
	agw_rtsp_meta_init(&m, 65536);
	const char *prefixes[] = {"", "tt", "onvif-md", "ns0"};
	for (size_t i = 0; i < 4; i++) {
		char *doc = make_doc(prefixes[i], "false", (int)i);
		assert_int_equal(feed(&m, doc, strlen(doc), 300, (int64_t)i, &s), 1);
		assert_string_equal(s.docs[0], doc);
		sink_clear(&s);
		free(doc);
	}
	/* Names that only start like the tag do not end a document. */
	const char *tricky = "<tt:MetadataStream><x></tt:MetadataStreamer></tt:MetadataStrea>";
	assert_int_equal(agw_rtsp_meta_push(&m, tricky, strlen(tricky), 99, collect, &s), 0);
	assert_int_equal(agw_rtsp_meta_push(&m, "</tt:MetadataStream>", 20, 99, collect, &s), 1);
	assert_int_equal(s.n, 1);
	assert_non_null(strstr(s.docs[0], "MetadataStreamer"));
	sink_clear(&s);
	agw_rtsp_meta_free(&m);
}

static void test_lost_packets_drop_the_document(void **state)
{
	struct agw_rtsp_meta m;
	struct sink s = {0};
	agw_rtsp_meta_init(&m, 65536);
	char *a = make_doc("tt", "true", 1), *b = make_doc("tt", "false", 2);
	/* The last packet of a is lost: only its first 200 bytes arrive. */
	assert_int_equal(agw_rtsp_meta_push(&m, a, 200, 1000, collect, &s), 0);
	assert_int_equal(feed(&m, b, strlen(b), 250, 2000, &s), 1);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.docs[0], b);
	assert_int_equal(m.dropped, 1);
	sink_clear(&s);
	/* Two documents in one packet, and whitespace between documents is not a loss. */
	char *two = NULL;
	assert_true(asprintf(&two, "%s\r\n%s\n", a, b) > 0);
	assert_int_equal(agw_rtsp_meta_push(&m, two, strlen(two), 3000, collect, &s), 2);
	assert_int_equal(agw_rtsp_meta_push(&m, "\n", 1, 4000, collect, &s), 0);
	assert_int_equal(m.dropped, 1);
	assert_string_equal(s.docs[0], a);
	assert_string_equal(s.docs[1], b);
	sink_clear(&s);
	free(two);
	free(a);
	free(b);
	agw_rtsp_meta_free(&m);
}

static void test_size_limit(void **state)
{
	struct agw_rtsp_meta m;
	struct sink s = {0};
	agw_rtsp_meta_init(&m, 1024);
	char *small = make_doc("tt", "true", 7);
	assert_true(strlen(small) < 1024);
	/* A 5000-byte document (a huge ElementItem, say) is dropped, never buffered past the limit. */
	char *big = malloc(6000);
	size_t n = (size_t)snprintf(big, 6000, "<?xml version=\"1.0\"?><tt:MetadataStream>");
	memset(big + n, 'x', 5000 - n);
	strcpy(big + 5000, "</tt:MetadataStream>");
	assert_int_equal(feed(&m, big, strlen(big), 400, 10, &s), 0);
	assert_true(m.cap <= 4096); /* never grown for the oversized document */
	assert_int_equal(m.dropped, 1);
	/* The next document, same timestamp or not, comes through. */
	assert_int_equal(feed(&m, small, strlen(small), 400, 10, &s), 1);
	assert_int_equal(feed(&m, small, strlen(small), 400, 11, &s), 1);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.docs[1], small);
	sink_clear(&s);
	free(big);
	free(small);
	agw_rtsp_meta_free(&m);
}

static void test_callback_error_stops(void **state)
{
	struct agw_rtsp_meta m;
	struct sink s = {.fail_with = -ECANCELED};
	agw_rtsp_meta_init(&m, 65536);
	char *doc = make_doc("tt", "true", 3);
	assert_int_equal(agw_rtsp_meta_push(&m, doc, strlen(doc), 5, collect, &s), -ECANCELED);
	free(doc);
	agw_rtsp_meta_free(&m);
	agw_rtsp_meta_free(NULL);
}

#ifdef AGW_RTSP_HAVE_ONVIF_NORMALIZE
struct got {
	int n;
	enum agw_active active[4];
	char *event_id[4];
	enum agw_alert_kind kind[4];
	char *topic[4];
};

static int on_alert(void *arg, struct agw_alert *a)
{
	struct got *g = arg;
	assert_true(g->n < 4);
	g->active[g->n] = a->active;
	g->kind[g->n] = a->kind;
	g->event_id[g->n] = a->event_id ? strdup(a->event_id) : NULL;
	g->topic[g->n] = a->topic ? strdup(a->topic) : NULL;
	g->n++;
	return 0;
}

static int normalize_doc(void *arg, const char *doc, size_t len)
{
	char err[256] = "";
	int n = agw_onvif_normalize(doc, len, agw_onvif_topic_table_default(), on_alert, arg, err, sizeof(err));
	if (n < 0)
		fprintf(stderr, "normalize: %s\n", err);
	assert_int_equal(n, 1);
	return 0;
}

static void test_normalize(void **state)
{
	struct agw_rtsp_meta m;
	struct got g = {0};
	agw_rtsp_meta_init(&m, 65536);
	const char *states[] = {"true", "false"};
	for (int i = 0; i < 2; i++) {
		char *doc = make_doc("tt", states[i], 40 + i);
		size_t len = strlen(doc);
		for (size_t off = 0; off < len; off += 333)
			assert_true(agw_rtsp_meta_push(&m, doc + off, len - off < 333 ? len - off : 333, i, normalize_doc,
						       &g) >= 0);
		free(doc);
	}
	assert_int_equal(g.n, 2);
	assert_int_equal(g.kind[0], AGW_KIND_MOTION);
	assert_int_equal(g.active[0], AGW_ACTIVE_TRUE);
	assert_int_equal(g.active[1], AGW_ACTIVE_FALSE);
	assert_string_equal(g.event_id[0], "ev-40");
	assert_string_equal(g.event_id[1], "ev-41");
	assert_string_equal(g.topic[0], "tns1:RuleEngine/CellMotionDetector/Motion");
	for (int i = 0; i < g.n; i++) {
		free(g.event_id[i]);
		free(g.topic[i]);
	}
	agw_rtsp_meta_free(&m);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_documents),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_lost_packets_drop_the_document),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_callback_error_stops),
#ifdef AGW_RTSP_HAVE_ONVIF_NORMALIZE
		cmocka_unit_test(test_normalize),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
