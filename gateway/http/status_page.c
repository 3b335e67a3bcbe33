/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control-room page's API: problems first, then where they are, then one page of rows.
 * Times are UTC ISO 8601 strings: the page shows them in the configured zone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/alert.h"
#include "alarmgw/metrics.h"
#include "status_page.h"

json_t *agw_page_time(int64_t ms)
{
	char tb[40];
	return ms == AGW_TIME_UNKNOWN ? json_null() : json_string(agw_time_format_ms(ms, tb, sizeof(tb)));
}

int agw_page_dump(json_t *root, char **ret_text, size_t *ret_len)
{
	/* 9 significant digits: a tenth of a metre in longitude and latitude, a third off the points. */
	char *text = root ? json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
	json_decref(root);
	if (!text)
		return -ENOMEM;
	*ret_text = text;
	*ret_len = strlen(text);
	return 0;
}

json_t *agw_page_camera(const struct agw_status_camera *c)
{
	return json_pack("{s:s,s:s?,s:s?,s:s?,s:s,s:o,s:o,s:o,s:o,s:s?,s:s?,s:I,s:o,s:o}", "id", c->id, "name",
			 c->name, "protocol", c->protocol, "vendor", c->vendor, "state", agw_camera_state_name(c->state),
			 "since", agw_page_time(c->since_ms), "subscribed", agw_page_time(c->subscribed_ms),
			 "last_event", agw_page_time(c->last_event_ms), "events_lost",
			 agw_page_time(c->events_lost_ms), "cell", c->cell_code, "cell_name",
			 c->cell ? c->cell->name : NULL, "open_cases", (json_int_t)c->open_cases, "lon",
			 c->located ? json_real(c->lon) : json_null(), "lat", c->located ? json_real(c->lat) : json_null());
}

/* One kind of trouble: how many, since when (the oldest), and the first few cameras. */
struct problem {
	const char *kind;
	int64_t count;
	int64_t since_ms;
	json_t *cameras;
};

static void problem_add(struct problem *p, const struct agw_status_camera *c, int64_t since)
{
	p->count++;
	if (since != AGW_TIME_UNKNOWN && (p->since_ms == AGW_TIME_UNKNOWN || since < p->since_ms))
		p->since_ms = since;
	if (p->cameras && json_array_size(p->cameras) < AGW_PAGE_PROBLEM_SHOWN)
		json_array_append_new(p->cameras, agw_page_camera(c));
}

static void problem_put(json_t *list, const char *kind, int64_t count, int64_t since_ms, json_t *detail)
{
	json_t *o = json_pack("{s:s,s:I,s:o}", "kind", kind, "count", (json_int_t)count, "since",
			      agw_page_time(since_ms));
	if (o && detail)
		json_object_set_new(o, "cameras", detail);
	else
		json_decref(detail);
	if (o && count)
		json_array_append_new(list, o);
	else
		json_decref(o);
}

/* Cameras: offline, event channel lost, never subscribed, events lost within the hour, never
 * heard from. */
static void camera_problems(const struct agw_status *s, json_t *list)
{
	struct problem p[] = {{"offline", 0, AGW_TIME_UNKNOWN, json_array()},
			      {"channel_lost", 0, AGW_TIME_UNKNOWN, json_array()},
			      {"never_subscribed", 0, AGW_TIME_UNKNOWN, json_array()},
			      {"events_lost", 0, AGW_TIME_UNKNOWN, json_array()},
			      {"never_heard", 0, AGW_TIME_UNKNOWN, json_array()}};
	for (size_t i = 0; i < s->n_cameras; i++) {
		const struct agw_status_camera *c = &s->cameras[i];
		if (c->state == AGW_CAMERA_OFFLINE)
			problem_add(&p[0], c, c->since_ms);
		else if (c->state == AGW_CAMERA_CHANNEL_LOST)
			problem_add(&p[1], c, c->since_ms);
		else if (c->state == AGW_CAMERA_NEVER_SUBSCRIBED)
			problem_add(&p[2], c, c->since_ms);
		else if (c->state == AGW_CAMERA_UNKNOWN)
			problem_add(&p[4], c, c->since_ms);
		if (c->events_lost_ms != AGW_TIME_UNKNOWN && s->generated_ms - c->events_lost_ms < AGW_STATUS_EVENTS_LOST_RECENT_MS)
			problem_add(&p[3], c, c->events_lost_ms);
	}
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		problem_put(list, p[i].kind, p[i].count, p[i].since_ms, p[i].cameras);
}

/* The value of name="..." in a metric's labels (no escapes: the labels are the gateway's own). */
static void label_value(const char *labels, const char *name, char *buf, size_t len)
{
	char key[32];
	snprintf(key, sizeof(key), "%s=\"", name);
	const char *p = labels ? strstr(labels, key) : NULL;
	const char *e = p ? strchr(p + strlen(key), '"') : NULL;
	buf[0] = '\0';
	if (e)
		snprintf(buf, len, "%.*s", (int)(e - p - strlen(key)), p + strlen(key));
}

struct unrouted {
	json_t *rows;
	int64_t count;
};

/* NVR channels no ledger row names, from agw_unrouted_channel_alerts_total (vendor_routes.c):
 * kept by the process, so since its start. */
static void unrouted_add(const char *name, const char *labels, int64_t value, void *arg)
{
	struct unrouted *u = arg;
	if (strcmp(name, "agw_unrouted_channel_alerts_total") != 0 || value <= 0)
		return;
	char adapter[64], device[128], channel[16];
	label_value(labels, "adapter", adapter, sizeof(adapter));
	label_value(labels, "device", device, sizeof(device));
	label_value(labels, "channel", channel, sizeof(channel));
	u->count++;
	if (u->rows && json_array_size(u->rows) < AGW_STATUS_PARKED_SHOWN)
		json_array_append_new(u->rows, json_pack("{s:s,s:s,s:s,s:I}", "adapter", adapter, "device", device,
							 "channel", channel, "alerts", (json_int_t)value));
}

/* Channels devices reported or sent alarms from that no ledger row names: stored ones (a GB/T
 * 28181 catalog, adapter state "channel") and NVR channels with alerts since the start. */
static void channel_problems(const struct agw_status *s, json_t *list)
{
	struct unrouted u = {.rows = json_array(), .count = s->unmatched_channels};
	int64_t oldest = AGW_TIME_UNKNOWN;
	for (size_t i = 0; u.rows && i < s->n_unmatched; i++) {
		const struct agw_status_channel *c = &s->unmatched[i];
		if (c->first_alarm_ms != AGW_TIME_UNKNOWN && (oldest == AGW_TIME_UNKNOWN || c->first_alarm_ms < oldest))
			oldest = c->first_alarm_ms;
		json_array_append_new(u.rows, json_pack("{s:s?,s:s?,s:s?,s:s?,s:o}", "adapter", c->adapter, "id", c->id,
							"device", c->device, "name", c->name, "first_alarm",
							agw_page_time(c->first_alarm_ms)));
	}
	agw_metrics_foreach(unrouted_add, &u);
	problem_put(list, "unmatched_channels", u.count, oldest, u.rows);
}

/* Cameras whose clock is off the gateway's by whole hours (agw_camera_clock_hours_off, set by
 * the adapters that check it: Dahua): a time zone written where UTC belongs, which moves every
 * camera time and the case ids made from them. */
static void clock_add(const char *name, const char *labels, int64_t value, void *arg)
{
	struct unrouted *u = arg;
	if (strcmp(name, "agw_camera_clock_hours_off") != 0 || value == 0)
		return;
	char adapter[64], camera[256];
	label_value(labels, "adapter", adapter, sizeof(adapter));
	label_value(labels, "camera", camera, sizeof(camera));
	u->count++;
	if (u->rows && json_array_size(u->rows) < AGW_STATUS_PARKED_SHOWN)
		json_array_append_new(u->rows, json_pack("{s:s,s:s,s:I}", "adapter", adapter, "id", camera, "hours",
							 (json_int_t)value));
}

static void clock_problems(json_t *list)
{
	struct unrouted u = {.rows = json_array()};
	agw_metrics_foreach(clock_add, &u);
	problem_put(list, "clock_hours_off", u.count, AGW_TIME_UNKNOWN, u.rows);
}

/* The gateway itself: journal writes, the broker, the outbox. */
static void gateway_problems(const struct agw_status *s, const struct agw_page_context *ctx, json_t *list)
{
	if (agw_metric_get("agw_store_failing", NULL) > 0)
		problem_put(list, "store", 1, s->generated_ms - 1000 * agw_metric_get("agw_store_failing_seconds", NULL),
			    NULL);
	if (ctx->broker && !ctx->broker_connected)
		problem_put(list, "broker", 1, ctx->broker_down_ms, NULL);
	json_t *rows = json_array();
	int64_t oldest = AGW_TIME_UNKNOWN;
	for (size_t i = 0; i < s->n_parked; i++) {
		const struct agw_status_parked *p = &s->parked[i];
		if (oldest == AGW_TIME_UNKNOWN || (p->parked_at_ms != AGW_TIME_UNKNOWN && p->parked_at_ms < oldest))
			oldest = p->parked_at_ms;
		json_array_append_new(rows, json_pack("{s:I,s:s?,s:s?,s:s?,s:o}", "id", (json_int_t)p->seq, "topic", p->topic,
						      "case_id", p->case_id, "reason", p->reason, "parked",
						      agw_page_time(p->parked_at_ms)));
	}
	problem_put(list, "outbox_parked", s->outbox_parked, oldest, rows);
	/* Pending rows older than a minute: the broker is not taking them. */
	if (agw_status_outbox_age_ms(s) > 60000)
		problem_put(list, "outbox_waiting", s->outbox_depth, s->outbox_oldest_ms, NULL);
}

int agw_page_summary(const struct agw_status *s, const struct agw_page_context *ctx, char **ret_text, size_t *ret_len)
{
	json_t *problems = json_array(), *by_state = json_object(), *cells = NULL;
	json_t *levels = agw_page_levels(s, &cells);
	json_t *grid = s->grid ? json_pack("{s:s,s:I,s:s}", "layer", s->grid->layer, "version",
					   (json_int_t)s->grid->version, "crs", s->grid->crs)
			       : json_null();
	if (problems) {
		gateway_problems(s, ctx, problems);
		camera_problems(s, problems);
		channel_problems(s, problems);
		clock_problems(problems);
	}
	for (int st = 0; by_state && st < AGW_CAMERA_STATE__COUNT; st++)
		json_object_set_new(by_state, agw_camera_state_name(st), json_integer((json_int_t)s->cameras_by_state[st]));
	json_t *root = json_pack("{s:o,s:s,s:s?,s:s,s:b,s:I,s:I,s:o*,s:o*,s:o*,s:o*,s:o*,s:I,s:I}", "generated",
				 agw_page_time(s->generated_ms), "time_zone", ctx->time_zone, "tile_url", ctx->tile_url,
				 "lang", ctx->lang, "map", ctx->map, "journal_last_seq", (json_int_t)s->journal_last_seq,
				 "cameras", (json_int_t)s->n_cameras, "cameras_by_state", by_state, "problems", problems,
				 "levels", levels, "cells", cells, "grid", grid, "open_cases", (json_int_t)s->open_total,
				 "outbox_depth", (json_int_t)s->outbox_depth);
	return agw_page_dump(root, ret_text, ret_len);
}

static void camera_row(const struct agw_status_camera *c, void *arg)
{
	json_array_append_new(arg, agw_page_camera(c));
}

int agw_page_cameras(const struct agw_status *s, const struct agw_status_filter *f, size_t offset, size_t limit,
		     char **ret_text, size_t *ret_len)
{
	json_t *rows = json_array();
	if (!rows)
		return -ENOMEM;
	size_t total = agw_status_cameras_page(s, f, offset, limit, camera_row, rows);
	return agw_page_dump(json_pack("{s:I,s:I,s:I,s:o}", "total", (json_int_t)total, "offset", (json_int_t)offset,
				       "limit", (json_int_t)limit, "cameras", rows),
			     ret_text, ret_len);
}

struct case_rows {
	const struct agw_status *s;
	json_t *rows;
};

static const struct agw_status_camera *camera_by_id(const struct agw_status *s, const char *id)
{
	for (size_t i = 0; id && i < s->n_cameras; i++)
		if (strcmp(s->cameras[i].id, id) == 0)
			return &s->cameras[i];
	return NULL;
}

/* "/evidence/<id, %-escaped>/<n>": what GET /evidence/ takes (http_evidence.h). */
static void evidence_url(const char *id, int64_t n, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "/evidence/");
	for (const unsigned char *p = (const unsigned char *)id; *p && o + 4 < len; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			     (*p && strchr("-_~", *p));
		o += (size_t)snprintf(buf + o, len - o, plain ? "%c" : "%%%02X", *p);
	}
	snprintf(buf + o, len - o, "/%lld", (long long)n);
}

/* The case's pictures: a URL for those stored, the reason for the others. */
static json_t *case_pictures(const struct agw_status_case *c)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < c->n_pictures; i++) {
		const struct agw_status_picture *p = &c->pictures[i];
		char url[3 * 128 + 40];
		bool stored = p->status && strcmp(p->status, "stored") == 0;
		evidence_url(c->id, p->n, url, sizeof(url));
		json_array_append_new(a, json_pack("{s:I,s:s?,s:s?,s:o,s:o,s:s?}", "n", (json_int_t)p->n, "status",
						   p->status, "reason", p->reason, "captured", agw_page_time(p->captured_ms),
						   "camera_time", agw_page_time(p->camera_ms), "url", stored ? url : NULL));
	}
	return a;
}

static void case_row(const struct agw_status_case *c, void *arg)
{
	struct case_rows *cr = arg;
	const struct agw_status_camera *cam = camera_by_id(cr->s, c->camera_id);
	const struct agw_cell *cell = cr->s->grid && c->cell_code ? agw_grid_find(cr->s->grid->grid, c->cell_code) : NULL;
	json_t *workers = json_array();
	for (size_t i = 0; workers && cell && i < cell->n_workers; i++)
		json_array_append_new(workers, json_string(cell->workers[i]));
	json_array_append_new(cr->rows,
			      json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:I,s:I,s:o,s:o,s:o*,s:o*,s:I}", "id", c->id,
					"status", c->status, "kind", c->kind, "camera", c->camera_id, "camera_name",
					cam ? cam->name : NULL, "cell", c->cell_code, "cell_name", cell ? cell->name : NULL,
					"priority", (json_int_t)c->priority, "count", (json_int_t)c->count, "opened",
					agw_page_time(c->opened_at_ms), "updated", agw_page_time(c->updated_at_ms),
					"workers", workers, "pictures", case_pictures(c), "pictures_total",
					(json_int_t)c->pictures_total));
}

int agw_page_cases(const struct agw_status *s, const char *cell, const char *camera, size_t offset, size_t limit,
		   char **ret_text, size_t *ret_len)
{
	struct case_rows cr = {.s = s, .rows = json_array()};
	if (!cr.rows)
		return -ENOMEM;
	size_t total = agw_status_open_page(s, cell, camera, offset, limit, case_row, &cr);
	return agw_page_dump(json_pack("{s:I,s:I,s:I,s:I,s:o}", "total", (json_int_t)total, "open_cases",
				       (json_int_t)s->open_total, "offset", (json_int_t)offset, "limit", (json_int_t)limit,
				       "cases", cr.rows),
			     ret_text, ret_len);
}

int agw_page_points(const struct agw_status *s, char **ret_text, size_t *ret_len)
{
	json_t *pts = json_array();
	for (size_t i = 0; pts && i < s->n_cameras; i++) {
		const struct agw_status_camera *c = &s->cameras[i];
		if (c->located)
			json_array_append_new(pts, json_pack("[f,f,i,s]", c->lon, c->lat, (int)c->state, c->id));
	}
	return agw_page_dump(json_pack("{s:s?,s:o*}", "crs", s->grid ? s->grid->crs : NULL, "points", pts), ret_text,
			     ret_len);
}
