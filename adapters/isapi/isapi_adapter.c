/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Hikvision ISAPI adapter: what the core asks without running it (address check, event table
 * check, `alarmgw normalize --adapter isapi`) is complete. The live part (one alertStream per
 * device on the loop's libcurl multi) is not written yet: a started adapter with devices says so
 * in its log rather than pretend to listen. */
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

#define LOG_TAG "isapi"

struct isapi_adapter {
	/* options */
	char *event_table;
	/* state */
	struct agw_adapter_ctx *ctx;
	const struct agw_vendor_table *table;
	char **cameras;
	size_t n_cameras;
	bool started;
};

#define OPT(field) offsetof(struct isapi_adapter, field)
static const struct agw_option isapi_options[] = {
	{"event_table", AGW_OPT_STRING, OPT(event_table), NULL, 0, 0, false,
	 "file of extra eventType-to-kind lines, tried before the default table (syntax: share/alarmgw/isapi-events.conf)"},
	{NULL, 0, 0, NULL, 0, 0, false, NULL},
};

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

static int isapi_init(void *priv, struct agw_adapter_ctx *ctx)
{
	struct isapi_adapter *ad = priv;
	char err[512];
	ad->ctx = ctx;
	int rc = agw_isapi_table_open(ad->event_table, &ad->table, err, sizeof(err));
	if (rc < 0)
		agw_log_err(LOG_TAG, NULL, "event table: %s", err);
	return rc;
}

static void say_not_listening(struct isapi_adapter *ad, const char *camera_id)
{
	agw_log_warn(LOG_TAG, camera_id,
		     "the ISAPI alertStream client is not implemented yet: no events are received from this device");
	(void)ad;
}

static int isapi_start(void *priv)
{
	struct isapi_adapter *ad = priv;
	ad->started = true;
	if (ad->n_cameras)
		agw_log_warn(LOG_TAG, NULL,
			     "%zu ISAPI devices in the ledger, but the live alertStream client is not implemented yet: "
			     "no events are received from them",
			     ad->n_cameras);
	return 0;
}

static void isapi_stop(void *priv)
{
	struct isapi_adapter *ad = priv;
	ad->started = false;
	ad->ctx->stopped(ad->ctx);
}

static void isapi_uninit(void *priv)
{
	struct isapi_adapter *ad = priv;
	agw_isapi_table_close(ad->table);
	ad->table = NULL;
	for (size_t i = 0; i < ad->n_cameras; i++)
		free(ad->cameras[i]);
	free(ad->cameras);
	ad->cameras = NULL;
	ad->n_cameras = 0;
}

static int isapi_camera_add(void *priv, const struct agw_camera *camera)
{
	struct isapi_adapter *ad = priv;
	char **v = realloc(ad->cameras, (ad->n_cameras + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ad->cameras = v;
	if (!(v[ad->n_cameras] = strdup(camera->id)))
		return -ENOMEM;
	ad->n_cameras++;
	if (ad->started)
		say_not_listening(ad, camera->id);
	return 0;
}

static void isapi_camera_remove(void *priv, const char *camera_id)
{
	struct isapi_adapter *ad = priv;
	for (size_t i = 0; i < ad->n_cameras; i++)
		if (!strcmp(ad->cameras[i], camera_id)) {
			free(ad->cameras[i]);
			ad->cameras[i] = ad->cameras[--ad->n_cameras];
			return;
		}
}

const struct agw_adapter agw_adapter_isapi = {
	.name = "isapi",
	.description = "Hikvision ISAPI devices: EventNotificationAlert documents and alertStream captures "
		       "(normalize); live alertStream not yet",
	.protocol = "isapi",
	.priv_size = sizeof(struct isapi_adapter),
	.options = isapi_options,
	.init = isapi_init,
	.start = isapi_start,
	.stop = isapi_stop,
	.uninit = isapi_uninit,
	.camera_add = isapi_camera_add,
	.camera_remove = isapi_camera_remove,
	.check_address = isapi_check_address,
	.table_option = "event_table",
	.check = isapi_check,
	.normalize = isapi_normalize,
};
