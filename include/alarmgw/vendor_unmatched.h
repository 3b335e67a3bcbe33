/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NVR channels that no ledger row names, kept where an integrator finds them: an alert of such a
 * channel stays on its device (vendor_routes.h), and the channel is stored once per run as adapter
 * state "channel" under the key "<device>/<channel>", value {"device", "channel" (a number, or
 * null with the vendor's text in "name"), "first_unmatched_alarm_ms"}. `alarmgw channels
 * --unmatched` and the status page list it until a ledger row names the device and channel; the
 * first alarm's time of an earlier run stays. Shared by the live pull and the ISAPI push listener.
 * One synchronous store write per channel and run, the first time it is seen; at most
 * AGW_VENDOR_UNMATCHED_MAX channels per run are stored (the metric still counts the rest). */
#ifndef AGW_VENDOR_UNMATCHED_H
#define AGW_VENDOR_UNMATCHED_H

#include <stdint.h>

#include "alarmgw/adapter.h"
#include "alarmgw/vendor_routes.h"

#define AGW_VENDOR_UNMATCHED_MAX 4096

struct agw_vendor_unmatched;

int agw_vendor_unmatched_new(struct agw_vendor_unmatched **ret);
void agw_vendor_unmatched_free(struct agw_vendor_unmatched *u);
/* The alert's source "channel", when the device has channel rows and none of them is that channel
 * (the alert stays on the device), else NULL. */
const char *agw_vendor_unmatched_channel(const struct agw_vendor_routes *r, const char *device_id,
					 const struct agw_alert *alert);
/* Stores the channel unless this run already did. Returns 1 when stored now, 0 when already
 * known (or over the bound), negative errno when the store refused it. */
int agw_vendor_unmatched_note(struct agw_vendor_unmatched *u, struct agw_adapter_ctx *ctx, const char *adapter,
			      const char *device_id, const char *channel, int64_t when_ms);

#endif
