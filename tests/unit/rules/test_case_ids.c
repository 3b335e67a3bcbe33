/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Case ids across the instances of a cluster. Two instances pulling the same camera during a
 * handover receive the same notification (same camera time) at different gateway times: the case
 * ids must be equal so that the platform drops the duplicate. A camera time that cannot be trusted
 * falls back on the gateway's, which then decides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "case_engine.h"

#define T0 1795478400000LL /* 2026-11-23T00:00:00Z */

struct instance {
	struct agw_ruleset *rs; /* the engine owns it */
	struct agw_engine *e;
	struct agw_decision d;
	int64_t seq;
};

/* One open rule for every kind, flood control off: every first alert of a key opens a case. */
static void instance_init(struct instance *in)
{
	struct agw_rule *r;
	*in = (struct instance){0};
	assert_int_equal(agw_ruleset_new(&in->rs), 0);
	assert_int_equal(agw_ruleset_add(in->rs, "all", &r), 0);
	in->rs->flood_camera.max_cases = 0;
	in->rs->flood_cell.max_cases = 0;
	struct agw_engine_config cfg = {.gateway_id = "city", .unassigned_cell = "UNASSIGNED"};
	assert_int_equal(agw_engine_new(&cfg, in->rs, NULL, &in->e), 0);
}

static const char *open_at(struct instance *in, const char *cam, int64_t gateway_t, int64_t camera_t)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = (char *)cam;
	a.kind = AGW_KIND_INTRUSION;
	a.active = AGW_ACTIVE_TRUE;
	a.operation = AGW_OP_CHANGED;
	a.gateway_time_ms = gateway_t;
	a.camera_time_ms = camera_t;
	assert_int_equal(agw_engine_decide(in->e, &a, ++in->seq, gateway_t, &in->d), 0);
	assert_int_equal(in->d.action, AGW_DECISION_OPEN);
	return agw_case_id(in->d.incident);
}

static void test_same_notification_same_id(void **state)
{
	(void)state;
	struct instance a, b;
	instance_init(&a);
	instance_init(&b);
	assert_string_equal(open_at(&a, "cam-1", T0, T0 - 800), open_at(&b, "cam-1", T0 + 37, T0 - 800));
	char manual[AGW_CASE_ID_SIZE];
	agw_case_id_make("city", "camera/cam-1/intrusion", T0 - 800, manual);
	assert_string_equal(agw_case_id(a.d.incident), manual);
	/* notifications a camera millisecond apart are not the same notification */
	assert_string_not_equal(open_at(&a, "cam-2", T0, T0 - 800), open_at(&b, "cam-2", T0, T0 - 799));
	agw_engine_free(a.e);
	agw_engine_free(b.e);
}

/* The id's text never changes (stores and cluster peers keep it): FNV-1a 64 of the gateway id, the
 * key (each with its NUL) and the decimal time, as "agw-" and 16 hex digits, computed here
 * independently of the code. */
static void test_id_text(void **state)
{
	(void)state;
	static const struct {
		int64_t t;
		const char *id;
	} want[] = {{1795363200000LL, "agw-f1d632a2b04e5963"}, {0, "agw-c921d4c7724767c9"},
		    {-1, "agw-0bd38ae72f473e01"}, {INT64_MIN, "agw-f9ad52fa533d0157"},
		    {INT64_MAX, "agw-4d3eadcc51064c01"}};
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		char id[AGW_CASE_ID_SIZE];
		agw_case_id_make("city", "camera/cam-1/intrusion", want[i].t, id);
		assert_string_equal(id, want[i].id);
	}
}

static void test_untrusted_camera_time(void **state)
{
	(void)state;
	struct instance a, b;
	instance_init(&a);
	instance_init(&b);
	/* no camera time: the gateway's, so different arrivals give different ids */
	assert_string_not_equal(open_at(&a, "cam-1", T0, AGW_TIME_UNKNOWN),
				open_at(&b, "cam-1", T0 + 37, AGW_TIME_UNKNOWN));
	/* a clock reset to 1970 would give every incident of the key the same id: the gateway's time */
	char manual[AGW_CASE_ID_SIZE];
	open_at(&a, "cam-2", T0, 5000);
	agw_case_id_make("city", "camera/cam-2/intrusion", T0, manual);
	assert_string_equal(agw_case_id(a.d.incident), manual);
	agw_engine_free(a.e);
	agw_engine_free(b.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_notification_same_id),
		cmocka_unit_test(test_id_text),
		cmocka_unit_test(test_untrusted_camera_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
