/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The operations HTTP server on the loop: GET /metrics (Prometheus text), /healthz, / (the
 * control-room page, its files under /static/ and its API under /api/), /evidence/<case>/<n>
 * (a case's pictures), /table (the plain
 * status table) and /api/status (JSON). HTTP/1.1, one request per connection, bounded
 * connections, request size and time, so a slow or hostile client never holds anything up.
 * The store is read on a read-only connection of its own on the libuv worker pool. */
#ifndef ALARMGW_HTTP_H
#define ALARMGW_HTTP_H

#include <stdbool.h>
#include <uv.h>

#include "store.h"

struct agw_http;

#define AGW_HTTP_MAX_CONNECTIONS 64
#define AGW_HTTP_MAX_REQUEST 8192   /* request line and headers; requests with a body are refused */
#define AGW_HTTP_TIMEOUT_MS 10000   /* to receive a whole request, and again to send the response */

struct agw_http_config {
	const char *listen;     /* "127.0.0.1:9108", "[::1]:9108" or "localhost:9108"; port 0 picks one */
	const char *token_file; /* a file holding the bearer token every path but /healthz needs, or NULL */
	const char *hosts;      /* Host names clients may use ("a.example, 10.1.2.3:9108"), or NULL for
				 * the loopback names with the bound port (what DNS rebinding cannot send) */
	const char *grid_layer; /* the layer the page's map and counts read; NULL: "default" */
	const char *time_zone;  /* IANA zone the page shows times in; NULL: Asia/Shanghai */
	const char *tile_url;   /* a map tile URL template ({z}/{x}/{y}); NULL: no tiles, the grid is the map */
	const char *leaflet_dir;/* where leaflet.js and leaflet.css are; NULL: Debian's libjs-leaflet */
	const char *state_dir;  /* the gateway's, where evidence pictures are (GET /evidence/...); NULL: none */
	const char *tls_cert;   /* PEM certificate chain and key: HTTPS (http_tls.h); NULL: plain HTTP */
	const char *tls_key;
	const char *url_key_file; /* signed evidence links (gateway/evidence/evidence_url.h); NULL: none */
};

/* Starts the server. A listen address that is not loopback needs token_file and hosts: without
 * them the server refuses to start. store is borrowed and must outlive the server. Returns 0 or
 * negative errno (logged). */
int agw_http_start_config(uv_loop_t *loop, const struct agw_http_config *cfg, struct agw_store *store,
			  struct agw_http **ret);
/* The same with only a listen address (loopback, no token). */
int agw_http_start(uv_loop_t *loop, const char *listen_addr, struct agw_store *store, struct agw_http **ret);
/* /healthz answers 200 while healthy (the default), 503 otherwise. */
void agw_http_set_health(struct agw_http *h, bool healthy);
/* Or ask on every /healthz: fn(arg) runs on the loop and returns whether the gateway is healthy
 * (the daemon's "journal writes succeed and not stopping"). NULL fn goes back to the flag. */
void agw_http_set_health_fn(struct agw_http *h, bool (*fn)(void *arg), void *arg);
/* The port actually bound (useful with port 0). */
int agw_http_port(const struct agw_http *h);
/* Closes the listener and every connection; done(arg) runs on the loop once all handles are
 * closed and the server is freed. NULL h calls nothing. */
void agw_http_stop(struct agw_http *h, void (*done)(void *arg), void *arg);

#endif
