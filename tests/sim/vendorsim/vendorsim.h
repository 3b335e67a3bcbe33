/* SPDX-License-Identifier: GPL-2.0-or-later */
/* alarmgw-vendorsim: Hikvision ISAPI or Dahua devices (cameras and NVRs) serving never-ending HTTP
 * event streams, thousands per process on one libuv loop. docs/vendorsim.md says what they do. */
#ifndef VENDORSIM_H
#define VENDORSIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "http.h"
#include "simmain.h"
#include "util.h"

#define VSIM_MAX_CHANNELS 64
#define VSIM_MAX_RUNS 16 /* runs (active, or ended silently and still quiet) a device holds at once */

enum vsim_protocol {
	VSIM_ISAPI,
	VSIM_DAHUA,
};

enum vsim_auth {
	VSIM_AUTH_DIGEST, /* Digest only (the usual factory setting) */
	VSIM_AUTH_BASIC,  /* Digest or Basic */
	VSIM_AUTH_NONE,
};

/* How a device writes its stream: the variants real firmware shows. */
enum vsim_format {
	VSIM_FMT_XML20, /* ISAPI: EventNotificationAlert in the ver20 namespace */
	VSIM_FMT_XML10, /* ISAPI: ver10 namespace (older cameras) */
	VSIM_FMT_XMLNS, /* ISAPI: no namespace (some DVRs) */
	VSIM_FMT_JSON,  /* ISAPI: application/json parts */
	VSIM_FMT_COUNT,
};

struct vsim_dialect {
	uint8_t format;     /* enum vsim_format (ISAPI) */
	bool lf;            /* LF-only framing (and text) instead of CRLF */
	bool mime_boundary; /* ISAPI: boundary=MIME_boundary instead of boundary=boundary */
	bool amcrest;       /* Dahua: "-- myboundary", "Content-Length:N", no blank line after the headers */
};

/* What a device does wrong; set for every device at start and per device through the control port. */
struct vsim_misbehaviour {
	unsigned cut;            /* the next N event parts are cut in the middle, the stream closed */
	unsigned wrong_boundary; /* the next N streams declare a boundary their parts do not use */
	unsigned stale_nonce;    /* the next N authenticated requests get 401 stale=true */
	unsigned max_streams;    /* live streams allowed at once, 0 = no limit */
	unsigned slow_bps;       /* streams trickle at most this many bytes per second, 0 = off */
	bool no_inactive;        /* runs end silently: no inactive / Stop edge */
	int utc_local_min;       /* Dahua data.UTC written as the local wall clock: this many minutes ahead */
};

struct vsim_options {
	struct sim_common_options common; /* rate: events (active or pulse edges) per second per device */
	const char *id_prefix; /* device ids are PREFIX-00001 ...; default hik / dh */
	unsigned devices;
	enum vsim_protocol protocol;
	unsigned channels; /* 1 = a camera, more = an NVR */
	enum vsim_auth auth;
	double run_seconds;  /* how long an active event lasts (repeats every second on ISAPI) */
	double heartbeat;    /* ISAPI heartbeat period in seconds (Dahua: the request's heartbeat=N) */
	double pictures;     /* share of ISAPI smart events followed by an image/jpeg part */
	double quiet;        /* a (type, channel) whose run ended silently starts again only after this */
	bool mixed;          /* device i takes dialect i % 8 (see docs/vendorsim.md) */
	struct vsim_dialect dialect;
	size_t max_backlog;  /* bytes a stream may have unsent before the device drops parts for it */
	struct vsim_misbehaviour mb;
};

struct vsim_device;

/* An event part written (or about to be) to one stream: logged once its fate is known. */
struct vsim_part_rec {
	uint64_t seq;   /* the edge's id number */
	unsigned post;  /* activePostCount (1 for Dahua) */
	uint64_t end;   /* stream offset just past the part */
	bool cut;
};

struct vsim_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;   /* heartbeats */
	uv_timer_t trickle_timer; /* a slow device's trickle */
	uv_timer_t silence_timer; /* a hung stream closed at last */
	uv_shutdown_t shutdown;
	struct vsim_device *dev;
	struct vsim_conn *prev, *next;
	int handles;
	char *in;
	size_t in_len;
	bool streaming;     /* answered 200: the body never ends */
	bool silent;        /* hung: writes nothing, closes nothing */
	bool ending;        /* shutdown asked; nothing more is written */
	bool closing;
	bool shutdown_sent;
	unsigned answer;    /* the device's answer number for this stream */
	uint64_t heartbeat_ms;
	char codes[256];    /* Dahua: codes=[...] of the request, "All" for every code */
	struct vsim_dialect dialect;
	bool wrong_boundary;
	/* bytes not yet handed to libuv (a slow device), their part records, offsets */
	struct camsim_buf out;
	size_t out_off;     /* bytes of out already handed */
	struct vsim_part_rec *pend;
	size_t n_pend, cap_pend;
	uint64_t handed;    /* stream offset handed to libuv so far */
	uint64_t queued;    /* bytes handed whose write has not completed */
};

/* An active event (run): repeats every second (ISAPI) until it ends. */
struct vsim_run {
	bool live;
	int type;           /* index in the protocol's type table */
	unsigned channel;   /* 1-based */
	uint64_t seq;       /* the active edge's id number */
	unsigned posts;
	double start, end;  /* wall clock */
	double quiet_until; /* a run that ended silently keeps its slot until then */
	bool picture;
};

struct vsim_device {
	struct vsim *sim;
	unsigned index;
	int port;
	char id[16];
	uv_tcp_t *listener;
	bool up;
	uv_timer_t event_timer;   /* next new event */
	uv_timer_t tick_timer;    /* once a second: repeats and run ends */
	uv_timer_t reboot_timer;
	struct vsim_conn *conns;
	unsigned live_streams;
	unsigned answers;         /* responses given (200 streams and refusals) */
	double rate;
	struct vsim_dialect dialect;
	struct vsim_misbehaviour mb;
	struct vsim_run runs[VSIM_MAX_RUNS];
	uint64_t seq;
	uint64_t rng;
	/* counters for GET /stats */
	uint64_t requests, streams, refused, edges, parts_written, parts_cut, parts_unsent, parts_dropped;
	uint64_t heartbeats;
	uint64_t snapshots;   /* snapshot JPEGs served (Dahua CGI, ISAPI channel picture) */
};

struct vsim {
	uv_loop_t *loop;
	struct vsim_options opt;
	struct vsim_device *devs;
	unsigned ndevs;
	FILE *events_log;
	bool events_log_dirty;
	struct camsim_http_server control;
	uv_timer_t duration_timer;
	uv_signal_t sigterm, sigint;
	uv_check_t flush_check;
	char secret[33];
	bool stopping;
};

/* An event type of a protocol. */
struct vsim_type {
	const char *name;      /* ISAPI eventType / Dahua Code */
	const char *description;
	bool stateful;         /* active/inactive (Start/Stop); false: a pulse */
	bool smart;            /* ISAPI smart event: may carry a picture, has a detection region */
	unsigned weight;
};

extern const struct vsim_type vsim_isapi_types[];
extern const struct vsim_type vsim_dahua_types[];
const struct vsim_type *vsim_types(enum vsim_protocol p, size_t *ret_n);
int vsim_type_find(enum vsim_protocol p, const char *name);

/* One edge to render. */
struct vsim_edge {
	const struct vsim_type *type;
	unsigned channel;   /* 1-based */
	uint64_t seq;
	unsigned post;
	int state;          /* 1 active / Start, 0 inactive / Stop, -1 pulse */
	double time;        /* wall clock */
	bool picture;
};

/* render.c: parts as bytes (delimiter line, part headers, body, trailing line break) */
void vsim_render_stream_head(const struct vsim_device *dev, const struct vsim_conn *c, struct camsim_buf *b);
/* Returns the length of the event's own part (without the picture that may follow it). */
size_t vsim_render_edge(const struct vsim_device *dev, const struct vsim_conn *c, const struct vsim_edge *e,
			struct camsim_buf *b);
void vsim_render_heartbeat(const struct vsim_device *dev, const struct vsim_conn *c, struct camsim_buf *b);
/* The boundary the parts use, and the one the head declares (they differ on a wrong-boundary stream). */
const char *vsim_boundary(const struct vsim_device *dev, const struct vsim_dialect *d);

/* device.c: listener, requests, authentication, streams */
void vsim_device_init(struct vsim *sim, struct vsim_device *dev, unsigned index);
int vsim_device_start(struct vsim_device *dev);
void vsim_device_close(struct vsim_device *dev);
void vsim_device_reboot(struct vsim_device *dev, double seconds);
/* The device's open streams go silent; after seconds (0 = never) it closes them. */
void vsim_device_silence(struct vsim_device *dev, double seconds);
/* Writes bytes of random garbage between parts into every live stream. */
void vsim_device_garbage(struct vsim_device *dev, size_t bytes);
uint64_t vsim_rand(struct vsim_device *dev);

/* stream.c: writing to streams and the accounting of every part */
/* Writes an edge to every live stream of the device (logging each post's fate). */
void vsim_stream_edge(struct vsim_device *dev, const struct vsim_edge *e);
void vsim_stream_heartbeat(struct vsim_conn *c);
void vsim_stream_raw(struct vsim_conn *c, const void *p, size_t n);
/* Writes an answer's bytes whether or not a stream runs (not on a closing connection). */
void vsim_conn_send(struct vsim_conn *c, const void *p, size_t n);
/* Closes a stream now: what is not yet handed to the socket is logged unsent with reason. */
void vsim_conn_close(struct vsim_conn *c, const char *reason);
/* Ends a stream once what is queued is written (FIN). */
void vsim_conn_end(struct vsim_conn *c);
void vsim_conn_trickle_start(struct vsim_conn *c);
void vsim_conn_pend_unsent(struct vsim_conn *c, const char *reason);
bool vsim_conn_has_unsent(const struct vsim_conn *c);

/* events.c: event generation */
void vsim_events_start(struct vsim_device *dev);
void vsim_events_set_rate(struct vsim_device *dev, double rate);
/* Emits one edge now: state 1 starts a run (or a pulse for a stateless type), 0 ends the run of
 * (type, channel). Returns 0, -EBUSY (a run of that type and channel is live; or none to end),
 * -ENOSPC (no room for another run). */
int vsim_events_emit(struct vsim_device *dev, int type, unsigned channel, int state);

/* evlog.c: the events log and the ledger */
int vsim_evlog_open(struct vsim *sim, const char *path);
void vsim_evlog_edge(struct vsim *sim, const struct vsim_device *dev, const struct vsim_edge *e);
/* fate: "written", "cut", "unsent", "dropped" (with reason for the last two) */
void vsim_evlog_part(struct vsim *sim, const struct vsim_device *dev, unsigned answer, uint64_t seq,
		     unsigned post, const char *fate, const char *reason);
void vsim_evlog_stream(struct vsim *sim, const struct vsim_device *dev, unsigned answer, const char *what,
		       const char *detail);
void vsim_evlog_flush(struct vsim *sim);
void vsim_evlog_close(struct vsim *sim);
int vsim_ledger_write(const struct vsim *sim, const char *path);
void vsim_event_id(const struct vsim_device *dev, uint64_t seq, char *buf, size_t len);

/* control.c */
int vsim_control_start(struct vsim *sim, int port);
int vsim_control_apply(struct vsim_device *dev, const char *action, const char *query);
/* Dialect by name: "xml20", "xml10", "xml", "json", with "+lf", "+mime" (ISAPI) or "amcrest"
 * (Dahua), e.g. "xml10+lf+mime". -EINVAL for anything else. */
int vsim_dialect_parse(enum vsim_protocol p, const char *s, struct vsim_dialect *ret);
void vsim_dialect_name(enum vsim_protocol p, const struct vsim_dialect *d, char *buf, size_t len);
void vsim_dialect_mixed(enum vsim_protocol p, unsigned i, struct vsim_dialect *ret);

#endif
