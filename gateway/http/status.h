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

#include "cellgrid.h"

/* A camera's state, from its latest camera_offline / event_channel_lost alerts in the journal, and
 * whether its event channel ever opened (table camera_channels, adapter.h subscribed). */
enum agw_camera_state {
	AGW_CAMERA_OFFLINE,      /* last camera_offline alert is active */
	AGW_CAMERA_CHANNEL_LOST, /* reachable, but the last event_channel_lost alert is active */
	AGW_CAMERA_NEVER_SUBSCRIBED, /* its adapter has tried and its event channel never opened */
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
	int64_t since_ms;      /* when the health alert of its state came (offline, channel lost), when
				* its adapter first had it (never subscribed), when it subscribed
				* (unknown: never heard from since), or AGW_TIME_UNKNOWN */
	int64_t events_lost_ms;/* its latest events_lost alert, or AGW_TIME_UNKNOWN */
	int64_t tried_ms;      /* when its adapter (one that reports subscriptions) first had it, or
				* AGW_TIME_UNKNOWN */
	int64_t subscribed_ms; /* when its event channel first opened, or AGW_TIME_UNKNOWN */
	bool located;          /* lon/lat are known (in the grid layer's CRS when there is a layer) */
	double lon, lat;
	char *cell_code;       /* located in the grid layer, else its owner_cell, else NULL */
	const struct agw_cell *cell; /* in the snapshot's grid, or NULL */
	int64_t open_cases;
};

struct agw_status_alert {
	int64_t seq;
	char *camera_id;
	char *kind;
	int active;            /* 1 active, 0 inactive, -1 no state (a pulse) */
	int64_t gateway_time_ms;
	char *topic;
};

/* A picture of an open case, as the evidence table has it (gateway/evidence/). */
struct agw_status_picture {
	int64_t n;
	char *status;          /* "stored", "failed", "skipped", "pending", "pruned" */
	char *reason;          /* why there is no picture, or NULL */
	int64_t captured_ms;   /* gateway time of the capture, or AGW_TIME_UNKNOWN */
	int64_t camera_ms;     /* the camera's time of it, or AGW_TIME_UNKNOWN */
};

#define AGW_STATUS_PICTURES_SHOWN 8 /* pictures of an open case in a snapshot, the first ones */

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
	struct agw_status_picture *pictures; /* open cases only: the first AGW_STATUS_PICTURES_SHOWN */
	size_t n_pictures;
	int64_t pictures_total;
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
#define AGW_STATUS_OPEN_MAX 5000 /* open cases kept in a snapshot, most urgent first */

/* The grid layer the cameras are placed in, shared by the snapshots of one layer version (it is
 * read again only when the version changes). Immutable once made. */
struct agw_status_grid {
	char *layer;
	char *crs;             /* agw_crs_name() of the layer */
	int64_t version;
	char *geojson;         /* the cells as a FeatureCollection, as /api/grid serves it */
	size_t geojson_len;
	struct agw_grid *grid;
};

/* The ledger camera of a channel an adapter stored (adapter state "channel", row alias s, the
 * value a JSON object): the row whose address is the channel's ID (GB/T 28181 channel IDs), or
 * the row that names the channel's device and its channel number or source token (NVRs); NULL
 * when none does. An SQL expression, for the page and `alarmgw channels`. The address is compared
 * only where it is set: channel rows have none (NOT IN over a NULL is never true). */
#define AGW_CHANNEL_CAMERA_SQL                                                                                         \
	"coalesce((SELECT min(c.id) FROM cameras c WHERE c.address IS NOT NULL AND c.address = s.camera_id),"          \
	" (SELECT min(c.id) FROM cameras c WHERE c.device = json_extract(s.value, '$.device') AND"                     \
	"  (c.channel = json_extract(s.value, '$.channel') OR c.source_token = json_extract(s.value, '$.name'))))"

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
	int64_t unmatched_channels;       /* adapter channels in no ledger row (AGW_CHANNEL_CAMERA_SQL) */
	struct agw_status_channel *unmatched; /* the first AGW_STATUS_PARKED_SHOWN of them */
	size_t n_unmatched;
	/* open cases (closed_at unset), priority then age: at most AGW_STATUS_OPEN_MAX of open_total */
	struct agw_status_case *open;
	size_t n_open;
	int64_t open_total;
	struct agw_status_grid *grid; /* a reference, or NULL when the layer was never imported */
};

#define AGW_STATUS_RECENT_DEFAULT 50
#define AGW_STATUS_RECENT_MAX 1000

/* Camera states from the health alerts, kept between snapshots: the first snapshot reads every
 * health alert of the journal, later ones only those journaled since. Used by one collector at
 * a time. */
struct agw_health_tracker;
int agw_health_tracker_new(struct agw_health_tracker **ret);
void agw_health_tracker_free(struct agw_health_tracker *t); /* NULL is a no-op */
/* The grid layer whose cells the snapshots read (and cache by version); NULL or "" for none. */
int agw_health_tracker_set_layer(struct agw_health_tracker *t, const char *layer);

/* Grid references (status_grid.c). The tracker keeps one, each snapshot another. */
struct agw_status_grid *agw_status_grid_ref(struct agw_status_grid *g);
void agw_status_grid_unref(struct agw_status_grid *g); /* NULL is a no-op */
/* Reads the layer's cells into *ret when its version differs from (*ret)->version (or *ret is
 * NULL); a layer that is gone leaves *ret NULL. Runs inside the snapshot's read transaction. */
int agw_status_grid_refresh(sqlite3 *db, const char *layer, struct agw_status_grid **ret, char *err, size_t errlen);

/* Reads a snapshot in one read transaction. tracker: kept by the caller across snapshots, or NULL
 * for a one-off. recent: how many recent alerts and cases (at most AGW_STATUS_RECENT_MAX). On
 * failure writes a reason into err. */
int agw_status_collect(sqlite3 *db, struct agw_health_tracker *tracker, size_t recent, int64_t now_ms,
		       struct agw_status **ret_status, char *err, size_t errlen);
void agw_status_free(struct agw_status *status); /* NULL is a no-op */

/* The pictures of the snapshot's open cases (status_evidence.c), inside its read transaction. */
int agw_status_read_pictures(sqlite3 *db, struct agw_status *s, char *err, size_t errlen);

/* Outbox age in ms at the snapshot's time (0 when empty). */
int64_t agw_status_outbox_age_ms(const struct agw_status *status);

/* ---- filters and pages (status_filter.c) ---- */

#define AGW_STATUS_EVENTS_LOST_RECENT_MS (3600 * 1000) /* an events_lost alert this recent is a problem */

/* Which cameras a page asks for. Every member may be NULL or "" for any. */
struct agw_status_filter {
	const char *q;        /* part of the camera's id or name (without case for ASCII) */
	const char *cell;     /* a cell code or a code above it (district, street, ...), or part of the cell's name */
	const char *state;    /* a state name, "problem" (offline, channel_lost, unknown) or "events_lost" */
	const char *vendor;   /* exactly, without case */
	const char *protocol; /* exactly, without case */
};

/* Whether a camera passes f (now_ms: for "events_lost"). */
bool agw_status_camera_matches(const struct agw_status_camera *c, const struct agw_status_filter *f, int64_t now_ms);
/* Whether cell code (a camera's or a case's) is want, lies under want or is in a cell named like want. */
bool agw_status_cell_matches(const struct agw_status_grid *g, const char *code, const char *want);
/* Calls fn for the matching cameras number offset .. offset+limit-1 (in snapshot order: worst
 * state first) and returns how many match in all. */
size_t agw_status_cameras_page(const struct agw_status *s, const struct agw_status_filter *f, size_t offset,
			       size_t limit, void (*fn)(const struct agw_status_camera *c, void *arg), void *arg);
/* The same for open cases, by cell and/or camera id (NULL or "" for any). */
size_t agw_status_open_page(const struct agw_status *s, const char *cell, const char *camera, size_t offset,
			    size_t limit, void (*fn)(const struct agw_status_case *c, void *arg), void *arg);

/* Renderings (status_render.c). Each returns a malloc'd NUL-terminated text in *ret_text and its
 * length in *ret_len, or -ENOMEM. */
int agw_status_to_json(const struct agw_status *status, char **ret_text, size_t *ret_len);
/* The same with the cameras that pass f (NULL: all), offset .. offset+limit-1 of them, and
 * "cameras_matched": how many pass. */
int agw_status_to_json_page(const struct agw_status *status, const struct agw_status_filter *f, size_t offset,
			    size_t limit, char **ret_text, size_t *ret_len);
/* The read-only status page: plain HTML, no external resources, refreshes itself every
 * refresh_s seconds (0: never). Shows at most max_cameras cameras (the worst states first). */
int agw_status_to_html(const struct agw_status *status, unsigned refresh_s, size_t max_cameras, char **ret_text,
		       size_t *ret_len);
/* Prometheus text format: every counter of alarmgw/metrics.h plus the store gauges. */
int agw_status_to_prometheus(const struct agw_status *status, char **ret_text, size_t *ret_len);
/* The terminal form for `alarmgw status`. */
int agw_status_print(const struct agw_status *status, FILE *out);

#endif
