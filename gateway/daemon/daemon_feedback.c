/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Case status feedback from the platform, on the loop thread: recorded through the decider (the
 * cases row), outside the pipeline's batch. Feedback for a case this gateway does not know is
 * counted one by one but logged at most FEEDBACK_LOG_MAX times a minute, with the rest summed up
 * in one line: a platform replaying old case ids must not flood the journal. */
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
	d->fb_unknown = 0;
}

int daemon_case_feedback(void *arg, const char *case_id, const char *status)
{
	struct agw_daemon *d = arg;
	int r = agw_decider_case_feedback(d->decider, d->store, case_id, status);
	if (r == -ENOENT) {
		agw_metric_add("agw_feedback_errors_total", "reason=\"unknown_case\"", 1);
		uint64_t now = uv_now(&d->loop); /* a duration: the monotonic clock */
		if (now - d->fb_window_ms >= FEEDBACK_LOG_WINDOW_MS) {
			daemon_feedback_summary(d);
			d->fb_window_ms = now;
		}
		if (d->fb_unknown++ < FEEDBACK_LOG_MAX)
			agw_log_warn("mqtt", NULL, "feedback for unknown case %s ignored", case_id);
		return 0; /* nothing to record, ever: acknowledged */
	}
	if (r < 0) {
		/* not recorded now (the store failed): not acknowledged, the MQTT client delivers it again */
		agw_log_err("mqtt", NULL, "feedback for case %s not recorded yet: %s; it is delivered again", case_id,
			    strerror(-r));
		return r;
	}
	return 0;
}
