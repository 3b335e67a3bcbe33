/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the rule path keeps to be fast must not change what it decides or writes: the rule index
 * (case_match.c) against a scan of every rule, the message parts kept on a case and its camera
 * (casemsg.c) against a camera that changes, and the reason text builder against snprintf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine_fx.h"

static uint32_t rng = 12345;

static uint32_t rnd(uint32_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

/* Codes of the fixture's layer and its path, their prefixes, and codes that match nothing. */
static const char *const cell_words[] = {"", "1", "11010", "110105", "110105001", "110105001001",
					 "110105001001001", "110105001001002", "1101050010010011", "110106",
					 "UNASSIGNED", "UNASS", "110105001001002x", "G-2", "G-", "G-20"};
static const char *const tag_words[] = {"school", "gate", "road", "Gate"};
static const char *const cam_words[] = {"cam-a1", "cam-a2", "cam-b", "cam-owner", "cam-lost", "cam-new"};

static void add_some(struct agw_strv *sv, const char *const *words, size_t n_words)
{
	for (uint32_t k = rnd(3); k > 0; k--)
		agw_strv_add(sv, words[rnd((uint32_t)n_words)]);
}

/* Like the fixture's layer, but the second cell's code does not start with the codes of its path
 * (a layer whose cell codes are not hierarchical): rules name it by a code of its path. */
static struct agw_grid *grid_flat_codes(void)
{
	static const double a[] = {116.0, 39.0, 116.5, 39.0, 116.5, 39.5, 116.0, 39.5, 116.0, 39.0};
	static const double b[] = {116.5, 39.0, 117.0, 39.0, 117.0, 39.5, 116.5, 39.5, 116.5, 39.0};
	struct agw_grid *g;
	const char *pa[] = {"110105", "110105001", "110105001001"};
	struct agw_ring ra = {a, 5}, rb = {b, 5};
	assert_int_equal(agw_grid_new("cells", AGW_CRS_WGS84, 7, &g), 0);
	assert_int_equal(agw_grid_add_cell(g, "110105001001001", "Grid A", pa, 3, NULL, 0, &ra, 1), 0);
	assert_int_equal(agw_grid_add_cell(g, "G-2", "Grid B", pa, 3, NULL, 0, &rb, 1), 0);
	assert_int_equal(agw_grid_build(g, NULL), 0);
	return g;
}

/* The first rule, in file order, whose conditions and schedule match: what the engine must pick. */
static const struct agw_rule *scan(const struct agw_ruleset *rs, struct agw_engine_cam *c, enum agw_alert_kind kind,
				   int64_t t)
{
	const char *one[1] = {c->cell_code};
	const char *const *path = c->cell ? (const char *const *)c->cell->path : one;
	size_t n_path = c->cell ? c->cell->n_path : 1;
	for (size_t i = 0; i < rs->n; i++) {
		const struct agw_rule *r = &rs->rules[i];
		if (agw_rule_matches_static(r, kind, c->id, &c->tags, path, n_path) &&
		    agw_rule_schedule_matches(r, rs->tz_offset_min, t))
			return r;
	}
	return NULL;
}

/* Random rulesets over the fixture's cameras (located, owner cell, unassigned, unknown): cameras,
 * tags and cells in every combination, the empty prefix, path codes, prefixes and near misses. */
static void test_index_picks_what_a_scan_picks(void **state)
{
	(void)state;
	int compared = 0, matched = 0;
	for (int round = 0; round < 300; round++) {
		struct agw_ruleset *rs;
		assert_int_equal(agw_ruleset_new(&rs), 0);
		rs->tz_offset_min = 480;
		for (uint32_t n = 1 + rnd(12); n > 0; n--) {
			struct agw_rule *r;
			char name[16];
			snprintf(name, sizeof(name), "r%u", n);
			assert_int_equal(agw_ruleset_add(rs, name, &r), 0);
			r->kinds = rnd(3) ? 1u << rnd(3) : 0;
			if (rnd(3) == 0)
				add_some(&r->cameras, cam_words, 6);
			if (rnd(3) == 0)
				add_some(&r->tags, tag_words, 4);
			if (rnd(2) == 0)
				add_some(&r->cells, cell_words, sizeof(cell_words) / sizeof(*cell_words));
			if (rnd(4) == 0) {
				r->days = AGW_DAYS_ALL;
				agw_rule_add_window(r, 22 * 60, 6 * 60);
			}
		}
		struct agw_engine_config cfg = {.gateway_id = "gw-test", .unassigned_cell = "UNASSIGNED"};
		struct agw_engine *e;
		assert_int_equal(agw_engine_new(&cfg, rs, round % 2 ? grid_flat_codes() : two_cells(), &e), 0);
		assert_int_equal(agw_engine_camera_set(e, "cam-a1", NULL, NULL, "school;gate", NULL, true, 116.2, 39.2,
						       AGW_CRS_WGS84), 0);
		assert_int_equal(agw_engine_camera_set(e, "cam-b", NULL, NULL, "road", NULL, true, 116.7, 39.2,
						       AGW_CRS_WGS84), 0);
		assert_int_equal(agw_engine_camera_set(e, "cam-owner", NULL, NULL, NULL, "110105001001002", false, 0, 0,
						       AGW_CRS_WGS84), 0);
		assert_int_equal(agw_engine_camera_set(e, "cam-lost", NULL, NULL, "gate", NULL, false, 0, 0, AGW_CRS_WGS84),
				 0);
		for (size_t ci = 0; ci < 6; ci++) {
			bool full;
			struct agw_engine_cam *c = engine_cam_get(e, cam_words[ci], &full);
			assert_non_null(c);
			for (int k = 0; k < 3; k++)
				for (int h = 0; h < 24; h += 11) {
					int64_t t = local(0, h, 0);
					int err;
					const struct agw_rule *want = scan(rs, c, (enum agw_alert_kind)k, t);
					const struct agw_rule *got = engine_match_rule(e, c, (enum agw_alert_kind)k, t, &err);
					assert_int_equal(err, 0);
					if (want != got)
						fail_msg("round %d camera %s kind %d hour %d: index picked %s, a scan %s", round,
							 c->id, k, h, got ? got->name : "none", want ? want->name : "none");
					compared++;
					matched += want != NULL;
				}
		}
		agw_engine_free(e);
	}
	/* the comparison means something only if the random rules matched often */
	assert_true(matched > compared / 4);
}

/* A camera renamed or moved after its first case message: the next message says so (the part
 * kept on the camera is dropped with the change), and a second case of the same camera reuses
 * the kept part byte for byte. */
static void test_message_follows_camera_changes(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	char *json;
	size_t len;
	assert_int_equal(on(&f, "cam-a1", local(0, 10, 0)), AGW_DECISION_OPEN);
	assert_int_equal(agw_case_message(f.e, f.d.incident, f.d.action, NULL, 0, &json, &len), 0);
	assert_non_null(strstr(json, "\"name\":\"Gate A1\""));
	assert_non_null(strstr(json, "\"code\":\"110105001001001\""));
	free(json);
	assert_int_equal(agw_engine_camera_set(f.e, "cam-a1", "Gate A1 \"new\"", "uniview", "school", NULL, true, 116.7,
					       39.2, AGW_CRS_WGS84), 0);
	assert_int_equal(on(&f, "cam-a1", local(0, 10, 1)), AGW_DECISION_UPDATE);
	assert_int_equal(agw_case_message(f.e, f.d.incident, f.d.action, NULL, 0, &json, &len), 0);
	assert_null(strstr(json, "\"name\":\"Gate A1\""));
	assert_non_null(strstr(json, "\"name\":\"Gate A1 \\\"new\\\"\""));
	assert_non_null(strstr(json, "\"vendor\":\"uniview\""));
	assert_non_null(strstr(json, "\"code\":\"110105001001002\""));
	assert_non_null(strstr(json, "\"lon\":116.7000000"));
	char *first = json;
	/* the same camera, another kind: a second case, the same camera and cell members */
	assert_int_equal(alert(&f, "cam-a1", AGW_KIND_TAMPER, AGW_ACTIVE_TRUE, AGW_OP_CHANGED, local(0, 10, 2)),
			 AGW_DECISION_OPEN);
	assert_int_equal(agw_case_message(f.e, f.d.incident, f.d.action, NULL, 0, &json, &len), 0);
	const char *a = strstr(first, "\"camera\":{"), *b = strstr(json, "\"camera\":{");
	assert_non_null(a);
	assert_non_null(b);
	size_t n = (size_t)(strstr(a, "\"event\":") - a);
	assert_memory_equal(a, b, n);
	free(first);
	free(json);
	fx_free(&f);
}

/* The reasons of decisions are built without printf: the same text as snprintf, cut the same way
 * at every buffer size. */
static void test_text_as_snprintf(void **state)
{
	(void)state;
	static const int64_t durs[] = {0, 1, 999, 1000, 59000, 60000, 90000, 3600000, 5400000, 7200000, -5, -60000,
				       INT64_MAX, INT64_MIN};
	for (size_t i = 0; i < sizeof(durs) / sizeof(*durs); i++)
		for (size_t size = 0; size < 48; size++) {
			char want[64], dur[32], got[64];
			fmt_dur(durs[i], dur, sizeof(dur));
			snprintf(want, sizeof(want), "after %s (count %" PRId64 ")", dur, durs[i]);
			if (size)
				want[size - 1 < strlen(want) ? size - 1 : strlen(want)] = '\0';
			memset(got, 'x', sizeof(got));
			struct engine_text t;
			engine_text_init(&t, got, size);
			engine_text_put(&t, "after ");
			engine_text_dur(&t, durs[i]);
			engine_text_put(&t, " (count ");
			engine_text_int(&t, durs[i]);
			engine_text_put(&t, ")");
			if (size)
				assert_string_equal(got, want);
			assert_int_equal(got[size], 'x'); /* nothing written past the size */
		}
	char dur[32];
	assert_string_equal(fmt_dur(90000, dur, sizeof(dur)), "90s");
	assert_string_equal(fmt_dur(5400000, dur, sizeof(dur)), "90m");
	assert_string_equal(fmt_dur(7200000, dur, sizeof(dur)), "2h");
	assert_string_equal(fmt_dur(250, dur, sizeof(dur)), "250ms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_picks_what_a_scan_picks),
		cmocka_unit_test(test_message_follows_camera_changes),
		cmocka_unit_test(test_text_as_snprintf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
