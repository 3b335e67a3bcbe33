/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Evidence snapshots of HTTP devices (the Dahua snapshot CGI, the ISAPI picture of a channel),
 * for an adapter's snapshot() hook: which device and channel serve a ledger camera (a channel row
 * is served by its device row's address and credentials), one bounded Digest GET per capture
 * (alarmgw/http_get.h) on the adapter's curl loop. */
#ifndef ALARMGW_VENDOR_SNAPSHOT_H
#define ALARMGW_VENDOR_SNAPSHOT_H

#include <stdbool.h>

#include "alarmgw/adapter.h"
#include "alarmgw/curl_loop.h"

struct agw_vendor_snapshots;

/* The request path is path_pre, the channel as the device counts it (the camera's 1-based channel
 * times chan_mul plus chan_add), path_post: ("/cgi-bin/snapshot.cgi?channel=", "", 1, 0) asks
 * channel=1; ("/ISAPI/Streaming/channels/", "/picture", 100, 1) asks channels/101/picture. */
int agw_vendor_snapshots_new(const char *path_pre, const char *path_post, int chan_mul, int chan_add, bool tls_verify,
			     const char *ca_file, struct agw_vendor_snapshots **ret);
/* Cancels what runs (done is not called) and frees. */
void agw_vendor_snapshots_free(struct agw_vendor_snapshots *v);
int agw_vendor_snapshots_add(struct agw_vendor_snapshots *v, const struct agw_camera *camera);
void agw_vendor_snapshots_remove(struct agw_vendor_snapshots *v, const char *camera_id);
/* snapshot() and snapshot_cancel() of the adapter, on its curl loop: the channel is the alert's
 * (s->channel), else the camera row's, else 1. -ENOTSUP for an unknown camera. */
int agw_vendor_snapshots_start(struct agw_vendor_snapshots *v, struct agw_curl_loop *http, struct agw_snapshot *s);
void agw_vendor_snapshots_cancel(struct agw_vendor_snapshots *v, struct agw_snapshot *s);
/* Cancels every running capture without done (the adapter is stopping: the core has already
 * cancelled its own). */
void agw_vendor_snapshots_cancel_all(struct agw_vendor_snapshots *v);

#endif
