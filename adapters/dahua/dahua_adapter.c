/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Dahua adapter (Amcrest, Lorex and other white-label firmware speak the same): what the core
 * asks without running it (address check, event table check, `alarmgw normalize --adapter dahua`)
 * is complete. The live part (one eventManager attach per device on the loop's libcurl multi) is
 * not written yet: a started adapter with devices says so in its log rather than pretend to
 * listen. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/adapter.h"
#include "alarmgw/log.h"
#include "dahua_stream.h"
#include "dahua_table.h"
#include "vendor_address.h"

#define LOG_TAG "dahua"

struct dahua_adapter {
	/* options */
	char *event_table;
	/* state */
	struct agw_adapter_ctx *ctx;
	const struct agw_vendor_table *table;
	char **cameras;
	size_t n_cameras;
	bool started;
};

#define OPT(field) offsetof(struct dahua_adapter, field)
static const struct agw_option dahua_options[] = {
	{"event_table", AGW_OPT_STRING, OPT(event_table), NULL, 0, 0, false,
	 "file of extra Code-to-kind lines, tried before the default table (syntax: share/alarmgw/dahua-events.conf)"},
	{NULL, 0, 0, NULL, 0, 0, false, NULL},
};

static const char *dahua_check_address(const char *address)
{
	return agw_vendor_check_http_address(address, "a dahua device needs host[:port] or an http:// or https:// URL");
}

static int dahua_check(const void *opts, char *err, size_t errlen)
{
	const struct dahua_adapter *o = opts;
	const struct agw_vendor_table *t;
	int rc = agw_dahua_table_open(o->event_table, &t, err, errlen);
	if (rc < 0)
		return rc;
	agw_dahua_table_close(t);
	return 0;
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

static int dahua_init(void *priv, struct agw_adapter_ctx *ctx)
{
	struct dahua_adapter *ad = priv;
	char err[512];
	ad->ctx = ctx;
	int rc = agw_dahua_table_open(ad->event_table, &ad->table, err, sizeof(err));
	if (rc < 0)
		agw_log_err(LOG_TAG, NULL, "event table: %s", err);
	return rc;
}

static void say_not_listening(struct dahua_adapter *ad, const char *camera_id)
{
	agw_log_warn(LOG_TAG, camera_id,
		     "the Dahua eventManager attach client is not implemented yet: no events are received from this device");
	(void)ad;
}

static int dahua_start(void *priv)
{
	struct dahua_adapter *ad = priv;
	ad->started = true;
	if (ad->n_cameras)
		agw_log_warn(LOG_TAG, NULL,
			     "%zu Dahua devices in the ledger, but the live eventManager attach client is not implemented yet: "
			     "no events are received from them",
			     ad->n_cameras);
	return 0;
}

static void dahua_stop(void *priv)
{
	struct dahua_adapter *ad = priv;
	ad->started = false;
	ad->ctx->stopped(ad->ctx);
}

static void dahua_uninit(void *priv)
{
	struct dahua_adapter *ad = priv;
	agw_dahua_table_close(ad->table);
	ad->table = NULL;
	for (size_t i = 0; i < ad->n_cameras; i++)
		free(ad->cameras[i]);
	free(ad->cameras);
	ad->cameras = NULL;
	ad->n_cameras = 0;
}

static int dahua_camera_add(void *priv, const struct agw_camera *camera)
{
	struct dahua_adapter *ad = priv;
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

static void dahua_camera_remove(void *priv, const char *camera_id)
{
	struct dahua_adapter *ad = priv;
	for (size_t i = 0; i < ad->n_cameras; i++)
		if (!strcmp(ad->cameras[i], camera_id)) {
			free(ad->cameras[i]);
			ad->cameras[i] = ad->cameras[--ad->n_cameras];
			return;
		}
}

const struct agw_adapter agw_adapter_dahua = {
	.name = "dahua",
	.description = "Dahua devices (and Amcrest, Lorex): eventManager attach captures (normalize); live attach "
		       "not yet",
	.protocol = "dahua",
	.priv_size = sizeof(struct dahua_adapter),
	.options = dahua_options,
	.init = dahua_init,
	.start = dahua_start,
	.stop = dahua_stop,
	.uninit = dahua_uninit,
	.camera_add = dahua_camera_add,
	.camera_remove = dahua_camera_remove,
	.check_address = dahua_check_address,
	.table_option = "event_table",
	.check = dahua_check,
	.normalize = dahua_normalize,
};
