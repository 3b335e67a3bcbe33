/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small mutex-protected table of named counters. Metric names and label sets are few (hundreds),
 * so a sorted array with binary search is simple and fast enough. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/metrics.h"

struct metric {
	char *name;
	char *labels;
	int64_t value;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct metric *metrics;
static size_t n_metrics, cap_metrics;

static int compare(const char *name, const char *labels, const struct metric *m)
{
	int c = strcmp(name, m->name);
	return c ? c : strcmp(labels, m->labels);
}

/* Returns the metric, inserting it at its sorted place; NULL only when out of memory. */
static struct metric *lookup(const char *name, const char *labels, bool create)
{
	size_t lo = 0, hi = n_metrics;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = compare(name, labels, &metrics[mid]);
		if (c == 0)
			return &metrics[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (!create)
		return NULL;
	if (n_metrics == cap_metrics) {
		size_t cap = cap_metrics ? cap_metrics * 2 : 64;
		struct metric *m = realloc(metrics, cap * sizeof(*m));
		if (!m)
			return NULL;
		metrics = m;
		cap_metrics = cap;
	}
	char *n = strdup(name), *l = strdup(labels);
	if (!n || !l) {
		free(n);
		free(l);
		return NULL;
	}
	memmove(&metrics[lo + 1], &metrics[lo], (n_metrics - lo) * sizeof(*metrics));
	metrics[lo] = (struct metric){.name = n, .labels = l, .value = 0};
	n_metrics++;
	return &metrics[lo];
}

void agw_metric_add(const char *name, const char *labels, int64_t delta)
{
	pthread_mutex_lock(&lock);
	struct metric *m = lookup(name, labels ? labels : "", true);
	if (m)
		m->value += delta;
	pthread_mutex_unlock(&lock);
}

void agw_metric_set(const char *name, const char *labels, int64_t value)
{
	pthread_mutex_lock(&lock);
	struct metric *m = lookup(name, labels ? labels : "", true);
	if (m)
		m->value = value;
	pthread_mutex_unlock(&lock);
}

static const int64_t lat_le[AGW_LAT_BUCKETS - 1] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};

size_t agw_lat_bucket(int64_t ms)
{
	size_t b = 0;
	while (b < AGW_LAT_BUCKETS - 1 && ms > lat_le[b])
		b++;
	return b;
}

void agw_metric_lat_flush(const char *name, int64_t counts[AGW_LAT_BUCKETS])
{
	/* the labels of lat_le, written out: formatting them was most of a flush */
	static const char *const le[AGW_LAT_BUCKETS] = {
		"le=\"1\"", "le=\"2\"", "le=\"5\"", "le=\"10\"", "le=\"20\"", "le=\"50\"", "le=\"100\"",
		"le=\"200\"", "le=\"500\"", "le=\"1000\"", "le=\"2000\"", "le=\"5000\"", "le=\"10000\"", "le=\"+Inf\""};
	_Static_assert(sizeof(lat_le) / sizeof(lat_le[0]) == AGW_LAT_BUCKETS - 1, "one label per bound");
	char bucket[96];
	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	int64_t below = 0;
	for (size_t b = 0; b < AGW_LAT_BUCKETS; b++) {
		below += counts[b];
		counts[b] = 0;
		agw_metric_add(bucket, le[b], below); /* cumulative: what this flush counted at or below le */
	}
}

int64_t agw_metric_get(const char *name, const char *labels)
{
	pthread_mutex_lock(&lock);
	struct metric *m = lookup(name, labels ? labels : "", false);
	int64_t v = m ? m->value : 0;
	pthread_mutex_unlock(&lock);
	return v;
}

void agw_metrics_foreach(void (*fn)(const char *name, const char *labels, int64_t value, void *arg), void *arg)
{
	/* Copy under the lock so fn may itself count without deadlocking. */
	pthread_mutex_lock(&lock);
	size_t n = n_metrics;
	struct metric *copy = malloc((n ? n : 1) * sizeof(*copy));
	for (size_t i = 0; copy && i < n; i++)
		copy[i] = (struct metric){strdup(metrics[i].name), strdup(metrics[i].labels), metrics[i].value};
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; copy && i < n; i++) {
		if (copy[i].name && copy[i].labels)
			fn(copy[i].name, copy[i].labels, copy[i].value, arg);
		free(copy[i].name);
		free(copy[i].labels);
	}
	free(copy);
}

void agw_metrics_reset(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < n_metrics; i++) {
		free(metrics[i].name);
		free(metrics[i].labels);
	}
	free(metrics);
	metrics = NULL;
	n_metrics = cap_metrics = 0;
	pthread_mutex_unlock(&lock);
}
