/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GB/T 28181 adapter: reading GB/T 28181 messages (SIP with libosip2, MANSCDP with libxml2,
 * GB2312/GBK through iconv), turning Alarm notifications into alerts (`alarmgw normalize --adapter
 * gb28181`), and, when `listen` is set, the first part of the SIP server (gb_server.c,
 * gb_transport.c): UDP and TCP, REGISTER with Digest, keepalives, alarms answered after commit
 * with the Alarm Response, catalog queries with the channels stored (adapter state, key "channel",
 * one row per channel ID: `alarmgw channels`), arming, ResetAlarm and alarm SUBSCRIBE per
 * configuration (gb_control.c), and per-device time zones (gb_alarm.c).
 *
 * Ledger rows of protocol "gb28181" hold in "address" the camera's 20-digit GB/T 28181 ID: the
 * channel ID the device reports in its Catalog and writes as DeviceID in its alarms (for a camera
 * behind an NVR or a lower platform, the channel's ID, not the NVR's). */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/adapter.h"
#include "alarmgw/log.h"
#include "gb_alarm.h"
#include "gb_events.h"
#include "gb_message.h"
#include "gb_server.h"
#include "gb_alarm.h"

#define COMPONENT "gb28181"
#define GB_ID_LEN 20

/* A ledger camera of this protocol: its GB ID (the address) and password. */
struct gb_cam {
	struct gb_cam *next;
	struct gb_cam *hnext; /* in cams_by_gb_id */
	char *camera_id, *gb_id, *password;
};

/* Cameras by GB ID: every alarm, registration and catalog item looks one up, and a city's
 * instance has tens of thousands (a list walk of 10,000 cost more than the rest of an alarm). */
#define CAM_BUCKETS 16384u

struct gb28181 {
	/* options */
	char *event_table;
	int64_t utc_offset_min;
	char *listen;
	char *address;
	char *sip_id;
	char *domain;
	char *password;
	int64_t expires_min_s, expires_max_s;
	int64_t keepalive_interval_ms, keepalive_misses;
	int64_t max_devices, max_channels, udp_receive_buffer;
	int64_t catalog_interval_ms, subscribe_expires_ms;
	bool arm, reset_alarm;
	char *subscribe_event;
	char *utc_offsets;
	char *catalog_crs;
	/* state */
	struct agw_gb_zones *zones;
	struct agw_adapter_ctx *ctx;
	struct agw_gb_event_table *table;
	struct gb_cam *cams;
	struct gb_cam *cams_by_gb_id[CAM_BUCKETS];
	size_t n_cameras;
	struct agw_gb_server *server;
	bool warned_no_durable;
};

#define OPT(field) offsetof(struct gb28181, field)
static const struct agw_option gb_options[] = {
	{"event_table", AGW_OPT_PATH, OPT(event_table), NULL, 0, 0, false,
	 "file of extra AlarmMethod/AlarmType-to-kind lines (syntax: share/alarmgw/gb28181-events.conf)"},
	{"utc_offset", AGW_OPT_INT, OPT(utc_offset_min), "480", -720, 840, false,
	 "minutes east of UTC of AlarmTime values written without a zone (China Standard Time: 480)"},
	{"listen", AGW_OPT_STRING, OPT(listen), NULL, 0, 0, false,
	 "ip:port of the SIP server (UDP and TCP), for example 0.0.0.0:5060; unset: not listening"},
	{"address", AGW_OPT_STRING, OPT(address), NULL, 0, 0, false,
	 "the IP devices reach the gateway at, for the requests it sends them (default: the listen address, "
	 "or the address each device sends to)"},
	{"sip_id", AGW_OPT_STRING, OPT(sip_id), "34020000002000000001", 0, 0, false,
	 "the gateway's 20-digit SIP server ID, as configured on the devices"},
	{"domain", AGW_OPT_STRING, OPT(domain), NULL, 0, 0, false,
	 "the SIP domain and Digest realm (default: the first 10 digits of sip_id)"},
	{"password", AGW_OPT_STRING, OPT(password), NULL, 0, 0, false,
	 "domain-wide registration password, for devices without one in the ledger"},
	{"register_expires_min", AGW_OPT_INT, OPT(expires_min_s), "60", 1, 86400, false,
	 "shortest registration accepted, in seconds (shorter: 423 Interval Too Brief)"},
	{"register_expires_max", AGW_OPT_INT, OPT(expires_max_s), "3600", 60, 604800, false,
	 "longest registration granted, in seconds"},
	{"keepalive_interval", AGW_OPT_DURATION, OPT(keepalive_interval_ms), "60s", 1000, 3600000, false,
	 "the devices' keepalive interval"},
	{"keepalive_misses", AGW_OPT_INT, OPT(keepalive_misses), "3", 1, 100, false,
	 "keepalives missed in a row before a device is offline"},
	{"max_devices", AGW_OPT_INT, OPT(max_devices), "20000", 1, 1000000, false,
	 "registered devices at most (more get 503)"},
	{"max_channels", AGW_OPT_INT, OPT(max_channels), "200000", 1, 10000000, false,
	 "catalog channels remembered at most (their devices' whole catalogs)"},
	{"catalog_crs", AGW_OPT_STRING, OPT(catalog_crs), "wgs84", 0, 0, false,
	 "coordinate system of the Longitude/Latitude in the devices' catalogs (wgs84, gcj02 or cgcs2000): a ledger "
	 "camera without a position gets its channel's"},
	{"udp_receive_buffer", AGW_OPT_INT, OPT(udp_receive_buffer), "8388608", 0, 1073741824, false,
	 "bytes of kernel buffer for the UDP socket, where datagrams wait while the loop commits (0: the system's "
	 "default); more than net.core.rmem_max needs CAP_NET_ADMIN, else the kernel caps it (logged)"},
	{"utc_offsets", AGW_OPT_STRING, OPT(utc_offsets), NULL, 0, 0, false,
	 "devices or channels whose clocks are not on utc_offset: \"ID=OFFSET, ...\" with OFFSET minutes east of "
	 "UTC or +HH:MM (the channel's entry first, then its device's)"},
	{"catalog_interval", AGW_OPT_DURATION, OPT(catalog_interval_ms), "1h", 0, 604800000, false,
	 "Catalog query after each registration and this often (0: never)"},
	{"arm", AGW_OPT_BOOL, OPT(arm), "false", 0, 0, false,
	 "send DeviceControl SetGuard after each registration (devices that alarm only when armed)"},
	{"reset_alarm", AGW_OPT_BOOL, OPT(reset_alarm), "false", 0, 0, false,
	 "send DeviceControl ResetAlarm after each journaled alarm (devices that alarm once until reset)"},
	{"subscribe", AGW_OPT_DURATION, OPT(subscribe_expires_ms), "0", 0, 86400000, false,
	 "SUBSCRIBE to alarms after registration for this long, renewed at 80 % (0: no subscription)"},
	{"subscribe_event", AGW_OPT_STRING, OPT(subscribe_event), "presence", 0, 0, false,
	 "the Event header of the alarm SUBSCRIBE"},
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

static int check_crs(const char *crs, char *err, size_t errlen)
{
	if (!crs || !strcmp(crs, "wgs84") || !strcmp(crs, "gcj02") || !strcmp(crs, "cgcs2000"))
		return 0;
	snprintf(err, errlen, "catalog_crs: '%s' is none of wgs84, gcj02, cgcs2000", crs);
	return -EINVAL;
}

static int gb_check(const void *opts, char *err, size_t errlen)
{
	const struct gb28181 *g = opts;
	if (check_crs(g->catalog_crs, err, errlen) < 0)
		return -EINVAL;
	struct agw_gb_event_table *t;
	int rc = load_table(g, &t, err, errlen);
	agw_gb_event_table_free(t);
	struct agw_gb_zones *z = NULL;
	if (rc == 0)
		rc = agw_gb_zones_parse(g->utc_offsets, &z, err, errlen);
	agw_gb_zones_free(z);
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
	/* the SIP server's per-device zones: the same capture reads the same time here as there */
	struct agw_gb_zones *z = NULL;
	rc = agw_gb_zones_parse(g->utc_offsets, &z, err, errlen);
	if (rc == 0) {
		char note[256];
		rc = agw_gb_normalize(buf, len, t ? t : agw_gb_event_table_default(), z, (int)g->utc_offset_min, fn, arg,
				      note, sizeof(note), err, errlen);
		if (note[0])
			agw_log_notice(COMPONENT, NULL, "%s", note);
	}
	agw_gb_zones_free(z);
	agw_gb_event_table_free(t);
	return rc;
}

static int gb_init(void *priv, struct agw_adapter_ctx *ctx)
{
	struct gb28181 *g = priv;
	g->ctx = ctx;
	char err[512];
	int rc = load_table(g, &g->table, err, sizeof(err));
	if (rc < 0) {
		agw_log_err(COMPONENT, NULL, "event_table: %s", err);
		return rc;
	}
	rc = agw_gb_zones_parse(g->utc_offsets, &g->zones, err, sizeof(err));
	if (rc == 0)
		rc = check_crs(g->catalog_crs, err, sizeof(err));
	if (rc < 0)
		agw_log_err(COMPONENT, NULL, "%s", err);
	return rc;
}

static unsigned cam_bucket(const char *gb_id)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *p = gb_id; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % CAM_BUCKETS;
}

/* Two ledger rows may name one GB ID; as before, the one added last is found first. */
static const char *env_camera_of(void *arg, const char *gb_id)
{
	const struct gb28181 *g = arg;
	for (const struct gb_cam *c = g->cams_by_gb_id[cam_bucket(gb_id)]; c; c = c->hnext)
		if (!strcmp(c->gb_id, gb_id))
			return c->camera_id;
	return NULL;
}

static const char *env_password_of(void *arg, const char *gb_id)
{
	const struct gb28181 *g = arg;
	for (const struct gb_cam *c = g->cams_by_gb_id[cam_bucket(gb_id)]; c; c = c->hnext)
		if (!strcmp(c->gb_id, gb_id) && c->password && *c->password)
			return c->password;
	return NULL;
}

static void env_subscribed(void *arg, const char *camera_id)
{
	struct gb28181 *g = arg;
	if (g->ctx->subscribed)
		g->ctx->subscribed(g->ctx, camera_id);
}

static void env_channel_put(void *arg, const char *channel_id, const char *json)
{
	struct gb28181 *g = arg;
	if (g->ctx->state_put && g->ctx->state_put(g->ctx, channel_id, "channel", json) < 0)
		agw_log_debug(COMPONENT, channel_id, "channel not stored (the store refused it)");
	/* A channel's alarms come through its registered device: a ledger row naming the channel is
	 * subscribed once the device's catalog lists it. */
	const char *cam = env_camera_of(arg, channel_id);
	if (cam)
		env_subscribed(arg, cam);
}

static int env_locate(void *arg, const char *camera_id, double lon, double lat, const char *crs)
{
	struct gb28181 *g = arg;
	return g->ctx->locate ? g->ctx->locate(g->ctx, camera_id, lon, lat, crs) : -ENOTSUP;
}

static int env_emit(void *arg, const struct agw_alert *alert)
{
	struct gb28181 *g = arg;
	return g->ctx->emit(g->ctx, alert);
}

static int env_emit_durable(void *arg, const struct agw_alert *alert, void (*done)(void *done_arg, int status),
			    void *done_arg)
{
	struct gb28181 *g = arg;
	/* acknowledging before the commit is what this adapter exists not to do */
	if (!g->ctx->emit_durable) {
		if (!g->warned_no_durable)
			agw_log_err(COMPONENT, NULL, "the core offers no emit_durable: alarms are answered 500 and not "
						     "journaled (devices retransmit them for a while, then give up)");
		g->warned_no_durable = true;
		return -ENOTSUP;
	}
	return g->ctx->emit_durable(g->ctx, alert, done, done_arg);
}

static int gb_start(void *priv)
{
	struct gb28181 *g = priv;
	if (!g->listen || !*g->listen) {
		agw_log_warn(COMPONENT, NULL,
			     "no 'listen' configured: the SIP server is not listening; %zu gb28181 camera%s in the "
			     "ledger cannot register and their alarms are not received",
			     g->n_cameras, g->n_cameras == 1 ? "" : "s");
		return 0;
	}
	struct agw_gb_server_config cfg = {
		.listen = g->listen,
		.address = g->address && *g->address ? g->address : NULL,
		.sip_id = g->sip_id,
		.domain = g->domain && *g->domain ? g->domain : NULL,
		.password = g->password && *g->password ? g->password : NULL,
		.expires_min_s = g->expires_min_s,
		.expires_max_s = g->expires_max_s,
		.keepalive_interval_ms = g->keepalive_interval_ms,
		.keepalive_misses = g->keepalive_misses,
		.max_devices = g->max_devices,
		.utc_offset_min = (int)g->utc_offset_min,
		.zones = g->zones,
		.table = g->table,
		.catalog_interval_ms = g->catalog_interval_ms,
		.arm = g->arm,
		.reset_alarm = g->reset_alarm,
		.subscribe_expires_s = (g->subscribe_expires_ms + 999) / 1000,
		.subscribe_event = g->subscribe_event,
		.max_channels = g->max_channels,
		.udp_receive_buffer = g->udp_receive_buffer,
		.catalog_crs = g->catalog_crs,
	};
	struct agw_gb_server_env env = {
		.arg = g,
		.camera_of = env_camera_of,
		.password_of = env_password_of,
		.channel_put = env_channel_put,
		.locate = env_locate,
		.subscribed = env_subscribed,
		.emit = env_emit,
		.emit_durable = env_emit_durable,
	};
	char err[256];
	int rc = agw_gb_server_start(g->ctx->loop, &cfg, &env, &g->server, err, sizeof(err));
	if (rc < 0) {
		agw_log_err(COMPONENT, NULL, "SIP server: %s", err);
		g->server = NULL;
		return rc;
	}
	agw_log_notice(COMPONENT, NULL,
		       "SIP server %s listening on udp and tcp %s for %zu ledger camera%s; catalog %s, arming %s, "
		       "alarm subscription %s",
		       g->sip_id, g->listen, g->n_cameras, g->n_cameras == 1 ? "" : "s",
		       g->catalog_interval_ms ? "queried" : "off", g->arm ? "on" : "off", g->subscribe_expires_ms ? "on" : "off");
	return 0;
}

static void on_server_stopped(void *arg)
{
	struct gb28181 *g = arg;
	g->ctx->stopped(g->ctx);
}

static void gb_stop(void *priv)
{
	struct gb28181 *g = priv;
	if (g->server)
		agw_gb_server_stop(g->server, on_server_stopped, g);
	else
		g->ctx->stopped(g->ctx);
}

static void cam_free(struct gb_cam *c)
{
	free(c->camera_id);
	free(c->gb_id);
	free(c->password);
	free(c);
}

static void gb_uninit(void *priv)
{
	struct gb28181 *g = priv;
	agw_gb_server_free(g->server);
	g->server = NULL;
	while (g->cams) {
		struct gb_cam *c = g->cams;
		g->cams = c->next;
		cam_free(c);
	}
	memset(g->cams_by_gb_id, 0, sizeof(g->cams_by_gb_id));
	agw_gb_event_table_free(g->table);
	g->table = NULL;
	agw_gb_zones_free(g->zones);
	g->zones = NULL;
}

static int gb_camera_add(void *priv, const struct agw_camera *camera)
{
	struct gb28181 *g = priv;
	struct gb_cam *c = calloc(1, sizeof(*c));
	if (!c || !(c->camera_id = strdup(camera->id)) || !(c->gb_id = strdup(camera->address ? camera->address : "")) ||
	    (camera->password && !(c->password = strdup(camera->password)))) {
		if (c)
			cam_free(c);
		return -ENOMEM;
	}
	c->next = g->cams;
	g->cams = c;
	unsigned b = cam_bucket(c->gb_id);
	c->hnext = g->cams_by_gb_id[b];
	g->cams_by_gb_id[b] = c;
	g->n_cameras++;
	return 0;
}

static void gb_camera_remove(void *priv, const char *camera_id)
{
	struct gb28181 *g = priv;
	for (struct gb_cam **p = &g->cams; *p; p = &(*p)->next)
		if (!strcmp((*p)->camera_id, camera_id)) {
			struct gb_cam *c = *p;
			*p = c->next;
			struct gb_cam **h = &g->cams_by_gb_id[cam_bucket(c->gb_id)];
			while (*h != c)
				h = &(*h)->hnext;
			*h = c->hnext;
			cam_free(c);
			g->n_cameras--;
			return;
		}
}

const struct agw_adapter agw_adapter_gb28181 = {
	.name = "gb28181",
	.description = "GB/T 28181 devices and platforms: SIP registration, keepalives, alarms, catalogs and "
		       "arming over UDP and TCP",
	.protocol = "gb28181",
	.subscribes = true,
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
