/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GB/T 28181 adapter. What exists: reading GB/T 28181 messages (SIP with libosip2, MANSCDP
 * with libxml2, GB2312/GBK through iconv) and turning Alarm notifications into alerts, which
 * `alarmgw normalize --adapter gb28181` shows. What does not exist yet: the SIP server (devices
 * registering, keepalives, catalog, alarms acknowledged after commit); a started instance says so.
 *
 * Ledger rows of protocol "gb28181" hold in "address" the camera's 20-digit GB/T 28181 ID: the
 * channel ID the device reports in its Catalog and writes as DeviceID in its alarms (for a camera
 * behind an NVR or a lower platform, the channel's ID, not the NVR's). */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "alarmgw/adapter.h"
#include "alarmgw/log.h"
#include "gb_alarm.h"
#include "gb_events.h"
#include "gb_message.h"

#define COMPONENT "gb28181"
#define GB_ID_LEN 20

struct gb28181 {
	/* options */
	char *event_table;
	int64_t utc_offset_min;
	/* state */
	struct agw_adapter_ctx *ctx;
	struct agw_gb_event_table *table;
	size_t n_cameras;
};

#define OPT(field) offsetof(struct gb28181, field)
static const struct agw_option gb_options[] = {
	{"event_table", AGW_OPT_STRING, OPT(event_table), NULL, 0, 0, false,
	 "file of extra AlarmMethod/AlarmType-to-kind lines (syntax: share/alarmgw/gb28181-events.conf)"},
	{"utc_offset", AGW_OPT_INT, OPT(utc_offset_min), "480", -720, 840, false,
	 "minutes east of UTC of AlarmTime values written without a zone (China Standard Time: 480)"},
	{NULL, 0, 0, NULL, 0, 0, false, NULL},
};
#undef OPT

static const char *gb_check_address(const char *address)
{
	size_t n = address ? strlen(address) : 0;
	bool digits = n == GB_ID_LEN;
	for (size_t i = 0; digits && i < n; i++)
		digits = isdigit((unsigned char)address[i]);
	if (!digits)
		return "a gb28181 camera's address is its 20-digit GB/T 28181 channel ID (for example "
		       "34020000001320000001)";
	return NULL;
}

static int load_table(const struct gb28181 *g, struct agw_gb_event_table **ret, char *err, size_t errlen)
{
	*ret = NULL;
	if (!g->event_table || !*g->event_table)
		return 0;
	return agw_gb_event_table_load(g->event_table, ret, err, errlen);
}

static int gb_check(const void *opts, char *err, size_t errlen)
{
	struct agw_gb_event_table *t;
	int rc = load_table(opts, &t, err, errlen);
	agw_gb_event_table_free(t);
	return rc;
}

static int gb_normalize(const void *opts, const char *buf, size_t len, int (*fn)(void *arg, struct agw_alert *alert),
			void *arg, char *err, size_t errlen)
{
	const struct gb28181 *g = opts;
	struct agw_gb_event_table *t;
	int rc = load_table(g, &t, err, errlen);
	if (rc < 0)
		return rc;
	char note[256];
	rc = agw_gb_normalize(buf, len, t ? t : agw_gb_event_table_default(), (int)g->utc_offset_min, fn, arg, note,
			      sizeof(note), err, errlen);
	if (note[0])
		agw_log_notice(COMPONENT, NULL, "%s", note);
	agw_gb_event_table_free(t);
	return rc;
}

static int gb_init(void *priv, struct agw_adapter_ctx *ctx)
{
	struct gb28181 *g = priv;
	g->ctx = ctx;
	char err[512];
	int rc = load_table(g, &g->table, err, sizeof(err));
	if (rc < 0)
		agw_log_err(COMPONENT, NULL, "event_table: %s", err);
	return rc;
}

static int gb_start(void *priv)
{
	struct gb28181 *g = priv;
	agw_log_warn(COMPONENT, NULL,
		     "the GB/T 28181 SIP server is not built yet: not listening; %zu gb28181 camera%s in the ledger "
		     "cannot register and their alarms are not received",
		     g->n_cameras, g->n_cameras == 1 ? "" : "s");
	return 0;
}

static void gb_stop(void *priv)
{
	struct gb28181 *g = priv;
	g->ctx->stopped(g->ctx);
}

static void gb_uninit(void *priv)
{
	struct gb28181 *g = priv;
	agw_gb_event_table_free(g->table);
	g->table = NULL;
}

static int gb_camera_add(void *priv, const struct agw_camera *camera)
{
	struct gb28181 *g = priv;
	(void)camera;
	g->n_cameras++;
	return 0;
}

static void gb_camera_remove(void *priv, const char *camera_id)
{
	struct gb28181 *g = priv;
	(void)camera_id;
	if (g->n_cameras > 0)
		g->n_cameras--;
}

const struct agw_adapter agw_adapter_gb28181 = {
	.name = "gb28181",
	.description = "GB/T 28181 devices and platforms (message parsing and alarm normalization; "
		       "the SIP server is not built yet)",
	.protocol = "gb28181",
	.priv_size = sizeof(struct gb28181),
	.options = gb_options,
	.init = gb_init,
	.start = gb_start,
	.stop = gb_stop,
	.uninit = gb_uninit,
	.camera_add = gb_camera_add,
	.camera_remove = gb_camera_remove,
	.check_address = gb_check_address,
	.table_option = "event_table",
	.check = gb_check,
	.normalize = gb_normalize,
};
