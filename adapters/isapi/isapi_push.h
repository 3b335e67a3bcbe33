/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ISAPI push mode: devices configured with an httpHosts entry POST their EventNotificationAlert
 * documents (XML, JSON, or multipart with pictures) to this listener instead of (or beside) the
 * alertStream the gateway pulls. libuv on the loop, one request per connection.
 *
 * - Who: only peers whose IP address is the host of a device row of the ledger (403 otherwise,
 *   counted); when the listener is not on loopback, every request also needs HTTP Digest with the
 *   configured credentials (the httpHosts "MD5digest" method); new() refuses a non-loopback
 *   listener without them.
 * - Bounds: the head (max_head, 431), the body (max_body, 413 before a byte of it is read; the
 *   multipart parts within it by the same bound), a deadline for the whole request (timeout, 408),
 *   open connections (max_connections: beyond, closed at once), and the bodies held at once
 *   (max_buffered: a post that would pass it gets 503, posted again later). Each refusal is counted in
 *   agw_push_refused_total{adapter,reason}.
 * - Acknowledgement: each event goes to the core with emit_durable(); 200 only once every event of
 *   the request is journaled (done(0)); 503 with Retry-After when the core pushes back (-EAGAIN) or
 *   is stopping, so the device keeps the event and posts it again. A request that carries no event
 *   (a heartbeat) gets 200 at once; one whose body cannot be read at all gets 400 with the offset.
 * - Routing: the device is the ledger row of the peer's address; each event goes to the camera of
 *   its channel (vendor_routes.h), as for the alertStream. */
#ifndef AGW_ISAPI_PUSH_H
#define AGW_ISAPI_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "alarmgw/adapter.h"
#include "alarmgw/vendor_routes.h"
#include "alarmgw/vendor_unmatched.h"
#include "alarmgw/vendor_table.h"

struct agw_isapi_push_config {
	const char *listen;        /* "host:port", "[v6]:port" */
	const char *path;          /* the path devices post to (httpHosts url) */
	const char *username, *password, *realm; /* Digest; username NULL: none (loopback only) */
	size_t max_head, max_body;
	int64_t timeout_ms;        /* for the whole request, head and body */
	int max_connections;
	size_t max_buffered;       /* bytes of bodies held at once, over all connections */
	const struct agw_vendor_table *table;
	struct agw_vendor_routes *routes; /* the adapter's, shared with its pull */
	struct agw_vendor_unmatched *unmatched; /* the adapter's too (vendor_unmatched.h) */
};

struct agw_isapi_push;

/* Checks the configuration without a core (`alarmgw check`): the address, the path, credentials
 * off loopback. Returns 0, or -EINVAL with the reason in err. */
int agw_isapi_push_check(const struct agw_isapi_push_config *cfg, char *err, size_t errlen);
/* Checks the configuration (as agw_isapi_push_check, and a core with emit_durable).
 * Returns 0, or -EINVAL with the reason in err. cfg's strings, table and routes must outlive it. */
int agw_isapi_push_new(const struct agw_isapi_push_config *cfg, struct agw_adapter_ctx *ctx,
		       struct agw_isapi_push **ret, char *err, size_t errlen);
/* Device rows (no device column) are the peers allowed to post; channel rows are ignored. */
int agw_isapi_push_add(struct agw_isapi_push *p, const struct agw_camera *camera);
void agw_isapi_push_remove(struct agw_isapi_push *p, const char *camera_id);
/* Binds and listens. Returns 0 or a negative errno (the address is logged). */
int agw_isapi_push_start(struct agw_isapi_push *p);
/* The port it listens on (after start): for logs and tests. */
int agw_isapi_push_port(const struct agw_isapi_push *p);
/* Closes the listener and every connection; done(arg) once all handles are closed (maybe before
 * this returns); the listener is then freed. Requests still waiting for the journal get no answer
 * (the device posts them again). */
void agw_isapi_push_stop(struct agw_isapi_push *p, void (*done)(void *arg), void *arg);
/* Frees a listener that was never started. */
void agw_isapi_push_free(struct agw_isapi_push *p);

#endif
