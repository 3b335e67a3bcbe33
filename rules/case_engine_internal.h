/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to the case engine (rules/case_*.c): its state and the functions its files share.
 * Callers use case_engine.h. Shared functions carry the engine_ prefix. */
#ifndef AGW_RULES_CASE_ENGINE_INTERNAL_H
#define AGW_RULES_CASE_ENGINE_INTERNAL_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_engine.h"
#include "strmap.h"

/* A camera as the engine sees it (case_engine.h declares it opaque). */
struct agw_engine_cam {
	char *id, *name, *vendor, *owner_cell;
	struct agw_strv tags;
	bool has_location;
	double lon, lat;           /* as given, in crs */
	enum agw_crs crs;
	const struct agw_cell *cell; /* NULL when the fallback has no cell in the layer */
	const char *cell_code;     /* always set: located, owner or unassigned code */
	enum agw_cell_source cell_source;
	const char *group;         /* its camera group (borrowed from the ruleset), NULL: none */
	struct agw_kind_state *kind_state[AGW_KIND__COUNT];
	uint32_t *cand[AGW_KIND__COUNT];
	uint32_t n_cand[AGW_KIND__COUNT];
	uint32_t cand_done;
	int64_t flood_start, flood_count; /* flood_start: monotonic */
	int64_t watch_since;       /* gateway time of the first alert heard from it (0: none yet) */
	bool cluster_heard;        /* taken over from another instance (agw_engine_camera_heard) */
	uint64_t txn_gen;
	/* The "camera" and "cell" members of its cases' messages, rendered by the first message that
	 * needs them (casemsg.c) and dropped whenever the camera changes (cam_resolve): they depend on
	 * nothing else, and are a third of each message. NULL: not rendered. */
	char *msg_part;
	size_t msg_part_len;
};

#define AGW_CASE_EVIDENCE_MAX 8

struct agw_case_evidence {
	int64_t alert_seq;
	char *event_id;
};

struct agw_case {
	char id[AGW_CASE_ID_SIZE];
	char *key;                  /* incident key: "camera/<id>/<kind>", "cell/<code>/<kind>", "flood/..." */
	char *rule;                 /* rule name */
	char *category;
	int priority;
	char *title;
	struct agw_engine_cam *cam; /* camera of the first alert */
	enum agw_alert_kind kind;
	bool aggregate;             /* flood control's aggregate case */
	bool resync;                /* found on resynchronisation: active when a subscription was made */
	enum agw_case_status status;
	bool active;                /* some camera's alert is still active */
	bool has_state;             /* the alerts carry an active state (not pulses) */
	int64_t first_seen, last_seen; /* gateway times */
	int64_t first_camera_time, last_camera_time; /* AGW_TIME_UNKNOWN when unknown */
	int64_t created_ms, updated_ms, cleared_ms; /* cleared_ms 0 while not cleared */
	int64_t last_active_ms;
	int64_t seen_m, active_m;   /* last_seen and last_active_ms on the monotonic clock */
	int64_t count;
	char *topic;                /* raw topic of the last alert */
	struct agw_case_evidence evidence[AGW_CASE_EVIDENCE_MAX]; /* the latest alerts */
	size_t n_evidence, evidence_next;
	int64_t dedup_window_ms, clear_timeout_ms;
	/* the lifecycle with the platform (rules/case_life.c) */
	int64_t status_ms[AGW_CASE__STATUS_COUNT]; /* gateway time each status was last entered; 0: never */
	int64_t n_feedback;         /* feedback accepted */
	/* the last feedback accepted (when n_feedback > 0): the status it moved to, when, who gave it
	 * and their note (malloc'd, cut at AGW_FEEDBACK_BY_MAX and AGW_FEEDBACK_NOTE_MAX; NULL when not
	 * given: most cases never get one, and 566 bytes in every case were a third of it) */
	enum agw_case_status fb_status;
	int64_t fb_ms;
	char *fb_by, *fb_note;
	int esc_level;              /* escalations so far */
	enum agw_case_end end;
	int64_t ended_ms;
	bool end_on_clear;          /* from its rule */
	int64_t expire_after_ms;    /* from its rule; 0: never */
	int64_t sup_due_m;          /* next supervision deadline (monotonic); INT64_MAX: none */
	int64_t sup_due_ms;         /* the same as a gateway (wall) time, for messages and the store; 0: none */
	int64_t expire_m;           /* expiry (monotonic); INT64_MAX: none */
	int64_t expire_ms;          /* the same as a gateway time; 0: none */
	struct agw_case_source sources[AGW_CASE_SOURCES_MAX];
	size_t n_sources;
	int64_t sources_more;       /* alerts of sources past AGW_CASE_SOURCES_MAX */
	/* the engine's bookkeeping */
	bool keyed;                 /* in the incidents map: takes new alerts. A case past its window
				     * stays (unkeyed) while a supervision deadline or expiry is ahead. */
	struct agw_kind_state **active_ks;
	size_t n_active_ks, cap_active_ks;
	bool in_index;
	int64_t due;                /* when the tick must look at it (timer heap key) */
	size_t heap_pos;            /* SIZE_MAX when not in the timer heap */
	uint64_t txn_gen;
	/* The members of its messages from "gateway" to "aggregate", which never change after the
	 * case is made: rendered by its first message (casemsg.c), kept across rollbacks. */
	char *msg_part;
	size_t msg_part_len;
};

/* The camera itself (NULL when unknown), for the engine's files and its white-box tests. */
struct agw_engine_cam *agw_engine_camera(struct agw_engine *e, const char *id);

/* Per camera and kind: the incident this camera keeps active, a pending minimum-duration start,
 * and the recent times for a repeat count. */
struct agw_kind_state {
	struct agw_engine_cam *cam;
	enum agw_alert_kind kind;
	struct agw_case *inc; /* invariant: set iff this state is in inc->active_ks */
	bool pending;
	const struct agw_rule *pending_rule;
	int64_t pending_since, pending_seq, pending_camera_time; /* since: gateway (wall) time */
	int64_t pending_since_m;     /* the same on the monotonic clock: the minimum duration counts on it */
	char *pending_topic, *pending_event_id;
	struct agw_kind_state *pnext, *pprev;
	const struct agw_rule *rep_rule;
	int64_t *rep;         /* ring of AGW_REPEAT_MAX times (monotonic) */
	uint32_t rep_n, rep_head;
	enum agw_active last_state; /* the camera's last known state of this kind (NONE: unknown) */
	int64_t last_state_ms;
	uint64_t txn_gen;     /* the transaction that saved it in the undo log (case_txn.c) */
};

struct cell_flood {
	char *code;
	int64_t start, count;
	uint64_t txn_gen;
};

struct engine_undo; /* case_txn.c */

struct agw_engine {
	char *gateway_id;
	char *unassigned;
	struct agw_ruleset *rules;
	struct agw_grid *grid;
	struct agw_strmap cams;      /* id -> struct agw_engine_cam */
	struct agw_strmap incidents; /* key -> struct agw_case (live and recently cleared) */
	struct agw_strmap ids;       /* case id -> struct agw_case */
	struct agw_strmap floods;    /* cell code -> struct cell_flood */
	struct agw_kind_state *pending;
	struct agw_case **heap; /* timers: min-heap on case->due */
	size_t heap_n, heap_cap;
	/* Which rules can match a camera (case_match.c), each rule under one of its conditions: its
	 * camera list, else its tags, else its cell codes, else in rules_anywhere. */
	struct agw_strmap rules_by_camera; /* camera id -> struct cam_rules: rules that list it */
	struct agw_strmap rules_by_tag;    /* tag -> struct cam_rules */
	struct agw_strmap rules_by_cell;   /* cell code or prefix -> struct cam_rules */
	struct cam_rules *rules_anywhere;  /* rules with no camera, tag or cell condition */
	/* The open transaction (case_txn.c): every object is saved in the undo log before its first
	 * change, so a rollback puts the engine back as it was at agw_engine_txn_begin. */
	bool txn, txn_oom;
	uint64_t txn_gen;
	struct engine_undo *undo;
	size_t n_undo, cap_undo;
	bool store_expiry; /* agw_engine_set_store_expiry */
};

/* Whether a case out of its window must stay for a deadline the engine keeps itself: supervision
 * always, expiry unless the store drives it (agw_engine_set_store_expiry). */
static inline bool engine_case_has_timers(const struct agw_engine *e, const struct agw_case *c)
{
	return c->sup_due_m != INT64_MAX || (c->expire_m != INT64_MAX && !e->store_expiry);
}

/* The rules indexed under one camera id, tag or cell code, ascending. */
struct cam_rules {
	const char *id; /* borrowed from the first rule naming it */
	uint32_t *v;
	size_t n, cap;
};

#define KEY_MAX 512

/* What an alert (or a pending start replayed by the tick) contributes to a case. */
struct contrib {
	int64_t t, camera_time, seq;
	int64_t m; /* t on the monotonic clock: windows and timeouts are measured on it */
	enum agw_active active;
	const char *topic, *event_id;
	struct agw_engine_cam *cam; /* the alert's camera and adapter: the case's sources */
	const char *adapter;
};

/* Text built by appending, cut like snprintf's output at its size (the reasons of decisions, which
 * every alert gets: case_keys.c, printf-free). */
struct engine_text {
	char *p;
	size_t len, size;
};

static inline void engine_text_init(struct engine_text *t, char *buf, size_t size)
{
	*t = (struct engine_text){buf, 0, size};
	if (size)
		buf[0] = '\0';
}

void engine_text_putn(struct engine_text *t, const char *s, size_t n);
static inline void engine_text_put(struct engine_text *t, const char *s)
{
	engine_text_putn(t, s, strlen(s));
}
void engine_text_int(struct engine_text *t, int64_t v);
/* A duration as fmt_dur writes it. */
void engine_text_dur(struct engine_text *t, int64_t ms);

/* Human form of a duration for reasons: "90s", "5m", "1h30m", "250ms". */
static inline const char *fmt_dur(int64_t ms, char *buf, size_t len)
{
	struct engine_text t;
	engine_text_init(&t, buf, len);
	engine_text_dur(&t, ms);
	return buf;
}

static inline int dup_or_null(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

/* At most max bytes of src, or NULL for NULL and "" (not given). */
static inline int dup_text_max(char **dst, const char *src, size_t max)
{
	*dst = src && *src ? strndup(src, max) : NULL;
	return src && *src && !*dst ? -ENOMEM : 0;
}

/* case_cameras.c */
void engine_kind_state_pending_clear(struct agw_engine *e, struct agw_kind_state *kind_state);
void engine_cam_free(struct agw_engine *e, struct agw_engine_cam *c);
struct agw_kind_state *engine_ks_get(struct agw_engine_cam *cam, enum agw_alert_kind kind);
struct agw_engine_cam *engine_cam_get(struct agw_engine *e, const char *id, bool *ret_full);

/* case_match.c */
void engine_camera_rules_free(struct agw_engine *e);
int engine_index_camera_rules(struct agw_engine *e);
const struct agw_rule *engine_match_rule(struct agw_engine *e, struct agw_engine_cam *cam, enum agw_alert_kind kind,
					 int64_t t, int *err);

/* case_incident.c */
void engine_case_free(struct agw_case *c);
void engine_kind_state_link(struct agw_engine *e, struct agw_case *c, struct agw_kind_state *kind_state);
void engine_kind_state_unlink(struct agw_engine *e, struct agw_kind_state *kind_state);
void engine_case_unlink_all(struct agw_engine *e, struct agw_case *c);
void engine_case_remove(struct agw_engine *e, struct agw_case *c);
bool engine_case_live(const struct agw_case *c, int64_t t);
/* A case out of its window: leaves the incidents map (its key takes a new incident) and stays for
 * its supervision timer or expiry, or leaves the engine when it has neither. */
void engine_case_retire(struct agw_engine *e, struct agw_case *c);
void engine_evidence_add(struct agw_engine *e, struct agw_case *c, int64_t seq, const char *event_id);
void engine_case_touch(struct agw_engine *e, struct agw_case *c, struct agw_kind_state *kind_state, const struct contrib *contrib);
struct agw_case *engine_case_new(struct agw_engine *e, const char *key, const struct agw_rule *rule,
				 struct agw_engine_cam *cam, enum agw_alert_kind kind, int64_t first_seen,
				 const struct contrib *contrib);
int engine_set_title(struct agw_case *c, const char *tmpl);

/* case_life.c */
void engine_life_start(struct agw_case *c, const struct agw_rule *rule, const struct agw_ruleset *rs, int64_t t,
		       int64_t m);
void engine_life_cleared(struct agw_engine *e, struct agw_case *c, int64_t t);
int engine_life_due(struct agw_engine *e, struct agw_case *c, int64_t now_ms, int64_t mono_ms, agw_engine_emit_fn emit,
		    void *arg);
void engine_source_add(struct agw_case *c, const struct contrib *contrib);

/* case_timers.c */
void engine_heap_remove(struct agw_engine *e, struct agw_case *c);
void engine_due_update(struct agw_engine *e, struct agw_case *c);
/* Queues c at its exact due time, earlier or later than before. */
void engine_due_set(struct agw_engine *e, struct agw_case *c);

/* case_txn.c: call before changing an object inside a transaction (no-op outside one, and after
 * the first call for the same object in the same transaction). */
void engine_touch_case(struct agw_engine *e, struct agw_case *c);
void engine_touch_kind_state(struct agw_engine *e, struct agw_kind_state *kind_state);
void engine_touch_cam(struct agw_engine *e, struct agw_engine_cam *cam);
void engine_touch_flood(struct agw_engine *e, struct cell_flood *f);
void engine_txn_created(struct agw_engine *e, struct agw_case *c);
/* Inside a transaction a removed incident is kept (out of the indexes) until commit; true then. */
bool engine_txn_removed(struct agw_engine *e, struct agw_case *c, bool was_keyed);
/* A case that left the incidents map in the transaction (engine_case_retire): put back on rollback. */
void engine_txn_unkeyed(struct agw_engine *e, struct agw_case *c);
void engine_txn_free(struct agw_engine *e);
bool engine_case_before(const struct agw_case *a, const struct agw_case *b);

/* case_keys.c */
void engine_make_key(char *buf, const struct agw_rule *r, const struct agw_engine_cam *cam, enum agw_alert_kind kind);

/* case_flood.c */
int engine_open_incident(struct agw_engine *e, struct agw_engine_cam *cam, struct agw_kind_state *kind_state,
			 enum agw_alert_kind kind, const struct agw_rule *rule, const char *key, int64_t first_seen,
			 const struct contrib *contrib, struct agw_decision *d);

#endif
