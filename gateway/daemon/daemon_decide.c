/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pipeline's decide step as the daemon wires it: the current decider (rules, cases, their
 * outbox rows), then the camera's health message for a health edge, all in the transaction that
 * journals the alert. Health therefore reaches the broker only after it is journaled, and through
 * the outbox: never lost to a restart, in journal order. */
#include <errno.h>

#include "alarmgw/metrics.h"
#include "daemon_internal.h"
#include "decider.h"
#include "evidence.h"
#include "health_out.h"

int daemon_decide(void *arg, struct agw_store *store, int64_t alert_seq, const struct agw_alert *alert,
		  int64_t mono_ms)
{
	struct agw_daemon *d = arg;
	int r = agw_decider_decide(d->decider, store, alert_seq, alert, mono_ms);
	if (r < 0)
		return r;
	enum agw_decision_action action;
	const char *case_id = agw_decider_last_case(d->decider, &action);
	if (d->evidence && case_id && (action == AGW_DECISION_OPEN || action == AGW_DECISION_UPDATE)) {
		r = agw_evidence_stage(d->evidence, store, case_id, alert_seq, alert);
		if (r < 0)
			return r;
	}
	r = agw_health_outbox_push(store, d->cfg, alert);
	/* A full outbox refuses the health row as it refuses cases: counted, and the batch goes on
	 * (rolling it back would retry the same full outbox for ever). */
	if (r == -ENOSPC) {
		agw_metric_add("agw_outbox_full_total", "kind=\"health\"", 1);
		return 0;
	}
	return r < 0 ? r : 0;
}

/* The batch's transaction, for the current decider (a reload swaps it between batches only). */
int daemon_decide_txn(void *arg, struct agw_store *store, enum agw_txn_phase phase)
{
	struct agw_daemon *d = arg;
	int r = d->decider ? agw_decider_txn(d->decider, store, phase) : 0;
	if (d->evidence && (phase == AGW_TXN_COMMITTED || phase == AGW_TXN_ROLLED_BACK))
		agw_evidence_txn(d->evidence, phase == AGW_TXN_COMMITTED);
	return r;
}
