/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Camera health on its retained topic, through the outbox like every other message: a health
 * alert (camera_offline, event_channel_lost) becomes an outbox row in the transaction that
 * journals it, so the platform never sees a state that is not in the journal, and a state is
 * never lost to a restart, a broker outage or a publisher rebuild. */
#ifndef ALARMGW_HEALTH_OUT_H
#define ALARMGW_HEALTH_OUT_H

#include <stdint.h>

#include "alarmgw/alert.h"
#include "config.h"
#include "store.h"

/* The state a health alert puts on the camera's health topic: "online", "offline" or
 * "event_channel_lost"; NULL when the alert is not a health edge. */
const char *agw_health_state(const struct agw_alert *alert);

/* Inside the caller's transaction: for a health edge, writes its retained QoS 1 message
 * {"camera":..., "state":..., "at":<RFC 3339 of the alert's gateway time>} to the outbox, on
 * mqtt.health_topic expanded for the camera. Returns 1 when a row was written, 0 when the alert
 * is not a health edge (or the topic template cannot be expanded for this camera: counted and
 * logged), or a negative errno from the store (-ENOSPC: the outbox is full). */
int agw_health_outbox_push(struct agw_store *store, const struct agw_config *cfg, const struct agw_alert *alert);

#endif
