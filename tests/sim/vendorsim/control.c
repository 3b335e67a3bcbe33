/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control port: POST /dev/<i|all>/<action>?arg=value changes a device at run time;
 * GET /stats[?device=i] returns per-device counters as JSON. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "vendorsim.h"

static int arg_double(const char *query, const char *key, double def, double min, double max, double *ret)
{
	char v[64];
	if (camsim_query_get(query, key, v, sizeof(v)) < 0) {
		*ret = def;
		return 0;
	}
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || !(d >= min && d <= max))
		return -EINVAL;
	*ret = d;
	return 0;
}

static int arg_uint(const char *query, const char *key, double def, double max, unsigned *ret)
{
	double d;
	if (arg_double(query, key, def, 0, max, &d) < 0 || d != (double)(unsigned)d)
		return -EINVAL;
	*ret = (unsigned)d;
	return 0;
}

/* emit?type=T&channel=N[&state=active|inactive|start|stop|pulse]: one event now. */
static int control_emit(struct vsim_device *dev, const char *query)
{
	enum vsim_protocol proto = dev->sim->opt.protocol;
	unsigned channel;
	int state = 1;
	char v[64];
	if (camsim_query_get(query, "type", v, sizeof(v)) < 0)
		strcpy(v, proto == VSIM_ISAPI ? "VMD" : "VideoMotion");
	int type = vsim_type_find(proto, v);
	if (type < 0 || arg_uint(query, "channel", 1, VSIM_MAX_CHANNELS, &channel) < 0)
		return -EINVAL;
	if (camsim_query_get(query, "state", v, sizeof(v)) == 0) {
		if (strcmp(v, "active") == 0 || strcmp(v, "start") == 0 || strcmp(v, "pulse") == 0)
			state = 1;
		else if (strcmp(v, "inactive") == 0 || strcmp(v, "stop") == 0)
			state = 0;
		else
			return -EINVAL;
	}
	int r = vsim_events_emit(dev, type, channel, state);
	if (r < 0)
		return r == -EINVAL ? -EINVAL : -EBUSY;
	return 0;
}

int vsim_control_apply(struct vsim_device *dev, const char *action, const char *query)
{
	struct vsim_misbehaviour *mb = &dev->mb;
	enum vsim_protocol proto = dev->sim->opt.protocol;
	unsigned n;
	double d;
	char v[64];
	if (strcmp(action, "cut") == 0) {
		if (arg_uint(query, "count", 1, 1e6, &n) < 0)
			return -EINVAL;
		mb->cut = n;
	} else if (strcmp(action, "silence") == 0) {
		if (arg_double(query, "seconds", 0, 0, 86400, &d) < 0)
			return -EINVAL;
		vsim_device_silence(dev, d);
	} else if (strcmp(action, "wrong-boundary") == 0) {
		if (arg_uint(query, "count", 1, 1e6, &n) < 0)
			return -EINVAL;
		mb->wrong_boundary = n;
	} else if (strcmp(action, "stale-nonce") == 0) {
		if (arg_uint(query, "count", 1, 1e6, &n) < 0)
			return -EINVAL;
		mb->stale_nonce = n;
	} else if (strcmp(action, "max-streams") == 0) {
		if (arg_uint(query, "n", 1, 1e6, &n) < 0)
			return -EINVAL;
		mb->max_streams = n;
	} else if (strcmp(action, "slow") == 0) {
		if (arg_uint(query, "bps", 0, 1e9, &n) < 0)
			return -EINVAL;
		mb->slow_bps = n;
	} else if (strcmp(action, "garbage") == 0) {
		if (arg_uint(query, "bytes", 256, 16 * 1024 * 1024, &n) < 0)
			return -EINVAL;
		vsim_device_garbage(dev, n);
	} else if (strcmp(action, "no-inactive") == 0) {
		if (arg_uint(query, "on", 1, 1, &n) < 0)
			return -EINVAL;
		mb->no_inactive = n;
	} else if (strcmp(action, "utc-local") == 0) {
		if (arg_double(query, "minutes", 0, -840, 840, &d) < 0)
			return -EINVAL;
		mb->utc_local_min = (int)d;
	} else if (strcmp(action, "reboot") == 0) {
		if (arg_double(query, "seconds", 5, 0, 86400, &d) < 0)
			return -EINVAL;
		vsim_device_reboot(dev, d);
	} else if (strcmp(action, "rate") == 0) {
		if (arg_double(query, "per-second", 0, 0, 1000, &d) < 0)
			return -EINVAL;
		vsim_events_set_rate(dev, d);
	} else if (strcmp(action, "dialect") == 0) {
		struct vsim_dialect dl;
		if (camsim_query_get(query, "name", v, sizeof(v)) < 0 || vsim_dialect_parse(proto, v, &dl) < 0)
			return -EINVAL;
		dev->dialect = dl; /* for the next streams */
	} else if (strcmp(action, "emit") == 0) {
		int r = control_emit(dev, query);
		if (r < 0)
			return r;
	} else {
		return -ENOENT;
	}
	agw_log_info("vendorsim", dev->id, "control: %s %s", action, query);
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

static void device_stats(struct camsim_buf *b, const struct vsim_device *dev)
{
	char dn[48];
	vsim_dialect_name(dev->sim->opt.protocol, &dev->dialect, dn, sizeof(dn));
	camsim_buf_printf(b,
			  "{\"index\":%u,\"id\":\"%s\",\"port\":%d,\"up\":%s,\"requests\":%" PRIu64
			  ",\"streams\":%" PRIu64 ",\"live_streams\":%u,\"refused\":%" PRIu64 ",\"edges\":%" PRIu64
			  ",\"written\":%" PRIu64 ",\"cut\":%" PRIu64 ",\"unsent\":%" PRIu64 ",\"dropped\":%" PRIu64
			  ",\"heartbeats\":%" PRIu64 ",\"rate\":%g,\"dialect\":\"%s\",\"snapshots\":%" PRIu64 "}",
			  dev->index, dev->id, dev->port, dev->up ? "true" : "false", dev->requests, dev->streams,
			  dev->live_streams, dev->refused, dev->edges, dev->parts_written, dev->parts_cut, dev->parts_unsent,
			  dev->parts_dropped, dev->heartbeats, dev->rate, dn, dev->snapshots);
}

static void stats(struct vsim *sim, struct camsim_http_conn *c, const char *query)
{
	struct camsim_buf b = {0};
	char v[16];
	if (camsim_query_get(query, "device", v, sizeof(v)) == 0) {
		char *end;
		unsigned long i = strtoul(v, &end, 10);
		if (*end || end == v || i >= sim->ndevs) {
			respond_error(c, 404, "no such device");
			return;
		}
		device_stats(&b, &sim->devs[i]);
		camsim_buf_puts(&b, "\n");
		respond_json(c, 200, &b);
		return;
	}
	uint64_t t[8] = {0};
	camsim_buf_puts(&b, "{\"devices\":[");
	for (unsigned i = 0; i < sim->ndevs; i++) {
		const struct vsim_device *dev = &sim->devs[i];
		if (i)
			camsim_buf_puts(&b, ",\n");
		device_stats(&b, dev);
		t[0] += dev->streams;
		t[1] += dev->live_streams;
		t[2] += dev->edges;
		t[3] += dev->parts_written;
		t[4] += dev->parts_cut;
		t[5] += dev->parts_unsent;
		t[6] += dev->parts_dropped;
		t[7] += dev->refused;
	}
	camsim_buf_printf(&b,
			  "],\n\"totals\":{\"streams\":%" PRIu64 ",\"live_streams\":%" PRIu64 ",\"edges\":%" PRIu64
			  ",\"written\":%" PRIu64 ",\"cut\":%" PRIu64 ",\"unsent\":%" PRIu64 ",\"dropped\":%" PRIu64
			  ",\"refused\":%" PRIu64 "}}\n",
			  t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
	respond_json(c, 200, &b);
}

static void on_control(struct camsim_http_conn *c, const struct camsim_http_request *req, void *ctx)
{
	struct vsim *sim = ctx;
	if (strcmp(req->path, "/stats") == 0) {
		if (strcmp(req->method, "GET") != 0) {
			respond_error(c, 405, "GET only");
			return;
		}
		stats(sim, c, req->query);
		return;
	}
	if (strcmp(req->path, "/flush") == 0) {
		/* the events log on disk now, for a test about to read it */
		vsim_evlog_flush(sim);
		struct camsim_buf b = {0};
		camsim_buf_puts(&b, "{\"ok\":true,\"action\":\"flush\"}\n");
		respond_json(c, 200, &b);
		return;
	}
	if (strncmp(req->path, "/dev/", 5) != 0) {
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
	unsigned first = 0, last = sim->ndevs;
	if (!((size_t)(slash - p) == 3 && strncmp(p, "all", 3) == 0)) {
		char *end;
		unsigned long i = strtoul(p, &end, 10);
		if (end != slash || i >= sim->ndevs) {
			respond_error(c, 404, "no such device");
			return;
		}
		first = (unsigned)i;
		last = first + 1;
	}
	unsigned busy = 0;
	for (unsigned i = first; i < last; i++) {
		int r = vsim_control_apply(&sim->devs[i], action, req->query);
		if (r == -ENOENT) {
			respond_error(c, 404, "unknown action");
			return;
		}
		if (r == -EBUSY) {
			busy++;
			continue;
		}
		if (r < 0) {
			respond_error(c, 400, "bad argument");
			return;
		}
	}
	if (busy == last - first) {
		respond_error(c, 409, "busy: that event is live, quiet, or not running");
		return;
	}
	vsim_evlog_flush(sim); /* the action's lines are in the events log before the answer leaves */
	struct camsim_buf b = {0};
	camsim_buf_printf(&b, "{\"ok\":true,\"action\":\"%s\",\"devices\":%u}\n", action, last - first - busy);
	respond_json(c, 200, &b);
}

int vsim_control_start(struct vsim *sim, int port)
{
	sim->control.loop = sim->loop;
	sim->control.on_request = on_control;
	sim->control.ctx = sim;
	return camsim_http_server_start(&sim->control, "127.0.0.1", port);
}
