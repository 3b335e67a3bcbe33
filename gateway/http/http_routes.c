/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What each path answers. The page and its files need no snapshot; everything else is served
 * from the shared snapshot (at most STATUS_CACHE_MS old), so a wall of browsers costs one store
 * read a second whatever they ask. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/metrics.h"
#include "http_evidence.h"
#include "http_internal.h"
#include "status_page.h"

#define PAGE_MAX_CAMERAS 2000 /* rows of the plain table */
/* The plain table needs nothing but itself and its one <style> block: no script runs, nothing
 * loads, nobody frames it. */
#define TABLE_CSP "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#define JSON_TYPE "application/json"

static const struct {
	const char *path;
	enum agw_http_route route;
} routes[] = {
	{"/", ROUTE_PAGE},
	{"/table", ROUTE_TABLE},
	{"/metrics", ROUTE_METRICS},
	{"/healthz", ROUTE_HEALTHZ},
	{"/api/status", ROUTE_API_STATUS},
	{"/api/summary", ROUTE_API_SUMMARY},
	{"/api/cameras", ROUTE_API_CAMERAS},
	{"/api/cases", ROUTE_API_CASES},
	{"/api/points", ROUTE_API_POINTS},
	{"/api/grid", ROUTE_API_GRID},
	{"/api/events", ROUTE_EVENTS},
};

void agw_http_route(struct agw_http_conn *c, const struct agw_http_request *req)
{
	struct agw_http *h = c->http;
	c->head = req->head;
	c->query = req->query;
	c->query_len = req->query_len;
	c->lang = agw_http_pick_language(req->accept_language, req->accept_language_len);
	bool found = false;
	for (size_t i = 0; !found && i < sizeof(routes) / sizeof(routes[0]); i++) {
		found = req->path_len == strlen(routes[i].path) && memcmp(req->path, routes[i].path, req->path_len) == 0;
		c->route = routes[i].route;
	}
	if (!found && req->path_len > strlen(AGW_HTTP_EVIDENCE_PREFIX) &&
	    memcmp(req->path, AGW_HTTP_EVIDENCE_PREFIX, strlen(AGW_HTTP_EVIDENCE_PREFIX)) == 0) {
		c->route = ROUTE_EVIDENCE;
		uv_read_stop((uv_stream_t *)&c->tcp);
		agw_http_evidence_start(c, req);
		return;
	}
	if (!found && (c->asset = agw_http_asset_find(h, req->path, req->path_len)) >= 0) {
		found = true;
		c->route = ROUTE_ASSET;
	}
	if (!found) {
		agw_metric_add("agw_http_errors_total", "reason=\"not_found\"", 1);
		agw_http_send_text(c, 404, "not found; try /, /table, /metrics, /healthz, /api/status or /evidence/<case>/<n>\n", "");
		return;
	}
	uv_read_stop((uv_stream_t *)&c->tcp);
	agw_http_respond(c);
}

/* A query parameter into buf ("" when absent). Returns false (and answers 400) when malformed. */
static bool param(struct agw_http_conn *c, const char *name, char *buf, size_t len)
{
	int r = agw_http_query_get(c->query, c->query_len, name, buf, len);
	if (r == -ENOENT)
		buf[0] = '\0';
	if (r >= 0 || r == -ENOENT)
		return true;
	char text[160];
	snprintf(text, sizeof(text), "query parameter %s: a bad %%-escape, a NUL or longer than %zu bytes", name, len - 1);
	agw_http_refuse(c, 400, "bad_query", text, "");
	return false;
}

/* offset and limit: decimal, limit at most AGW_PAGE_LIMIT_MAX. */
static bool paging(struct agw_http_conn *c, size_t *offset, size_t *limit)
{
	char o[16], l[16];
	if (!param(c, "offset", o, sizeof(o)) || !param(c, "limit", l, sizeof(l)))
		return false;
	char *end;
	unsigned long long ov = strtoull(o, &end, 10);
	bool ok = *end == '\0' && o[0] != '-';
	unsigned long long lv = l[0] ? strtoull(l, &end, 10) : AGW_PAGE_LIMIT_DEFAULT;
	ok = ok && *end == '\0' && l[0] != '-' && lv >= 1 && lv <= AGW_PAGE_LIMIT_MAX && ov <= 100000000;
	if (!ok) {
		agw_http_refuse(c, 400, "bad_query", "offset must be a number, limit 1 to 500", "");
		return false;
	}
	*offset = (size_t)ov;
	*limit = (size_t)lv;
	return true;
}

/* Camera filters: the same for /api/cameras and /api/status. Values live in bufs. */
struct filter_bufs {
	char q[128], cell[128], state[32], vendor[64], protocol[32];
};

static bool filters(struct agw_http_conn *c, struct filter_bufs *b, struct agw_status_filter *f)
{
	if (!param(c, "q", b->q, sizeof(b->q)) || !param(c, "cell", b->cell, sizeof(b->cell)) ||
	    !param(c, "state", b->state, sizeof(b->state)) || !param(c, "vendor", b->vendor, sizeof(b->vendor)) ||
	    !param(c, "protocol", b->protocol, sizeof(b->protocol)))
		return false;
	*f = (struct agw_status_filter){.q = b->q, .cell = b->cell, .state = b->state, .vendor = b->vendor,
					.protocol = b->protocol};
	return true;
}

static int api_status(struct agw_http_conn *c, const struct agw_status *s, char **text, size_t *len)
{
	struct filter_bufs b;
	struct agw_status_filter f;
	size_t offset = 0, limit = SIZE_MAX;
	char probe[16];
	/* Without paging parameters every camera, as before the page grew its filters. */
	bool paged = agw_http_query_get(c->query, c->query_len, "limit", probe, sizeof(probe)) != -ENOENT ||
		     agw_http_query_get(c->query, c->query_len, "offset", probe, sizeof(probe)) != -ENOENT;
	if ((paged && !paging(c, &offset, &limit)) || !filters(c, &b, &f))
		return 1;
	return agw_status_to_json_page(s, &f, offset, limit, text, len);
}

static int points(struct agw_http *h, const struct agw_status *s, char **text, size_t *len)
{
	if (!h->points || h->points_no != h->snapshot_no) {
		char *fresh;
		size_t n;
		int r = agw_page_points(s, &fresh, &n);
		if (r < 0)
			return r;
		free(h->points);
		h->points = fresh;
		h->points_len = n;
		h->points_no = h->snapshot_no;
	}
	*text = malloc(h->points_len + 1);
	if (!*text)
		return -ENOMEM;
	memcpy(*text, h->points, h->points_len + 1);
	*len = h->points_len;
	return 0;
}

/* Answers a data route from snapshot s into *text. Returns 1 when an answer (400) was sent. */
static int render(struct agw_http_conn *c, const struct agw_status *s, char **text, size_t *len)
{
	struct agw_http *h = c->http;
	struct filter_bufs b;
	struct agw_status_filter f;
	size_t offset, limit;
	switch (c->route) {
	case ROUTE_API_STATUS:
		return api_status(c, s, text, len);
	case ROUTE_API_SUMMARY: {
		struct agw_page_context ctx = {
			.time_zone = h->time_zone, .tile_url = h->tile_url, .lang = c->lang,
			.map = !h->leaflet_error[0], .broker = h->broker_seen, .broker_connected = h->broker_connected,
			.broker_down_ms = h->broker_down_ms};
		return agw_page_summary(s, &ctx, text, len);
	}
	case ROUTE_API_CAMERAS:
		if (!filters(c, &b, &f) || !paging(c, &offset, &limit))
			return 1;
		return agw_page_cameras(s, &f, offset, limit, text, len);
	case ROUTE_API_CASES: {
		char camera[128];
		if (!param(c, "cell", b.cell, sizeof(b.cell)) || !param(c, "camera", camera, sizeof(camera)) ||
		    !paging(c, &offset, &limit))
			return 1;
		return agw_page_cases(s, b.cell, camera, offset, limit, text, len);
	}
	case ROUTE_API_POINTS:
		return points(h, s, text, len);
	case ROUTE_API_GRID:
		*text = s->grid ? strndup(s->grid->geojson, s->grid->geojson_len)
				: strdup("{\"type\":\"FeatureCollection\",\"features\":[]}");
		*len = *text ? strlen(*text) : 0;
		return *text ? 0 : -ENOMEM;
	case ROUTE_TABLE:
		return agw_status_to_html(s, 10, PAGE_MAX_CAMERAS, text, len);
	default:
		return -EINVAL;
	}
}

/* Answers that need no snapshot. Returns false when c needs one. */
static bool respond_static(struct agw_http_conn *c)
{
	struct agw_http *h = c->http;
	char *text = NULL;
	size_t len = 0;
	switch (c->route) {
	case ROUTE_HEALTHZ:
		if (h->health_fn ? h->health_fn(h->health_arg) : h->healthy)
			agw_http_send_text(c, 200, "ok\n", "");
		else
			agw_http_send_text(c, 503, "unhealthy\n", "");
		return true;
	case ROUTE_PAGE:
		c->csp = h->page_csp;
		if (agw_http_page_html(h, c->lang, &text, &len) < 0)
			agw_http_send_text(c, 500, "out of memory\n", "");
		else
			agw_http_send(c, 200, "text/html; charset=utf-8", "Vary: Accept-Language\r\n", text, len);
		return true;
	case ROUTE_ASSET: {
		const struct agw_http_asset *a = &h->assets[c->asset];
		if (!a->data) {
			agw_http_refuse(c, 404, "asset_missing", h->leaflet_error, "");
			return true;
		}
		text = malloc(a->len ? a->len : 1);
		if (text)
			memcpy(text, a->data, a->len);
		if (!text)
			agw_http_send_text(c, 500, "out of memory\n", "");
		else
			agw_http_send(c, 200, a->type, "", text, a->len);
		return true;
	}
	case ROUTE_EVENTS:
		agw_http_sse_start(c);
		return true;
	default:
		return false;
	}
}

void agw_http_respond(struct agw_http_conn *c)
{
	struct agw_http *h = c->http;
	char *text = NULL;
	size_t len = 0;
	int r;
	if (respond_static(c))
		return;
	if (!agw_http_cache_fresh(h)) {
		agw_http_snapshot_wait(c);
		return;
	}
	bool ok = h->last_collect_ret >= 0 && h->cached;
	if (c->route == ROUTE_METRICS) {
		/* The counters are always served; store gauges only from a good snapshot. */
		r = agw_status_to_prometheus(ok ? h->cached : NULL, &text, &len);
		if (r == 0)
			agw_http_send(c, 200, "text/plain; version=0.0.4; charset=utf-8", "", text, len);
		else
			agw_http_send_text(c, 500, "out of memory\n", "");
		return;
	}
	if (!ok) {
		agw_http_send_text(c, 503, "the store cannot be read; see the journal\n", "");
		return;
	}
	r = render(c, h->cached, &text, &len);
	if (r == 1)
		return;
	if (r < 0) {
		agw_http_send_text(c, 500, "out of memory\n", "");
		return;
	}
	if (c->route == ROUTE_TABLE) {
		c->csp = TABLE_CSP;
		agw_http_send(c, 200, "text/html; charset=utf-8", "", text, len);
	} else {
		agw_http_send(c, 200, JSON_TYPE, "", text, len);
	}
}
