/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Retained status topics: the gateway's online/offline status and each camera's health, kept and
 * (re)published while connected. */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "publisher_internal.h"
#include "topic.h"

void pub_publish_status(struct agw_publisher *p, const char *status)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message m = MQTTAsync_message_initializer;
	m.payload = (void *)status;
	m.payloadlen = (int)strlen(status);
	m.qos = 1;
	m.retained = 1;
	ro.context = tag_ptr(tag_make(TAG_STATUS, p->slot, p->gen, 0));
	if (p->version == 5) {
		ro.onSuccess5 = pub_on_sent5;
		ro.onFailure5 = pub_on_send_fail5;
	} else {
		ro.onSuccess = pub_on_sent;
		ro.onFailure = pub_on_send_fail;
	}
	int rc = MQTTAsync_sendMessage(p->client, p->status_topic, &m, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		agw_log_warn(COMP, NULL, "cannot publish status %s: %s", status, MQTTAsync_strerror(rc));
}

static void send_health(struct agw_publisher *p, size_t i)
{
	struct health *h = &p->health[i];
	struct agw_topic_vars vars = {.prefix = p->prefix, .gateway = p->gateway, .camera = h->camera};
	char topic[AGW_MQTT_TOPIC_MAX], at[40], *json = NULL;
	if (agw_topic_expand(p->health_tmpl, &vars, topic, sizeof(topic)) < 0) {
		agw_metric_add("agw_mqtt_publish_errors_total", "reason=\"topic\"", 1);
		agw_log_err(COMP, h->camera, "health topic template \"%s\" does not expand", p->health_tmpl);
		h->confirmed = true; /* nothing will ever fix it at run time; logged once */
		return;
	}
	json_t *o = json_pack("{s:s, s:s, s:s}", "camera", h->camera, "state", h->state, "at",
			      agw_time_format_ms(agw_now_ms(), at, sizeof(at)));
	json = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!json)
		return;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message m = MQTTAsync_message_initializer;
	m.payload = json;
	m.payloadlen = (int)strlen(json);
	m.qos = 1;
	m.retained = 1;
	ro.context = tag_ptr(tag_make(TAG_HEALTH, p->slot, p->gen, ((uint64_t)i << 20) | (h->version & 0xfffffu)));
	if (p->version == 5) {
		ro.onSuccess5 = pub_on_sent5;
		ro.onFailure5 = pub_on_send_fail5;
	} else {
		ro.onSuccess = pub_on_sent;
		ro.onFailure = pub_on_send_fail;
	}
	if (MQTTAsync_sendMessage(p->client, topic, &m, &ro) == MQTTASYNC_SUCCESS)
		h->sending = true;
	free(json);
}

/* Sends health states not yet confirmed, at most HEALTH_BURST per call so that 10,000 cameras
 * coming online do not crowd out the cases; the PUBACKs wake the loop and the rest follows. */
void pub_flush_health(struct agw_publisher *p)
{
	size_t sent = 0;
	p->health_dirty = false;
	for (size_t i = 0; i < p->n_health && p->connected; i++) {
		struct health *h = &p->health[i];
		if (h->confirmed || h->sending)
			continue;
		if (sent == HEALTH_BURST) {
			p->health_dirty = true;
			return;
		}
		send_health(p, i);
		sent++;
		if (!h->sending) { /* paho refused it for now (busy): try again on the next wake-up */
			p->health_dirty = true;
			return;
		}
	}
}

int agw_publisher_camera_health(struct agw_publisher *p, const char *camera_id, const char *state)
{
	static const char *const states[] = {"online", "offline", "event_channel_lost"};
	const char *st = NULL;
	for (size_t i = 0; state && i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(state, states[i]) == 0)
			st = states[i];
	if (!st || !camera_id || !*camera_id)
		return -EINVAL;
	size_t i;
	for (i = 0; i < p->n_health; i++)
		if (strcmp(p->health[i].camera, camera_id) == 0)
			break;
	if (i == p->n_health) {
		if (p->n_health == p->cap_health) {
			size_t cap = p->cap_health ? p->cap_health * 2 : 64;
			struct health *v = realloc(p->health, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			p->health = v;
			p->cap_health = cap;
		}
		char *id = strdup(camera_id);
		if (!id)
			return -ENOMEM;
		p->health[p->n_health++] = (struct health){.camera = id};
	} else if (p->health[i].state == st && p->health[i].confirmed) {
		return 0;
	}
	struct health *h = &p->health[i];
	h->state = st;
	h->version++;
	h->confirmed = false;
	if (p->connected && p->stop == STOP_NONE && !h->sending)
		send_health(p, i);
	if (!h->sending)
		p->health_dirty = true; /* sent on connect, or when the previous version is acknowledged */
	return 0;
}
