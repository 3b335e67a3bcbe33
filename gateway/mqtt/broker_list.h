/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mqtt.uri may name several brokers of one cluster ("tcp://a:1883,tcp://b:1883"): the publisher
 * connects to one and moves to the next after a failed attempt. */
#ifndef ALARMGW_BROKER_LIST_H
#define ALARMGW_BROKER_LIST_H

#include <stddef.h>

/* Number of URIs in the comma-separated list (empty entries are skipped). */
size_t agw_broker_list_count(const char *list);
/* The i-th URI (i modulo the count), trimmed, as a malloc'd string; NULL on allocation failure or
 * an empty list. */
char *agw_broker_list_get(const char *list, size_t i);
/* Where an instance starts in the list: a stable hash of its gateway.id, so that a city's instances
 * spread over the broker cluster instead of all loading its first node. 0 for a single broker. */
size_t agw_broker_list_first(const char *list, const char *instance_id);

#endif
