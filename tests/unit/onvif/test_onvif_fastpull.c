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

#include "kinds.h"
#include "onvif_fastpull.h"
#include "onvif_xmlcheck.h"
#include "templates.h"

#define MAX_ALERTS 64

struct got {
	int rc, calls, stop_after; /* stop_after > 0: the consumer refuses that call */
	char err[512];
	struct agw_onvif_pull_info info;
	struct agw_alert v[MAX_ALERTS];
	size_t n;
};

static int collect(void *arg, struct agw_alert *a)
{
	struct got *g = arg;
	if (g->stop_after && ++g->calls == g->stop_after)
		return -EPIPE;
	if (g->n < MAX_ALERTS) {
		agw_alert_init(&g->v[g->n]);
		if (agw_alert_copy(&g->v[g->n++], a) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void got_clear(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		agw_alert_clear(&g->v[i]);
}

static struct soap *soap;
static int differences;

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_items(const struct agw_items *a, const struct agw_items *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!same_str(a->v[i].name, b->v[i].name) || !same_str(a->v[i].value, b->v[i].value))
			return false;
	return true;
}

/* Prints what differs (every field is compared); returns the number of differences. */
static int compare_alert(const char *name, size_t i, const struct agw_alert *f, const struct agw_alert *g)
{
	const char *what = NULL;
	if (f->kind != g->kind)
		what = "kind";
	else if (f->active != g->active)
		what = "active";
	else if (f->operation != g->operation)
		what = "operation";
	else if (f->camera_time_ms != g->camera_time_ms)
		what = "camera_time";
	else if (!same_str(f->topic, g->topic))
		what = "topic";
	else if (!same_str(f->event_id, g->event_id))
		what = "event_id";
	else if (!same_items(&f->source, &g->source))
		what = "source";
	else if (!same_items(&f->key, &g->key))
		what = "key";
	else if (!same_items(&f->data, &g->data))
		what = "data";
	else if (!same_str(f->payload, g->payload))
		what = "payload";
	if (what)
		printf("DIFF %s: message %zu: %s (fast topic '%s', gSOAP topic '%s')\n", name, i, what,
		       f->topic ? f->topic : "", g->topic ? g->topic : "");
	return what ? 1 : 0;
}

/* Reads buf both ways and compares; returns true when the fast reader took it. */
static bool check_doc(const char *name, const char *buf, size_t len, int stop_after)
{
	struct got f = {.stop_after = stop_after}, g = {.stop_after = stop_after};
	f.rc = agw_onvif_normalize_soap(soap, buf, len, NULL, collect, &f, &f.info, f.err, sizeof(f.err));
	g.rc = agw_onvif_normalize_gsoap(soap, buf, len, NULL, collect, &g, &g.info, g.err, sizeof(g.err));
	int diff = 0;
	if (f.rc != g.rc || (f.rc < 0 && strcmp(f.err, g.err))) {
		printf("DIFF %s: fast %d '%s', gSOAP %d '%s'\n", name, f.rc, f.err, g.rc, g.err);
		diff++;
	} else if (f.n != g.n || f.calls != g.calls) {
		printf("DIFF %s: %zu alerts fast, %zu gSOAP\n", name, f.n, g.n);
		diff++;
	} else if (f.rc >= 0 && (strcmp(f.info.current_time, g.info.current_time) ||
				 strcmp(f.info.termination_time, g.info.termination_time))) {
		printf("DIFF %s: times fast %s/%s, gSOAP %s/%s\n", name, f.info.current_time, f.info.termination_time,
		       g.info.current_time, g.info.termination_time);
		diff++;
	}
	for (size_t i = 0; !diff && i < f.n; i++)
		diff += compare_alert(name, i, &f.v[i], &g.v[i]);
	differences += diff;
	got_clear(&f);
	got_clear(&g);
	char err[256];
	struct agw_onvif_fast_batch b;
	if (agw_onvif_xml_check(buf, len, err, sizeof(err)) < 0 || agw_onvif_fast_read(buf, len, NULL, &b) < 0)
		return false;
	agw_onvif_fast_batch_clear(&b);
	return true;
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
	int n = 0, declined = 0;
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
				if (!check_doc(name, b.data, b.len, 0)) {
					printf("declined: %s\n", name);
					declined++;
				}
				check_doc(name, b.data, b.len, 2);
				free(b.data);
			}
	printf("%d camsim answers, %d declined\n", n, declined);
	assert_int_equal(differences, 0);
	assert_int_equal(declined, 0); /* the workload of bench/scale: every answer takes the fast path */
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
		{"<tev:CurrentTime>", "<tev:CurrentTime><!-- -->"},
		{"<wsnt:Topic", "<wsnt:Topic xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\" e:mustUnderstand=\"true\""},
		{"<tev:TerminationTime>", "<tev:Other/><tev:TerminationTime>"},
		{"</tev:PullMessagesResponse>", "</tev:PullMessagesResponse><tev:PullMessagesResponse/>"},
		{"xmlns:tt=\"http://www.onvif.org/ver10/schema\"", "xmlns:tt=\"http://www.onvif.org/VER10/schema\""},
		{"Name=\"Rule\"", "Name=\"R\xc3\xa8gle\""},
		{"<wsnt:Message>", "<wsnt:Message><vendor:X xmlns:vendor=\"urn:x\"/>"},
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
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
