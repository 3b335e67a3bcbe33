/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Process-wide counters and gauges, readable by the metrics endpoint and `alarmgw status`.
 * Every error on input from the network is counted here as well as logged.
 * Thread-safe (paho callbacks and worker threads count too); cheap enough for hot paths
 * that count once per message. */
#ifndef ALARMGW_METRICS_H
#define ALARMGW_METRICS_H

#include <stdint.h>
#include <stddef.h>

/* name: a Prometheus metric name ("agw_parse_errors_total"); labels: the text between braces
 * without them ("adapter=\"onvif\",reason=\"xml\"") or NULL. */
void agw_metric_add(const char *name, const char *labels, int64_t delta);
void agw_metric_set(const char *name, const char *labels, int64_t value);
int64_t agw_metric_get(const char *name, const char *labels);

/* Latency histograms (Prometheus name_bucket{le="..."}, cumulative) with fixed bounds in ms: 1, 2, 5,
 * 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000 and +Inf. A hot path counts into its own
 * array (agw_lat_bucket gives the slot) and adds it now and then with agw_metric_lat_flush, which
 * zeroes it. */
#define AGW_LAT_BUCKETS 14
size_t agw_lat_bucket(int64_t ms);
void agw_metric_lat_flush(const char *name, int64_t counts[AGW_LAT_BUCKETS]);

/* Calls fn for every metric, sorted by name then labels. */
void agw_metrics_foreach(void (*fn)(const char *name, const char *labels, int64_t value, void *arg), void *arg);
void agw_metrics_reset(void); /* tests only */

#endif
