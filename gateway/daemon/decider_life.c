/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Platform feedback through the case engine (see agw_decider_case_feedback). */
#include <errno.h>
#include <stdio.h>

#include "alarmgw/log.h"
#include "decider_internal.h"

int agw_decider_case_feedback(struct agw_decider *d, struct agw_store *store, const char *case_id,
			      const char *status, const struct agw_feedback_from *from, char *why, size_t why_len)
{
	enum agw_case_status s;
	if (!case_id || agw_case_status_parse(status, &s) < 0 || s == AGW_CASE_OPEN)
		return -EINVAL;
	agw_decider_txn(d, store, AGW_TXN_BEGIN);
	int64_t now = agw_now_ms(), mono = decider_mono_now();
	d->wall_minus_mono = now - mono;
	struct decider_emit_ctx f = {d, store};
	int r = agw_engine_feedback_from(d->engine, case_id, s, from, now, mono, decider_emit, &f, why, why_len);
	if (r == -ENOENT && (r = decider_case_load(d, store, case_id)) == 0)
		r = agw_engine_feedback_from(d->engine, case_id, s, from, now, mono, decider_emit, &f, why, why_len);
	if (r == -EPERM) {
		char reason[AGW_DECISION_REASON_SIZE];
		char by[AGW_FEEDBACK_BY_MAX + 8] = "";
		if (from && from->by && *from->by)
			snprintf(by, sizeof(by), " by %s", from->by);
		snprintf(reason, sizeof(reason), "feedback %s%s refused: %s", status, by, why);
		int w = agw_store_decision_add(store, 0, "refused", NULL, reason, case_id, now);
		return w < 0 ? w : -EPERM;
	}
	return r;
}

void agw_decider_feedback_done(struct agw_decider *d, bool committed)
{
	if (d->in_txn)
		agw_decider_txn(d, NULL, committed ? AGW_TXN_COMMITTED : AGW_TXN_ROLLED_BACK);
}
