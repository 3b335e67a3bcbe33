/* SPDX-License-Identifier: GPL-2.0-or-later */
/* See fastpull_diff.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fastpull_diff.h"
#include "onvif_events.h"
#include "onvif_normalize.h"

#define MAX_ALERTS 64

struct got {
	int rc, calls, stop_after; /* stop_after > 0: the consumer refuses that call */
	char err[512];
	struct agw_onvif_pull_info info;
	struct agw_alert v[MAX_ALERTS];
	size_t n;
};

static int collect(void *arg, struct agw_alert *a)
{
	struct got *g = arg;
	if (++g->calls == g->stop_after)
		return -EPIPE;
	if (g->n < MAX_ALERTS) {
		agw_alert_init(&g->v[g->n]);
		if (agw_alert_copy(&g->v[g->n++], a) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void got_clear(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		agw_alert_clear(&g->v[i]);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_items(const struct agw_items *a, const struct agw_items *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!same_str(a->v[i].name, b->v[i].name) || !same_str(a->v[i].value, b->v[i].value))
			return false;
	return true;
}

/* Prints what differs (every field is compared); returns the number of differences. */
static int compare_alert(const char *name, size_t i, const struct agw_alert *f, const struct agw_alert *g)
{
	const char *what = NULL;
	if (f->kind != g->kind)
		what = "kind";
	else if (f->active != g->active)
		what = "active";
	else if (f->operation != g->operation)
		what = "operation";
	else if (f->camera_time_ms != g->camera_time_ms)
		what = "camera_time";
	else if (!same_str(f->topic, g->topic))
		what = "topic";
	else if (!same_str(f->event_id, g->event_id))
		what = "event_id";
	else if (!same_items(&f->source, &g->source))
		what = "source";
	else if (!same_items(&f->key, &g->key))
		what = "key";
	else if (!same_items(&f->data, &g->data))
		what = "data";
	else if (!same_str(f->payload, g->payload))
		what = "payload";
	if (what)
		printf("DIFF %s: message %zu: %s (fast topic '%s', gSOAP topic '%s')\n", name, i, what,
		       f->topic ? f->topic : "", g->topic ? g->topic : "");
	return what ? 1 : 0;
}

int agw_fastpull_diff(struct soap *soap, const char *name, const char *buf, size_t len, int stop_after,
		      bool *ret_taken)
{
	struct got f = {.stop_after = stop_after}, g = {.stop_after = stop_after};
	f.rc = agw_onvif_normalize_soap(soap, buf, len, NULL, collect, &f, &f.info, f.err, sizeof(f.err));
	g.rc = agw_onvif_normalize_gsoap(soap, buf, len, NULL, collect, &g, &g.info, g.err, sizeof(g.err));
	int diff = 0;
	if (f.rc != g.rc || (f.rc < 0 && strcmp(f.err, g.err))) {
		printf("DIFF %s: fast %d '%s', gSOAP %d '%s'\n", name, f.rc, f.err, g.rc, g.err);
		diff++;
	} else if (f.n != g.n || f.calls != g.calls) {
		printf("DIFF %s: %zu alerts fast, %zu gSOAP\n", name, f.n, g.n);
		diff++;
	} else if (f.rc >= 0 && (strcmp(f.info.current_time, g.info.current_time) ||
				 strcmp(f.info.termination_time, g.info.termination_time))) {
		printf("DIFF %s: times fast %s/%s, gSOAP %s/%s\n", name, f.info.current_time, f.info.termination_time,
		       g.info.current_time, g.info.termination_time);
		diff++;
	}
	for (size_t i = 0; !diff && i < f.n; i++)
		diff += compare_alert(name, i, &f.v[i], &g.v[i]);
	got_clear(&f);
	got_clear(&g);
	char err[256];
	struct agw_onvif_fast_batch b;
	*ret_taken = agw_onvif_xml_check(buf, len, err, sizeof(err)) == 0 && agw_onvif_fast_read(buf, len, NULL, &b) == 0;
	if (*ret_taken)
		agw_onvif_fast_batch_clear(&b);
	return diff;
}

