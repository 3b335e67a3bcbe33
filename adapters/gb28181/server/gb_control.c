/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the gateway asks of registered devices, and the channels their answers name (see
 * gb_server_internal.h):
 *
 * - Catalog: queried after each new registration and every catalog_interval; the answer comes as
 *   MESSAGEs <Response><CmdType>Catalog</CmdType> with the query's SN, SumNum and some Items each
 *   (a lower platform's thousands of channels over hundreds of MESSAGEs). Each channel is kept in
 *   memory and, when new or changed, stored through env.channel_put, a bounded number per sweep so
 *   a platform's catalog never holds the loop for long.
 * - A channel that sends an alarm but has no ledger row is stored too, with the time of its first
 *   such alarm: integrators list these (`alarmgw channels --unmatched`) and add them.
 * - Arming (DeviceControl SetGuard) after registration, ResetAlarm after a journaled alarm, and
 *   the alarm SUBSCRIBE with its refresh, each per configuration. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "gb_server_internal.h"

#define FLUSH_PER_SWEEP 64   /* channel writes per 250 ms sweep: 256/s, a few ms of the loop */
#define SUBSCRIBE_REFRESH 80 /* percent of the expiry after which the subscription is renewed */

static struct chan *chan_find(const struct agw_gb_server *s, const char *id)
{
	for (struct chan *c = s->chans[gb_hash(id) % BUCKETS]; c; c = c->hnext)
		if (!strcmp(c->c.id, id))
			return c;
	return NULL;
}

static struct chan *chan_get(struct agw_gb_server *s, const char *id)
{
	struct chan *c = chan_find(s, id);
	if (c)
		return c;
	if ((int64_t)s->n_chans >= s->cfg.max_channels) {
		s->stats.channels_dropped++;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	agw_gb_channel_clear(&c->c);
	snprintf(c->c.id, sizeof(c->c.id), "%s", id);
	uint32_t h = gb_hash(id) % BUCKETS;
	c->hnext = s->chans[h];
	s->chans[h] = c;
	s->n_chans++;
	return c;
}

static void mark_dirty(struct agw_gb_server *s, struct chan *c)
{
	if (c->dirty || !s->env.channel_put)
		return;
	c->dirty = true;
	c->dnext = NULL;
	if (s->dirty_tail)
		s->dirty_tail->dnext = c;
	else
		s->dirty_head = c;
	s->dirty_tail = c;
}

void gb_control_flush(struct agw_gb_server *s)
{
	for (int i = 0; i < FLUSH_PER_SWEEP && s->dirty_head; i++) {
		struct chan *c = s->dirty_head;
		s->dirty_head = c->dnext;
		if (!s->dirty_head)
			s->dirty_tail = NULL;
		c->dirty = false;
		char *json = agw_gb_channel_json(&c->c, c->first_alarm_ms);
		if (!json || (c->stored && !strcmp(json, c->stored))) {
			free(json);
			continue; /* changed and changed back before its turn */
		}
		s->env.channel_put(s->env.arg, c->c.id, json);
		s->stats.channels_stored++;
		free(c->stored);
		c->stored = json;
	}
}

/* Takes the record's fields (moved out of *in) when they differ from what the channel has. */
static void chan_update(struct agw_gb_server *s, struct chan *c, struct agw_gb_channel *in)
{
	char *now = agw_gb_channel_json(in, c->first_alarm_ms);
	char *was = agw_gb_channel_json(&c->c, c->first_alarm_ms);
	bool same = now && was && !strcmp(now, was);
	free(now);
	free(was);
	if (same)
		return;
	agw_gb_channel_clear(&c->c);
	c->c = *in;
	memset(in, 0, sizeof(*in)); /* its strings now belong to c */
	mark_dirty(s, c);
}

/* A catalog Status as liveness: 1 online (ON, ONLINE, OK), 0 offline (OFF, OFFLINE), -1 unknown. */
static int status_online(const char *status)
{
	if (!strcasecmp(status, "ON") || !strcasecmp(status, "ONLINE") || !strcasecmp(status, "OK"))
		return 1;
	if (!strcasecmp(status, "OFF") || !strcasecmp(status, "OFFLINE"))
		return 0;
	return -1;
}

/* Emits the channel camera's camera_offline edge when its Status changed it; one the core cannot
 * take now is kept on s->offline_pending and retried by the sweep (a health edge is never
 * dropped). The first ON of a channel never reported OFF is no "back online". */
static void chan_liveness(struct agw_gb_server *s, struct chan *c, const char *camera)
{
	int online = c->c.status ? status_online(c->c.status) : -1;
	enum agw_active want = online == 1 ? AGW_ACTIVE_FALSE : AGW_ACTIVE_TRUE;
	if (online < 0 || c->offline_state == want || (online == 1 && c->offline_state == AGW_ACTIVE_NONE))
		return;
	int rc = gb_server_emit_offline(s, camera, online == 1, online == 1 ? "catalog/Status/ON" : "catalog/Status/OFF");
	if (rc == 0) {
		c->offline_state = want;
		agw_log_notice(COMPONENT, c->c.id, "catalog Status %s: camera %s %s", c->c.status, camera,
			       online == 1 ? "online" : "offline");
	} else if (!c->offline_pending) {
		c->offline_pending = true;
		c->pnext = s->offline_pending;
		s->offline_pending = c;
	}
}

void gb_control_sweep(struct agw_gb_server *s)
{
	struct chan *list = s->offline_pending;
	s->offline_pending = NULL;
	while (list) {
		struct chan *c = list;
		list = c->pnext;
		c->offline_pending = false;
		const char *camera = s->env.camera_of ? s->env.camera_of(s->env.arg, c->c.id) : NULL;
		if (camera)
			chan_liveness(s, c, camera);
	}
	gb_control_flush(s);
}

/* A channel's catalog position, offered to its ledger camera (the core keeps the ledger's when it
 * has one); asked again only when the position changes. */
static void chan_locate(struct agw_gb_server *s, struct chan *c, const char *camera)
{
	if (!s->env.locate || isnan(c->c.lon) || isnan(c->c.lat) ||
	    (c->located && c->loc_lon == c->c.lon && c->loc_lat == c->c.lat))
		return;
	int rc = s->env.locate(s->env.arg, camera, c->c.lon, c->c.lat, s->catalog_crs);
	if (rc == 0 || rc == -EEXIST) {
		c->located = true;
		c->loc_lon = c->c.lon;
		c->loc_lat = c->c.lat;
	}
}

static void catalog_answer(struct agw_gb_server *s, struct device *d, const struct agw_gb_doc *doc)
{
	struct agw_gb_channel *v = NULL;
	size_t skipped = 0;
	int n = agw_gb_catalog_read(doc, d->id, &v, &skipped);
	if (n < 0)
		return;
	long sum = agw_gb_catalog_sum(doc);
	if (d->catalog_sn == 0 || strtoul(doc->sn, NULL, 10) != d->catalog_sn || d->catalog_got == 0) {
		/* the first part of an answer (or an answer to a query before a restart, or unasked) */
		d->catalog_got = d->catalog_unmatched = 0;
		d->catalog_sum = sum;
	}
	for (int i = 0; i < n; i++) {
		struct chan *c = chan_get(s, v[i].id);
		if (!c)
			continue;
		const char *camera = s->env.camera_of ? s->env.camera_of(s->env.arg, v[i].id) : NULL;
		if (!camera)
			d->catalog_unmatched++;
		chan_update(s, c, &v[i]);
		if (camera)
			chan_locate(s, c, camera);
		/* the device's own camera follows its registration and keepalives, not its catalog line */
		if (camera && strcmp(c->c.id, d->id) != 0)
			chan_liveness(s, c, camera);
	}
	s->stats.catalog_channels += (uint64_t)n;
	d->catalog_got += (size_t)n + skipped;
	agw_gb_channels_free(v, (size_t)n);
	if (d->catalog_sum >= 0 && d->catalog_got >= (size_t)d->catalog_sum) {
		agw_log_info(COMPONENT, d->id, "catalog: %ld items, %zu channels not in the ledger", d->catalog_sum,
			     d->catalog_unmatched);
		d->catalog_got = 0;
		d->catalog_sn = 0;
	}
}

void gb_control_response(struct agw_gb_server *s, struct device *d, const struct agw_gb_doc *doc)
{
	if (doc->root != AGW_GB_ROOT_RESPONSE)
		return;
	if (doc->cmd == AGW_GB_CMD_CATALOG) {
		catalog_answer(s, d, doc);
		return;
	}
	const char *result = agw_gb_doc_get(doc, "Result");
	if (doc->cmd == AGW_GB_CMD_DEVICE_CONTROL && result && strcasecmp(result, "OK") != 0) {
		s->stats.controls_refused++;
		agw_metric_add("agw_gb28181_controls_refused_total", NULL, 1);
		if (!d->warned_control)
			agw_log_warn(COMPONENT, d->id, "DeviceControl for %s answered Result %.32s: the device may send "
						       "no alarms until it is armed on its own web page",
				     doc->device_id, result);
		d->warned_control = true;
	}
}

void gb_control_unmatched_alarm(struct agw_gb_server *s, struct device *d, const char *channel)
{
	struct chan *c = chan_get(s, channel);
	if (!c || c->first_alarm_ms)
		return;
	if (!c->c.device[0])
		snprintf(c->c.device, sizeof(c->c.device), "%s", d->id);
	c->first_alarm_ms = agw_now_ms();
	mark_dirty(s, c);
}

void gb_control_registered(struct agw_gb_server *s, struct device *d, int64_t now)
{
	d->catalog_sn = 0;
	d->catalog_got = 0;
	d->next_catalog_ms = s->cfg.catalog_interval_ms > 0 ? now : 0;
	d->next_subscribe_ms = s->cfg.subscribe_expires_s > 0 ? now : 0;
	if (d->sub_to_tag[0]) /* a device registering anew has forgotten its subscriptions */
		d->sub_dialog++;
	d->sub_to_tag[0] = d->sub_target[0] = '\0';
	if (s->cfg.arm)
		gb_request_control(s, d, d->id, "<GuardCmd>SetGuard</GuardCmd>");
}

void gb_control_sweep_device(struct agw_gb_server *s, struct device *d, int64_t now)
{
	if (!d->registered)
		return;
	if (d->next_catalog_ms && now >= d->next_catalog_ms) {
		d->catalog_sn = gb_request_catalog(s, d);
		d->catalog_got = 0;
		d->next_catalog_ms = now + s->cfg.catalog_interval_ms;
	}
	if (d->next_subscribe_ms && now >= d->next_subscribe_ms) {
		gb_request_subscribe(s, d, s->cfg.subscribe_expires_s);
		d->next_subscribe_ms = now + s->cfg.subscribe_expires_s * 10 * SUBSCRIBE_REFRESH;
	}
}

void gb_control_alarm_journaled(struct agw_gb_server *s, struct device *d, const struct txn *t)
{
	if (!s->cfg.reset_alarm)
		return;
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "<AlarmCmd>ResetAlarm</AlarmCmd>\r\n<Info>\r\n<AlarmMethod>%s</AlarmMethod>\r\n"
				   "<AlarmType>%s</AlarmType>\r\n</Info>",
		 t->method, t->type);
	gb_request_control(s, d, t->channel, cmd);
}

void gb_control_free_all(struct agw_gb_server *s)
{
	for (unsigned b = 0; b < BUCKETS; b++)
		while (s->chans[b]) {
			struct chan *c = s->chans[b];
			s->chans[b] = c->hnext;
			agw_gb_channel_clear(&c->c);
			free(c->stored);
			free(c);
		}
	s->n_chans = 0;
	s->dirty_head = s->dirty_tail = NULL;
	s->offline_pending = NULL;
}
