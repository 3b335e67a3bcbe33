/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The case engine tests' fixture: a ruleset with one open rule, two cells, five cameras, and
 * helpers that send an alert and record what the engine emits. Shared by test_engine.c,
 * test_engine_txn.c and test_casemsg_schema.c. */
#ifndef AGW_TEST_ENGINE_FX_H
#define AGW_TEST_ENGINE_FX_H

#include <stdint.h>

#include "case_engine.h"
#include "case_engine_internal.h" /* the transaction test compares the whole state */

#define MIN (60 * 1000LL)
#define HOUR (60 * MIN)
/* 2026-11-23T00:00:00+08:00 is a Monday: 2026-11-22T16:00:00Z */
#define MONDAY_LOCAL_MIDNIGHT 1795363200000LL

struct fx {
	struct agw_engine *e;
	struct agw_ruleset *rs;
	struct agw_rule *r;
	int64_t seq;
	struct agw_decision d;
	int emitted;
	struct agw_decision last_emit;
	char last_emit_case[AGW_CASE_ID_SIZE];
};

int64_t local(int day, int h, int m);
struct agw_grid *two_cells(void);
void fx_init(struct fx *f);
void fx_free(struct fx *f);
enum agw_decision_action alert(struct fx *f, const char *cam, enum agw_alert_kind kind, enum agw_active active,
			       enum agw_operation op, int64_t t);
enum agw_decision_action on(struct fx *f, const char *cam, int64_t t);
enum agw_decision_action off(struct fx *f, const char *cam, int64_t t);
int record(void *arg, const struct agw_decision *d);

#endif
