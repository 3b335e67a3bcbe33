/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Alarms the gateway did not take, and whose device will not send them again (see
 * gb_server_internal.h). An alarm refused for back-pressure gets no answer, so its device
 * retransmits it; if the pipeline is still full when the device's Timer F (64*T1, 32 s) runs
 * out, the device gives up and the alarm is gone. An alarm answered 500 is gone at once. Either
 * way the gateway knows which alarm it was, so it names it: an events_lost alert for the alarm's
 * camera (reason, SN, channel), counted by reason in agw_gb28181_events_lost_total. An alarm
 * journaled after all (a later retransmission got in) is forgotten here. Losses the gateway cannot
 * see (datagrams the kernel dropped before anyone read them) are counted by the transport. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "gb_server_internal.h"

#define GAVE_UP_MS (64 * 500 + 2000) /* the device's Timer F, and slack for its last retransmission */
#define MAX_REFUSED 65536u           /* alarms remembered; beyond, losses are only counted */
#define LOST_PER_SWEEP 64            /* events_lost alerts per 250 ms sweep, into a pipeline that was full */

struct refused {
	struct refused *hnext, *next; /* by key; in expiry order */
	uint64_t key;
	int64_t expire_ms;
	const char *reason;           /* "device_gave_up" or "refused" (static) */
	char *camera, *error;
	char device[GB_ID_LEN + 1], channel[GB_ID_LEN + 1], sn[24];
};

static struct refused **slot(struct agw_gb_server *s, uint64_t key)
{
	struct refused **p = &s->refused[key % BUCKETS];
	while (*p && (*p)->key != key)
		p = &(*p)->hnext;
	return p;
}

static void refused_free(struct refused *r)
{
	free(r->camera);
	free(r->error);
	free(r);
}

void gb_lost_refused(struct agw_gb_server *s, uint64_t key, const struct gb_lost_alarm *a, const char *error)
{
	int64_t now = (int64_t)uv_now(s->loop);
	bool gone = error != NULL; /* answered with an error: the device will not retransmit */
	struct refused **p = slot(s, key);
	if (*p)
		return; /* a retransmission refused again: the first refusal's deadline stands */
	if (s->n_refused >= MAX_REFUSED) {
		agw_metric_add("agw_gb28181_events_lost_untracked_total", NULL, 1);
		if (!s->warned_refused)
			agw_log_warn(COMPONENT, a->device, "more than %u alarms refused and not yet retransmitted: further "
							   "losses are counted, not named per camera", MAX_REFUSED);
		s->warned_refused = true;
		return;
	}
	struct refused *r = calloc(1, sizeof(*r));
	if (!r || !(r->camera = strdup(a->camera)) || (error && !(r->error = strdup(error)))) {
		if (r)
			refused_free(r);
		return;
	}
	r->key = key;
	r->reason = gone ? "refused" : "device_gave_up";
	r->expire_ms = gone ? now : now + (s->cfg.gave_up_ms > 0 ? s->cfg.gave_up_ms : GAVE_UP_MS);
	snprintf(r->device, sizeof(r->device), "%s", a->device);
	snprintf(r->channel, sizeof(r->channel), "%s", a->channel);
	snprintf(r->sn, sizeof(r->sn), "%s", a->sn);
	*p = r;
	/* deadlines grow with arrival, except the immediate ones, which go first */
	if (gone || !s->refused_head) {
		r->next = s->refused_head;
		s->refused_head = r;
		if (!s->refused_tail)
			s->refused_tail = r;
	} else {
		s->refused_tail->next = r;
		s->refused_tail = r;
	}
	s->n_refused++;
}

void gb_lost_journaled(struct agw_gb_server *s, uint64_t key)
{
	struct refused **p = slot(s, key);
	if (*p)
		(*p)->expire_ms = -1; /* taken after all: dropped silently when it reaches the head */
}

static int report(struct agw_gb_server *s, const struct refused *r)
{
	struct agw_item items[5];
	size_t n = 0;
	items[n++] = (struct agw_item){.name = (char *)"reason", .value = (char *)r->reason};
	items[n++] = (struct agw_item){.name = (char *)"device", .value = (char *)r->device};
	items[n++] = (struct agw_item){.name = (char *)"channel", .value = (char *)r->channel};
	items[n++] = (struct agw_item){.name = (char *)"SN", .value = (char *)r->sn};
	if (r->error)
		items[n++] = (struct agw_item){.name = (char *)"error", .value = r->error};
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = r->camera;
	a.adapter = (char *)COMPONENT;
	a.kind = AGW_KIND_EVENTS_LOST;
	a.camera_time_ms = AGW_TIME_UNKNOWN;
	a.gateway_time_ms = agw_now_ms();
	a.topic = (char *)"alarmgw:EventsLost";
	a.data.v = items;
	a.data.n = n;
	return s->env.emit(s->env.arg, &a); /* everything borrowed: nothing to clear */
}

void gb_lost_sweep(struct agw_gb_server *s, int64_t now)
{
	int sent = 0;
	while (s->refused_head && s->refused_head->expire_ms <= now && sent < LOST_PER_SWEEP) {
		struct refused *r = s->refused_head;
		if (r->expire_ms >= 0) {
			/* a health edge: kept until the core takes it (it may still be full) */
			if (report(s, r) < 0)
				return;
			sent++;
			s->stats.alarms_lost++;
			char labels[48];
			snprintf(labels, sizeof(labels), "reason=\"%s\"", r->reason);
			agw_metric_add("agw_gb28181_events_lost_total", labels, 1);
			if (sent == 1) /* once per sweep: an overload loses many at a time */
				agw_log_warn(COMPONENT, r->device, "alarm SN %s of channel %s never journaled (%s%s%s): "
								   "events_lost raised for %s",
					     r->sn, r->channel, r->reason, r->error ? ": " : "", r->error ? r->error : "",
					     r->camera);
		}
		s->refused_head = r->next;
		if (!s->refused_head)
			s->refused_tail = NULL;
		*slot(s, r->key) = r->hnext;
		s->n_refused--;
		refused_free(r);
	}
	if (sent > 1)
		agw_log_warn(COMPONENT, NULL, "%d alarms in all never journaled in this sweep: events_lost raised for each", sent);
}

void gb_lost_free_all(struct agw_gb_server *s)
{
	while (s->refused_head) {
		struct refused *r = s->refused_head;
		s->refused_head = r->next;
		refused_free(r);
	}
	memset(s->refused, 0, sizeof(s->refused));
	s->refused_tail = NULL;
	s->n_refused = 0;
}
