/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to the decider (decider.c: alerts and timers; decider_life.c: feedback and the case
 * lifecycle; decider_cases.c: reading cases back from the store; decider_expiry.c: ending the
 * cases nobody answered). */
#ifndef AGW_DECIDER_INTERNAL_H
#define AGW_DECIDER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "decider.h"

#define LOG_COMP "rules"
#define STAGED_METRICS 32

/* The default escalation topic (supervision.topic in the rules file overrides it). */
#define AGW_DEFAULT_ESCALATION_TOPIC "{prefix}/escalations/{level}/{code}"

/* Counters of a batch, added to the metrics when it commits (a retried batch counts once). */
struct staged_metric {
	char labels[160];
	int64_t n;
};

/* What the decider needs from the configuration is copied, so a reload may replace or free the
 * configuration while this decider still runs. */
struct agw_decider {
	char *topic_prefix;
	char *case_topic;
	int64_t outbox_max_rows;
	int64_t case_retention_ms; /* gateway.case_retention; 0: cases never expire by idleness */
	/* Read a case's pictures for its message: evidence is on, or the store held pictures when this
	 * decider opened (cases captured before evidence was turned off keep them in their updates).
	 * Otherwise there are none to read, and the query (~24k instructions) is skipped per alert. */
	bool list_evidence;
	struct agw_evidence_links *links; /* evidence.url_base: signed links in the entries, or NULL */
	struct agw_engine *engine;
	int64_t outbox_full;
	bool in_txn;
	/* Wall clock minus monotonic clock, as the latest decide or tick saw them: converts the
	 * engine's monotonic times to the wall-clock times kept in the store, and back at start. */
	int64_t wall_minus_mono;
	struct staged_metric staged[STAGED_METRICS];
	size_t n_staged;
	/* the latest agw_decider_decide's outcome, for the evidence scheduler */
	enum agw_decision_action last_action;
	char last_case[AGW_CASE_ID_SIZE];
};

/* The columns decider_case_restore reads, in its order. */
#define DECIDER_CASE_COLUMNS                                                                                \
	"id, incident_key, camera_id, kind, status, category, priority, first_seen, last_seen, count, opened_at," \
	" updated_at, json, esc_level, sup_due, expire_at"

/* decider.c */
int decider_write_decision(struct agw_decider *d, struct agw_store *store, const struct agw_decision *dec);
/* An agw_engine_emit_fn writing each decision the engine emits (timers, feedback). */
struct decider_emit_ctx {
	struct agw_decider *d;
	struct agw_store *store;
};
int decider_emit(void *arg, const struct agw_decision *dec);
int64_t decider_mono_now(void);

/* decider_cases.c: one cases row (DECIDER_CASE_COLUMNS) back into the engine; detached: kept for
 * its lifecycle only (agw_engine_restore_detached). 0, -EEXIST, -EINVAL, -ENOMEM. */
int decider_case_restore(struct agw_decider *d, sqlite3_stmt *st, bool detached);
/* The case of that id from the cases table, kept detached in the engine (inside the caller's
 * transaction). 0, -ENOENT (no such row, or not one the engine can take), -ENOMEM, -EIO. */
int decider_case_load(struct agw_decider *d, struct agw_store *store, const char *case_id);

/* decider_expiry.c: ends as expired, a batch at a time, the cases whose rule's expire_after passed
 * and those without activity for case_retention_ms (see agw_decider_tick). Returns the number
 * ended or negative errno. */
int decider_expire_idle(struct agw_decider *d, struct agw_store *store, int64_t now_ms);

#endif
