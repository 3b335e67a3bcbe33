/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The decider: glue between the pipeline and the pure case engine (rules/case_engine.h). It loads
 * the rules file, the grid layer and the cameras, rebuilds the open incidents from the cases table
 * and the per camera and kind state from kind_states (so a restarted gateway keeps deduplicating,
 * pairing, counting repeats and waiting for minimum durations), and for every alert journals the
 * decision and, for
 * open/update/close, writes the case row and one outbox row, all inside the pipeline's
 * transaction.
 *
 * Wiring (gateway/daemon.c):
 *   agw_decider_new(cfg, store, &d, &errs);
 *   agw_pipeline_set_decider(p, agw_decider_decide, d);
 *   agw_pipeline_set_decider_txn(p, agw_decider_txn);
 *   agw_pipeline_set_tick(p, agw_decider_tick, d, 1000);
 *   publisher feedback: agw_decider_case_feedback(d, store, case_id, status, from, why, len), then
 *                       agw_decider_feedback_done(d, committed) when its transaction ended;
 *   shutdown, after the pipeline: agw_decider_free(d).
 * Reload (rules file, grid layer, ledger changed): commit the pending batch, build a new decider
 * with agw_decider_new (it restores the open incidents from the cases table), and only if that
 * succeeds swap it into the pipeline and free the old one. Pending minimum-duration starts, repeat
 * counts and last known states are carried over through the store (kind_states), as across a
 * restart. */
#ifndef AGW_DECIDER_H
#define AGW_DECIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarmgw/adapter.h"
#include "alarmgw/alert.h"
#include "case_engine.h"
#include "config.h"
#include "pipeline.h"
#include "store.h"

struct agw_decider;

/* cfg is only read during the call (the decider copies what it needs). No rules_file configured: the default policy of
 * agw_ruleset_default (docs/rules.md). A configured rules file that is missing or invalid, or a
 * store error, fails with every error in errs. A grid layer that was never imported is a warning:
 * every camera then goes to its owner cell or the unassigned cell. */
int agw_decider_new(const struct agw_config *cfg, struct agw_store *store, struct agw_decider **ret,
		    struct agw_errors *errs);
/* Flags for agw_decider_open. */
#define AGW_DECIDER_NO_RESTORE 0x1 /* do not rebuild incidents from the cases table (dry runs) */
int agw_decider_open(const struct agw_config *cfg, struct agw_store *store, unsigned flags,
		     struct agw_decider **ret, struct agw_errors *errs);
void agw_decider_free(struct agw_decider *d);
/* A reload's new decider signs evidence links as the old one did (the key, evidence.url_base and
 * url_lifetime read at the start, which the status server checks them with): nx takes old's. */
void agw_decider_keep_links(struct agw_decider *nx, struct agw_decider *old);

/* agw_decide_fn. Returns 0, or negative errno on a store failure (the batch is rolled back and
 * retried). A full outbox (-ENOSPC) is counted and logged; the decision and case row stay. */
int agw_decider_decide(void *decider, struct agw_store *store, int64_t alert_seq, const struct agw_alert *alert,
		       int64_t mono_ms);
/* The case the latest agw_decider_decide opened, updated or closed (its action in *ret_action),
 * or NULL when it dropped the alert. Valid until the next call. */
const char *agw_decider_last_case(const struct agw_decider *d, enum agw_decision_action *ret_action);
/* agw_tick_fn: clear timeouts, minimum durations reached, expired dedup windows. */
int agw_decider_tick(void *decider, struct agw_store *store, int64_t now_ms, int64_t mono_ms);
/* agw_txn_fn: the engine's changes in a batch take effect only if the batch commits (a rollback
 * puts the engine back as it was, so the retried batch decides the same); decision counters are
 * counted at commit. */
int agw_decider_txn(void *decider, struct agw_store *store, enum agw_txn_phase phase);
/* Case status from the platform (docs/case-message.md, "Lifecycle"), inside the caller's store
 * transaction. The engine checks the move; an accepted one is journaled (a "status" decision),
 * written to the cases row and published (outbox) like any case message; a refused one is
 * journaled as a "refused" decision with its reason (also in why) and changes nothing else. A case
 * the engine no longer holds is read back from the cases table for it. The engine's changes are
 * kept in a transaction: call agw_decider_feedback_done once the store's has ended.
 * Returns 0, -EPERM (refused), -ENOENT (no such case), -EINVAL (not a feedback status), -EIO. */
int agw_decider_case_feedback(struct agw_decider *d, struct agw_store *store, const char *case_id,
			      const char *status, const struct agw_feedback_from *from, char *why, size_t why_len);
void agw_decider_feedback_done(struct agw_decider *d, bool committed);
/* `alarmgw check`: validates the rules file and the case topic template; errors as file:line. */
int agw_decider_check(const struct agw_config *cfg, struct agw_errors *errs);

/* Decides without writing anything (`alarmgw rules test`). *ret is valid until the next call. */
int agw_decider_evaluate(struct agw_decider *d, int64_t alert_seq, const struct agw_alert *alert,
			 struct agw_decision *ret);
struct agw_engine *agw_decider_engine(struct agw_decider *d);
/* Gives ledger camera c (whose ledger row has no position) the position lon/lat in crs, as if the
 * ledger had it, and locates it in the grid. Returns 0, -EINVAL for a position off the earth,
 * -ENOMEM. */
int agw_decider_locate(struct agw_decider *d, const struct agw_camera *c, double lon, double lat, enum agw_crs crs);

#endif
