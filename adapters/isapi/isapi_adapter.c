/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Hikvision ISAPI adapter: one GET /ISAPI/Event/notification/alertStream per device
 * (vendor_pull.h: libcurl multi on the loop, Digest, liveness by heartbeat, reconnect with
 * backoff and jitter, back-pressure), documents and pictures normalized by isapi_stream.h; and
 * what the core asks without running it (address check, event table check, `alarmgw normalize
 * --adapter isapi`). Not yet: push mode (devices POSTing to the gateway), routing NVR channels to
 * their own cameras. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/adapter.h"
#include "alarmgw/log.h"
#include "isapi_stream.h"
#include "isapi_table.h"
#include "vendor_address.h"
#include "vendor_pull.h"

#define LOG_TAG "isapi"
#define ALERT_STREAM_PATH "/ISAPI/Event/notification/alertStream"

struct isapi_adapter {
	/* options */
	char *event_table;
	int64_t heartbeat_timeout_ms, connect_timeout_ms, backoff_min_ms, backoff_max_ms, coalesce_ms;
	bool basic_auth, tls_verify;
	char *ca_file;
	/* state */
	struct agw_adapter_ctx *ctx;
	const struct agw_vendor_table *table;
	struct agw_vendor_pull *pull;
};

#define OPT(field) offsetof(struct isapi_adapter, field)
static const struct agw_option isapi_options[] = {
	{"event_table", AGW_OPT_PATH, OPT(event_table), NULL, 0, 0, false,
	 "file of extra eventType-to-kind lines, tried before the default table (syntax: share/alarmgw/isapi-events.conf)"},
	{"heartbeat_timeout", AGW_OPT_DURATION, OPT(heartbeat_timeout_ms), "30s", 1000, 3600000, false,
	 "no byte on a device's alertStream for this long (devices send a heartbeat every few seconds): reconnect"},
	{"connect_timeout", AGW_OPT_DURATION, OPT(connect_timeout_ms), "10s", 100, 600000, false,
	 "deadline of a connection to a device"},
	{"backoff_min", AGW_OPT_DURATION, OPT(backoff_min_ms), "1s", 10, 3600000, false,
	 "first reconnect delay after a failure (doubles each time, with up to 25 % jitter)"},
	{"backoff_max", AGW_OPT_DURATION, OPT(backoff_max_ms), "60s", 10, 86400000, false, "longest reconnect delay"},
	{"coalesce", AGW_OPT_DURATION, OPT(coalesce_ms), "10s", 0, 3600000, false,
	 "an active event repeated (same topic and channel) within this time of the last one emitted is not emitted "
	 "again; 0 emits every repeat. Keep the rules' clear timeout longer"},
	{"basic_auth", AGW_OPT_BOOL, OPT(basic_auth), "false", 0, 0, false,
	 "also answer a Basic challenge (the password then travels in clear over http); Digest is always used"},
	{"tls_verify", AGW_OPT_BOOL, OPT(tls_verify), "true", 0, 0, false,
	 "verify https devices' certificates (false accepts self-signed ones)"},
	{"ca_file", AGW_OPT_PATH, OPT(ca_file), NULL, 0, 0, false, "CA bundle for https devices"},
	{NULL, 0, 0, NULL, 0, 0, false, NULL},
};

/* ---- the stream parser behind vendor_pull's function table ---- */

static int parser_create(const char *content_type, const struct agw_vendor_table *table,
			 int (*on_alert)(void *arg, struct agw_alert *alert),
			 void (*on_error)(void *arg, uint64_t offset, const char *what), void *arg, void **ret)
{
	struct agw_isapi_stream_config cfg = {
		.content_type = content_type, .table = table, .on_alert = on_alert, .on_error = on_error, .arg = arg,
	};
	struct agw_isapi_stream *s;
	int rc = agw_isapi_stream_new(&cfg, &s);
	if (rc == 0)
		*ret = s;
	return rc;
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

static const struct agw_vendor_parser_ops isapi_parser = {
	.create = parser_create, .feed = parser_feed, .finish = parser_finish, .destroy = parser_destroy,
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
	if (o->backoff_max_ms && o->backoff_min_ms > o->backoff_max_ms) {
		snprintf(err, errlen, "backoff_min is longer than backoff_max");
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
	struct agw_vendor_pull_config cfg = {
		.adapter = LOG_TAG,
		.path = ALERT_STREAM_PATH,
		.ops = &isapi_parser,
		.table = ad->table,
		.heartbeat_timeout_ms = ad->heartbeat_timeout_ms,
		.connect_timeout_ms = ad->connect_timeout_ms,
		.backoff_min_ms = ad->backoff_min_ms,
		.backoff_max_ms = ad->backoff_max_ms,
		.coalesce_ms = ad->coalesce_ms,
		.allow_basic = ad->basic_auth,
		.tls_verify = ad->tls_verify,
		.ca_file = ad->ca_file,
	};
	return agw_vendor_pull_new(&cfg, ctx, &ad->pull);
}

static int isapi_start(void *priv)
{
	struct isapi_adapter *ad = priv;
	return agw_vendor_pull_start(ad->pull);
}

static void pull_stopped(void *arg)
{
	struct isapi_adapter *ad = arg;
	ad->pull = NULL;
	ad->ctx->stopped(ad->ctx);
}

static void isapi_stop(void *priv)
{
	struct isapi_adapter *ad = priv;
	if (ad->pull)
		agw_vendor_pull_stop(ad->pull, pull_stopped, ad);
	else
		ad->ctx->stopped(ad->ctx);
}

static void isapi_uninit(void *priv)
{
	struct isapi_adapter *ad = priv;
	agw_vendor_pull_free(ad->pull); /* only when it never started: stop frees it */
	ad->pull = NULL;
	agw_isapi_table_close(ad->table);
	ad->table = NULL;
}

static int isapi_camera_add(void *priv, const struct agw_camera *camera)
{
	struct isapi_adapter *ad = priv;
	return agw_vendor_pull_add(ad->pull, camera);
}

static void isapi_camera_remove(void *priv, const char *camera_id)
{
	struct isapi_adapter *ad = priv;
	agw_vendor_pull_remove(ad->pull, camera_id);
}

static void isapi_resume(void *priv)
{
	struct isapi_adapter *ad = priv;
	agw_vendor_pull_resume(ad->pull);
}

const struct agw_adapter agw_adapter_isapi = {
	.name = "isapi",
	.description = "Hikvision ISAPI devices: alertStream (Digest, heartbeat liveness, reconnect), XML and JSON "
		       "EventNotificationAlert documents with their pictures",
	.protocol = "isapi",
	.channels = true,
	.priv_size = sizeof(struct isapi_adapter),
	.options = isapi_options,
	.init = isapi_init,
	.start = isapi_start,
	.stop = isapi_stop,
	.uninit = isapi_uninit,
	.camera_add = isapi_camera_add,
	.camera_remove = isapi_camera_remove,
	.resume = isapi_resume,
	.check_address = isapi_check_address,
	.table_option = "event_table",
	.check = isapi_check,
	.normalize = isapi_normalize,
};
