/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The live event-stream client (vendor_pull.h says what it does and why). One struct dev per
 * device: its easy handle, its stream parser, one timer (liveness while a transfer runs, the
 * reconnect delay between transfers) and the alerts held back while the core pushes back. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "alarmgw/backoff.h"
#include "alarmgw/curl_loop.h"
#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "alarmgw/vendor_pull.h"
#include "alarmgw/vendor_routes.h"
#include "alarmgw/vendor_unmatched.h"

enum dev_state { DEV_IDLE, DEV_WAIT, DEV_RUN };

#define LOGGED_STREAM_ERRORS 5 /* per transfer; the rest are counted */

#define MAX_RUNS 64 /* active runs remembered per device for coalescing */

#define STOP_DRAIN_MS 2000 /* a stop reads what the sockets hold for at most this long (the core allows 4.5 s) */
#define DRAIN_TICK_MS 10
#define LOOK_AGAIN_MS 100  /* a stream whose socket holds bytes we have not read yet is judged again after this */
#define LAG_TICK_MS 250    /* the stall meter's period; lateness beyond LAG_SLACK_MS is time the loop did not run */
#define LAG_SLACK_MS 100

/* An active event (topic and channel) and when it was last emitted. */
struct run {
	char *key;
	uint64_t last;
};

struct dev {
	struct agw_curl_req req; /* CURLOPT_PRIVATE */
	struct agw_vendor_pull *p;
	char *id, *url, *username, *password;
	CURL *easy;
	void *parser;
	enum dev_state state;
	uv_timer_t timer;
	bool timer_open;
	uint64_t last_byte;      /* uv_now() of the last byte received */
	uint64_t last_part;      /* uv_now() of the last complete part (liveness), or of the start */
	uint64_t parts_seen;     /* the parser's part count then */
	uint64_t flow_start;     /* uv_now() of this transfer's first body byte */
	int fd;                  /* the socket curl opened last for this handle (-1: none); see unread() */
	uint64_t stalled_at;     /* the client's stalled_ms at last_part */
	bool looked;             /* the liveness deadline passed once: the loop's reads got a turn since */
	uint64_t behind_since;   /* uv_now() when a deadline first found bytes we had not read, 0: none */
	unsigned attempt;        /* reconnects since the stream last lived (agw_backoff_ms) */
	bool answered;           /* this transfer got an HTTP answer */
	bool flowing;            /* this transfer delivered body bytes with 200 */
	bool offline, lost;      /* health raised */
	char reason[256];        /* why the transfer is being ended, when we know better than curl */
	struct agw_alert *held;  /* alerts the core could not take yet, in order */
	size_t n_held, cap_held;
	bool paused;
	bool removed;
	struct run runs[MAX_RUNS];
	uint64_t coalesced;      /* repeats not emitted */
	unsigned stream_errors;  /* in this transfer */
	bool counted;            /* in the agw_stream_devices gauge */
	struct dev *next;
};

struct agw_vendor_pull {
	struct agw_vendor_pull_config cfg;
	char labels[64];          /* adapter="isapi" */
	struct agw_adapter_ctx *ctx;
	struct agw_curl_loop *http;
	struct dev *devs;
	struct agw_vendor_routes *routes; /* NVR channels: (device, channel) -> camera */
	bool own_routes;                  /* made here (else the caller's, which it keeps) */
	struct agw_vendor_unmatched *unmatched; /* channels no row names, stored this run */
	bool own_unmatched;
	bool started, stopping;
	uv_timer_t drain;         /* the stop's reading of what the sockets still hold */
	uv_timer_t lag;           /* the stall meter: how long the loop did not run (silence that is ours) */
	uint64_t lag_due, stalled_ms;
	uint64_t drain_end;
	int open_handles;
	void (*stop_done)(void *arg);
	void *stop_arg;
};

static void dev_connect(struct dev *d);

static void count(struct agw_vendor_pull *p, const char *name, int64_t delta)
{
	agw_metric_add(name, p->labels, delta);
}

/* ---- alerts: emit, or hold while the core pushes back ---- */

static int hold(struct dev *d, const struct agw_alert *a)
{
	if (d->n_held == d->cap_held) {
		size_t cap = d->cap_held ? d->cap_held * 2 : 8;
		struct agw_alert *v = realloc(d->held, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->held = v;
		d->cap_held = cap;
	}
	agw_alert_init(&d->held[d->n_held]);
	int rc = agw_alert_copy(&d->held[d->n_held], a);
	if (rc < 0)
		return rc;
	d->n_held++;
	return 0;
}

/* Hands an alert to the core; camera_id (the camera of its channel, vendor_routes.h), adapter and
 * gateway time are set here (borrowed). Routing is the adapter's: it alone knows which of the
 * vendor's fields is the channel and which ledger rows share this connection. */
static void deliver(struct dev *d, struct agw_alert *a)
{
	struct agw_vendor_pull *p = d->p;
	a->camera_id = (char *)agw_vendor_routes_route(p->routes, p->cfg.adapter, d->id, a);
	a->adapter = (char *)p->cfg.adapter;
	if (!a->gateway_time_ms)
		a->gateway_time_ms = agw_now_ms();
	const char *unmatched = agw_vendor_unmatched_channel(p->routes, d->id, a);
	if (unmatched)
		agw_vendor_unmatched_note(p->unmatched, p->ctx, p->cfg.adapter, d->id, unmatched, a->gateway_time_ms);
	int rc = d->n_held ? -EAGAIN : p->ctx->emit(p->ctx, a);
	if (rc == -EAGAIN)
		count(p, "agw_stream_alerts_held", 1);
	if (rc == -EAGAIN && hold(d, a) < 0)
		agw_log_err(p->cfg.adapter, d->id, "out of memory: an alert (%s) is lost", a->topic ? a->topic : "");
	else if (rc < 0 && rc != -EAGAIN && rc != -ESHUTDOWN)
		agw_log_err(p->cfg.adapter, d->id, "the core refused an alert (%s): %s", a->topic ? a->topic : "", strerror(-rc));
	a->camera_id = NULL;
	a->adapter = NULL;
}

static void emit_health(struct dev *d, enum agw_alert_kind kind, bool active, const char *reason)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.kind = kind;
	a.active = active ? AGW_ACTIVE_TRUE : AGW_ACTIVE_FALSE;
	a.operation = AGW_OP_CHANGED;
	a.camera_time_ms = AGW_TIME_UNKNOWN;
	a.topic = (char *)(kind == AGW_KIND_CAMERA_OFFLINE ? "alarmgw:CameraOffline" : "alarmgw:EventChannelLost");
	struct agw_item item = {.name = (char *)"reason", .value = (char *)reason};
	a.data.v = &item;
	a.data.n = reason ? 1 : 0;
	deliver(d, &a);
	/* everything was borrowed: nothing to clear */
}

static void set_health(struct dev *d, bool offline, bool lost, const char *reason)
{
	const char *tag = d->p->cfg.adapter;
	if (d->offline != offline) {
		d->offline = offline;
		count(d->p, "agw_stream_devices_offline", offline ? 1 : -1);
		if (offline)
			agw_log_warn(tag, d->id, "device unreachable: %s", reason);
		else
			agw_log_notice(tag, d->id, "device reachable again");
		emit_health(d, AGW_KIND_CAMERA_OFFLINE, offline, offline ? reason : NULL);
	}
	if (d->lost != lost) {
		d->lost = lost;
		count(d->p, "agw_stream_channels_lost", lost ? 1 : -1);
		if (lost)
			agw_log_warn(tag, d->id, "event stream lost: %s", reason);
		else
			agw_log_notice(tag, d->id, "event stream flowing again");
		emit_health(d, AGW_KIND_EVENT_CHANNEL_LOST, lost, lost ? reason : NULL);
	}
}

/* Whether an alert repeats an active run emitted less than coalesce_ms ago; keeps the runs. */
static bool repeat(struct dev *d, const struct agw_alert *a)
{
	struct agw_vendor_pull *p = d->p;
	if (p->cfg.coalesce_ms <= 0 || a->active == AGW_ACTIVE_NONE || !a->topic)
		return false;
	const char *ch = agw_items_get(&a->source, "channel");
	char key[300];
	snprintf(key, sizeof(key), "%s\x1f%s", a->topic, ch ? ch : "");
	uint64_t now = uv_now(p->ctx->loop);
	struct run *slot = NULL, *oldest = &d->runs[0];
	for (size_t i = 0; i < MAX_RUNS; i++) {
		struct run *r = &d->runs[i];
		if (r->key && !strcmp(r->key, key)) {
			slot = r;
			break;
		}
		if (!r->key || (oldest->key && r->last < oldest->last))
			oldest = r;
	}
	if (a->active == AGW_ACTIVE_FALSE) {
		if (slot) {
			free(slot->key);
			slot->key = NULL;
		}
		return false;
	}
	if (slot && now - slot->last < (uint64_t)p->cfg.coalesce_ms) {
		d->coalesced++;
		count(p, "agw_stream_coalesced_total", 1);
		return true;
	}
	if (!slot) {
		slot = oldest;
		free(slot->key);
		slot->key = strdup(key); /* out of memory: this run is simply not coalesced */
	}
	slot->last = now;
	return false;
}

static int on_alert(void *arg, struct agw_alert *a)
{
	struct dev *d = arg;
	count(d->p, "agw_stream_events_total", 1);
	if (!repeat(d, a))
		deliver(d, a);
	return 0;
}

int agw_vendor_event_picture(struct agw_adapter_ctx *ctx, const struct agw_vendor_routes *routes, const char *adapter,
			     const char *device, const struct agw_alert *event, unsigned index, const char *content_type,
			     const void *data, size_t len)
{
	/* the first picture of an event is the scene (later ones are crops: a face, a plate) */
	if (!ctx->picture || index > 0 || (content_type && strncmp(content_type, "image/", 6) != 0))
		return 0;
	const char *camera = agw_vendor_routes_route(routes, adapter, device, event);
	struct agw_picture pic = {.type = "event_picture", .source = event->topic, .data = data, .len = len,
				  .camera_time_ms = event->camera_time_ms};
	return camera ? ctx->picture(ctx, camera, &pic) : 0;
}

/* A picture of the event that follows: evidence for the camera that event is routed to. */
static void on_picture(void *arg, const struct agw_alert *event, unsigned index, const char *content_type,
		       const void *data, size_t len)
{
	struct dev *d = arg;
	struct agw_vendor_pull *p = d->p;
	if (agw_vendor_event_picture(p->ctx, p->routes, p->cfg.adapter, d->id, event, index, content_type, data, len) < 0)
		count(p, "agw_stream_pictures_refused_total", 1);
}

static void on_stream_error(void *arg, uint64_t off, const char *what)
{
	struct dev *d = arg;
	count(d->p, "agw_stream_errors_total", 1);
	if (++d->stream_errors <= LOGGED_STREAM_ERRORS)
		agw_log_warn(d->p->cfg.adapter, d->id, "event stream, byte %" PRIu64 ": %s%s", off, what,
			     d->stream_errors == LOGGED_STREAM_ERRORS ? " (further errors of this stream are only counted)" : "");
}

/* ---- transfers ---- */

static void parser_drop(struct dev *d, bool finish)
{
	if (!d->parser)
		return;
	if (finish)
		d->p->cfg.ops->finish(d->parser); /* an event still waiting for its pictures goes out */
	d->p->cfg.ops->destroy(d->parser);
	d->parser = NULL;
}

static void timer_cb(uv_timer_t *t);

/* A part (or the start of a transfer, or the end of a pause): liveness starts again. */
static void mark_part(struct dev *d, uint64_t now)
{
	d->last_part = now;
	d->stalled_at = d->p->stalled_ms;
	d->looked = false;
	d->behind_since = 0;
}

/* How long the device has been silent. A flowing stream's device writes whether or not the
 * gateway runs (what it wrote waits in the socket, which the deadline asks: timer_cb), so the
 * time since its last part counts whole. Before the stream flows, each step of the set-up waits
 * for the gateway's own (connect, request, the Digest answer): the time the loop did not run
 * meanwhile (a stopped process, CPU starvation, a long turn) is not the device's. */
static uint64_t silence(const struct dev *d, uint64_t now)
{
	uint64_t elapsed = now - d->last_part, stalled = d->p->stalled_ms - d->stalled_at;
	if (d->flowing)
		return elapsed;
	return elapsed > stalled ? elapsed - stalled : 0;
}

static void lag_tick(uv_timer_t *t)
{
	struct agw_vendor_pull *p = t->data;
	uint64_t now = uv_now(p->ctx->loop);
	if (now > p->lag_due + LAG_SLACK_MS)
		p->stalled_ms += now - p->lag_due;
	p->lag_due = now + LAG_TICK_MS;
}

/* The socket of each new connection of this handle (CURLOPT_SOCKOPTFUNCTION): curl 7.88's
 * CURLINFO_ACTIVESOCKET knows it only once the transfer is over. */
static int sockopt_cb(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	struct dev *d = arg;
	(void)purpose;
	d->fd = fd;
	return CURL_SOCKOPT_OK;
}

static long port_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET    ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
	       : ss->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)ss)->sin6_port)
					   : -2;
}

/* Bytes the kernel holds for this transfer that nobody has read yet: the device wrote them and
 * will not write them again. 0 when unknown: the recorded socket must still be the transfer's
 * connection (its local and remote ports those curl reports), not a connection curl reused from
 * its cache nor a later socket that got the same descriptor. */
static int unread(const struct dev *d)
{
	long local = -1, remote = -1;
	struct sockaddr_storage mine, peer;
	socklen_t len = sizeof(mine), plen = sizeof(peer);
	int n = 0;
	if (d->fd < 0 || !d->easy || curl_easy_getinfo(d->easy, CURLINFO_LOCAL_PORT, &local) != CURLE_OK ||
	    curl_easy_getinfo(d->easy, CURLINFO_PRIMARY_PORT, &remote) != CURLE_OK ||
	    getsockname(d->fd, (struct sockaddr *)&mine, &len) < 0 || getpeername(d->fd, (struct sockaddr *)&peer, &plen) < 0)
		return 0;
	if (port_of(&mine) != local || port_of(&peer) != remote || ioctl(d->fd, FIONREAD, &n) < 0)
		return 0;
	return n;
}

static void arm(struct dev *d, uint64_t ms)
{
	uv_timer_start(&d->timer, timer_cb, ms, 0);
}

/* A transfer is over (curl finished it, or we cancelled it): health, then the reconnect delay. */
static void transfer_ended(struct dev *d, CURLcode code)
{
	struct agw_vendor_pull *p = d->p;
	d->state = DEV_WAIT;
	d->paused = false;
	parser_drop(d, true);
	long http = 0;
	if (d->easy)
		curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &http);
	char why[300];
	if (d->reason[0])
		snprintf(why, sizeof(why), "%s", d->reason);
	else if (code == CURLE_OK && http != 0 && http != 200)
		snprintf(why, sizeof(why), "HTTP %ld", http);
	else if (code == CURLE_OK)
		snprintf(why, sizeof(why), "the device ended the stream");
	else
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(code));
	if (!d->answered && http == 0)
		set_health(d, true, d->lost, why);
	else
		set_health(d, false, true, why);
	/* a stream that lived through a heartbeat period was healthy: start the delays again; one
	 * that a device ends at once (a connection limit, a crashing service) keeps backing off */
	if (d->flowing && uv_now(p->ctx->loop) - d->flow_start >= (uint64_t)p->cfg.heartbeat_timeout_ms)
		d->attempt = 0;
	int64_t delay = agw_backoff_ms(d->attempt, p->cfg.backoff_min_ms, p->cfg.backoff_max_ms);
	if (d->attempt < 32)
		d->attempt++;
	count(p, "agw_stream_reconnects_total", 1);
	if (d->stream_errors > LOGGED_STREAM_ERRORS)
		agw_log_warn(p->cfg.adapter, d->id, "%u errors in that stream", d->stream_errors);
	agw_log_info(p->cfg.adapter, d->id, "reconnecting in %" PRId64 " ms", delay);
	arm(d, (uint64_t)delay);
}

static void transfer_done(struct agw_curl_req *req, CURLcode code)
{
	struct dev *d = (struct dev *)req;
	if (d->removed)
		return;
	if (d->p->stopping) {
		d->state = DEV_WAIT; /* read to its end while stopping: the drain closes it */
		return;
	}
	transfer_ended(d, code);
}

static size_t header_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct dev *d = arg;
	(void)ptr;
	d->answered = true;
	return size * nmemb;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct dev *d = arg;
	struct agw_vendor_pull *p = d->p;
	size_t n = size * nmemb;
	if (d->n_held) {
		/* the core is pushing back: curl keeps these bytes until resume() */
		d->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (!d->parser) {
		long status = 0;
		curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200) {
			snprintf(d->reason, sizeof(d->reason), "HTTP %ld%s", status,
				 status == 401 ? " (check the device's username and password)" : "");
			return 0;
		}
		char *ctype = NULL;
		curl_easy_getinfo(d->easy, CURLINFO_CONTENT_TYPE, &ctype);
		if ((p->cfg.ops->create_with_pictures && p->ctx->picture
			     ? p->cfg.ops->create_with_pictures(ctype, p->cfg.table, on_alert, on_stream_error, on_picture, d,
								&d->parser)
			     : p->cfg.ops->create(ctype, p->cfg.table, on_alert, on_stream_error, d, &d->parser)) < 0) {
			snprintf(d->reason, sizeof(d->reason), "unusable Content-Type '%s'", ctype ? ctype : "");
			return 0;
		}
		d->parts_seen = 0;
		if (p->ctx->subscribed) /* the device's channel rows follow it (status.c) */
			p->ctx->subscribed(p->ctx, d->id);
	}
	d->last_byte = uv_now(p->ctx->loop);
	if (!d->flowing) {
		d->flowing = true;
		d->flow_start = d->last_byte;
		set_health(d, false, false, NULL);
	}
	if (p->cfg.ops->feed(d->parser, ptr, n) < 0) {
		snprintf(d->reason, sizeof(d->reason), "out of memory parsing the stream");
		return 0;
	}
	uint64_t parts = p->cfg.ops->parts ? p->cfg.ops->parts(d->parser) : d->parts_seen + 1;
	if (parts != d->parts_seen) {
		d->parts_seen = parts;
		mark_part(d, d->last_byte);
	}
	return n;
}

static int dev_setup(struct dev *d)
{
	struct agw_vendor_pull *p = d->p;
	if (!(d->easy = curl_easy_init()))
		return -ENOMEM;
	CURL *e = d->easy;
	curl_easy_setopt(e, CURLOPT_URL, d->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)&d->req);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, d);
	curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, d);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)p->cfg.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 16384L);
	if (d->username) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, p->cfg.allow_basic ? (CURLAUTH_DIGEST | CURLAUTH_BASIC) : CURLAUTH_DIGEST);
		curl_easy_setopt(e, CURLOPT_USERNAME, d->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, d->password ? d->password : "");
	}
	if (!p->cfg.tls_verify) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (p->cfg.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, p->cfg.ca_file);
	return 0;
}

static void dev_connect(struct dev *d)
{
	struct agw_vendor_pull *p = d->p;
	d->reason[0] = '\0';
	d->stream_errors = 0;
	d->answered = false;
	d->flowing = false;
	d->paused = false;
	parser_drop(d, false);
	if (!d->easy && dev_setup(d) < 0) {
		snprintf(d->reason, sizeof(d->reason), "out of memory");
		transfer_ended(d, CURLE_OUT_OF_MEMORY);
		return;
	}
	d->state = DEV_RUN;
	d->last_byte = uv_now(p->ctx->loop);
	mark_part(d, d->last_byte);
	if (agw_curl_loop_start(p->http, d->easy) < 0) {
		snprintf(d->reason, sizeof(d->reason), "cannot start the transfer");
		transfer_ended(d, CURLE_FAILED_INIT);
		return;
	}
	arm(d, (uint64_t)p->cfg.heartbeat_timeout_ms);
}

static void timer_cb(uv_timer_t *t)
{
	struct dev *d = t->data;
	struct agw_vendor_pull *p = d->p;
	if (p->stopping || d->removed)
		return;
	if (d->state == DEV_WAIT) {
		dev_connect(d);
		return;
	}
	if (d->state != DEV_RUN)
		return;
	uint64_t now = uv_now(p->ctx->loop);
	uint64_t timeout = (uint64_t)p->cfg.heartbeat_timeout_ms, quiet = silence(d, now);
	if (d->paused || quiet < timeout) {
		/* paused by back-pressure, or a set-up the loop did not run: silence is ours */
		arm(d, d->paused ? timeout : timeout - quiet);
		return;
	}
	/* The silence may still be ours: libuv runs timers before the reads of the same turn, and
	 * the stall meter may not have run yet. The reads get a turn (1 ms: a 0 ms timer armed in a
	 * timer callback runs again at once), then the socket is asked: bytes still unread are the
	 * device's, not silence. A stream that keeps bytes unread for another whole timeout without a
	 * part is judged all the same. */
	if (!d->looked) {
		d->looked = true;
		arm(d, 1);
		return;
	}
	int pending = unread(d);
	if (pending > 0 && (!d->behind_since || now - d->behind_since < timeout)) {
		if (!d->behind_since)
			d->behind_since = now;
		count(p, "agw_stream_late_checks_total", 1);
		arm(d, LOOK_AGAIN_MS);
		return;
	}
	if (pending > 0)
		snprintf(d->reason, sizeof(d->reason), "%d bytes unread but no readable part for %" PRIu64 " ms", pending,
			 now - d->last_part);
	else if (now - d->last_byte < timeout)
		snprintf(d->reason, sizeof(d->reason), "bytes but no readable part for %" PRIu64 " ms (a boundary that "
			 "does not match the Content-Type, or garbage)", now - d->last_part);
	else
		snprintf(d->reason, sizeof(d->reason), "no data for %" PRIu64 " ms (heartbeats stopped)", now - d->last_byte);
	agw_curl_loop_cancel(p->http, d->easy);
	transfer_ended(d, CURLE_OPERATION_TIMEDOUT);
}

/* ---- devices ---- */

static void dev_free(struct dev *d)
{
	if (d->counted) {
		/* the gauges forget the device */
		count(d->p, "agw_stream_devices", -1);
		if (d->offline)
			count(d->p, "agw_stream_devices_offline", -1);
		if (d->lost)
			count(d->p, "agw_stream_channels_lost", -1);
		if (d->n_held)
			count(d->p, "agw_stream_alerts_held", -(int64_t)d->n_held);
	}
	for (size_t i = 0; i < MAX_RUNS; i++)
		free(d->runs[i].key);
	if (d->easy)
		curl_easy_cleanup(d->easy);
	for (size_t i = 0; i < d->n_held; i++)
		agw_alert_clear(&d->held[i]);
	free(d->held);
	free(d->id);
	free(d->url);
	free(d->username);
	free(d->password);
	free(d);
}

static void maybe_stopped(struct agw_vendor_pull *p)
{
	if (!p->stopping || p->open_handles > 0)
		return;
	void (*done)(void *) = p->stop_done;
	void *arg = p->stop_arg;
	agw_vendor_pull_free(p);
	if (done)
		done(arg);
}

static void timer_closed(uv_handle_t *h)
{
	struct dev *d = h->data;
	struct agw_vendor_pull *p = d->p;
	dev_free(d);
	p->open_handles--;
	maybe_stopped(p);
}

/* Ends a device's transfer and closes its timer; the device is freed once the timer is closed. */
static void dev_close(struct dev *d)
{
	struct agw_vendor_pull *p = d->p;
	if (d->state == DEV_RUN)
		agw_curl_loop_cancel(p->http, d->easy);
	d->state = DEV_IDLE;
	parser_drop(d, true);
	if (d->n_held)
		agw_log_err(p->cfg.adapter, d->id, "%zu alerts held back by the core's back-pressure were not delivered",
			    d->n_held);
	if (d->timer_open) {
		d->timer_open = false;
		uv_timer_stop(&d->timer);
		uv_close((uv_handle_t *)&d->timer, timer_closed);
	} else {
		dev_free(d);
	}
}

static void dev_begin(struct dev *d)
{
	struct agw_vendor_pull *p = d->p;
	uv_timer_init(p->ctx->loop, &d->timer);
	d->timer.data = d;
	d->timer_open = true;
	p->open_handles++;
	d->attempt = 0;
	/* spread the first connections over a second */
	d->state = DEV_WAIT;
	arm(d, agw_random_u64() % 1000);
}

struct agw_curl_loop *agw_vendor_pull_http(struct agw_vendor_pull *p)
{
	return p && !p->stopping ? p->http : NULL;
}

int agw_vendor_pull_add(struct agw_vendor_pull *p, const struct agw_camera *camera)
{
	int rc = p->own_routes ? agw_vendor_routes_add(p->routes, camera) : 0;
	if (rc < 0)
		return rc;
	if (camera->device)
		return 0; /* a channel row: its events come on its device's stream */
	struct dev *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->p = p;
	d->fd = -1;
	d->req.done = transfer_done;
	d->id = strdup(camera->id);
	d->url = agw_vendor_pull_url(camera->address, p->cfg.path);
	d->username = camera->username && *camera->username ? strdup(camera->username) : NULL;
	d->password = camera->password ? strdup(camera->password) : NULL;
	if (!d->id || !d->url || (camera->username && *camera->username && !d->username) ||
	    (camera->password && !d->password)) {
		dev_free(d);
		if (p->own_routes)
			agw_vendor_routes_remove(p->routes, camera->id);
		return -ENOMEM;
	}
	d->next = p->devs;
	p->devs = d;
	count(p, "agw_stream_devices", 1);
	d->counted = true;
	if (p->started)
		dev_begin(d);
	return 0;
}

void agw_vendor_pull_remove(struct agw_vendor_pull *p, const char *camera_id)
{
	if (p->own_routes)
		agw_vendor_routes_remove(p->routes, camera_id);
	for (struct dev **pp = &p->devs; *pp; pp = &(*pp)->next) {
		struct dev *d = *pp;
		if (strcmp(d->id, camera_id) != 0)
			continue;
		*pp = d->next;
		d->removed = true;
		dev_close(d);
		return;
	}
}

int agw_vendor_pull_new(const struct agw_vendor_pull_config *cfg, struct agw_adapter_ctx *ctx,
			struct agw_vendor_pull **ret)
{
	struct agw_vendor_pull *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->routes = cfg->routes;
	p->own_routes = !cfg->routes;
	p->unmatched = cfg->unmatched;
	p->own_unmatched = !cfg->unmatched;
	if ((p->own_routes && agw_vendor_routes_new(&p->routes) < 0) ||
	    (p->own_unmatched && agw_vendor_unmatched_new(&p->unmatched) < 0)) {
		if (p->own_routes)
			agw_vendor_routes_free(p->routes);
		free(p);
		return -ENOMEM;
	}
	p->cfg = *cfg;
	p->ctx = ctx;
	snprintf(p->labels, sizeof(p->labels), "adapter=\"%s\"", cfg->adapter);
	*ret = p;
	return 0;
}

int agw_vendor_pull_start(struct agw_vendor_pull *p)
{
	int rc = agw_curl_loop_new(p->ctx->loop, &p->http);
	if (rc < 0)
		return rc;
	p->open_handles += 3; /* the curl loop, the drain timer, the stall meter */
	uv_timer_init(p->ctx->loop, &p->drain);
	p->drain.data = p;
	uv_timer_init(p->ctx->loop, &p->lag);
	p->lag.data = p;
	p->lag_due = uv_now(p->ctx->loop) + LAG_TICK_MS;
	uv_timer_start(&p->lag, lag_tick, LAG_TICK_MS, LAG_TICK_MS);
	p->started = true;
	for (struct dev *d = p->devs; d; d = d->next)
		dev_begin(d);
	return 0;
}

static void http_closed(void *arg)
{
	struct agw_vendor_pull *p = arg;
	p->http = NULL;
	p->open_handles--;
	maybe_stopped(p);
}

static void client_timer_closed(uv_handle_t *h)
{
	struct agw_vendor_pull *p = h->data;
	p->open_handles--;
	maybe_stopped(p);
}

/* Closes the devices whose stream has nothing more to give (all: every one, the drain's time is
 * up); when none is left, the curl loop and the drain timer. */
static void drain_step(struct agw_vendor_pull *p, bool all)
{
	for (struct dev **pp = &p->devs; *pp;) {
		struct dev *d = *pp;
		int pending = d->state == DEV_RUN ? unread(d) : 0;
		if (!all && d->state == DEV_RUN && (d->n_held || d->paused || pending > 0)) {
			pp = &d->next;
			continue;
		}
		if (pending > 0 || d->paused) {
			count(p, "agw_stream_unread_at_stop_total", 1);
			agw_log_warn(p->cfg.adapter, d->id, "stopped with %d bytes unread%s: the events in them are lost",
				     pending, d->paused ? " and the transfer paused by back-pressure" : "");
		}
		*pp = d->next;
		dev_close(d);
	}
	if (p->devs)
		return;
	uv_timer_stop(&p->drain);
	uv_close((uv_handle_t *)&p->drain, client_timer_closed);
	uv_timer_stop(&p->lag);
	uv_close((uv_handle_t *)&p->lag, client_timer_closed);
	agw_curl_loop_close(p->http, http_closed, p);
}

static void drain_tick(uv_timer_t *t)
{
	struct agw_vendor_pull *p = t->data;
	drain_step(p, uv_now(p->ctx->loop) >= p->drain_end);
	if (p->devs)
		uv_timer_start(&p->drain, drain_tick, DRAIN_TICK_MS, 0);
}

void agw_vendor_pull_stop(struct agw_vendor_pull *p, void (*done)(void *arg), void *arg)
{
	p->stop_done = done;
	p->stop_arg = arg;
	p->stopping = true;
	if (!p->started) {
		maybe_stopped(p);
		return;
	}
	/* What the sockets hold, the devices wrote and will not write again: the streams are read
	 * (and what the core refuses is held and handed over on resume) until each socket is empty,
	 * for at most STOP_DRAIN_MS. The first look comes after one turn of the loop's reads. No new
	 * transfer starts and none is made again. The open handles keep the client alive until the
	 * last is closed. */
	p->open_handles++;
	for (struct dev **pp = &p->devs; *pp;) {
		struct dev *d = *pp;
		if (d->state == DEV_RUN) {
			pp = &d->next;
			continue;
		}
		*pp = d->next;
		dev_close(d);
	}
	p->drain_end = uv_now(p->ctx->loop) + STOP_DRAIN_MS;
	if (p->devs)
		uv_timer_start(&p->drain, drain_tick, 1, 0);
	else
		drain_step(p, true);
	p->open_handles--;
	maybe_stopped(p);
}

void agw_vendor_pull_free(struct agw_vendor_pull *p)
{
	if (!p)
		return;
	/* devices of a client that never started have no open handle */
	while (p->devs) {
		struct dev *d = p->devs;
		p->devs = d->next;
		dev_free(d);
	}
	if (p->own_routes)
		agw_vendor_routes_free(p->routes);
	if (p->own_unmatched)
		agw_vendor_unmatched_free(p->unmatched);
	free(p);
}

void agw_vendor_pull_resume(struct agw_vendor_pull *p)
{
	/* a stop from inside emit() closes devices: the walk ends there (a stopping client is
	 * resumed too: its streams are being read to their end) */
	bool stopping = p->stopping;
	for (struct dev *d = p->devs; d && p->stopping == stopping; d = d->next) {
		while (d->n_held && p->stopping == stopping) {
			/* out of the queue before emit: emit may stop the adapter */
			struct agw_alert a = d->held[0];
			d->n_held--;
			memmove(d->held, d->held + 1, d->n_held * sizeof(*d->held));
			int rc = p->ctx->emit(p->ctx, &a);
			if (rc != -EAGAIN)
				count(p, "agw_stream_alerts_held", -1);
			if (rc == -EAGAIN) {
				memmove(d->held + 1, d->held, d->n_held * sizeof(*d->held));
				d->held[0] = a;
				d->n_held++;
				break;
			}
			if (rc < 0 && rc != -ESHUTDOWN)
				agw_log_err(p->cfg.adapter, d->id, "the core refused a held alert: %s", strerror(-rc));
			agw_alert_clear(&a);
		}
		if (d->n_held == 0 && d->paused && d->state == DEV_RUN && p->stopping == stopping) {
			d->paused = false;
			d->last_byte = uv_now(p->ctx->loop);
			mark_part(d, d->last_byte);
			curl_easy_pause(d->easy, CURLPAUSE_CONT);
		}
	}
}
