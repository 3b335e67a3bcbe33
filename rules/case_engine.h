/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The case engine: from an alert to a decision. Pure and single-threaded; the gateway glue
 * (gateway/daemon/decider.c) journals the decisions and writes cases and messages.
 *
 * - Cameras are registered once with their location; their cell is resolved then (converting the
 *   location to the layer's coordinate system), with a fallback to the camera's owner cell and then
 *   to the unassigned cell. The rules whose static conditions can match a camera are computed on
 *   the camera's first alert of each kind and kept, so a decision scans only those.
 * - Start/end pairing: an active edge opens (or joins) an incident; the inactive edge clears it; a
 *   clear timeout clears it when the camera never sends one (agw_engine_tick).
 * - Dedup: a matching alert for the same key (camera+kind or cell+kind, per rule) while the
 *   incident is active or within dedup_window of its last alert updates the case (count, last
 *   seen). A case closed by platform feedback ends its window at once.
 * - Flood control: past max_cases cases opened per fixed window by one camera (or one cell), new
 *   incidents go into one aggregate case for that camera (cell).
 * - Initialized alerts (current state on subscription) are not events; an Initialized inactive
 *   state still clears an active incident. An Initialized active state opens a case marked
 *   "found on resynchronisation" when the last known state of that camera and kind was inactive
 *   (it started while nobody listened), or unknown while the camera has been heard for
 *   resync_unknown_after; its inactive edge closes it as usual. Minimum duration and repeat count
 *   do not apply to it: it has been active since some time the gateway cannot know.
 * - Case ids are deterministic: "agw-" + 16 hex digits of FNV-1a 64 over
 *   gateway_id NUL incident_key NUL first_seen_ms (decimal, the gateway time of the first alert):
 *   processing the same journal again gives the same ids. */
#ifndef AGW_RULES_CASE_ENGINE_H
#define AGW_RULES_CASE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarmgw/alert.h"
#include "alarmgw/limits.h"
#include "cellgrid.h"
#include "crs.h"
#include "ruleset.h"

enum agw_cell_source {
	AGW_CELL_LOCATED = 0, /* the camera's location is inside the cell */
	AGW_CELL_OWNER,       /* outside every cell (or no location): the camera's owner cell */
	AGW_CELL_UNASSIGNED,  /* neither: the unassigned queue */
};

/* A camera as the engine sees it, and an incident (the case a decision opened, updated or
 * closed): both belong to the engine and are opaque outside rules/ (their state changes under the
 * undo log of a transaction, so nobody else may write them). Callers read them through the views
 * below, which borrow the engine's strings until its next call. */
struct agw_engine_cam;
struct agw_case;

/* The case's status with the platform (docs/case-message.md, "Lifecycle"): open until feedback
 * moves it; forward moves may skip steps, backward ones are refused; closed and rejected end the
 * case and only reopened leaves them. rules/case_status.c holds the table. */
enum agw_case_status {
	AGW_CASE_OPEN = 0,
	AGW_CASE_ACCEPTED,
	AGW_CASE_DISPATCHED,
	AGW_CASE_ON_SITE,
	AGW_CASE_RESOLVED,
	AGW_CASE_CLOSED,
	AGW_CASE_REJECTED,
	AGW_CASE_REOPENED,
	AGW_CASE__STATUS_COUNT
};

/* How a case ended. */
enum agw_case_end {
	AGW_END_NONE = 0,
	AGW_END_FEEDBACK, /* the platform closed or rejected it */
	AGW_END_CLEARED,  /* the alarm ended and its rule says end_on_clear */
	AGW_END_EXPIRED,  /* not ended within its rule's expire_after */
};

/* A camera and adapter whose alerts the case folds (correlation: one case per incident). */
#define AGW_CASE_SOURCES_MAX 8
/* A decision's reason: room for a feedback's who and note (alarmgw/limits.h) */
#define AGW_DECISION_REASON_SIZE (128 + AGW_FEEDBACK_BY_MAX + AGW_FEEDBACK_NOTE_MAX)
struct agw_case_source {
	struct agw_engine_cam *cam;
	char adapter[24];
	int64_t count, first_seen, last_seen; /* gateway times */
};

enum agw_decision_action {
	AGW_DECISION_DROP = 0,
	AGW_DECISION_OPEN,
	AGW_DECISION_UPDATE,
	AGW_DECISION_CLOSE,  /* the alert ended (inactive edge or clear timeout); the case stays for the platform */
	AGW_DECISION_STATUS, /* platform feedback moved the case */
	AGW_DECISION_ESCALATE, /* a supervision deadline passed */
	AGW_DECISION_END,    /* the case ended by expiry */
};

struct agw_decision {
	enum agw_decision_action action;
	const char *rule;          /* rule name or NULL */
	char reason[AGW_DECISION_REASON_SIZE];
	struct agw_case *incident;     /* open/update/close; valid until the next engine call */
	int64_t alert_seq;
	int64_t at_ms;
};

/* "drop", "open", "update", "close", "status", "escalate", "end" */
const char *agw_decision_action_name(enum agw_decision_action a);
const char *agw_case_status_name(enum agw_case_status s);
int agw_case_status_parse(const char *name, enum agw_case_status *ret);
const char *agw_case_end_name(enum agw_case_end end); /* NULL, "feedback", "alarm_cleared", "expired" */
/* Whether feedback may move a case from one status to another; when not, a reason into why. */
bool agw_case_transition_ok(enum agw_case_status from, enum agw_case_status to, char *why, size_t why_len);
bool agw_case_status_final(enum agw_case_status s); /* closed, rejected */

/* What a caller reads of a camera: the cell it was resolved to. */
struct agw_camera_view {
	const char *id, *name, *vendor, *owner_cell;
	const struct agw_cell *cell; /* NULL when the fallback has no cell in the layer */
	const char *cell_code;       /* always set: located, owner or unassigned code */
	enum agw_cell_source cell_source;
};

/* What a caller reads of a case: what the cases table and the case topic need. */
struct agw_case_view {
	const char *id, *key, *rule, *category, *title;
	const char *camera_id, *cell_code; /* the camera of the first alert */
	const struct agw_cell *cell;       /* its cell; NULL when it has none in the layer */
	enum agw_alert_kind kind;
	enum agw_case_status status;
	int priority;
	bool active;
	int64_t first_seen, last_seen; /* gateway times */
	int64_t created_ms, updated_ms;
	int64_t count;
	/* the lifecycle: what the cases table keeps of it */
	int esc_level;
	enum agw_case_end end;
	int64_t ended_ms;
	int64_t sup_due_ms, expire_ms; /* gateway times of the next deadlines; 0: none */
};
void agw_case_view_get(const struct agw_case *c, struct agw_case_view *ret);
const char *agw_case_id(const struct agw_case *c);

struct agw_engine_config {
	const char *gateway_id;
	const char *unassigned_cell; /* default "unassigned" */
};

struct agw_engine;

/* Cameras the engine tracks, ledger and unknown ones together: past it, alerts of cameras it
 * does not know yet are dropped with a reason. */
#define AGW_ENGINE_MAX_CAMERAS 1000000

/* Takes ownership of rules and grid (grid may be NULL: no layer, every camera falls back). */
int agw_engine_new(const struct agw_engine_config *cfg, struct agw_ruleset *rules, struct agw_grid *grid,
		   struct agw_engine **ret);
void agw_engine_free(struct agw_engine *e);
const struct agw_ruleset *agw_engine_rules(const struct agw_engine *e);
const struct agw_grid *agw_engine_grid(const struct agw_engine *e);
const char *agw_engine_gateway_id(const struct agw_engine *e);

/* Registers (or replaces) a camera and resolves its cell. tags: comma or semicolon separated, may
 * be NULL. has_location false: no location. Replacing resets its rule cache, not its incidents. */
int agw_engine_camera_set(struct agw_engine *e, const char *id, const char *name, const char *vendor,
			  const char *tags, const char *owner_cell, bool has_location, double lon, double lat,
			  enum agw_crs crs);
/* -ENOENT when the engine does not know the camera. */
int agw_engine_camera_view(const struct agw_engine *e, const char *id, struct agw_camera_view *ret);
/* Cluster mode: the camera was taken over from another instance, so the cluster has heard it even
 * though this engine has not. Its Initialized active states then count as found on
 * resynchronisation at once (resync_unknown_after is not waited for; 0 still turns it off).
 * A property of who runs the camera, like its ledger data: not kept in the store. */
int agw_engine_camera_heard(struct agw_engine *e, const char *id, bool heard);

/* Clocks. Every duration the engine measures (dedup, flood and repeat windows, minimum durations,
 * clear timeouts) is measured on a monotonic clock, so that a step of the wall clock (NTP, an
 * operator) moves no window; the wall clock (the alert's gateway_time_ms, the tick's now_ms) only
 * gives the times that leave in messages, and schedules (local time of day). The _at functions take
 * both; the others take the wall time for both (tools, tests). What must survive a restart is kept
 * as wall-clock times and converted with wall_minus_mono (wall minus monotonic, now) on the way
 * out and in: a step while the gateway is down shifts those by the step, which is all a restart
 * can know. */

/* Decides one alert. now_ms: the gateway time used when the alert has none. mono_ms: the alert's
 * arrival on the monotonic clock. Returns 0 or -ENOMEM. */
int agw_engine_decide_at(struct agw_engine *e, const struct agw_alert *a, int64_t alert_seq, int64_t now_ms,
			 int64_t mono_ms, struct agw_decision *ret);
int agw_engine_decide(struct agw_engine *e, const struct agw_alert *a, int64_t alert_seq, int64_t now_ms,
		      struct agw_decision *ret);

/* Transactions: the engine's state follows the store. The gateway opens one around each batch
 * it writes in one sqlite transaction; every change decide and tick make inside it is saved in an
 * undo log first, so that when the sqlite transaction rolls back the engine does too and the
 * retried batch is decided against the same state (same case ids, counts and messages).
 * commit forgets the log. rollback returns -ENOMEM when the log could not be kept complete (out
 * of memory): the engine's state is then not trustworthy and must be rebuilt. Outside a
 * transaction, changes apply at once (dry runs, `alarmgw rules test`). */
void agw_engine_txn_begin(struct agw_engine *e);
void agw_engine_txn_commit(struct agw_engine *e);
int agw_engine_txn_rollback(struct agw_engine *e);

/* Timers: clear timeouts, incidents whose minimum duration passed, expired dedup windows.
 * emit is called for every decision (open/close); returns the number emitted or -ENOMEM. */
typedef int (*agw_engine_emit_fn)(void *arg, const struct agw_decision *d);
int agw_engine_tick(struct agw_engine *e, int64_t now_ms, agw_engine_emit_fn emit, void *arg);
int agw_engine_tick_at(struct agw_engine *e, int64_t now_ms, int64_t mono_ms, agw_engine_emit_fn emit, void *arg);

/* Platform feedback. Checks the transition (agw_case_transition_ok), records the status and its
 * time, restarts or stops the supervision timer, and calls emit with a STATUS decision before a
 * final status (closed, rejected) ends the case: its dedup window ends (the next alert opens a new
 * case) and it leaves the engine. The same status again is a duplicate: 0, nothing emitted.
 * Returns 0 (or emit's error), -ENOENT when the engine does not hold the case, -EPERM for a
 * refused transition (reason in why), -EINVAL for a bad status, -ENOMEM. */
int agw_engine_feedback_at(struct agw_engine *e, const char *case_id, enum agw_case_status status, int64_t now_ms,
			   int64_t mono_ms, agw_engine_emit_fn emit, void *arg, char *why, size_t why_len);
/* Who gave a feedback and their note (either NULL or "": not given), already checked by the
 * feedback parser (bounded by AGW_FEEDBACK_BY_MAX and AGW_FEEDBACK_NOTE_MAX, no control
 * characters; longer ones are cut). Kept on the case as its last feedback (the case message's
 * lifecycle.last_feedback) and written into the STATUS decision's reason. */
struct agw_feedback_from {
	const char *by;
	const char *note;
};
int agw_engine_feedback_from(struct agw_engine *e, const char *case_id, enum agw_case_status status,
			     const struct agw_feedback_from *from, int64_t now_ms, int64_t mono_ms, agw_engine_emit_fn emit,
			     void *arg, char *why, size_t why_len);
/* The same on one clock, without emit; *ret_case: the case, NULL once it ended (tests, tools). */
int agw_engine_feedback(struct agw_engine *e, const char *case_id, enum agw_case_status status,
			struct agw_case **ret_case);
/* Ends a case the engine holds as expired (AGW_END_EXPIRED: status closed), emits an END decision
 * with reason (NULL: its rule's expire_after passed), and lets it leave the engine: the gateway's
 * store-driven expiry (gateway/daemon/decider_expiry.c), which restores each case detached for it.
 * Returns 1 (or emit's error), 0 when the case had already ended, -ENOENT when the engine does
 * not hold it. */
int agw_engine_expire(struct agw_engine *e, const char *case_id, int64_t now_ms, const char *reason,
		      agw_engine_emit_fn emit, void *arg);
/* The escalation target of a level: "community", "street", "district" (up the cell's path from
 * the grid) and its code; past the top of the path, the top. */
void agw_case_escalation_target(const struct agw_case *c, int level, const char **ret_level, const char **ret_code);

/* Rebuilds an incident from the cases table after a restart. The case's rule is looked up by name
 * for its windows (defaults when it is gone). */
struct agw_case_restore {
	const char *id, *key, *rule, *category, *title, *camera_id, *topic;
	enum agw_alert_kind kind;
	int priority;
	enum agw_case_status status;
	bool active, has_state, aggregate, resync;
	int64_t first_seen, last_seen, created_ms, updated_ms, cleared_ms, count;
	int64_t first_camera_time, last_camera_time;
	int64_t wall_minus_mono; /* now; 0 when the engine runs on the wall clock alone */
	/* lifecycle (wall-clock times; 0: none) */
	int64_t status_ms[AGW_CASE__STATUS_COUNT];
	int64_t n_feedback, sup_due, expire_at;
	int esc_level;
	/* the last feedback (n_feedback > 0): its status, time, who and note (NULL: not given) */
	enum agw_case_status fb_status;
	int64_t fb_ms;
	const char *fb_by, *fb_note;
	const struct agw_case_source *sources; /* cam unused: the camera ids are in source_cams */
	const char *const *source_cams;
	size_t n_sources;
	bool ended;              /* closed or rejected: restored only detached (reopened feedback) */
};
int agw_engine_restore(struct agw_engine *e, const struct agw_case_restore *r);
/* The same for one case that left the engine (feedback on it): kept for its lifecycle only, it
 * takes no alerts (its key may belong to a newer incident). Inside a transaction a rollback
 * forgets it. */
int agw_engine_restore_detached(struct agw_engine *e, const struct agw_case_restore *r);

/* The state kept per camera and kind across restarts: the last known state, a pending
 * minimum-duration start and the repeat counter. Times are gateway (wall clock) times.
 * agw_engine_txn_dirty calls fn with the records the open transaction changed (to write them in
 * the same sqlite transaction); agw_engine_ks_restore puts one back at start (a pending start or
 * repeat counter whose rule is gone or changed is dropped). */
struct agw_ks_record {
	const char *camera_id;
	enum agw_alert_kind kind;
	enum agw_active last_state;
	int64_t last_state_ms;
	const char *pending_rule; /* NULL: no pending start */
	int64_t pending_since, pending_seq, pending_camera_time;
	const char *pending_topic, *pending_event_id;
	const char *rep_rule;     /* NULL: no repeat counter */
	const int64_t *rep;       /* rep_n times, newest first */
	uint32_t rep_n;
	int64_t watch_since;      /* the camera's */
};
int agw_engine_txn_dirty(struct agw_engine *e, int64_t wall_minus_mono,
			 int (*fn)(void *arg, const struct agw_ks_record *r), void *arg);
int agw_engine_ks_restore(struct agw_engine *e, const struct agw_ks_record *r, int64_t wall_minus_mono);
size_t agw_engine_open_incidents(const struct agw_engine *e);
/* Every case the engine holds: the incidents and those kept only for a deadline or feedback. */
size_t agw_engine_cases(const struct agw_engine *e);
/* on: a case out of its window is not kept in memory for its rule's expire_after alone; the caller
 * ends it from its store when it is due (agw_engine_expire). Incidents still taking alerts expire
 * on the engine's timers as before. Off by default (dry runs keep every deadline in memory). */
void agw_engine_set_store_expiry(struct agw_engine *e, bool on);

/* Deterministic case id into buf (AGW_CASE_ID_SIZE bytes). */
void agw_case_id_make(const char *gateway_id, const char *key, int64_t first_seen_ms, char *buf);

/* Expands a title template: {kind} {camera} {camera_name} {cell} {cell_name} {district} {street}
 * {community} {count} {rule}; unknown placeholders stay as written. Always NUL-terminates. */
void agw_case_title(const char *tmpl, const struct agw_case *c, char *buf, size_t len);

/* The case message (docs/case-message.md), schema version AGW_CASE_SCHEMA_VERSION. action is the
 * decision that produced it. *ret_json is malloc'd, NUL-terminated, *ret_len without the NUL. */
#define AGW_CASE_SCHEMA_VERSION 2
struct agw_evidence_entry;
/* ev: the case's captured evidence (n_ev entries, may be 0); escalation: the level this message
 * escalates to (0: not an escalation message). */
int agw_case_message(const struct agw_engine *e, const struct agw_case *c, enum agw_decision_action action,
		     const struct agw_evidence_entry *ev, size_t n_ev, char **ret_json, size_t *ret_len);

#endif
