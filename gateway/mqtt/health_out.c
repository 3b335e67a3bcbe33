/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "health_out.h"
#include "mqtt_topic.h"
#include "topic.h"

const char *agw_health_state(const struct agw_alert *a)
{
	if (a->active == AGW_ACTIVE_NONE)
		return NULL;
	bool on = a->active == AGW_ACTIVE_TRUE;
	if (a->kind == AGW_KIND_CAMERA_OFFLINE)
		return on ? "offline" : "online";
	if (a->kind == AGW_KIND_EVENT_CHANNEL_LOST)
		return on ? "event_channel_lost" : "online";
	return NULL;
}

int agw_health_outbox_push(struct agw_store *store, const struct agw_config *cfg, const struct agw_alert *a)
{
	const char *state = agw_health_state(a);
	if (!state || !a->camera_id)
		return 0;
	const struct agw_mqtt_config *m = &cfg->mqtt;
	struct agw_topic_vars vars = {.prefix = m->topic_prefix ? m->topic_prefix : "agw",
				      .gateway = cfg->gateway_id ? cfg->gateway_id : "alarmgw",
				      .camera = a->camera_id};
	const char *tmpl = m->health_topic ? m->health_topic : "{prefix}/cameras/{camera}/health";
	char topic[AGW_MQTT_TOPIC_MAX], at[40];
	if (agw_topic_expand(tmpl, &vars, topic, sizeof(topic)) < 0) {
		/* the template was checked at start: only an odd camera id gets here; its cases still go */
		agw_metric_add("agw_mqtt_publish_errors_total", "reason=\"topic\"", 1);
		agw_log_err("mqtt", a->camera_id, "health topic template \"%s\" does not expand for this camera", tmpl);
		return 0;
	}
	json_t *o = json_pack("{s:s, s:s, s:s}", "camera", a->camera_id, "state", state, "at",
			      agw_time_format_ms(a->gateway_time_ms, at, sizeof(at)));
	char *json = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!json)
		return -ENOMEM;
	int r = agw_store_outbox_push(store, topic, json, strlen(json), 1, true, NULL, m->outbox_max_rows, NULL);
	free(json);
	return r < 0 ? r : 1;
}
