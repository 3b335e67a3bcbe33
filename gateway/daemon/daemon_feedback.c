/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Case status feedback from the platform, on the loop thread: applied through the decider (the
 * case engine checks the move; the cases row, the journal and a case update message follow) inside
 * the transaction that also takes it out of the feedback inbox. Feedback for a case this gateway
 * does not know, and moves the lifecycle refuses, are counted one by one but logged at most
 * FEEDBACK_LOG_MAX times a minute each, with the rest summed up in one line: a platform replaying
 * old case ids must not flood the journal. */
#include <errno.h>
#include <string.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "daemon_internal.h"
#include "decider.h"

#define FEEDBACK_LOG_MAX 10
#define FEEDBACK_LOG_WINDOW_MS 60000

void daemon_feedback_summary(struct agw_daemon *d)
{
	if (d->fb_unknown > FEEDBACK_LOG_MAX)
		agw_log_warn("mqtt", NULL,
			     "%d more feedback messages for unknown cases in the last minute, not logged one by one "
			     "(agw_feedback_errors_total{reason=\"unknown_case\"})",
			     d->fb_unknown - FEEDBACK_LOG_MAX);
	if (d->fb_refused > FEEDBACK_LOG_MAX)
		agw_log_warn("mqtt", NULL,
			     "%d more refused feedback moves in the last minute, not logged one by one "
			     "(agw_feedback_errors_total{reason=\"transition\"})",
			     d->fb_refused - FEEDBACK_LOG_MAX);
	d->fb_unknown = 0;
	d->fb_refused = 0;
}

/* Whether this one is logged: the first FEEDBACK_LOG_MAX of a kind in a minute. */
static bool log_this(struct agw_daemon *d, int *count)
{
	uint64_t now = uv_now(&d->loop); /* a duration: the monotonic clock */
	if (now - d->fb_window_ms >= FEEDBACK_LOG_WINDOW_MS) {
		daemon_feedback_summary(d);
		d->fb_window_ms = now;
	}
	return (*count)++ < FEEDBACK_LOG_MAX;
}

int daemon_case_feedback(void *arg, const char *case_id, const char *status, const char *by, const char *note)
{
	struct agw_daemon *d = arg;
	char why[160] = "";
	struct agw_feedback_from from = {.by = by, .note = note};
	int r = agw_decider_case_feedback(d->decider, d->store, case_id, status, &from, why, sizeof(why));
	if (r == -ENOENT) {
		agw_metric_add("agw_feedback_errors_total", "reason=\"unknown_case\"", 1);
		if (log_this(d, &d->fb_unknown))
			agw_log_warn("mqtt", NULL, "feedback for unknown case %s ignored", case_id);
		return 0; /* nothing to record, ever: acknowledged */
	}
	if (r == -EPERM) {
		/* journaled as a "refused" decision of the case; applying it later would not change that */
		agw_metric_add("agw_feedback_errors_total", "reason=\"transition\"", 1);
		if (log_this(d, &d->fb_refused))
			agw_log_warn("mqtt", NULL, "feedback %s for case %s refused: %s", status, case_id, why);
		return 0;
	}
	if (r < 0) {
		/* not recorded now (the store failed): not acknowledged, the MQTT client delivers it again */
		agw_log_err("mqtt", NULL, "feedback for case %s not recorded yet: %s; it is delivered again", case_id,
			    strerror(-r));
		return r;
	}
	return 0;
}

void daemon_case_feedback_done(void *arg, bool committed)
{
	struct agw_daemon *d = arg;
	agw_decider_feedback_done(d->decider, committed);
}
