/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The channels of a Catalog answer (GB/T 28181 A.2.6: <Response><CmdType>Catalog</CmdType>
 * <SumNum/><DeviceList><Item>...), read from a parsed document into bounded records, and the JSON
 * the gateway stores for each (adapter state, read by `alarmgw gb28181 channels` and the status). */
#ifndef AGW_GB_CATALOG_H
#define AGW_GB_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "gb_manscdp.h"

#define AGW_GB_CHANNEL_TEXT_MAX 128 /* bytes kept of a name, model...: catalogs are device input */

struct agw_gb_channel {
	char id[21];
	char device[21];    /* the registered device whose catalog (or alarm) named it */
	char *name, *manufacturer, *model, *status, *parent_id, *civil_code;
	double lon, lat;    /* NAN when absent, unreadable, out of range, or 0,0 (devices' "no position") */
};

/* Reads the Items of a Catalog Response from device (an IP camera lists itself; an NVR its
 * channels; a platform its cameras and its tree's groups). Items without a 20-digit DeviceID (civil
 * codes, 2-8 digits, are tree nodes, not cameras) are skipped, counted in *ret_skipped. Returns the number of channels read into *ret (free with agw_gb_channels_free;
 * NULL when 0), -EINVAL when doc is not a Catalog Response, or -ENOMEM; *ret is set only on
 * success. */
int agw_gb_catalog_read(const struct agw_gb_doc *doc, const char *device, struct agw_gb_channel **ret,
			size_t *ret_skipped);
void agw_gb_channels_free(struct agw_gb_channel *v, size_t n);
void agw_gb_channel_clear(struct agw_gb_channel *c);

/* SumNum: how many Items the whole catalog has over all its messages; -1 when absent or not a
 * number in 0..1000000. */
long agw_gb_catalog_sum(const struct agw_gb_doc *doc);

/* The stored form: {"device":"...","name":"...",...,"longitude":..,"latitude":..} with the fields
 * present; first_alarm_ms (wall clock, 0: none) is when the channel first sent an alarm while no
 * ledger row had it. NULL on allocation failure. */
char *agw_gb_channel_json(const struct agw_gb_channel *c, int64_t first_alarm_ms);

#endif
