/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The adapter contract. An adapter is one const struct (like an FFmpeg demuxer): a name, the size
 * of its private state (the core allocates it zeroed), an option table that both parses its config
 * section and prints its help, and lifecycle callbacks. All callbacks run on the event loop thread.
 * Adding a vendor protocol = one folder under adapters/ + one line in the registry (adapters/registry.c). */
#ifndef ALARMGW_ADAPTER_H
#define ALARMGW_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "alarmgw/alert.h"

enum agw_option_type {
	AGW_OPT_STRING,   /* char * (heap copy, freed by the core after uninit) */
	AGW_OPT_INT,      /* int64_t, within [min, max] */
	AGW_OPT_BOOL,     /* bool */
	AGW_OPT_DURATION, /* int64_t milliseconds; config accepts "500ms", "10s", "5m", "1h" or a number of seconds */
	AGW_OPT_DOUBLE,   /* double, within [min, max] */
	AGW_OPT_PATH,     /* char *, a file name: a relative one is taken from the config file's folder */
};

struct agw_option {
	const char *name;
	enum agw_option_type type;
	size_t offset;     /* offsetof(private struct, field) */
	const char *def;   /* default as text, parsed like a config value; NULL = none (zero) */
	double min, max;   /* for INT, DURATION (ms), DOUBLE; both 0 = unbounded */
	bool required;
	const char *help;
};

/* A camera from the ledger, as adapters see it. Read-only for adapters, and valid only during the
 * call that hands it over (camera_add, check_address): the core replaces its whole camera list on
 * reload, unchanged cameras included, so an adapter copies what it keeps (every adapter does). */
struct agw_camera {
	char *id;
	char *name;
	char *vendor;
	char *protocol;   /* the protocol of the adapter that serves it ("onvif", "rtsp", ...) */
	char *address;    /* host[:port], http(s) URL or rtsp URL, without credentials */
	char *username;
	char *password;   /* never log */
	double lon, lat;  /* NaN when unknown */
	char *crs;        /* "wgs84" | "gcj02" | "cgcs2000" */
	char *tags;       /* comma separated */
	char *owner_cell; /* fallback grid cell code, or NULL */
	/* NVR channels (docs/configuration.md "Camera ledger CSV"): a camera whose events arrive on
	 * another ledger row's connection names that row here, and its 1-based channel on it. A
	 * device row has device NULL; its own channel, when set, routes that channel to it. The core
	 * hands channel rows to the adapter like any camera: the adapter opens no connection for
	 * them and routes each alert of the device to the row of its channel. */
	char *device;     /* id of the device row (same protocol), or NULL */
	int channel;      /* 1-based channel on the device (or on itself), 0 = none */
	/* The token the device names this channel by in its events (ONVIF: a VideoSource or
	 * VideoSourceConfiguration token), when the channel number alone does not say (an NVR whose
	 * video sources are not in channel order); NULL = by number. Only for adapters with
	 * source_tokens. */
	char *source_token;
	/* An HTTP(S) JPEG of the camera (GET with Digest) for the evidence of cameras whose adapter has
	 * no picture of its own (GB/T 28181 devices that also serve one), and its credentials (NULL:
	 * the row's username and password). The core uses it; adapters may ignore it. */
	char *snapshot_url;
	char *snapshot_username;
	char *snapshot_password; /* never log */
};

struct agw_adapter_ctx;

/* A picture of a camera for a case's evidence (gateway/evidence/): what an adapter hands back. */
struct agw_picture {
	int status;               /* 0, or negative errno when there is no picture */
	const char *reason;       /* status < 0: why ("timeout after 5000 ms", "HTTP 404") */
	const char *type;         /* "snapshot", "event_picture", "keyframe" */
	const char *source;       /* where it came from, for people: a URL without credentials */
	const void *data;         /* the JPEG, valid during the call */
	size_t len;
	int64_t camera_time_ms;   /* when the camera took it, camera clock, or AGW_TIME_UNKNOWN */
};

/* A capture the core asks of an adapter (its snapshot() hook). The core owns it; the adapter calls
 * done exactly once, on the loop (possibly inside snapshot()), unless snapshot_cancel() came
 * first. The core enforces its own deadline (timeout_ms) and cancels; the adapter should still
 * bound its transfers by it. */
struct agw_snapshot {
	const char *camera_id;
	int channel;              /* the alert's source "channel" (1-based), 0 when it has none: an NVR
				   * row's alert on a channel no ledger row names */
	size_t max_bytes;         /* a longer picture is refused (-EMSGSIZE) */
	int64_t timeout_ms;
	void (*done)(struct agw_snapshot *s, const struct agw_picture *picture);
	void *adapter;            /* the adapter's own, for cancel */
	void *core, *core_target; /* private to the core */
};

/* What the core gives an adapter. */
struct agw_adapter_ctx {
	uv_loop_t *loop;
	const char *name;          /* the adapter's name, for log tags */
	const char *state_dir;     /* where evidence files may be written */
	/* Hands one alert to the core (journal, rules, outbox). The core copies what it keeps; the
	 * caller still owns and clears *alert. Returns 0, or -EAGAIN when the pipeline cannot take
	 * more now (queue full by count or bytes, store failing): back-pressure. The adapter then keeps
	 * the alert (and every later one) itself, stops taking events from its sources (no new pull,
	 * pause the stream, answer pushes with a retryable error) and emits again when the core calls
	 * its resume(). Returns -ESHUTDOWN once the core is stopping for good (its last batch is written;
	 * until then a stopping core still takes alerts) and -EINVAL for an alert without a camera id.
	 * An event that left a camera is never dropped in memory. Health edges (camera_offline,
	 * event_channel_lost, events_lost, active or not) are state the platform must see: an adapter
	 * keeps a refused one and emits it again, before any later alert of that camera, until it is
	 * accepted; when a newer edge of the same kind supersedes it, both are still emitted in order. */
	int (*emit)(struct agw_adapter_ctx *ctx, const struct agw_alert *alert);
	/* Like emit, for push protocols that must acknowledge to the source only once the event is
	 * durable (a SIP 200, an HTTP 200): done(arg, 0) is called on the loop after the transaction
	 * that journals the alert has committed, or done(arg, negative errno) when it is dropped
	 * unwritten (gateway stopping). Not called when emit_durable itself returns an error. */
	int (*emit_durable)(struct agw_adapter_ctx *ctx, const struct agw_alert *alert,
			    void (*done)(void *arg, int status), void *arg);
	/* A small durable key-value store per adapter and camera (a table of the state database), for
	 * what must outlive a restart (ONVIF: the subscription to resume). Text values up to 64 KiB;
	 * value NULL deletes. Synchronous, on the loop: call it on rare events (a new subscription, a
	 * stop), not per event. Returns 0, -EIO when the store fails (the adapter carries on without
	 * it), -EMSGSIZE. NULL when the core has no store (tools, tests): check before calling. */
	int (*state_put)(struct agw_adapter_ctx *ctx, const char *camera_id, const char *key, const char *value);
	/* *ret_value is malloc'd (the caller frees it); -ENOENT when nothing is stored, -EIO. */
	int (*state_get)(struct agw_adapter_ctx *ctx, const char *camera_id, const char *key, char **ret_value);
	/* Hands the core a picture an event brought with it (ISAPI event JPEGs, an RTSP keyframe),
	 * before or right after the event's emit(): the core keeps the latest one per camera for a
	 * short while and makes it the evidence of the case that event opens. The core copies it.
	 * Returns 0, -EMSGSIZE (over the size limit), -ENOMEM. NULL when evidence is off. */
	int (*picture)(struct agw_adapter_ctx *ctx, const char *camera_id, const struct agw_picture *picture);
	/* The URL of an HTTP JPEG of the camera that the adapter learned (ONVIF GetSnapshotUri) and
	 * GETs with the ledger row's credentials and Digest: the core GETs it itself when the adapter
	 * can take no picture any more (it is stopping), so a case opened by its last pulls still gets
	 * one. Call it when the URL is learned or changes; url NULL forgets it. NULL when evidence is
	 * off: check before calling. */
	void (*snapshot_learned)(struct agw_adapter_ctx *ctx, const char *camera_id, const char *url);
	/* A position the source reports for a ledger camera (a GB/T 28181 catalog's Longitude and
	 * Latitude), in crs ("wgs84", "gcj02", "cgcs2000"). The core gives it to the camera only when
	 * the ledger has none for it (ledger positions win), locates the camera in the grid again, and
	 * keeps it across reloads (not restarts: the adapter reports it again). On the loop, on rare
	 * events (a catalog that changed), not per event. Returns 0 when the camera took it, -EEXIST
	 * when the ledger's position stands, -ENOENT for no such camera, -EINVAL for a position or crs
	 * that cannot be. NULL when the core has no rules engine (tools, tests): check before calling. */
	int (*locate)(struct agw_adapter_ctx *ctx, const char *camera_id, double lon, double lat, const char *crs);
	/* Tells the core that the camera's event channel is open: a subscription made or resumed, an
	 * event stream opened, a device registered. Call it at each such success (not per event);
	 * for a device that carries NVR channel rows, once for the device. The page tells "never
	 * subscribed" (the gateway has tried, nothing ever opened: an address, a password, a
	 * protocol) from "never heard from" (subscribed, and no event since). Only for adapters whose
	 * struct says .subscribes. NULL in tools and tests: check before calling. */
	void (*subscribed)(struct agw_adapter_ctx *ctx, const char *camera_id);
	/* Called by the adapter once stop() has finished (all its handles closed). */
	void (*stopped)(struct agw_adapter_ctx *ctx);
	void *core;                /* private to the core */
};

struct agw_adapter {
	const char *name;
	const char *description;
	const char *protocol;      /* ledger protocol it serves ("onvif", "rtsp") or NULL for none */
	/* Whether it routes a device's channels to the ledger rows that name the device (device and
	 * channel columns). The ledger refuses those columns for the protocols of adapters that do not. */
	bool channels;
	/* Whether it calls ctx->subscribed(): then a camera it was given that never did is shown as
	 * "never subscribed" (since the core first gave it to the adapter). */
	bool subscribes;
	/* Whether its channel rows may name their channel by token (struct agw_camera.source_token). */
	bool source_tokens;
	size_t priv_size;
	const struct agw_option *options; /* terminated by an entry with name == NULL */
	/* priv is zeroed and its options already set. Returns 0 or negative errno. */
	int (*init)(void *priv, struct agw_adapter_ctx *ctx);
	int (*start)(void *priv);
	/* Begin a prompt stop; call ctx->stopped(ctx) when done (may be called synchronously). */
	void (*stop)(void *priv);
	void (*uninit)(void *priv);
	/* Cameras of the adapter's protocol; optional. A camera whose settings changed is removed
	 * and added again; unchanged cameras are left alone on reload (no call), though the struct
	 * camera_add was given is freed then: copy what you keep. */
	int (*camera_add)(void *priv, const struct agw_camera *camera);
	void (*camera_remove)(void *priv, const char *camera_id);
	/* Called on the loop when the core can take alerts again after an emit() returned -EAGAIN:
	 * emit what the adapter held back, then resume taking events. The core calls it once the queue
	 * is back under half of its bounds and the store writes again (hysteresis), once per refusal
	 * episode; an emit refused again inside resume() gets another resume() later. Optional: an
	 * adapter without it must retry on its own timer. */
	void (*resume)(void *priv);
	/* Takes a picture of the camera now, for a case's evidence. Returns 0 when started (s->done
	 * follows), -ENOTSUP when this camera has no way to give one (the entry says so), or another
	 * negative errno. Optional: without it a camera's cases get only pictures its events bring. */
	int (*snapshot)(void *priv, struct agw_snapshot *s);
	/* Stops a started capture at once; done is not called after. Required with snapshot. */
	void (*snapshot_cancel)(void *priv, struct agw_snapshot *s);

	/* What the core asks of an adapter without running it (`alarmgw check`, `alarmgw normalize`,
	 * the ledger import). All optional. `opts` below is a zeroed private struct in which only the
	 * options of the adapter's config section (or their defaults) are set: init() has not run. */

	/* Checks a ledger address for this adapter's protocol: NULL when fine, else a message
	 * ("an rtsp camera needs an rtsp:// URL"). Credentials in addresses are refused by the core. */
	const char *(*check_address)(const char *address);
	/* The option that names the adapter's event mapping table file ("topic_table",
	 * "event_table"); `alarmgw normalize --table FILE` sets it. NULL when there is none. */
	const char *table_option;
	/* Validates what the options name (table files, certificates) beyond the option table's
	 * syntax. Returns 0, or negative errno with "what: why" (a file's errors as "path:line: ...")
	 * in err. */
	int (*check)(const void *opts, char *err, size_t errlen);
	/* `alarmgw normalize --adapter NAME FILE`: turns one captured document or stream (as the
	 * adapter receives it) into alerts, calling fn for each event in document order with kind,
	 * active, operation, camera_time_ms, topic, source, key, data, payload and event_id set (the
	 * caller owns camera_id and the gateway times). Returns the number of events, or fn's negative
	 * return, or a negative errno with err = "offset N: what" (or "line N: what") naming the first
	 * input it could not read: the events before it have been passed to fn. Documents that carry no
	 * event (heartbeats, answers to other requests) give 0. */
	int (*normalize)(const void *opts, const char *buf, size_t len,
			 int (*fn)(void *arg, struct agw_alert *alert), void *arg, char *err, size_t errlen);
};

/* The registry (adapters/registry.c): NULL-terminated. */
extern const struct agw_adapter *const agw_adapters[];
const struct agw_adapter *agw_adapter_find(const char *name);
/* The adapter that serves ledger cameras of this protocol, or NULL. */
const struct agw_adapter *agw_adapter_for_protocol(const char *protocol);
/* "onvif, rtsp, ...": the protocols the registry's adapters serve, for messages. */
const char *agw_adapter_protocol_list(void);

#endif
