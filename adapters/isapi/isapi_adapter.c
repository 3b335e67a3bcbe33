/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Hikvision ISAPI adapter: one GET /ISAPI/Event/notification/alertStream per device
 * (vendor_pull.h: libcurl multi on the loop, Digest, liveness by heartbeat, reconnect with
 * backoff and jitter, back-pressure), documents and pictures normalized by isapi_stream.h; and
 * what the core asks without running it (address check, event table check, `alarmgw normalize
 * --adapter isapi`); push mode (isapi_push.h: devices POST to a listener of the gateway); NVR
 * channels routed to their own ledger cameras (vendor_routes.h), for both. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/adapter.h"
#include "alarmgw/log.h"
#include "isapi_push.h"
#include "isapi_stream.h"
#include "isapi_table.h"
#include "alarmgw/vendor_address.h"
#include "alarmgw/vendor_pull.h"
#include "alarmgw/vendor_routes.h"
#include "alarmgw/vendor_unmatched.h"
#include "alarmgw/vendor_snapshot.h"

#define LOG_TAG "isapi"
#define ALERT_STREAM_PATH "/ISAPI/Event/notification/alertStream"

struct isapi_adapter {
	/* options */
	char *event_table;
	struct agw_vendor_pull_options pull_opts;
	bool push_only;
	char *push_listen, *push_path, *push_username, *push_password, *push_realm;
	int64_t push_max_body, push_timeout_ms, push_max_connections, push_max_buffered;
	/* state */
	struct agw_adapter_ctx *ctx;
	const struct agw_vendor_table *table;
	struct agw_vendor_routes *routes; /* NVR channels, shared by pull and push */
	struct agw_vendor_unmatched *unmatched; /* channels no row names, stored this run (both) */
	struct agw_vendor_pull *pull;
	struct agw_vendor_pull *draining; /* the pull while it stops: it reads its sockets to the end and
					   * is resumed meanwhile (vendor_pull.h) */
	struct agw_isapi_push *push;
	struct agw_vendor_snapshots *snaps; /* evidence for events without a picture */
	int running;                      /* of pull and push, those not yet stopped */
};

#define OPT(field) offsetof(struct isapi_adapter, field)
static const struct agw_option isapi_options[] = {
	{"event_table", AGW_OPT_PATH, OPT(event_table), NULL, 0, 0, false,
	 "file of extra eventType-to-kind lines, tried before the default table (syntax: share/alarmgw/isapi-events.conf)"},
	AGW_VENDOR_PULL_OPTIONS(struct isapi_adapter, pull_opts, "30s",
				"no byte on a device's alertStream for this long (devices send a heartbeat every few "
				"seconds): reconnect",
				"10s"),
	{"push_only", AGW_OPT_BOOL, OPT(push_only), "false", 0, 0, false,
	 "open no alertStream: the devices push their events (push_listen)"},
	{"push_listen", AGW_OPT_STRING, OPT(push_listen), NULL, 0, 0, false,
	 "IP:port of the listener devices POST their events to (their httpHosts entry); unset: no push. Off "
	 "loopback it needs push_username and push_password"},
	{"push_path", AGW_OPT_STRING, OPT(push_path), "/alarm", 0, 0, false,
	 "the path devices post to (httpHosts url)"},
	{"push_username", AGW_OPT_STRING, OPT(push_username), NULL, 0, 0, false,
	 "Digest user name devices must give (httpHosts MD5digest); required off loopback"},
	{"push_password", AGW_OPT_STRING, OPT(push_password), NULL, 0, 0, false, "Digest password devices must give"},
	{"push_realm", AGW_OPT_STRING, OPT(push_realm), "alarmgw", 0, 0, false, "Digest realm of the push listener"},
	{"push_max_body", AGW_OPT_INT, OPT(push_max_body), "4194304", 1024, 67108864, false,
	 "largest body of a post, pictures included (413 beyond)"},
	{"push_timeout", AGW_OPT_DURATION, OPT(push_timeout_ms), "10s", 100, 600000, false,
	 "a post's head and body must arrive within this time (408 beyond)"},
	{"push_max_connections", AGW_OPT_INT, OPT(push_max_connections), "1024", 1, 100000, false,
	 "open push connections at most; more are closed at once"},
	{"push_max_buffered", AGW_OPT_INT, OPT(push_max_buffered), "67108864", 65536, 4294967296.0, false,
	 "bytes of posted bodies held at once over all connections; a post beyond gets 503 and comes again"},
	{NULL, 0, 0, NULL, 0, 0, false, NULL},
};

/* ---- the stream parser behind vendor_pull's function table ---- */

static int parser_create_with_pictures(const char *content_type, const struct agw_vendor_table *table,
				       int (*on_alert)(void *arg, struct agw_alert *alert),
				       void (*on_error)(void *arg, uint64_t offset, const char *what),
				       void (*on_picture)(void *arg, const struct agw_alert *event, unsigned index,
							  const char *content_type, const void *data, size_t len),
				       void *arg, void **ret)
{
	struct agw_isapi_stream_config cfg = {
		.content_type = content_type, .table = table, .on_alert = on_alert, .on_error = on_error,
		.on_picture = on_picture, .arg = arg,
	};
	struct agw_isapi_stream *s;
	int rc = agw_isapi_stream_new(&cfg, &s);
	if (rc == 0)
		*ret = s;
	return rc;
}

static int parser_create(const char *content_type, const struct agw_vendor_table *table,
			 int (*on_alert)(void *arg, struct agw_alert *alert),
			 void (*on_error)(void *arg, uint64_t offset, const char *what), void *arg, void **ret)
{
	return parser_create_with_pictures(content_type, table, on_alert, on_error, NULL, arg, ret);
}

static int parser_feed(void *parser, const void *buf, size_t len)
{
	return agw_isapi_stream_feed(parser, buf, len);
}

static int parser_finish(void *parser)
{
	return agw_isapi_stream_finish(parser);
}

static void parser_destroy(void *parser)
{
	agw_isapi_stream_free(parser);
}

static uint64_t parser_parts(void *parser)
{
	const struct agw_isapi_stream_stats *st = agw_isapi_stream_stats(parser);
	return st->events + st->heartbeats + st->other_documents + st->pictures + st->orphan_pictures;
}

static const struct agw_vendor_parser_ops isapi_parser = {
	.create = parser_create, .create_with_pictures = parser_create_with_pictures, .feed = parser_feed,
	.finish = parser_finish, .destroy = parser_destroy, .parts = parser_parts,
};

/* ---- hooks the core calls without running the adapter ---- */

static const char *isapi_check_address(const char *address)
{
	return agw_vendor_check_http_address(address, "an isapi device needs host[:port] or an http:// or https:// URL");
}

static int isapi_check(const void *opts, char *err, size_t errlen)
{
	const struct isapi_adapter *o = opts;
	const struct agw_vendor_table *t;
	int rc = agw_isapi_table_open(o->event_table, &t, err, errlen);
	if (rc < 0)
		return rc;
	agw_isapi_table_close(t);
	if ((rc = agw_vendor_pull_options_check(&o->pull_opts, err, errlen)) < 0)
		return rc;
	if (o->push_listen) {
		struct agw_isapi_push_config pc = {
			.listen = o->push_listen, .path = o->push_path, .username = o->push_username,
			.password = o->push_password,
		};
		if ((rc = agw_isapi_push_check(&pc, err, errlen)) < 0)
			return rc;
	}
	if (o->push_only && !o->push_listen) {
		snprintf(err, errlen, "push_only is set and push_listen is not: no event would ever arrive");
		return -EINVAL;
	}
	return 0;
}

static int isapi_normalize(const void *opts, const char *buf, size_t len, int (*fn)(void *arg, struct agw_alert *alert),
			   void *arg, char *err, size_t errlen)
{
	const struct isapi_adapter *o = opts;
	const struct agw_vendor_table *t;
	int rc = agw_isapi_table_open(o->event_table, &t, err, errlen);
	if (rc < 0)
		return rc;
	rc = agw_isapi_normalize(buf, len, t, fn, arg, err, errlen);
	agw_isapi_table_close(t);
	return rc;
}

/* ---- lifecycle ---- */

static int isapi_init(void *priv, struct agw_adapter_ctx *ctx)
{
	struct isapi_adapter *ad = priv;
	char err[512];
	ad->ctx = ctx;
	if (isapi_check(ad, err, sizeof(err)) < 0 || agw_isapi_table_open(ad->event_table, &ad->table, err, sizeof(err)) < 0) {
		agw_log_err(LOG_TAG, NULL, "%s", err);
		return -EINVAL;
	}
	if (agw_vendor_routes_new(&ad->routes) < 0 || agw_vendor_unmatched_new(&ad->unmatched) < 0)
		return -ENOMEM;
	if (ad->push_listen) {
		struct agw_isapi_push_config pc = {
			.listen = ad->push_listen,
			.path = ad->push_path,
			.username = ad->push_username,
			.password = ad->push_password,
			.realm = ad->push_realm,
			.max_body = (size_t)ad->push_max_body,
			.timeout_ms = ad->push_timeout_ms,
			.max_connections = (int)ad->push_max_connections,
			.max_buffered = (size_t)ad->push_max_buffered,
			.table = ad->table,
			.routes = ad->routes,
			.unmatched = ad->unmatched,
		};
		int rc = agw_isapi_push_new(&pc, ctx, &ad->push, err, sizeof(err));
		if (rc < 0) {
			agw_log_err(LOG_TAG, NULL, "%s", err);
			return rc;
		}
	}
	if (ad->push_only)
		return 0;
	/* Evidence for events that bring no picture: the channel's picture, GET
	 * /ISAPI/Streaming/channels/<channel>01/picture (the main stream) with Digest. */
	int rc = agw_vendor_snapshots_new("/ISAPI/Streaming/channels/", "/picture", 100, 1, ad->pull_opts.tls_verify,
					  ad->pull_opts.ca_file, &ad->snaps);
	if (rc < 0)
		return rc;
	struct agw_vendor_pull_config cfg = {
		.adapter = LOG_TAG,
		.path = ALERT_STREAM_PATH,
		.ops = &isapi_parser,
		.table = ad->table,
		.routes = ad->routes,
		.unmatched = ad->unmatched,
	};
	agw_vendor_pull_config_apply(&cfg, &ad->pull_opts);
	return agw_vendor_pull_new(&cfg, ctx, &ad->pull);
}

static int isapi_start(void *priv)
{
	struct isapi_adapter *ad = priv;
	int rc = ad->push ? agw_isapi_push_start(ad->push) : 0;
	if (rc == 0 && ad->pull)
		rc = agw_vendor_pull_start(ad->pull);
	return rc;
}

static void part_stopped(void *arg)
{
	struct isapi_adapter *ad = arg;
	if (--ad->running == 0)
		ad->ctx->stopped(ad->ctx);
}

static void pull_stopped(void *arg)
{
	struct isapi_adapter *ad = arg;
	ad->draining = NULL;
	part_stopped(ad);
}

static void isapi_stop(void *priv)
{
	struct isapi_adapter *ad = priv;
	struct agw_vendor_pull *pull = ad->pull;
	struct agw_isapi_push *push = ad->push;
	/* both free themselves once stopped */
	ad->pull = NULL;
	ad->push = NULL;
	ad->running = 1 + (pull != NULL) + (push != NULL);
	agw_vendor_snapshots_cancel_all(ad->snaps); /* before the curl loop they run on closes */
	ad->draining = pull;
	if (pull)
		agw_vendor_pull_stop(pull, pull_stopped, ad);
	if (push)
		agw_isapi_push_stop(push, part_stopped, ad);
	part_stopped(ad);
}

static void isapi_uninit(void *priv)
{
	struct isapi_adapter *ad = priv;
	agw_vendor_pull_free(ad->pull); /* only when it never started: stop frees it */
	ad->pull = NULL;
	agw_isapi_push_free(ad->push);
	ad->push = NULL;
	agw_vendor_routes_free(ad->routes);
	ad->routes = NULL;
	agw_vendor_unmatched_free(ad->unmatched);
	ad->unmatched = NULL;
	agw_vendor_snapshots_free(ad->snaps);
	ad->snaps = NULL;
	agw_isapi_table_close(ad->table);
	ad->table = NULL;
}

static void isapi_camera_remove_all(struct isapi_adapter *ad, const char *camera_id)
{
	agw_vendor_routes_remove(ad->routes, camera_id);
	if (ad->push)
		agw_isapi_push_remove(ad->push, camera_id);
	if (ad->pull)
		agw_vendor_pull_remove(ad->pull, camera_id);
	if (ad->snaps)
		agw_vendor_snapshots_remove(ad->snaps, camera_id);
}

static int isapi_camera_add(void *priv, const struct agw_camera *camera)
{
	struct isapi_adapter *ad = priv;
	int rc = agw_vendor_routes_add(ad->routes, camera);
	if (rc == 0 && ad->push)
		rc = agw_isapi_push_add(ad->push, camera);
	if (rc == 0 && ad->pull)
		rc = agw_vendor_pull_add(ad->pull, camera);
	if (rc == 0 && ad->snaps)
		rc = agw_vendor_snapshots_add(ad->snaps, camera);
	if (rc < 0)
		isapi_camera_remove_all(ad, camera->id);
	return rc;
}

static void isapi_camera_remove(void *priv, const char *camera_id)
{
	isapi_camera_remove_all(priv, camera_id);
}

static int isapi_snapshot(void *priv, struct agw_snapshot *s)
{
	struct isapi_adapter *ad = priv;
	return ad->snaps ? agw_vendor_snapshots_start(ad->snaps, agw_vendor_pull_http(ad->pull), s) : -ENOTSUP;
}

static void isapi_snapshot_cancel(void *priv, struct agw_snapshot *s)
{
	struct isapi_adapter *ad = priv;
	agw_vendor_snapshots_cancel(ad->snaps, s);
}

static void isapi_resume(void *priv)
{
	struct isapi_adapter *ad = priv;
	if (ad->pull || ad->draining)
		agw_vendor_pull_resume(ad->pull ? ad->pull : ad->draining);
}

const struct agw_adapter agw_adapter_isapi = {
	.name = "isapi",
	.description = "Hikvision ISAPI devices: alertStream (Digest, heartbeat liveness, reconnect) or push to a "
		       "listener (httpHosts), XML and JSON EventNotificationAlert documents with their pictures, NVR "
		       "channels",
	.protocol = "isapi",
	.channels = true,
	.subscribes = true,
	.priv_size = sizeof(struct isapi_adapter),
	.options = isapi_options,
	.init = isapi_init,
	.start = isapi_start,
	.stop = isapi_stop,
	.uninit = isapi_uninit,
	.snapshot = isapi_snapshot,
	.snapshot_cancel = isapi_snapshot_cancel,
	.camera_add = isapi_camera_add,
	.camera_remove = isapi_camera_remove,
	.resume = isapi_resume,
	.check_address = isapi_check_address,
	.table_option = "event_table",
	.check = isapi_check,
	.normalize = isapi_normalize,
};
