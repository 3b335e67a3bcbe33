/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the control room sees: a snapshot of cameras (with a state derived from their health
 * alerts), recent alerts and cases, and the outbox, read from the store. One snapshot feeds the
 * status page, /api/status, the store gauges of /metrics and `alarmgw status`.
 * Collecting only reads, so it may run on its own read-only connection off the loop thread. */
#ifndef ALARMGW_STATUS_H
#define ALARMGW_STATUS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A camera's state, from its latest camera_offline / event_channel_lost alerts in the journal. */
enum agw_camera_state {
	AGW_CAMERA_OFFLINE,      /* last camera_offline alert is active */
	AGW_CAMERA_CHANNEL_LOST, /* reachable, but the last event_channel_lost alert is active */
	AGW_CAMERA_ONLINE,       /* it has sent alerts and no health alert is active */
	AGW_CAMERA_UNKNOWN,      /* nothing journaled for it yet */
	AGW_CAMERA_STATE__COUNT
};

const char *agw_camera_state_name(enum agw_camera_state state);

struct agw_status_camera {
	char *id;
	char *name;
	char *protocol;
	char *vendor;
	enum agw_camera_state state;
	char *last_kind;       /* kind of its latest alert, or NULL */
	int64_t last_event_ms; /* gateway time of its latest alert, or AGW_TIME_UNKNOWN */
};

struct agw_status_alert {
	int64_t seq;
	char *camera_id;
	char *kind;
	int active;            /* 1 active, 0 inactive, -1 no state (a pulse) */
	int64_t gateway_time_ms;
	char *topic;
};

struct agw_status_case {
	char *id;
	char *camera_id;
	char *kind;
	char *cell_code;
	char *status;
	int64_t priority;
	int64_t count;
	int64_t opened_at_ms;
	int64_t updated_at_ms;
};

struct agw_status_count {
	char *name;
	int64_t n;
};

/* An outbox row the broker refused, waiting for the operator (`alarmgw outbox retry`). */
struct agw_status_parked {
	int64_t seq;
	char *topic;
	char *case_id;
	char *reason;
	int64_t parked_at_ms;
};

#define AGW_STATUS_PARKED_SHOWN 20

/* A channel an adapter found (a GB/T 28181 catalog, an alarm) that no ledger row has as address:
 * integrators add these to the ledger. Those that sent alarms come first. */
struct agw_status_channel {
	char *adapter;
	char *id;
	char *device;
	char *name;
	int64_t first_alarm_ms; /* its first alarm while unmatched, AGW_TIME_UNKNOWN: none */
};

struct agw_status {
	int64_t generated_ms;
	int schema_version;
	/* cameras sorted by state (offline first), then id */
	struct agw_status_camera *cameras;
	size_t n_cameras;
	size_t cameras_by_state[AGW_CAMERA_STATE__COUNT];
	/* newest first */
	struct agw_status_alert *alerts;
	size_t n_alerts;
	struct agw_status_case *cases;
	size_t n_cases;
	struct agw_status_count *cases_by_status; /* sorted by status */
	size_t n_cases_by_status;
	int64_t journal_last_seq; /* sequence number of the newest journaled alert, 0 when none */
	int64_t outbox_depth;     /* pending rows: not yet acknowledged by the broker (or in the resend window) */
	int64_t outbox_oldest_ms; /* created_at of the oldest pending row, or AGW_TIME_UNKNOWN when none */
	int64_t outbox_parked;    /* rows the broker refused, parked with the reason */
	struct agw_status_parked *parked; /* the first AGW_STATUS_PARKED_SHOWN of them, oldest first */
	size_t n_parked;
	int64_t unmatched_channels;       /* adapter channels in no ledger row */
	struct agw_status_channel *unmatched; /* the first AGW_STATUS_PARKED_SHOWN of them */
	size_t n_unmatched;
};

#define AGW_STATUS_RECENT_DEFAULT 50
#define AGW_STATUS_RECENT_MAX 1000

/* Camera states from the health alerts, kept between snapshots: the first snapshot reads every
 * health alert of the journal, later ones only those journaled since. Used by one collector at
 * a time. */
struct agw_health_tracker;
int agw_health_tracker_new(struct agw_health_tracker **ret);
void agw_health_tracker_free(struct agw_health_tracker *t); /* NULL is a no-op */

/* Reads a snapshot in one read transaction. tracker: kept by the caller across snapshots, or NULL
 * for a one-off. recent: how many recent alerts and cases (at most AGW_STATUS_RECENT_MAX). On
 * failure writes a reason into err. */
int agw_status_collect(sqlite3 *db, struct agw_health_tracker *tracker, size_t recent, int64_t now_ms,
		       struct agw_status **ret_status, char *err, size_t errlen);
void agw_status_free(struct agw_status *status); /* NULL is a no-op */

/* Outbox age in ms at the snapshot's time (0 when empty). */
int64_t agw_status_outbox_age_ms(const struct agw_status *status);

/* Renderings (status_render.c). Each returns a malloc'd NUL-terminated text in *ret_text and its
 * length in *ret_len, or -ENOMEM. */
int agw_status_to_json(const struct agw_status *status, char **ret_text, size_t *ret_len);
/* The read-only status page: plain HTML, no external resources, refreshes itself every
 * refresh_s seconds (0: never). Shows at most max_cameras cameras (the worst states first). */
int agw_status_to_html(const struct agw_status *status, unsigned refresh_s, size_t max_cameras, char **ret_text,
		       size_t *ret_len);
/* Prometheus text format: every counter of alarmgw/metrics.h plus the store gauges. */
int agw_status_to_prometheus(const struct agw_status *status, char **ret_text, size_t *ret_len);
/* The terminal form for `alarmgw status`. */
int agw_status_print(const struct agw_status *status, FILE *out);

#endif
