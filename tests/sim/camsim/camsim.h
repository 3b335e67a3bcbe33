/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulator's state: options, cameras, subscriptions. One libuv loop holds every camera. */
#ifndef CAMSIM_H
#define CAMSIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "http.h"
#include "kinds.h"
#include "simmain.h"
#include "templates.h"

enum camsim_auth {
	CAMSIM_AUTH_NONE,
	CAMSIM_AUTH_WSSE,
	CAMSIM_AUTH_DIGEST,
	CAMSIM_AUTH_BOTH,
};

/* What a camera does wrong; set for all cameras at start and per camera through the control port. */
struct camsim_misbehaviour {
	unsigned slow_ms;        /* every answer is held this long */
	unsigned malformed;      /* the next N answers are not well-formed XML */
	unsigned oversized;      /* the next N answers are padded to oversized_bytes */
	size_t oversized_bytes;
	unsigned faults;         /* the next N answers are SOAP faults */
	bool one_subscriber;     /* a second live subscription is refused */
	bool unsubscribe_kills_all;
	bool digest_only;        /* WS-Security refused, HTTP Digest required */
	bool unknown_sub_404;    /* an unknown subscription answers HTTP 404 instead of a fault */
	uint32_t unsupported;    /* CAMSIM_OP_* bits answered with ter:ActionNotSupported */
	char advertise_host[64]; /* host written into XAddrs and subscription addresses, "" = the real one */
	uint8_t dialect;         /* index in camsim_dialects */
	bool no_inactive;        /* alarms end silently: the inactive edge is never sent */
	bool snapshot_hang;      /* the snapshot JPEG is answered after a minute (a stuck encoder) */
	bool no_snapshot;        /* GetSnapshotUri is not supported (ActionNotSupported) */
	bool snapshot_404;       /* snapshot-missing: the snapshot URI is given but its GET answers 404 */
	char stream_url[160];    /* GetStreamUri's answer (a real RTSP server), "" = rtsp://host:554/camsim/<id> */
};

struct camsim_options {
	struct sim_common_options common; /* rate: alarms (active edges) per second per camera */
	unsigned cameras;
	enum camsim_auth auth;
	double mix[CAMSIM_KIND_COUNT];
	double skew;
	int clock_reset_year; /* 0, or the camera clock starts at Jan 1 of this year (1970, 2000) */
	bool mixed_dialects; /* camera i speaks dialect i % CAMSIM_DIALECT_COUNT */
	unsigned queue_limit;
	unsigned sources;    /* video sources per camera; more than 1: an NVR (templates.h) */
	struct camsim_misbehaviour mb;
};

struct camsim_sub {
	struct camsim_sub *next;
	struct camsim_camera *cam;
	unsigned idx;
	bool dead; /* dropped; memory lives until its timer handle is closed */
	double termination; /* wall clock: the camera's clock may jump, expiry does not */
	struct camsim_event *queue; /* ring */
	unsigned qcap, qhead, qlen;
	/* A PullMessages waiting for events (long poll). */
	struct camsim_http_conn *waiting;
	uv_timer_t timer;
	unsigned wait_limit;
	char wait_msgid[256];
};

struct camsim_camera {
	struct camsim *sim;
	unsigned index;
	int port;
	char id[12];
	struct camsim_http_server srv;
	bool up;
	uv_timer_t event_timer;
	uv_timer_t reboot_timer;
	double clock_offset; /* camera clock = wall clock + offset */
	int reset_year_after_boot;
	struct camsim_misbehaviour mb;
	struct camsim_sub *subs;
	unsigned next_sub_idx;
	bool state[CAMSIM_KIND_COUNT];
	int active_kind;      /* kind whose inactive edge comes next, or -1 */
	unsigned active_source; /* the video source of that alarm (NVR: 1..sources; else 0) */
	uint64_t seq;         /* EventId counter */
	uint64_t rng;
	/* counters for GET /stats */
	uint64_t requests, subscriptions, queued, delivered, dropped;
	uint64_t snapshots;   /* snapshot JPEGs served */
	uint64_t snapshot_gets; /* GETs of the snapshot URI, served or not */
	uint64_t snapshot_uri_asks; /* GetSnapshotUri requests */
	uint64_t bad_answer_events; /* taken off the queue for an answer that was not ok or not written */
};

struct camsim {
	uv_loop_t *loop;
	struct camsim_options opt;
	struct camsim_camera *cams;
	unsigned ncams;
	FILE *events_log;
	bool events_log_dirty;
	struct camsim_http_server control;
	uv_timer_t sweep_timer;
	uv_timer_t duration_timer;
	uv_signal_t sigterm, sigint;
	uv_check_t flush_check;
	char secret[33]; /* digest nonce key */
	bool stopping;
	uint64_t answers; /* PullMessages answers carrying events, numbered for the events log */
};

/* camera.c: lifecycle and misbehaviour */
int camsim_camera_init(struct camsim *sim, struct camsim_camera *cam, unsigned index);
int camsim_camera_start(struct camsim_camera *cam);
void camsim_camera_close(struct camsim_camera *cam); /* closes every handle (shutdown) */
double camsim_camera_now(const struct camsim_camera *cam);
/* reset_year: 0, or the camera comes back with its clock at Jan 1 of that year. */
void camsim_camera_reboot(struct camsim_camera *cam, double seconds, int reset_year);
/* Sets the camera clock to Jan 1 of year (UTC), running from now. */
void camsim_camera_clock_reset(struct camsim_camera *cam, int year);
/* http://host:port of the camera; advertised: with the host it writes into its answers. */
void camsim_camera_base_url(const struct camsim_camera *cam, bool advertised, char *buf, size_t len);

/* subscription.c: PullPoint subscriptions, event queues and emission */
struct camsim_sub *camsim_sub_create(struct camsim_camera *cam, double lifetime);
struct camsim_sub *camsim_sub_find(struct camsim_camera *cam, unsigned idx);
unsigned camsim_sub_count(const struct camsim_camera *cam);
/* Removes a subscription; its undelivered events are logged as dropped with reason. */
void camsim_sub_drop(struct camsim_sub *sub, const char *reason);
void camsim_sub_drop_all(struct camsim_camera *cam, const char *reason);
void camsim_sub_address(const struct camsim_sub *sub, char *buf, size_t len);
/* Answers now if events are queued, otherwise waits up to timeout seconds. */
void camsim_sub_pull(struct camsim_sub *sub, struct camsim_http_conn *c, double timeout, unsigned limit,
		     const char *msgid);
/* Emits one edge of kind on cam (on video source `source` of an NVR, 1-based; 0 on a camera):
 * queued to every live subscription. */
void camsim_camera_emit(struct camsim_camera *cam, int kind, bool active, unsigned source);
void camsim_camera_events_start(struct camsim_camera *cam);
/* Drops subscriptions past their termination time. */
void camsim_subs_sweep(struct camsim *sim);

/* onvif.c: the camera's HTTP request handler and answer shaping */
void camsim_onvif_on_request(struct camsim_http_conn *c, const struct camsim_http_request *req, void *ctx);
/* Parses "GetServices,GetCapabilities" into CAMSIM_OP_* bits ("" = none); -EINVAL on an unknown name. */
int camsim_onvif_ops_parse(const char *list, uint32_t *ret_mask);
/* The kind of answer a camera writes, for the events log: what the client could read of it. */
enum camsim_answer {
	CAMSIM_ANSWER_OK,
	CAMSIM_ANSWER_FAULT,     /* a SOAP fault instead of the answer: its events are gone */
	CAMSIM_ANSWER_MALFORMED, /* cut short: the events before the cut may be readable */
	CAMSIM_ANSWER_OVERSIZED, /* padded: intact, but over a client's size limit */
	CAMSIM_ANSWER__COUNT,
};
extern const char *const camsim_answer_names[CAMSIM_ANSWER__COUNT];
/* True when the camera's next SOAP answer will be replaced by a fault, cut or padded. */
bool camsim_onvif_next_misbehaves(const struct camsim_camera *cam);
/* Applies the camera's next misbehaviour (fault, malformed, oversized) to a SOAP answer in b;
 * *status becomes 500 for a fault. Returns what the answer became. */
enum camsim_answer camsim_onvif_shape(struct camsim_camera *cam, struct camsim_buf *b, const char *relates_to,
				      int *status);
/* Sends a shaped answer held delay_ms; done as for camsim_http_respond_tracked (may be NULL). */
void camsim_onvif_send_tracked(struct camsim_camera *cam, struct camsim_http_conn *c, int status, struct camsim_buf *b,
			       unsigned delay_ms, void (*done)(void *arg, int status), void *arg);
/* Shapes and sends a SOAP answer (fault, malformed, oversized), held delay_ms. */
void camsim_onvif_send(struct camsim_camera *cam, struct camsim_http_conn *c, int status, struct camsim_buf *b,
		       const char *relates_to, unsigned delay_ms);

/* evlog.c: the events log and the ledger */
int camsim_evlog_open(struct camsim *sim, const char *path);
void camsim_evlog_queued(struct camsim *sim, const struct camsim_camera *cam, const struct camsim_event *ev);
void camsim_evlog_dropped(struct camsim *sim, const struct camsim_camera *cam, uint64_t seq, const char *reason);
/* An event that left the queue in answer number `answer` of kind `shape`; written: whether the
 * answer reached the kernel (false: the client went away first, or the write failed). */
void camsim_evlog_sent(struct camsim *sim, const struct camsim_camera *cam, uint64_t seq, uint64_t answer,
		       enum camsim_answer shape, bool written);
void camsim_evlog_flush(struct camsim *sim);
void camsim_evlog_close(struct camsim *sim);
int camsim_ledger_write(const struct camsim *sim, const char *path);

/* control.c: the control port */
int camsim_control_start(struct camsim *sim, int port);
/* Applies one action to a camera; 0, -ENOENT (unknown action) or -EINVAL (bad argument). */
int camsim_control_apply(struct camsim_camera *cam, const char *action, const char *query);

#endif
