/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ONVIF adapter's camera, shared by its files: PullPoint event subscriptions for thousands
 * of cameras on one libuv loop.
 *
 * Per camera, one curl easy handle carries one request at a time (connections are reused):
 *   GetSystemDateAndTime (no credentials: the clock offset for WS-Security)
 *   -> GetServices (or GetCapabilities) -> events address, rewritten to the configured host
 *   -> GetDeviceInformation (vendor, model, firmware; optional)
 *   -> CreatePullPointSubscription (relative termination time)
 *   -> PullMessages long-poll loop, Renew before the termination time
 * A 404, ResourceUnknownFault, repeated faults or a failed Renew recreate the subscription with
 * exponential backoff and jitter: GetSystemDateAndTime, Unsubscribe of the old one (one-subscriber
 * cameras), CreatePullPointSubscription. A timeout, refused connection, broken answer or a single
 * fault retries the same subscription first (its queued events are not lost when the camera was
 * only unreachable); NotAuthorized re-learns the camera clock and goes on with it. At most
 * max_bootstraps cameras bootstrap at once, so 10,000 cameras do not all connect at once.
 * A subscription kept by the previous run (onvif_leave.c) is resumed after GetSystemDateAndTime
 * with a Renew on its stored reference. A broken answer's readable messages are kept and the
 * rest named (events_lost); events the core refuses are kept until it resumes (CAM_HELD).
 * Cameras are spread over several curl multi handles (see struct onvif_adapter).
 *
 * The files, by job: onvif_adapter.c (lifecycle, options, cameras added and removed),
 * onvif_camera.c (the camera's state machine: bootstrap, subscription, renew, recovery, health),
 * onvif_exchange.c (one SOAP request over curl and what its transport outcome means),
 * onvif_pull.c (PullMessages answers turned into alerts, back-pressure), onvif_salvage.c (what
 * can be read of a broken answer), onvif_leave.c (stop, remove, reload; subscriptions kept). */
#ifndef AGW_ONVIF_CAMERA_H
#define AGW_ONVIF_CAMERA_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "alarmgw/adapter.h"
#include "alarmgw/alert.h"
#include "alarmgw/http_get.h"
#include "alarmgw/log.h"
#include "onvif_events.h"
#include "alarmgw/curl_loop.h"
#include "onvif_requests.h"

#define COMPONENT "onvif"
/* A fault on a live subscription is retried this many times before it is recreated (its queued
 * events would be lost); 404 and ResourceUnknownFault mean it is gone at once. */
#define FAULT_RETRIES 3
#define CAMERAS_PER_SHARD 128

enum auth_mode { AUTH_AUTO, AUTH_WSSE, AUTH_DIGEST, AUTH_NONE };

/* Why a camera is unhappy: counted every time, logged once per change. */
enum cam_error {
	ERR_NONE,
	ERR_TIMEOUT,
	ERR_REFUSED,
	ERR_NETWORK,
	ERR_OVERSIZED,
	ERR_MALFORMED,
	ERR_FAULT,
	ERR_AUTH,
	ERR_NOT_FOUND,
	ERR_HTTP,
	ERR_NO_SUBSCRIPTION,
	ERR_INTERNAL,
	ERR__COUNT,
};

extern const char *const agw_onvif_error_names[ERR__COUNT];

/* Where a camera is in its life. Every change goes through agw_onvif_cam_set_state, which checks
 * it against the table of transitions in onvif_camera.c and does what entering or leaving a state
 * implies (a bootstrap slot is held exactly in CAM_BOOTSTRAP, the wait queue holds exactly the
 * CAM_WAITING cameras). Orthogonal to the state: whether a request is in flight (busy, op), the
 * authentication learned (digest, no_wsse), and the health reported (offline, channel_lost). */
enum cam_state {
	CAM_IDLE,      /* added, the adapter not started */
	CAM_WAITING,   /* queued for a bootstrap slot (max_bootstraps) */
	CAM_BOOTSTRAP, /* in a slot: clock, services, device information, Unsubscribe of an old
			* subscription (one-subscriber cameras), CreatePullPointSubscription */
	CAM_BACKOFF,   /* failed before or with the subscription: starts over when its timer fires */
	CAM_PULLING,   /* subscribed: PullMessages and Renew, one after the other (or a timer between) */
	CAM_RESYNC,    /* subscribed, learning the camera clock again after NotAuthorized */
	CAM_HELD,      /* subscribed, not pulling: the core refused events (back-pressure); the camera
			* keeps its queue, the events already pulled wait in held[], Renew goes on */
	CAM_LEAVING,   /* removed (ledger, reload) or stopping: the pull under way finishes, then the
			* subscription is given back (Unsubscribe) or kept, then CAM_CLOSED */
	CAM_CLOSED,    /* its handles are closing; freed in the close callback */
	CAM__STATE_COUNT,
};

struct onvif_adapter;
struct agw_rtsp_grabber;

struct cam {
	struct agw_curl_req req; /* first: the http layer hands it back */
	struct onvif_adapter *ad;
	struct cam *prev, *next;       /* every camera */
	struct cam *wait_next;         /* in the wait queue (CAM_WAITING) */
	enum cam_state state;
	char *id, *username, *password;
	char *device_url, *scheme, *authority, *host;
	char *events_url, *sub_url;
	char *media_url;               /* the media service (GetServices/GetCapabilities), or NULL */
	/* Evidence pictures: the way that worked last, kept for the next pictures (onvif_exchange.c):
	 * GetSnapshotUri's answer, or for a camera without one GetStreamUri's and its keyframe. */
	char *snap_uri;
	char *stream_uri;
	char *sub_refs;                /* the subscription's ReferenceParameters, echoed in headers */
	bool have_services;
	CURL *easy;
	struct curl_slist *headers;    /* of the last request: kept while the operation is the same */
	enum agw_onvif_op headers_op;
	char *body;
	/* body is this subscription's PullMessages document, to refresh for the next poll; cleared
	 * whenever what it was written from changes (subscription, WS-Security use) */
	bool pull_doc_ok;
	struct agw_onvif_pull_doc pull_doc;
	char *resp;
	size_t resp_len, resp_cap;
	bool resp_too_big;             /* resp holds the first max_response_bytes of a longer answer */
	const char *resp_cut;          /* resp holds what arrived of an answer cut short: why, or NULL */
	bool busy;
	enum agw_onvif_op op;
	int64_t sent_ms;               /* monotonic, when the request went out */
	int64_t sent_wall_ms;          /* wall clock then, for the camera clock offset */
	uv_timer_t timer;
	void (*timer_fn)(struct cam *c);
	int64_t offset_ms;             /* camera clock minus wall clock */
	int64_t term_deadline_ms;      /* monotonic */
	unsigned failures;
	bool offline, channel_lost;
	bool digest;                   /* HTTP Digest enabled (after the camera asked for it) */
	bool no_wsse;                  /* the camera refuses WS-Security once Digest is on */
	unsigned pull_faults;          /* consecutive faults on the live subscription */
	enum cam_error last_error;
	size_t shard;                  /* index into the adapter's shards */
	/* Alerts the core refused (back-pressure), oldest first: at most one PullMessages answer
	 * (MessageLimit) since nothing is pulled while any wait, plus health edges. */
	struct agw_alert *held;
	size_t n_held, cap_held;
	struct cam *held_next;         /* in the adapter's held queue (n_held > 0 or CAM_HELD) */
	bool in_held_queue;
	bool sub_resumable;            /* sub_url is the stored subscription of the previous run */
	/* An NVR (a device with channel rows): its video sources, which name its channels in events
	 * (onvif_sources.c); NULL until learned or loaded */
	struct onvif_sources *sources;
	struct onvif_sources_fetch *sources_fetch; /* GetVideoSources/GetProfiles under way, or NULL */
	bool sources_fresh;            /* learned since the last subscription was created */
	bool sources_wait;             /* the pull waits for the first list (none stored) */
	int64_t sources_due_ms;        /* monotonic: no new fetch before (after a failure) */
	/* CAM_LEAVING: give the subscription back, or keep it for the next start */
	bool leave_unsubscribe, leave_keep, unsubscribe_sent;
};

struct onvif_adapter {
	/* options */
	int64_t connect_timeout_ms;
	int64_t request_timeout_ms;
	int64_t pull_timeout_ms;
	int64_t message_limit;
	int64_t termination_ms;
	int64_t renew_margin_ms;
	int64_t backoff_min_ms;
	int64_t backoff_max_ms;
	int64_t max_response_bytes;
	int64_t max_bootstraps;
	int64_t unsubscribe_timeout_ms;
	int64_t stop_timeout_ms;
	int64_t pull_min_interval_ms;
	char *auth;
	char *topic_table;
	bool unsubscribe_on_stop;
	bool tls_verify;
	char *ca_file;
	int64_t keyframe_threads;
	/* state */
	struct agw_adapter_ctx *ctx;
	enum auth_mode auth_mode;
	/* cameras are spread over several curl multi handles: removing a finished transfer from a
	 * multi handle walks its whole connection cache, so caches are kept small */
	struct shard {
		struct agw_curl_loop *http;
		size_t n;
	} *shards;
	size_t n_shards;
	struct soap *soap;
	struct agw_onvif_topic_table *table;
	struct cam *cams;
	size_t n_cams;
	struct cam *retired;           /* removed cameras giving their subscription back */
	int64_t bootstrapping;
	struct cam *wait_head, *wait_tail;
	/* Back-pressure: set when emit() returned -EAGAIN, cleared by resume(); while set no camera
	 * starts a PullMessages. The held queue lists the cameras to serve on resume, in order. */
	bool refused;
	struct cam *held_head, *held_tail;
	struct agw_vendor_routes *routes; /* NVR channels: ledger rows that name a device (onvif_sources.c) */
	struct onvif_unmatched *unmatched; /* channels in no ledger row, stored once per run */
	char pull_duration[32], term_duration[32];
	bool started, stopping, finishing;
	int leaving;                   /* cameras in CAM_LEAVING not closed yet */
	uv_timer_t stop_timer;
	int closing_handles;
	struct agw_rtsp_grabber *grabber; /* keyframes of cameras without a snapshot URI, or NULL */
};

static inline struct agw_curl_loop *onvif_cam_http(const struct cam *c)
{
	return c->ad->shards[c->shard].http;
}

/* The loop's monotonic clock (ms): every duration of the adapter (deadlines, backoff, intervals)
 * is measured on it, so a wall clock step changes none of them. The wall clock (agw_now_ms) is
 * only for times that leave the process: alert times and the camera's clock (WS-Security). */
static inline int64_t onvif_now_ms(struct onvif_adapter *ad)
{
	return (int64_t)uv_now(ad->ctx->loop);
}

/* onvif_exchange.c: SOAP on the media service as requests of their own (not the pull's), with
 * the camera's credentials and the authentication its pull learned (copied: the camera may go) */
struct onvif_media_peer {
	char *camera_id, *username, *password, *media_url;
	int64_t offset_ms;
	bool wsse, digest;
};
int agw_onvif_media_peer_init(struct onvif_media_peer *m, const struct cam *c);
void agw_onvif_media_peer_clear(struct onvif_media_peer *m);
int agw_onvif_media_send(struct onvif_adapter *ad, struct agw_curl_loop *http, const struct onvif_media_peer *m,
			 enum agw_onvif_op op, const char *profile_token, int64_t timeout_ms, agw_http_get_fn done,
			 void *arg, struct agw_http_get **ret);

/* onvif_sources.c: NVRs, one device with several video sources, each a channel of the ledger.
 * Channel rows (device set) open no connection: they are routes to the device's camera. */
int agw_onvif_routes_add(struct onvif_adapter *ad, const struct agw_camera *camera);
void agw_onvif_routes_remove(struct onvif_adapter *ad, const char *camera_id);
/* The camera an event of device c belongs to: the row of its video source (its source "channel"
 * item is then set), or c itself; an event on a source no row names is counted and stored for
 * `alarmgw channels --unmatched`. */
const char *agw_onvif_route(struct cam *c, struct agw_alert *a);
/* Called before each pull: learns an NVR's video sources when they are not known since its
 * subscription was created (its own requests, beside the pull). True when the pull must wait for
 * them (no list known at all: its events could not be routed); the fetch pulls when it ends. */
bool agw_onvif_sources_check(struct cam *c);
void agw_onvif_sources_load(struct cam *c);
void agw_onvif_sources_cancel(struct cam *c);
void agw_onvif_sources_free(struct cam *c);
void agw_onvif_routes_free(struct onvif_adapter *ad);
/* The profile token of channel ch of device c (for its pictures), or NULL. */
const char *agw_onvif_sources_profile(const struct cam *c, int ch);

/* onvif_exchange.c: evidence pictures (GetProfiles, GetSnapshotUri, then the JPEG; without a
 * snapshot URI, GetStreamUri and one keyframe of the stream through adapters/rtsp/rtsp_grab.h) */
int agw_onvif_snapshot(void *priv, struct agw_snapshot *s);
void agw_onvif_snapshot_cancel(void *priv, struct agw_snapshot *s);
struct cam *agw_onvif_cam_find(struct onvif_adapter *ad, const char *id);

/* onvif_camera.c: the state machine */
const char *agw_onvif_state_name(enum cam_state s);
void agw_onvif_cam_set_state(struct cam *c, enum cam_state to);
static inline bool agw_onvif_cam_subscribed(const struct cam *c)
{
	return c->state == CAM_PULLING || c->state == CAM_RESYNC || c->state == CAM_HELD;
}
void agw_onvif_cam_error(struct cam *c, enum cam_error e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void agw_onvif_cam_recovered(struct cam *c);
/* Its subscription was made or resumed: the core records it (adapter.h subscribed). */
void agw_onvif_cam_report_subscribed(struct cam *c);
void agw_onvif_cam_set_offline(struct cam *c, bool offline, const char *reason);
void agw_onvif_cam_set_channel_lost(struct cam *c, bool lost, const char *reason);
void agw_onvif_cam_begin(struct cam *c);
void agw_onvif_cam_after(struct cam *c, int64_t ms, void (*fn)(struct cam *c));
int64_t agw_onvif_cam_backoff_ms(struct cam *c);
void agw_onvif_cam_retry_later(struct cam *c);
void agw_onvif_cam_recreate(struct cam *c, enum cam_error why);
void agw_onvif_cam_resync(struct cam *c);
void agw_onvif_cam_pull(struct cam *c);
bool agw_onvif_cam_auth_fallback(struct cam *c, const char *err);
void agw_onvif_cam_handle_response(struct cam *c, int64_t now);

/* onvif_pull.c: PullMessages answers, and what the core could not take yet */
/* Reads c->resp (a whole answer, or with resp_too_big the start of a longer one) and emits its
 * events; what could not be read is named in an events_lost alert. Returns the number of events,
 * or -EPROTO for a SOAP Fault (err says which), -ENOMEM. */
int agw_onvif_cam_deliver(struct cam *c, int64_t now, struct agw_onvif_pull_info *info, char *err, size_t errlen);
void agw_onvif_cam_handle_pull(struct cam *c, int64_t now);
/* A PullMessages the gateway gave up (timeout) after the camera had it: the camera may have put
 * events in an answer nobody reads. What arrived of it is read; the first such pull of an outage
 * raises events_lost (reason pull_timeout), the later ones are counted. */
void agw_onvif_cam_pull_abandoned(struct cam *c, int64_t now);
/* Hands an alert to the core, or keeps a copy when the core refuses or earlier ones wait (order
 * per camera is kept). 0, or a negative errno when it is neither accepted nor kept. */
int agw_onvif_cam_emit(struct cam *c, const struct agw_alert *a);
/* Subscribed and allowed to pull: false while the core refuses or the camera holds alerts (then
 * the camera is put in CAM_HELD). */
bool agw_onvif_cam_may_pull(struct cam *c);
/* Forgets what the camera held (it is closing): the count is logged and returned. */
size_t agw_onvif_cam_held_drop(struct cam *c);
void agw_onvif_resume(struct onvif_adapter *ad);

/* onvif_exchange.c: one request at a time per camera */
void agw_onvif_cam_send(struct cam *c, enum agw_onvif_op op);
void agw_onvif_cam_done(struct agw_curl_req *req, CURLcode code);
size_t agw_onvif_cam_write_cb(char *data, size_t size, size_t nmemb, void *arg);
bool agw_onvif_cam_enable_digest(struct cam *c);

/* onvif_leave.c: stop, remove, reload: finish the pull, then leave; subscriptions kept */
void agw_onvif_cam_leave(struct cam *c, bool unsubscribe);
void agw_onvif_cam_leave_next(struct cam *c);
int agw_onvif_subscription_load(struct cam *c);
void agw_onvif_subscription_saved(struct cam *c);
void agw_onvif_subscription_forget(struct cam *c);
void agw_onvif_subscription_resumed(struct cam *c);
void agw_onvif_subscription_resume_failed(struct cam *c, const char *why);

/* onvif_adapter.c: cameras and lifecycle */
void agw_onvif_maybe_finish_stop(struct onvif_adapter *ad);
void agw_onvif_list_del(struct cam **head, struct cam *c);
void agw_onvif_cam_close(struct cam *c);

#endif
