/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The case's life with the platform: the statuses and their moves (docs/case-message.md,
 * "Lifecycle"), feedback moving the status, the supervision timer that
 * escalates a case nobody accepted or resolved in time, and the ends that are not feedback (the
 * alarm clearing when the rule says so, expiry). Deadlines run on the monotonic clock like every
 * engine window; their wall-clock twins only leave in messages and the store, which gives them
 * back at a restart (agw_engine_restore). Every change goes through engine_touch_case first, so a
 * rolled-back batch undoes escalations and feedback exactly like alerts. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "case_engine_internal.h"

/* ---- the statuses and the moves between them ----
 *
 * Platforms skip steps (a dispatch implies acceptance), so any forward move is allowed; a move
 * back is refused, because it is a message that arrived late or a platform bug, and applying it
 * would undo what a later message said. A final status (closed, rejected) is left only by
 * reopened. */

static const char *const status_names[AGW_CASE__STATUS_COUNT] = {
	"open", "accepted", "dispatched", "on_site", "resolved", "closed", "rejected", "reopened",
};

/* The forward order of the handling chain; rejected may come at any point before the end. */
static const int rank[AGW_CASE__STATUS_COUNT] = {
	[AGW_CASE_OPEN] = 0,     [AGW_CASE_REOPENED] = 0, [AGW_CASE_ACCEPTED] = 1, [AGW_CASE_DISPATCHED] = 2,
	[AGW_CASE_ON_SITE] = 3,  [AGW_CASE_RESOLVED] = 4, [AGW_CASE_CLOSED] = 5,   [AGW_CASE_REJECTED] = 5,
};

const char *agw_case_status_name(enum agw_case_status s)
{
	return (unsigned)s < AGW_CASE__STATUS_COUNT ? status_names[s] : "open";
}

int agw_case_status_parse(const char *name, enum agw_case_status *ret)
{
	for (int i = 0; name && i < AGW_CASE__STATUS_COUNT; i++)
		if (strcmp(name, status_names[i]) == 0) {
			*ret = (enum agw_case_status)i;
			return 0;
		}
	return -EINVAL;
}

bool agw_case_status_final(enum agw_case_status s)
{
	return s == AGW_CASE_CLOSED || s == AGW_CASE_REJECTED;
}

const char *agw_case_end_name(enum agw_case_end end)
{
	switch (end) {
	case AGW_END_FEEDBACK:
		return "feedback";
	case AGW_END_CLEARED:
		return "alarm_cleared";
	case AGW_END_EXPIRED:
		return "expired";
	case AGW_END_NONE:
	default:
		return NULL;
	}
}

bool agw_case_transition_ok(enum agw_case_status from, enum agw_case_status to, char *why, size_t why_len)
{
	const char *f = agw_case_status_name(from), *t = agw_case_status_name(to);
	if ((unsigned)from >= AGW_CASE__STATUS_COUNT || (unsigned)to >= AGW_CASE__STATUS_COUNT) {
		snprintf(why, why_len, "unknown status");
		return false;
	}
	if (to == AGW_CASE_OPEN) {
		snprintf(why, why_len, "open is the gateway's status, not feedback (reopened reopens a case)");
		return false;
	}
	if (to == AGW_CASE_REOPENED) {
		if (from == AGW_CASE_RESOLVED || agw_case_status_final(from))
			return true;
		snprintf(why, why_len, "%s -> reopened: only a resolved, closed or rejected case reopens", f);
		return false;
	}
	if (agw_case_status_final(from)) {
		snprintf(why, why_len, "%s -> %s: the case has ended (reopened first)", f, t);
		return false;
	}
	if (to == AGW_CASE_REJECTED && from == AGW_CASE_RESOLVED) {
		snprintf(why, why_len, "resolved -> rejected: a resolved case is closed or reopened");
		return false;
	}
	if (rank[to] < rank[from]) {
		snprintf(why, why_len, "%s -> %s goes back in the handling chain", f, t);
		return false;
	}
	return true;
}

/* ---- supervision, ends and feedback ---- */

/* The timer that applies in the case's status: acceptance while open or reopened, resolution
 * while being handled; none once resolved or ended. */
static int64_t sup_period(const struct agw_ruleset *rs, const struct agw_case *c, const char **ret_what)
{
	int p = c->priority >= 1 && c->priority <= 4 ? c->priority : 3;
	switch (c->status) {
	case AGW_CASE_OPEN:
	case AGW_CASE_REOPENED:
		*ret_what = "accepted";
		return rs->supervision.accept_ms[p];
	case AGW_CASE_ACCEPTED:
	case AGW_CASE_DISPATCHED:
	case AGW_CASE_ON_SITE:
		*ret_what = "resolved";
		return rs->supervision.resolve_ms[p];
	default:
		*ret_what = "";
		return 0;
	}
}

static void sup_arm(const struct agw_ruleset *rs, struct agw_case *c, int64_t t, int64_t m)
{
	const char *what;
	int64_t p = sup_period(rs, c, &what);
	if (p > 0 && c->esc_level < rs->supervision.max_level) {
		c->sup_due_m = m + p;
		c->sup_due_ms = t + p;
	} else {
		c->sup_due_m = INT64_MAX;
		c->sup_due_ms = 0;
	}
}

static void timers_stop(struct agw_case *c)
{
	c->sup_due_m = c->expire_m = INT64_MAX;
	c->sup_due_ms = c->expire_ms = 0;
}

static void case_end(struct agw_case *c, enum agw_case_end how, int64_t t)
{
	if (how != AGW_END_FEEDBACK) {
		c->status = AGW_CASE_CLOSED;
		c->status_ms[AGW_CASE_CLOSED] = t;
	}
	c->end = how;
	c->ended_ms = t;
	c->updated_ms = t;
	timers_stop(c);
}

/* After a lifecycle change: an ended case, or one kept only for timers it no longer has, leaves
 * the engine; any other is queued at its next due time. */
static void case_settle(struct agw_engine *e, struct agw_case *c)
{
	if (c->end != AGW_END_NONE || agw_case_status_final(c->status) ||
	    (!c->keyed && !engine_case_has_timers(e, c)))
		engine_case_remove(e, c);
	else
		engine_due_set(e, c);
}

void engine_life_start(struct agw_case *c, const struct agw_rule *rule, const struct agw_ruleset *rs, int64_t t,
		       int64_t m)
{
	c->status_ms[AGW_CASE_OPEN] = t;
	c->end_on_clear = rule->end_on_clear;
	c->expire_after_ms = rule->expire_after_ms;
	timers_stop(c);
	if (rule->expire_after_ms > 0) {
		c->expire_m = m + rule->expire_after_ms;
		c->expire_ms = t + rule->expire_after_ms;
	}
	sup_arm(rs, c, t, m);
}

void engine_life_cleared(struct agw_engine *e, struct agw_case *c, int64_t t)
{
	if (!c->end_on_clear || c->end != AGW_END_NONE || agw_case_status_final(c->status))
		return;
	engine_touch_case(e, c);
	case_end(c, AGW_END_CLEARED, t);
}

void agw_case_escalation_target(const struct agw_case *c, int level, const char **ret_level, const char **ret_code)
{
	/* The cell's path is top-down (district, street, community, then the grid cell itself): level 1
	 * is the community above the grid, 2 the street, 3 the district; past the top, the top. */
	static const char *const by_depth[] = {"district", "street", "community"};
	const struct agw_cell *cell = c->cam->cell;
	size_t n = cell ? cell->n_path : 0;
	if (n < 2) {
		*ret_level = "cell"; /* no parents known: the cell (owner or unassigned code) itself */
		*ret_code = c->cam->cell_code;
		return;
	}
	size_t up = level < 1 ? 1 : (size_t)level, idx = up >= n ? 0 : n - 1 - up;
	*ret_level = idx < 3 ? by_depth[idx] : "cell";
	*ret_code = cell->path[idx];
}

static int emit_decision(struct agw_case *c, enum agw_decision_action action, int64_t now_ms, agw_engine_emit_fn emit,
			 void *arg, const char *reason)
{
	struct agw_decision d = {.action = action, .rule = c->rule, .incident = c, .at_ms = now_ms};
	snprintf(d.reason, sizeof(d.reason), "%s", reason);
	return emit ? emit(arg, &d) : 0;
}

/* c ends as expired (touched already) and leaves the engine once its END decision is emitted. */
static int end_expired(struct agw_engine *e, struct agw_case *c, int64_t now_ms, const char *reason,
		       agw_engine_emit_fn emit, void *arg)
{
	char rule_reason[96], dur[32];
	if (!reason) { /* its rule's expire_after */
		snprintf(rule_reason, sizeof(rule_reason), "expired: not ended within %s of opening",
			 fmt_dur(c->expire_after_ms, dur, sizeof(dur)));
		reason = rule_reason;
	}
	case_end(c, AGW_END_EXPIRED, now_ms);
	int r = emit_decision(c, AGW_DECISION_END, now_ms, emit, arg, reason);
	engine_case_remove(e, c); /* after emit: the message is built from it */
	return r < 0 ? r : 1;
}

int engine_life_due(struct agw_engine *e, struct agw_case *c, int64_t now_ms, int64_t mono_ms, agw_engine_emit_fn emit,
		    void *arg)
{
	char reason[192], dur[32];
	int r;
	engine_touch_case(e, c);
	if (c->expire_m <= mono_ms)
		return end_expired(e, c, now_ms, NULL, emit, arg);
	const char *what, *level, *code;
	int64_t p = sup_period(e->rules, c, &what);
	c->esc_level++;
	c->updated_ms = now_ms;
	agw_case_escalation_target(c, c->esc_level, &level, &code);
	snprintf(reason, sizeof(reason), "supervision: not %s within %s; escalated to level %d (%s %s)", what,
		 fmt_dur(p, dur, sizeof(dur)), c->esc_level, level, code);
	sup_arm(e->rules, c, now_ms, mono_ms);
	engine_due_set(e, c);
	r = emit_decision(c, AGW_DECISION_ESCALATE, now_ms, emit, arg, reason);
	return r < 0 ? r : 1;
}

int agw_engine_expire(struct agw_engine *e, const char *case_id, int64_t now_ms, const char *reason,
		      agw_engine_emit_fn emit, void *arg)
{
	struct agw_case *c = case_id ? agw_strmap_get(&e->ids, case_id) : NULL;
	if (!c)
		return -ENOENT;
	if (c->end != AGW_END_NONE || agw_case_status_final(c->status))
		return 0;
	engine_touch_case(e, c);
	return end_expired(e, c, now_ms, reason, emit, arg);
}

void engine_source_add(struct agw_case *c, const struct contrib *contrib)
{
	if (!contrib->cam)
		return;
	const char *adapter = contrib->adapter ? contrib->adapter : "";
	for (size_t i = 0; i < c->n_sources; i++) {
		struct agw_case_source *s = &c->sources[i];
		if (s->cam == contrib->cam && strncmp(s->adapter, adapter, sizeof(s->adapter) - 1) == 0) {
			s->count++;
			if (contrib->t > s->last_seen)
				s->last_seen = contrib->t;
			return;
		}
	}
	if (c->n_sources == AGW_CASE_SOURCES_MAX) {
		c->sources_more++;
		return;
	}
	struct agw_case_source *s = &c->sources[c->n_sources++];
	s->cam = contrib->cam;
	struct engine_text t;
	engine_text_init(&t, s->adapter, sizeof(s->adapter));
	engine_text_put(&t, adapter);
	s->count = 1;
	s->first_seen = s->last_seen = contrib->t;
}

int agw_engine_feedback_at(struct agw_engine *e, const char *case_id, enum agw_case_status status, int64_t now_ms,
			   int64_t mono_ms, agw_engine_emit_fn emit, void *arg, char *why, size_t why_len)
{
	return agw_engine_feedback_from(e, case_id, status, NULL, now_ms, mono_ms, emit, arg, why, why_len);
}

/* "feedback: accepted (was open) by W-0012: note" */
static void feedback_reason(char *out, size_t len, const struct agw_case *c, enum agw_case_status to)
{
	int n = snprintf(out, len, "feedback: %s (was %s)", agw_case_status_name(to), agw_case_status_name(c->status));
	if (n > 0 && (size_t)n < len && c->fb_by)
		n += snprintf(out + n, len - (size_t)n, " by %s", c->fb_by);
	if (n > 0 && (size_t)n < len && c->fb_note)
		snprintf(out + n, len - (size_t)n, ": %s", c->fb_note);
}

int agw_engine_feedback_from(struct agw_engine *e, const char *case_id, enum agw_case_status status,
			     const struct agw_feedback_from *from, int64_t now_ms, int64_t mono_ms, agw_engine_emit_fn emit,
			     void *arg, char *why, size_t why_len)
{
	if ((unsigned)status >= AGW_CASE__STATUS_COUNT)
		return -EINVAL;
	struct agw_case *c = case_id ? agw_strmap_get(&e->ids, case_id) : NULL;
	if (!c)
		return -ENOENT;
	if (c->status == status || !agw_case_transition_ok(c->status, status, why, why_len)) {
		int r = c->status == status ? 0 : -EPERM; /* the same twice: delivered again (QoS 1), applied */
		case_settle(e, c); /* one restored for this feedback leaves again */
		return r;
	}
	char reason[AGW_DECISION_REASON_SIZE], *by, *note;
	if (dup_text_max(&by, from ? from->by : NULL, AGW_FEEDBACK_BY_MAX) < 0)
		return -ENOMEM;
	if (dup_text_max(&note, from ? from->note : NULL, AGW_FEEDBACK_NOTE_MAX) < 0) {
		free(by);
		return -ENOMEM;
	}
	engine_touch_case(e, c);
	free(c->fb_by);
	free(c->fb_note);
	c->fb_by = by;
	c->fb_note = note;
	feedback_reason(reason, sizeof(reason), c, status);
	c->fb_status = status;
	c->fb_ms = now_ms;
	c->status = status;
	c->status_ms[status] = now_ms;
	c->n_feedback++;
	c->updated_ms = now_ms;
	if (agw_case_status_final(status)) {
		case_end(c, AGW_END_FEEDBACK, now_ms);
	} else {
		if (status == AGW_CASE_REOPENED) {
			c->end = AGW_END_NONE;
			c->ended_ms = 0;
		}
		sup_arm(e->rules, c, now_ms, mono_ms);
	}
	int r = emit_decision(c, AGW_DECISION_STATUS, now_ms, emit, arg, reason);
	case_settle(e, c);
	return r < 0 ? r : 0;
}

int agw_engine_feedback(struct agw_engine *e, const char *case_id, enum agw_case_status status,
			struct agw_case **ret_case)
{
	char why[160], id[AGW_CASE_ID_SIZE];
	struct agw_case *c = case_id ? agw_strmap_get(&e->ids, case_id) : NULL;
	if (!c)
		return (unsigned)status >= AGW_CASE__STATUS_COUNT ? -EINVAL : -ENOENT;
	memcpy(id, c->id, sizeof(id)); /* case_id may be the case's own, freed when it ends */
	int r = agw_engine_feedback_at(e, id, status, c->updated_ms, c->seen_m, NULL, NULL, why, sizeof(why));
	if (r == 0 && ret_case)
		*ret_case = agw_strmap_get(&e->ids, id);
	return r;
}
