/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NVR channel routes (vendor_routes.h). One entry per camera with a channel, in three chained hash
 * tables (by device and channel, by camera id, by device and source token when it has one), and one
 * counter per device of its channels. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/metrics.h"
#include "alarmgw/vendor_routes.h"

struct route {
	char *camera_id, *device, *token;
	int channel;
	struct route *next_key, *next_id, *next_tok;
};

/* how many channel routes a device has (has_channels) */
struct device_count {
	char *device;
	unsigned n;
	struct device_count *next;
};

struct agw_vendor_routes {
	struct route **by_key, **by_id, **by_tok;
	struct device_count **devices;
	size_t n_buckets, n;
};

#define INITIAL_BUCKETS 64

static uint64_t hash_str(const char *s, uint64_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL; /* FNV-1a */
	return h;
}

static size_t key_slot(const struct agw_vendor_routes *r, const char *device, int channel)
{
	return (size_t)(hash_str(device, 14695981039346656037ULL) ^ ((uint64_t)channel * 0x9E3779B97F4A7C15ULL)) &
	       (r->n_buckets - 1);
}

static size_t tok_slot(const struct agw_vendor_routes *r, const char *device, const char *token)
{
	return (size_t)hash_str(token, hash_str(device, 14695981039346656037ULL) * 31) & (r->n_buckets - 1);
}

static size_t str_slot(const struct agw_vendor_routes *r, const char *s)
{
	return (size_t)hash_str(s, 14695981039346656037ULL) & (r->n_buckets - 1);
}

int agw_vendor_routes_new(struct agw_vendor_routes **ret)
{
	struct agw_vendor_routes *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->n_buckets = INITIAL_BUCKETS;
	r->by_key = calloc(r->n_buckets, sizeof(*r->by_key));
	r->by_id = calloc(r->n_buckets, sizeof(*r->by_id));
	r->by_tok = calloc(r->n_buckets, sizeof(*r->by_tok));
	r->devices = calloc(r->n_buckets, sizeof(*r->devices));
	if (!r->by_key || !r->by_id || !r->by_tok || !r->devices) {
		agw_vendor_routes_free(r);
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}

void agw_vendor_routes_free(struct agw_vendor_routes *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->by_id && i < r->n_buckets; i++)
		for (struct route *e = r->by_id[i], *next; e; e = next) {
			next = e->next_id;
			free(e->camera_id);
			free(e->device);
			free(e->token);
			free(e);
		}
	for (size_t i = 0; r->devices && i < r->n_buckets; i++)
		for (struct device_count *d = r->devices[i], *next; d; d = next) {
			next = d->next;
			free(d->device);
			free(d);
		}
	free(r->by_key);
	free(r->by_id);
	free(r->by_tok);
	free(r->devices);
	free(r);
}

/* Doubles the tables when they hold as many entries as buckets (chains stay short). */
static void grow(struct agw_vendor_routes *r)
{
	size_t nb = r->n_buckets * 2;
	struct route **bk = calloc(nb, sizeof(*bk)), **bi = calloc(nb, sizeof(*bi)), **bt = calloc(nb, sizeof(*bt));
	struct device_count **bd = calloc(nb, sizeof(*bd));
	if (!bk || !bi || !bt || !bd) {
		/* out of memory: longer chains, still correct */
		free(bk);
		free(bi);
		free(bt);
		free(bd);
		return;
	}
	struct agw_vendor_routes old = *r;
	r->by_key = bk;
	r->by_id = bi;
	r->by_tok = bt;
	r->devices = bd;
	r->n_buckets = nb;
	for (size_t i = 0; i < old.n_buckets; i++) {
		for (struct route *e = old.by_id[i], *next; e; e = next) {
			next = e->next_id;
			size_t k = key_slot(r, e->device, e->channel), s = str_slot(r, e->camera_id);
			e->next_key = r->by_key[k];
			r->by_key[k] = e;
			e->next_id = r->by_id[s];
			r->by_id[s] = e;
			if (e->token) {
				size_t t = tok_slot(r, e->device, e->token);
				e->next_tok = r->by_tok[t];
				r->by_tok[t] = e;
			}
		}
		for (struct device_count *d = old.devices[i], *next; d; d = next) {
			next = d->next;
			size_t s = str_slot(r, d->device);
			d->next = r->devices[s];
			r->devices[s] = d;
		}
	}
	free(old.by_key);
	free(old.by_id);
	free(old.by_tok);
	free(old.devices);
}

static struct device_count **device_find(const struct agw_vendor_routes *r, const char *device)
{
	struct device_count **pp = &r->devices[str_slot(r, device)];
	for (; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->device, device))
			break;
	return pp;
}

static struct route *key_find(const struct agw_vendor_routes *r, const char *device, int channel)
{
	for (struct route *e = r->by_key[key_slot(r, device, channel)]; e; e = e->next_key)
		if (e->channel == channel && !strcmp(e->device, device))
			return e;
	return NULL;
}

int agw_vendor_routes_add(struct agw_vendor_routes *r, const struct agw_camera *camera)
{
	if (camera->channel <= 0)
		return 0;
	const char *device = camera->device ? camera->device : camera->id;
	if (key_find(r, device, camera->channel))
		return -EEXIST;
	if (r->n >= r->n_buckets)
		grow(r);
	struct route *e = calloc(1, sizeof(*e));
	struct device_count **dp = device_find(r, device), *d = *dp;
	if (!d && e && (d = calloc(1, sizeof(*d))) && !(d->device = strdup(device))) {
		free(d);
		d = NULL;
	}
	if (!e || !d || !(e->camera_id = strdup(camera->id)) || !(e->device = strdup(device)) ||
	    (camera->source_token && !(e->token = strdup(camera->source_token)))) {
		if (d && !*dp) {
			free(d->device);
			free(d);
		}
		if (e) {
			free(e->camera_id);
			free(e->device);
		}
		free(e);
		return -ENOMEM;
	}
	if (!*dp)
		*dp = d;
	d->n++;
	e->channel = camera->channel;
	size_t k = key_slot(r, device, e->channel), s = str_slot(r, e->camera_id);
	e->next_key = r->by_key[k];
	r->by_key[k] = e;
	e->next_id = r->by_id[s];
	r->by_id[s] = e;
	if (e->token) {
		size_t t = tok_slot(r, device, e->token);
		e->next_tok = r->by_tok[t];
		r->by_tok[t] = e;
	}
	r->n++;
	return 0;
}

void agw_vendor_routes_remove(struct agw_vendor_routes *r, const char *camera_id)
{
	struct route **pp = &r->by_id[str_slot(r, camera_id)];
	for (; *pp && strcmp((*pp)->camera_id, camera_id); pp = &(*pp)->next_id)
		;
	struct route *e = *pp;
	if (!e)
		return;
	*pp = e->next_id;
	for (pp = &r->by_key[key_slot(r, e->device, e->channel)]; *pp != e; pp = &(*pp)->next_key)
		;
	*pp = e->next_key;
	if (e->token) {
		for (pp = &r->by_tok[tok_slot(r, e->device, e->token)]; *pp != e; pp = &(*pp)->next_tok)
			;
		*pp = e->next_tok;
	}
	struct device_count **dp = device_find(r, e->device), *d = *dp;
	if (d && --d->n == 0) {
		*dp = d->next;
		free(d->device);
		free(d);
	}
	r->n--;
	free(e->camera_id);
	free(e->device);
	free(e->token);
	free(e);
}

/* The normalizers write channels as decimal numbers; anything else names no row. */
static int channel_number(const char *s)
{
	int v = 0;
	if (!s || !*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000)
			return 0;
		v = v * 10 + (*s - '0');
	}
	return v;
}

const char *agw_vendor_routes_find(const struct agw_vendor_routes *r, const char *device_id, const char *channel)
{
	int ch = channel_number(channel);
	const struct route *e = ch > 0 ? key_find(r, device_id, ch) : NULL;
	return e ? e->camera_id : NULL;
}

const char *agw_vendor_routes_find_token(const struct agw_vendor_routes *r, const char *device_id, const char *token,
					 int *ret_channel)
{
	for (const struct route *e = r->by_tok[tok_slot(r, device_id, token)]; e; e = e->next_tok)
		if (!strcmp(e->token, token) && !strcmp(e->device, device_id)) {
			*ret_channel = e->channel;
			return e->camera_id;
		}
	return NULL;
}

const char *agw_vendor_routes_device_of(const struct agw_vendor_routes *r, const char *camera_id, int *ret_channel)
{
	for (const struct route *e = r->by_id[str_slot(r, camera_id)]; e; e = e->next_id)
		if (!strcmp(e->camera_id, camera_id)) {
			*ret_channel = e->channel;
			return e->device;
		}
	return NULL;
}

bool agw_vendor_routes_has_channels(const struct agw_vendor_routes *r, const char *device_id)
{
	return *device_find(r, device_id) != NULL;
}

#define MAX_LABELLED_CHANNEL 4096 /* beyond (or not a number): channel="other", so labels stay bounded */

const char *agw_vendor_routes_route(const struct agw_vendor_routes *r, const char *adapter, const char *device_id,
				    const struct agw_alert *alert)
{
	const char *ch = agw_items_get(&alert->source, "channel");
	if (!ch || !*ch)
		return device_id;
	const char *cam = agw_vendor_routes_find(r, device_id, ch);
	if (cam)
		return cam;
	if (agw_vendor_routes_has_channels(r, device_id)) {
		int n = channel_number(ch);
		char labels[200];
		if (n > 0 && n <= MAX_LABELLED_CHANNEL)
			snprintf(labels, sizeof(labels), "adapter=\"%s\",device=\"%s\",channel=\"%d\"", adapter, device_id, n);
		else
			snprintf(labels, sizeof(labels), "adapter=\"%s\",device=\"%s\",channel=\"other\"", adapter, device_id);
		agw_metric_add("agw_unrouted_channel_alerts_total", labels, 1);
	}
	return device_id;
}
