/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Dahua adapter (Amcrest, Lorex and other white-label firmware speak the same): one
 * GET /cgi-bin/eventManager.cgi?action=attach&codes=[All]&heartbeat=N per device (vendor_pull.h:
 * libcurl multi on the loop, Digest, liveness by heartbeat, reconnect with backoff and jitter,
 * back-pressure), event texts normalized by dahua_stream.h; and what the core asks without running
 * it (address check, event table check, `alarmgw normalize --adapter dahua`); evidence pictures
 * through the snapshot CGI (vendor_snapshot.h). NVR channels are routed by vendor_pull. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/adapter.h"
#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "dahua_clock.h"
#include "dahua_stream.h"
#include "dahua_table.h"
#include "alarmgw/vendor_address.h"
#include "alarmgw/vendor_pull.h"
#include "alarmgw/vendor_snapshot.h"

#define LOG_TAG "dahua"

struct dahua_adapter {
	/* options */
	char *event_table;
	struct agw_vendor_pull_options pull_opts;
	int64_t heartbeat_s;
	char *codes;
	char *utc_offsets;
	/* state */
	char path[512];
	struct agw_adapter_ctx *ctx;
	const struct agw_vendor_table *table;
	struct agw_vendor_pull *pull;
	struct agw_vendor_snapshots *snaps; /* evidence: the snapshot CGI */
	struct agw_dahua_clocks *clocks;     /* utc_offsets */
	struct agw_adapter_ctx pull_ctx;     /* ctx with clock_emit, given to the pull client */
};

#define OPT(field) offsetof(struct dahua_adapter, field)
static const struct agw_option dahua_options[] = {
	{"event_table", AGW_OPT_PATH, OPT(event_table), NULL, 0, 0, false,
	 "file of extra Code-to-kind lines, tried before the default table (syntax: share/alarmgw/dahua-events.conf)"},
	{"heartbeat", AGW_OPT_INT, OPT(heartbeat_s), "5", 1, 300, false,
	 "seconds between the Heartbeat parts asked of each device (attach&heartbeat=N)"},
	{"codes", AGW_OPT_STRING, OPT(codes), "[All]", 0, 0, false,
	 "event codes asked for (attach&codes=...), for example [All] or [VideoMotion,CrossLineDetection]"},
	{"utc_offsets", AGW_OPT_STRING, OPT(utc_offsets), NULL, 0, 0, false,
	 "devices whose data.UTC is their local wall clock (many firmwares): \"ID=OFFSET, ...\" with the zone east of "
	 "UTC (+8h, -90m); camera_time is data.UTC minus it. An NVR's channel rows take their device's"},
	AGW_VENDOR_PULL_OPTIONS(struct dahua_adapter, pull_opts, "20s",
				"no byte on a device's attach stream for this long: reconnect (keep it a few heartbeats long)",
				"0"),
	{NULL, 0, 0, NULL, 0, 0, false, NULL},
};

/* ---- the stream parser behind vendor_pull's function table ---- */

static int parser_create(const char *content_type, const struct agw_vendor_table *table,
			 int (*on_alert)(void *arg, struct agw_alert *alert),
			 void (*on_error)(void *arg, uint64_t offset, const char *what), void *arg, void **ret)
{
	struct agw_dahua_stream_config cfg = {
		.content_type = content_type, .table = table, .on_alert = on_alert, .on_error = on_error, .arg = arg,
	};
	struct agw_dahua_stream *s;
	int rc = agw_dahua_stream_new(&cfg, &s);
	if (rc == 0)
		*ret = s;
	return rc;
}

static int parser_feed(void *parser, const void *buf, size_t len)
{
	return agw_dahua_stream_feed(parser, buf, len);
}

static int parser_finish(void *parser)
{
	return agw_dahua_stream_finish(parser);
}

static void parser_destroy(void *parser)
{
	agw_dahua_stream_free(parser);
}

static uint64_t parser_parts(void *parser)
{
	const struct agw_dahua_stream_stats *st = agw_dahua_stream_stats(parser);
	return st->events + st->heartbeats + st->other_parts;
}

static const struct agw_vendor_parser_ops dahua_parser = {
	.create = parser_create, .feed = parser_feed, .finish = parser_finish, .destroy = parser_destroy,
	.parts = parser_parts,
};

/* ---- hooks the core calls without running the adapter ---- */

static const char *dahua_check_address(const char *address)
{
	return agw_vendor_check_http_address(address, "a dahua device needs host[:port] or an http:// or https:// URL");
}

/* The request path of the attach stream, from the codes and heartbeat options. */
static int attach_path(const struct dahua_adapter *o, char *out, size_t len, char *err, size_t errlen)
{
	const char *codes = o->codes && *o->codes ? o->codes : "[All]";
	for (const char *c = codes; *c; c++)
		if (*c <= ' ' || *c == '&' || *c == '#' || *c == '%' || *c == '?') {
			snprintf(err, errlen, "codes '%.100s': no spaces, '&', '#', '%%' or '?'", codes);
			return -EINVAL;
		}
	if ((size_t)snprintf(out, len, "/cgi-bin/eventManager.cgi?action=attach&codes=%s&heartbeat=%lld", codes,
			     (long long)o->heartbeat_s) >= len) {
		snprintf(err, errlen, "codes: longer than %zu characters", len - 64);
		return -EINVAL;
	}
	return 0;
}

static int dahua_check(const void *opts, char *err, size_t errlen)
{
	const struct dahua_adapter *o = opts;
	char path[sizeof(o->path)];
	if (attach_path(o, path, sizeof(path), err, errlen) < 0)
		return -EINVAL;
	const struct agw_vendor_table *t;
	int rc = agw_dahua_table_open(o->event_table, &t, err, errlen);
	if (rc < 0)
		return rc;
	agw_dahua_table_close(t);
	struct agw_dahua_clocks *clocks;
	if ((rc = agw_dahua_clocks_parse(o->utc_offsets, &clocks, err, errlen)) < 0)
		return rc;
	agw_dahua_clocks_free(clocks);
	return agw_vendor_pull_options_check(&o->pull_opts, err, errlen);
}

static int dahua_normalize(const void *opts, const char *buf, size_t len, int (*fn)(void *arg, struct agw_alert *alert),
			   void *arg, char *err, size_t errlen)
{
	const struct dahua_adapter *o = opts;
	const struct agw_vendor_table *t;
	int rc = agw_dahua_table_open(o->event_table, &t, err, errlen);
	if (rc < 0)
		return rc;
	rc = agw_dahua_normalize(buf, len, t, fn, arg, err, errlen);
	agw_dahua_table_close(t);
	return rc;
}

/* ---- camera clocks ---- */

/* Every alert of the pull client passes here: the device's offset comes off camera_time, and a
 * time still off the gateway's by whole hours is flagged (a gauge per camera, which the status
 * page lists, and one log line per change). */
static int clock_emit(struct agw_adapter_ctx *ctx, const struct agw_alert *alert)
{
	struct dahua_adapter *ad = (struct dahua_adapter *)((char *)ctx - offsetof(struct dahua_adapter, pull_ctx));
	struct agw_alert a = *alert; /* shallow: the core copies what it keeps */
	if (a.camera_time_ms != AGW_TIME_UNKNOWN && a.camera_id) {
		a.camera_time_ms -= agw_dahua_clocks_offset_ms(ad->clocks, a.camera_id);
		int hours = agw_dahua_clock_hours_off(a.camera_time_ms, a.gateway_time_ms ? a.gateway_time_ms : agw_now_ms());
		char labels[256];
		snprintf(labels, sizeof(labels), "adapter=\"dahua\",camera=\"%.200s\"", a.camera_id);
		int64_t was = agw_metric_get("agw_camera_clock_hours_off", labels);
		if (hours != was) {
			agw_metric_set("agw_camera_clock_hours_off", labels, hours);
			if (hours)
				agw_log_warn(LOG_TAG, a.camera_id,
					     "camera time %d h %s the gateway's: data.UTC is probably the camera's local time "
					     "(set utc_offsets for it, or its time zone on the camera)",
					     hours < 0 ? -hours : hours, hours > 0 ? "ahead of" : "behind");
			else
				agw_log_notice(LOG_TAG, a.camera_id, "camera time agrees with the gateway's again");
		}
	}
	return ad->ctx->emit(ad->ctx, &a);
}

/* ---- lifecycle ---- */

static int dahua_init(void *priv, struct agw_adapter_ctx *ctx)
{
	struct dahua_adapter *ad = priv;
	char err[512];
	ad->ctx = ctx;
	ad->pull_ctx = *ctx;
	ad->pull_ctx.emit = clock_emit;
	if (dahua_check(ad, err, sizeof(err)) < 0 || agw_dahua_table_open(ad->event_table, &ad->table, err, sizeof(err)) < 0 ||
	    agw_dahua_clocks_parse(ad->utc_offsets, &ad->clocks, err, sizeof(err)) < 0) {
		agw_log_err(LOG_TAG, NULL, "%s", err);
		return -EINVAL;
	}
	if (attach_path(ad, ad->path, sizeof(ad->path), err, sizeof(err)) < 0) {
		agw_log_err(LOG_TAG, NULL, "%s", err);
		return -EINVAL;
	}
	struct agw_vendor_pull_config cfg = {
		.adapter = LOG_TAG,
		.path = ad->path,
		.ops = &dahua_parser,
		.table = ad->table,
	};
	agw_vendor_pull_config_apply(&cfg, &ad->pull_opts);
	/* Evidence: GET /cgi-bin/snapshot.cgi?channel=N (1-based) with Digest, on the pull's curl loop. */
	int rc = agw_vendor_snapshots_new("/cgi-bin/snapshot.cgi?channel=", "", 1, 0, ad->pull_opts.tls_verify,
					  ad->pull_opts.ca_file, &ad->snaps);
	return rc < 0 ? rc : agw_vendor_pull_new(&cfg, &ad->pull_ctx, &ad->pull);
}

static int dahua_start(void *priv)
{
	struct dahua_adapter *ad = priv;
	return agw_vendor_pull_start(ad->pull);
}

static void pull_stopped(void *arg)
{
	struct dahua_adapter *ad = arg;
	ad->pull = NULL;
	ad->ctx->stopped(ad->ctx);
}

static void dahua_stop(void *priv)
{
	struct dahua_adapter *ad = priv;
	agw_vendor_snapshots_cancel_all(ad->snaps); /* before the curl loop they run on closes */
	if (ad->pull)
		agw_vendor_pull_stop(ad->pull, pull_stopped, ad);
	else
		ad->ctx->stopped(ad->ctx);
}

static void dahua_uninit(void *priv)
{
	struct dahua_adapter *ad = priv;
	agw_vendor_pull_free(ad->pull); /* only when it never started: stop frees it */
	ad->pull = NULL;
	agw_dahua_table_close(ad->table);
	ad->table = NULL;
	agw_vendor_snapshots_free(ad->snaps);
	ad->snaps = NULL;
	agw_dahua_clocks_free(ad->clocks);
	ad->clocks = NULL;
}

static int dahua_camera_add(void *priv, const struct agw_camera *camera)
{
	struct dahua_adapter *ad = priv;
	int rc = camera->device ? agw_dahua_clocks_inherit(ad->clocks, camera->id, camera->device) : 0;
	if (rc < 0)
		return rc;
	rc = agw_vendor_snapshots_add(ad->snaps, camera);
	if (rc == 0 && (rc = agw_vendor_pull_add(ad->pull, camera)) < 0)
		agw_vendor_snapshots_remove(ad->snaps, camera->id);
	return rc;
}

static void dahua_camera_remove(void *priv, const char *camera_id)
{
	struct dahua_adapter *ad = priv;
	agw_vendor_pull_remove(ad->pull, camera_id);
	agw_vendor_snapshots_remove(ad->snaps, camera_id);
}

static int dahua_snapshot(void *priv, struct agw_snapshot *s)
{
	struct dahua_adapter *ad = priv;
	return agw_vendor_snapshots_start(ad->snaps, agw_vendor_pull_http(ad->pull), s);
}

static void dahua_snapshot_cancel(void *priv, struct agw_snapshot *s)
{
	struct dahua_adapter *ad = priv;
	agw_vendor_snapshots_cancel(ad->snaps, s);
}

static void dahua_resume(void *priv)
{
	struct dahua_adapter *ad = priv;
	agw_vendor_pull_resume(ad->pull);
}

const struct agw_adapter agw_adapter_dahua = {
	.name = "dahua",
	.description = "Dahua devices (and Amcrest, Lorex): eventManager attach stream (Digest, heartbeat liveness, "
		       "reconnect), Code=...;action=...;index=...;data={...} events",
	.protocol = "dahua",
	.channels = true,
	.subscribes = true,
	.priv_size = sizeof(struct dahua_adapter),
	.options = dahua_options,
	.init = dahua_init,
	.start = dahua_start,
	.stop = dahua_stop,
	.uninit = dahua_uninit,
	.camera_add = dahua_camera_add,
	.camera_remove = dahua_camera_remove,
	.resume = dahua_resume,
	.snapshot = dahua_snapshot,
	.snapshot_cancel = dahua_snapshot_cancel,
	.check_address = dahua_check_address,
	.table_option = "event_table",
	.check = dahua_check,
	.normalize = dahua_normalize,
};
