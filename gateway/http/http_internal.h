/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The status server's parts, shared by its files: http.c (start, stop, accepting), http_conn.c
 * (one connection: read a head, send an answer, linger), http_snapshot.c (store snapshots on the
 * worker pool), http_routes.c (what each path answers), http_sse.c (live updates) and
 * http_assets.c (the page's files and Leaflet). */
#ifndef ALARMGW_HTTP_INTERNAL_H
#define ALARMGW_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "http.h"
#include "http_request.h"
#include "status.h"

#define AGW_HTTP_COMPONENT "http"
#define AGW_HTTP_MAX_SSE 16          /* live pages at once; more get 503 */
#define AGW_HTTP_SSE_INTERVAL_MS 2000 /* how often live pages are told about a change */
#define AGW_HTTP_SSE_PING_MS 15000    /* a comment line so a dead client is noticed */

enum agw_http_conn_state {
	CONN_READING,
	CONN_WAITING, /* for a status snapshot */
	CONN_WRITING,
	CONN_LINGER,
	CONN_SSE,     /* a live page: open until the client leaves */
	CONN_EVIDENCE, /* for a picture read on the worker pool */
	CONN_CLOSING,
};

enum agw_http_route {
	ROUTE_PAGE,
	ROUTE_TABLE,
	ROUTE_METRICS,
	ROUTE_HEALTHZ,
	ROUTE_API_STATUS,
	ROUTE_API_SUMMARY,
	ROUTE_API_CAMERAS,
	ROUTE_API_CASES,
	ROUTE_API_POINTS,
	ROUTE_API_GRID,
	ROUTE_EVENTS,
	ROUTE_ASSET,
	ROUTE_EVIDENCE,
};

struct agw_http_conn {
	struct agw_http *http;
	struct agw_http_conn *prev, *next;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t write_req;
	uv_shutdown_t shutdown_req;
	enum agw_http_conn_state state;
	int open_handles;
	enum agw_http_route route;
	bool head; /* HEAD: headers only */
	const char *csp;  /* for this answer; NULL: data only */
	const char *cache; /* Cache-Control of this answer; NULL: no-store */
	struct agw_http_evidence_job *evidence; /* in flight for it, or NULL */
	const char *lang; /* "zh" or "en" */
	const char *query; /* into req, or NULL */
	size_t query_len;
	int asset;         /* ROUTE_ASSET: index into the asset table */
	size_t len;
	char *response;
	size_t response_len, header_len;
	bool sse;          /* counted as a live page */
	bool sse_writing;  /* a live update is being written */
	uint64_t sse_write_at;
	int64_t sse_sent;  /* the change number last told */
	char sse_buf[160];
	struct ssl_st *ssl; /* HTTPS (http_tls.c), or NULL */
	char *tls_in;       /* ciphertext read buffer of a TLS connection */
	char req[AGW_HTTP_MAX_REQUEST + 1];
};

struct agw_http_job;
struct agw_http_evidence_job;

struct agw_http_asset {
	const char *path;  /* "/static/app.js" */
	const char *type;
	const char *data;  /* embedded, or read at start (Leaflet); NULL when missing */
	size_t len;
	char *owned;       /* what was read */
};

struct agw_http {
	uv_loop_t *loop;
	struct agw_store *store;
	uv_tcp_t listener;
	bool listener_open;
	int port;
	bool healthy;
	bool (*health_fn)(void *arg);
	void *health_arg;
	bool stopping;
	void (*done)(void *arg);
	void *done_arg;
	struct agw_http_conn *conns;
	size_t n_conns;
	struct agw_http_job *job;  /* in flight, or NULL */
	size_t n_evidence;         /* picture reads in flight */
	char *state_dir;           /* where the evidence files are, or NULL */
	struct agw_health_tracker *tracker; /* used by one snapshot at a time: the job in flight */
	struct agw_status *cached; /* last good snapshot */
	uint64_t cached_at;        /* uv_now() when it was taken */
	uint64_t snapshot_no;      /* bumped with each new snapshot */
	char *points;              /* /api/points of snapshot points_no: the map's 10,000 points are */
	size_t points_len;         /* rendered once per snapshot, whatever the number of pages */
	uint64_t points_no;
	bool cache_valid;
	int last_collect_ret;      /* of the last finished collection */
	struct agw_http_access access; /* Host names and token; points at the strings below */
	char *token;
	struct ssl_ctx_st *tls_ctx; /* HTTPS, or NULL */
	struct agw_evidence_url_key *url_key; /* signed evidence links, or NULL */
	char **hosts;
	size_t n_hosts;
	/* the page */
	char *time_zone;
	char *tile_url;
	char *page_csp;
	struct agw_http_asset *assets;
	size_t n_assets;
	char leaflet_error[320];   /* why the map cannot be drawn, or "" */
	bool broker_seen, broker_connected;
	int64_t broker_down_ms;
	/* live pages */
	uv_timer_t sse_timer;
	bool sse_timer_open;
	size_t n_sse;
	int64_t change;            /* bumped when a snapshot differs from the one before */
	char change_key[160];
	uint64_t sse_ping_at;
};

/* http_conn.c */
void agw_http_conn_close(struct agw_http_conn *c);
void agw_http_count_error(const char *reason);
/* Sends code with body (owned: freed with the connection). extra: more header lines or "". */
void agw_http_send(struct agw_http_conn *c, int code, const char *type, const char *extra, char *body, size_t body_len);
void agw_http_send_text(struct agw_http_conn *c, int code, const char *text, const char *extra);
void agw_http_refuse(struct agw_http_conn *c, int code, const char *reason, const char *text, const char *extra);
void agw_http_on_connection(uv_stream_t *server, int status);
void agw_http_maybe_done(struct agw_http *h);
/* http.c */
void agw_http_free(struct agw_http *h);

/* http_snapshot.c */
bool agw_http_cache_fresh(struct agw_http *h);
void agw_http_collect_start(struct agw_http *h);
void agw_http_snapshot_wait(struct agw_http_conn *c);
/* A snapshot not yet started is cancelled; one running finishes on the worker and is dropped. */
void agw_http_collect_cancel(struct agw_http *h);

/* http_routes.c */
/* Routes a parsed request; returns after an answer is sent or a snapshot is awaited. */
void agw_http_route(struct agw_http_conn *c, const struct agw_http_request *req);
/* Answers c's route from the cached snapshot (or waits for one). */
void agw_http_respond(struct agw_http_conn *c);

/* http_sse.c */
int agw_http_sse_init(struct agw_http *h);
void agw_http_sse_close(struct agw_http *h);
void agw_http_sse_start(struct agw_http_conn *c);
void agw_http_sse_notify(struct agw_http *h); /* a snapshot arrived */
void agw_http_sse_gone(struct agw_http_conn *c); /* its connection closed */

/* http_evidence.c */
void agw_http_evidence_start(struct agw_http_conn *c, const struct agw_http_request *req);
void agw_http_evidence_gone(struct agw_http_conn *c); /* its connection closed */

/* http_assets.c */
int agw_http_assets_load(struct agw_http *h, const char *leaflet_dir);
void agw_http_assets_free(struct agw_http *h);
int agw_http_asset_find(const struct agw_http *h, const char *path, size_t len);
/* The page itself, in lang. */
int agw_http_page_html(const struct agw_http *h, const char *lang, char **ret_text, size_t *ret_len);

#endif
