/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NVR channels: which ledger camera an alert of a device's channel belongs to. The ledger's
 * channel rows name their device row and their 1-based channel (struct agw_camera's device and
 * channel); a device row may carry a channel of its own. Shared by the live pull and the ISAPI
 * push listener, so both route the same way. Hash tables by (device, channel) and by camera id:
 * a city's ledger (100,000 rows) adds, looks up and removes in constant time. No I/O. */
#ifndef AGW_VENDOR_ROUTES_H
#define AGW_VENDOR_ROUTES_H

#include <stdbool.h>

#include "alarmgw/adapter.h"

struct agw_vendor_routes;

int agw_vendor_routes_new(struct agw_vendor_routes **ret);
void agw_vendor_routes_free(struct agw_vendor_routes *r);
/* Remembers the camera's channel, if it has one (a camera without a channel is ignored: 0).
 * -EEXIST when the (device, channel) is already another camera's (the ledger prevents it). */
int agw_vendor_routes_add(struct agw_vendor_routes *r, const struct agw_camera *camera);
void agw_vendor_routes_remove(struct agw_vendor_routes *r, const char *camera_id);
/* The camera of a device's channel ("7", as the normalizers write it), or NULL. */
const char *agw_vendor_routes_find(const struct agw_vendor_routes *r, const char *device_id, const char *channel);
/* The camera whose ledger row names this source token of the device (struct agw_camera's
 * source_token), with its channel in *ret_channel; NULL (and *ret_channel untouched) when none does. */
const char *agw_vendor_routes_find_token(const struct agw_vendor_routes *r, const char *device_id, const char *token,
					 int *ret_channel);
/* The device whose channel this camera is (its own id for a device row with a channel), with the
 * channel in *ret_channel; NULL (and *ret_channel untouched) for a camera without a channel. */
const char *agw_vendor_routes_device_of(const struct agw_vendor_routes *r, const char *camera_id, int *ret_channel);
/* Whether any ledger row names a channel of this device (its own row included): the device is an
 * NVR in the ledger's eyes, and an alert on a channel no row names is worth counting. */
bool agw_vendor_routes_has_channels(const struct agw_vendor_routes *r, const char *device_id);

/* The camera an alert of this device belongs to: the row of its source "channel", else the
 * device itself. An alert on a channel that no row names while the device has channel rows stays
 * on the device (its source keeps the channel) and is counted in
 * agw_unrouted_channel_alerts_total{adapter,device,channel} (the status page lists them). */
const char *agw_vendor_routes_route(const struct agw_vendor_routes *r, const char *adapter, const char *device_id,
				    const struct agw_alert *alert);

#endif
