/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NVR channels no ledger row names (vendor_unmatched.h): a set of the keys stored in this run
 * (open addressing, twice as many slots as keys), so that an NVR's flood of alerts on such a
 * channel costs a hash look-up each, and the store sees each channel once. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alarmgw/log.h"
#include "alarmgw/vendor_unmatched.h"

#define SLOTS (2 * AGW_VENDOR_UNMATCHED_MAX) /* a power of two */

struct agw_vendor_unmatched {
	char *slot[SLOTS];
	size_t n;
};

int agw_vendor_unmatched_new(struct agw_vendor_unmatched **ret)
{
	struct agw_vendor_unmatched *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	*ret = u;
	return 0;
}

void agw_vendor_unmatched_free(struct agw_vendor_unmatched *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < SLOTS; i++)
		free(u->slot[i]);
	free(u);
}

const char *agw_vendor_unmatched_channel(const struct agw_vendor_routes *r, const char *device_id,
					 const struct agw_alert *alert)
{
	const char *ch = agw_items_get(&alert->source, "channel");
	if (!ch || !*ch || !agw_vendor_routes_has_channels(r, device_id) || agw_vendor_routes_find(r, device_id, ch))
		return NULL;
	return ch;
}

/* The slot holding key, or the empty slot where it belongs. */
static char **slot_of(struct agw_vendor_unmatched *u, const char *key)
{
	uint64_t h = 14695981039346656037ULL;
	for (const char *s = key; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL; /* FNV-1a */
	for (size_t i = (size_t)h & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1))
		if (!u->slot[i] || !strcmp(u->slot[i], key))
			return &u->slot[i];
}

/* A channel as the normalizers write it (decimal), or 0 for anything else. */
static long channel_number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return *s >= '0' && *s <= '9' && !*end && v > 0 && v <= 100000 ? v : 0;
}

int agw_vendor_unmatched_note(struct agw_vendor_unmatched *u, struct agw_adapter_ctx *ctx, const char *adapter,
			      const char *device_id, const char *channel, int64_t when_ms)
{
	char key[256];
	if (!u || !ctx->state_put || !ctx->state_get ||
	    (size_t)snprintf(key, sizeof(key), "%s/%.64s", device_id, channel) >= sizeof(key))
		return 0;
	char **slot = slot_of(u, key);
	if (*slot || u->n >= AGW_VENDOR_UNMATCHED_MAX)
		return 0;
	if (!(*slot = strdup(key)))
		return -ENOMEM;
	u->n++;
	char *old = NULL;
	if (ctx->state_get(ctx, key, "channel", &old) == 0) {
		free(old); /* stored by an earlier run: its first alarm stays */
		return 0;
	}
	long n = channel_number(channel);
	json_t *o = json_pack("{s:s, s:o, s:o, s:I}", "device", device_id, "channel", n ? json_integer(n) : json_null(),
			      "name", n ? json_null() : json_string(channel), "first_unmatched_alarm_ms", (json_int_t)when_ms);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	int rc = text ? ctx->state_put(ctx, key, "channel", text) : -EINVAL; /* not UTF-8: not stored */
	free(text);
	if (rc < 0) {
		agw_log_warn(adapter, device_id, "channel %s, which no ledger row names, could not be stored: %s", channel,
			     strerror(-rc));
		return rc;
	}
	agw_log_notice(adapter, device_id, "events on channel %s, which no ledger row names: kept on the device "
		       "(alarmgw channels --unmatched)", channel);
	return 1;
}
