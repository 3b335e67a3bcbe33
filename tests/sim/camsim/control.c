/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control port: POST /cam/<i|all>/<action>?arg=value changes a camera at run time;
 * GET /stats[?camera=i] returns per-camera counters as JSON. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "camsim.h"

static int arg_double(const char *query, const char *key, double def, double *ret)
{
	char v[64];
	if (camsim_query_get(query, key, v, sizeof(v)) < 0) {
		*ret = def;
		return 0;
	}
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || d != d)
		return -EINVAL;
	*ret = d;
	return 0;
}

/* A count or switch argument: a non-negative integer up to max. */
static int arg_uint(const char *query, const char *key, double def, double max, unsigned long *ret)
{
	double d;
	if (arg_double(query, key, def, &d) < 0 || d < 0 || d > max || d != (double)(unsigned long)d)
		return -EINVAL;
	*ret = (unsigned long)d;
	return 0;
}

/* The misbehaviours that are only on or off: ?on=1 (the default) or ?on=0. NULL for other actions. */
static bool *switch_flag(struct camsim_misbehaviour *mb, const char *action)
{
	const struct {
		const char *action;
		bool *flag;
	} switches[] = {
		{"one-subscriber", &mb->one_subscriber},
		{"unsubscribe-kills-all", &mb->unsubscribe_kills_all},
		{"no-inactive", &mb->no_inactive},
		{"digest-only", &mb->digest_only},
		{"snapshot-hang", &mb->snapshot_hang},
		{"no-snapshot", &mb->no_snapshot},
		{"snapshot-missing", &mb->snapshot_404},
	};
	for (size_t i = 0; i < sizeof(switches) / sizeof(switches[0]); i++)
		if (strcmp(action, switches[i].action) == 0)
			return switches[i].flag;
	return NULL;
}

/* The camera's clock: skew, clock-reset, clock-ok, reboot. -ENOENT for another action. */
static int apply_clock(struct camsim_camera *cam, const char *action, const char *query)
{
	unsigned long n;
	double d;
	if (strcmp(action, "skew") == 0) {
		if (arg_double(query, "seconds", 0, &d) < 0 || d < -1e10 || d > 1e10)
			return -EINVAL;
		cam->clock_offset = d;
	} else if (strcmp(action, "clock-reset") == 0) {
		if (arg_uint(query, "year", 1970, 2100, &n) < 0 || n < 1970)
			return -EINVAL;
		camsim_camera_clock_reset(cam, (int)n);
	} else if (strcmp(action, "clock-ok") == 0) {
		cam->clock_offset = 0;
	} else if (strcmp(action, "reboot") == 0) {
		if (arg_double(query, "seconds", 5, &d) < 0 || d < 0 || d > 86400 ||
		    arg_uint(query, "clock", 0, 2100, &n) < 0 || (n && n < 1970))
			return -EINVAL;
		camsim_camera_reboot(cam, d, (int)n);
	} else {
		return -ENOENT;
	}
	return 0;
}

int camsim_control_apply(struct camsim_camera *cam, const char *action, const char *query)
{
	struct camsim_misbehaviour *mb = &cam->mb;
	unsigned long n;
	int r;
	bool *flag = switch_flag(mb, action);
	if (flag) {
		if (arg_uint(query, "on", 1, 1, &n) < 0)
			return -EINVAL;
		*flag = n;
	} else if ((r = apply_clock(cam, action, query)) != -ENOENT) {
		if (r < 0)
			return r;
	} else if (strcmp(action, "expire") == 0) {
		char v[16];
		if (camsim_query_get(query, "reply", v, sizeof(v)) == 0) {
			if (strcmp(v, "404") != 0 && strcmp(v, "fault") != 0)
				return -EINVAL;
			mb->unknown_sub_404 = strcmp(v, "404") == 0;
		}
		camsim_sub_drop_all(cam, "expired");
	} else if (strcmp(action, "slow") == 0) {
		if (arg_uint(query, "ms", 0, 600000, &n) < 0)
			return -EINVAL;
		mb->slow_ms = (unsigned)n;
	} else if (strcmp(action, "malformed") == 0) {
		if (arg_uint(query, "count", 1, 1e6, &n) < 0)
			return -EINVAL;
		mb->malformed = (unsigned)n;
	} else if (strcmp(action, "fault") == 0) {
		if (arg_uint(query, "count", 1, 1e6, &n) < 0)
			return -EINVAL;
		mb->faults = (unsigned)n;
	} else if (strcmp(action, "oversized") == 0) {
		unsigned long bytes;
		if (arg_uint(query, "count", 1, 1e6, &n) < 0 ||
		    arg_uint(query, "bytes", (double)mb->oversized_bytes, 512.0 * 1024 * 1024, &bytes) < 0)
			return -EINVAL;
		mb->oversized = (unsigned)n;
		mb->oversized_bytes = bytes;
	} else if (strcmp(action, "unsupported") == 0) {
		char v[512];
		uint32_t mask;
		if (camsim_query_get(query, "ops", v, sizeof(v)) < 0)
			v[0] = '\0';
		if (camsim_onvif_ops_parse(v, &mask) < 0)
			return -EINVAL;
		mb->unsupported = mask;
	} else if (strcmp(action, "advertise-host") == 0) {
		char v[sizeof(mb->advertise_host)];
		if (camsim_query_get(query, "host", v, sizeof(v)) < 0)
			v[0] = '\0';
		for (const char *c = v; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != ':')
				return -EINVAL;
		strcpy(mb->advertise_host, v);
	} else if (strcmp(action, "dialect") == 0) {
		char v[32];
		int dialect = camsim_query_get(query, "name", v, sizeof(v)) == 0 ? camsim_dialect_find(v) : -ENOENT;
		if (dialect < 0)
			return -EINVAL;
		mb->dialect = (uint8_t)dialect;
	} else if (strcmp(action, "emit") == 0) {
		char v[32];
		unsigned long active, source;
		unsigned nsrc = cam->sim->opt.sources;
		if (camsim_query_get(query, "kind", v, sizeof(v)) < 0)
			strcpy(v, "motion");
		int k = camsim_kind_find(v);
		if (k < 0 || arg_uint(query, "active", 1, 1, &active) < 0 ||
		    arg_uint(query, "source", 1, nsrc > 1 ? nsrc : 1, &source) < 0 || source < 1)
			return -EINVAL;
		camsim_camera_emit(cam, k, active, nsrc > 1 ? (unsigned)source : 0);
	} else {
		return -ENOENT;
	}
	agw_log_info("camsim", cam->id, "control: %s %s", action, query);
	return 0;
}

static void respond_json(struct camsim_http_conn *c, int status, struct camsim_buf *b)
{
	size_t len = 0;
	char *body = camsim_buf_steal(b, &len);
	if (!body) {
		camsim_http_respond_text(c, 500, "out of memory\n");
		return;
	}
	camsim_http_respond(c, status, "application/json", NULL, body, len, 0);
}

static void respond_error(struct camsim_http_conn *c, int status, const char *error)
{
	struct camsim_buf b = {0};
	camsim_buf_printf(&b, "{\"ok\":false,\"error\":\"%s\"}\n", error);
	respond_json(c, status, &b);
}

static void camera_stats(struct camsim_buf *b, const struct camsim_camera *cam)
{
	camsim_buf_printf(b,
			  "{\"index\":%u,\"id\":\"%s\",\"port\":%d,\"up\":%s,\"requests\":%" PRIu64
			  ",\"subscriptions\":%" PRIu64 ",\"live_subscriptions\":%u,\"queued\":%" PRIu64
			  ",\"delivered\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"bad_answer_events\":%" PRIu64
			  ",\"clock_offset\":%.3f,\"dialect\":\"%s\",\"snapshots\":%" PRIu64
			  ",\"snapshot_gets\":%" PRIu64 ",\"snapshot_uri_asks\":%" PRIu64 "}",
			  cam->index, cam->id, cam->port, cam->up ? "true" : "false", cam->requests, cam->subscriptions,
			  camsim_sub_count(cam), cam->queued, cam->delivered, cam->dropped, cam->bad_answer_events, cam->clock_offset,
			  camsim_dialects[cam->mb.dialect].name, cam->snapshots, cam->snapshot_gets, cam->snapshot_uri_asks);
}

static void stats(struct camsim *sim, struct camsim_http_conn *c, const char *query)
{
	struct camsim_buf b = {0};
	char v[16];
	if (camsim_query_get(query, "camera", v, sizeof(v)) == 0) {
		char *end;
		unsigned long i = strtoul(v, &end, 10);
		if (*end || end == v || i >= sim->ncams) {
			respond_error(c, 404, "no such camera");
			return;
		}
		camera_stats(&b, &sim->cams[i]);
		camsim_buf_puts(&b, "\n");
		respond_json(c, 200, &b);
		return;
	}
	uint64_t t[6] = {0};
	camsim_buf_puts(&b, "{\"cameras\":[");
	for (unsigned i = 0; i < sim->ncams; i++) {
		const struct camsim_camera *cam = &sim->cams[i];
		if (i)
			camsim_buf_puts(&b, ",\n");
		camera_stats(&b, cam);
		t[0] += cam->requests;
		t[1] += cam->subscriptions;
		t[2] += cam->queued;
		t[3] += cam->delivered;
		t[4] += cam->dropped;
		t[5] += cam->bad_answer_events;
	}
	camsim_buf_printf(&b,
			  "],\n\"totals\":{\"requests\":%" PRIu64 ",\"subscriptions\":%" PRIu64 ",\"queued\":%" PRIu64
			  ",\"delivered\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"bad_answer_events\":%" PRIu64 "}}\n",
			  t[0], t[1], t[2], t[3], t[4], t[5]);
	respond_json(c, 200, &b);
}

static void on_control(struct camsim_http_conn *c, const struct camsim_http_request *req, void *ctx)
{
	struct camsim *sim = ctx;
	if (strcmp(req->path, "/stats") == 0) {
		if (strcmp(req->method, "GET") != 0) {
			respond_error(c, 405, "GET only");
			return;
		}
		stats(sim, c, req->query);
		return;
	}
	/* /cam/<i|all>/<action> */
	if (strncmp(req->path, "/cam/", 5) != 0) {
		respond_error(c, 404, "unknown path");
		return;
	}
	if (strcmp(req->method, "POST") != 0) {
		respond_error(c, 405, "POST only");
		return;
	}
	const char *p = req->path + 5;
	const char *slash = strchr(p, '/');
	if (!slash || slash == p) {
		respond_error(c, 404, "unknown path");
		return;
	}
	const char *action = slash + 1;
	for (const char *a = action; *a; a++)
		if (!islower((unsigned char)*a) && *a != '-') {
			respond_error(c, 404, "unknown action");
			return;
		}
	unsigned first = 0, last = sim->ncams;
	if (!((size_t)(slash - p) == 3 && strncmp(p, "all", 3) == 0)) {
		char *end;
		unsigned long i = strtoul(p, &end, 10);
		if (end != slash || i >= sim->ncams) {
			respond_error(c, 404, "no such camera");
			return;
		}
		first = (unsigned)i;
		last = first + 1;
	}
	for (unsigned i = first; i < last; i++) {
		int r = camsim_control_apply(&sim->cams[i], action, req->query);
		if (r == -ENOENT) {
			respond_error(c, 404, "unknown action");
			return;
		}
		if (r < 0) {
			respond_error(c, 400, "bad argument");
			return;
		}
	}
	/* What the action queued or dropped is in the events log before the answer leaves: a test
	 * that reads the log after its control call must not find the last lines missing (the loop's
	 * own flush runs after this callback, when the answer may already be read). */
	camsim_evlog_flush(sim);
	struct camsim_buf b = {0};
	camsim_buf_printf(&b, "{\"ok\":true,\"action\":\"%s\",\"cameras\":%u}\n", action, last - first);
	respond_json(c, 200, &b);
}

int camsim_control_start(struct camsim *sim, int port)
{
	sim->control.loop = sim->loop;
	sim->control.on_request = on_control;
	sim->control.ctx = sim;
	return camsim_http_server_start(&sim->control, "127.0.0.1", port);
}
