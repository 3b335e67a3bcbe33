/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The case status feedback subscription: subscribing on connect, and checking each feedback message
 * before it goes to the callback. */
#include <errno.h>
#include <stdio.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "feedback.h"
#include "publisher_internal.h"

void pub_subscribe_feedback(struct agw_publisher *p)
{
	if (!p->feedback_topic[0])
		return;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	ro.context = tag_ptr(ctl_tag(p));
	if (p->version == 5) {
		ro.onSuccess5 = pub_on_subscribed5;
		ro.onFailure5 = pub_on_subscribe_fail5;
	} else {
		ro.onFailure = pub_on_subscribe_fail;
	}
	int rc = MQTTAsync_subscribe(p->client, p->feedback_topic, 1, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		agw_log_err(COMP, NULL, "cannot subscribe to %s: %s", p->feedback_topic, MQTTAsync_strerror(rc));
}

void pub_handle_message(struct agw_publisher *p, struct event *e)
{
	struct agw_feedback fb;
	const char *reason = "too_large";
	char detail[200];
	int r;
	if (e->len > AGW_FEEDBACK_MAX_BYTES || !e->data) {
		r = -EMSGSIZE;
		snprintf(detail, sizeof(detail), "message of %zu bytes exceeds the %d byte limit", e->len,
			 AGW_FEEDBACK_MAX_BYTES);
	} else {
		r = agw_feedback_parse(e->data, e->len, &fb, &reason, detail, sizeof(detail));
	}
	if (r < 0) {
		char labels[64];
		snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
		agw_metric_add("agw_feedback_errors_total", labels, 1);
		/* At most 10 lines per minute: a misbehaving platform must not flood the journal. */
		int64_t now = agw_now_ms();
		if (now - p->fb_log_window_ms > 60000) {
			p->fb_log_window_ms = now;
			p->fb_logged = 0;
		}
		if (p->fb_logged++ < 10)
			agw_log_warn(COMP, NULL, "malformed feedback on %.200s ignored: %s", e->text ? e->text : "?",
				     detail);
		return;
	}
	char labels[64];
	snprintf(labels, sizeof(labels), "status=\"%s\"", fb.status);
	agw_metric_add("agw_feedback_total", labels, 1);
	agw_log_debug(COMP, NULL, "feedback: case %s %s", fb.case_id, fb.status);
	if (p->fb_fn)
		p->fb_fn(p->fb_arg, fb.case_id, fb.status);
}

void agw_publisher_set_feedback(struct agw_publisher *p, void (*fn)(void *arg, const char *case_id, const char *status),
				void *arg)
{
	p->fb_fn = fn;
	p->fb_arg = arg;
}

void agw_publisher_take_over(struct agw_publisher *neu, const struct agw_publisher *old)
{
	if (!neu || !old)
		return;
	neu->fb_fn = old->fb_fn;
	neu->fb_arg = old->fb_arg;
}
