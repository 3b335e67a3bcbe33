/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GB/T 28181 SIP server on the libuv loop (docs/gb28181.md, "Design"): UDP transport,
 * non-INVITE server transactions, REGISTER with Digest, Keepalive liveness, and alarms answered
 * 200 OK only once the core says the alert is journaled. What it needs from the gateway comes in
 * through struct agw_gb_server_env, so it runs in tests without the core. */
#ifndef AGW_GB_SERVER_H
#define AGW_GB_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "alarmgw/alert.h"
#include "gb_events.h"
#include "gb_alarm.h"

struct agw_gb_server_config {
	const char *listen;          /* "ip:port" (UDP) */
	const char *sip_id;          /* the gateway's 20-digit ID */
	const char *domain;          /* realm; NULL: the first 10 digits of sip_id */
	const char *password;        /* domain-wide password, NULL when only ledger passwords count */
	int64_t expires_min_s, expires_max_s;
	int64_t keepalive_interval_ms;
	int64_t keepalive_misses;
	int64_t max_devices;
	const char *address;         /* the IP devices reach the gateway at (Via of our requests); NULL:
				      * the listen address, or how each device addresses us */
	int utc_offset_min;
	const struct agw_gb_zones *zones;      /* per-device offsets (NULL: none), kept by the caller */
	const struct agw_gb_event_table *table; /* NULL: the default */
	int64_t catalog_interval_ms;           /* catalog query after registration and this often; 0: never */
	bool arm;                              /* SetGuard after registration */
	bool reset_alarm;                      /* ResetAlarm after each journaled alarm */
	int64_t subscribe_expires_s;           /* alarm SUBSCRIBE after registration, refreshed; 0: none */
	const char *subscribe_event;           /* its Event package; NULL: "presence" */
	int64_t max_channels;                  /* channels remembered at most */
	int64_t udp_receive_buffer;            /* SO_RCVBUF of the UDP socket, bytes; 0: the system's */
	const char *catalog_crs;               /* of catalog Longitude/Latitude; NULL: "wgs84" */
	int64_t gave_up_ms;                    /* after a refusal, when a device has given up retransmitting
						* (its Timer F, 32 s, and slack); 0: 34 s */
};

struct agw_gb_server_env {
	void *arg;
	/* The ledger camera whose GB ID is gb_id, or NULL. */
	const char *(*camera_of)(void *arg, const char *gb_id);
	/* The device's password from the ledger (a row whose address is the device's ID), or NULL. */
	const char *(*password_of)(void *arg, const char *gb_id);
	/* Stores a channel's JSON (gb_manscdp.h) under its ID; may be NULL. Synchronous. */
	void (*channel_put)(void *arg, const char *channel_id, const char *json);
	/* A catalog position (lon/lat in the configured catalog_crs) for the ledger camera camera_id,
	 * as agw_adapter_ctx's locate (0, -EEXIST: the ledger's stands, ...); may be NULL. */
	int (*locate)(void *arg, const char *camera_id, double lon, double lat, const char *crs);
	/* The ledger camera's event channel is open (its device registered); may be NULL. */
	void (*subscribed)(void *arg, const char *camera_id);
	/* As agw_adapter_ctx's. */
	int (*emit)(void *arg, const struct agw_alert *alert);
	int (*emit_durable)(void *arg, const struct agw_alert *alert, void (*done)(void *done_arg, int status),
			    void *done_arg);
};

struct agw_gb_server_stats {
	uint64_t received, bad, registered, auth_failed, keepalives, alarms_journaled, alarms_duplicate,
		alarms_unmatched, alarms_refused, retransmissions, unknown_device, requests_sent, requests_answered,
		requests_timed_out, catalog_queries, catalog_channels, channels_stored, channels_dropped, controls_sent,
		controls_refused, subscriptions_sent, alarms_lost, udp_drops;
};

struct agw_gb_server;

/* Binds and starts receiving. Returns 0 or a negative errno with err. */
int agw_gb_server_start(uv_loop_t *loop, const struct agw_gb_server_config *cfg, const struct agw_gb_server_env *env,
			struct agw_gb_server **ret, char *err, size_t errlen);
/* Closes the socket and timers; calls done(arg) once every handle is closed and every alarm
 * handed to emit_durable has had its answer (the core calls done for those while stopping). */
void agw_gb_server_stop(struct agw_gb_server *s, void (*done)(void *arg), void *arg);
/* Frees what stop left (after done was called). */
void agw_gb_server_free(struct agw_gb_server *s);

const struct agw_gb_server_stats *agw_gb_server_stats(const struct agw_gb_server *s);
/* The port bound (tests listen on port 0). */
int agw_gb_server_port(const struct agw_gb_server *s);
/* Whether a device is registered and alive now. */
bool agw_gb_server_device_online(const struct agw_gb_server *s, const char *gb_id);

#endif
