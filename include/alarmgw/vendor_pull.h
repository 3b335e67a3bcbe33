/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The live client of never-ending HTTP event streams (ISAPI alertStream, Dahua eventManager
 * attach), shared by both adapters: one long-lived GET per device on the loop's libcurl multi (no
 * thread per device), HTTP Digest (and Basic only when allowed), TLS verified for https.
 *
 * - Liveness: devices send heartbeats every few seconds; no part for heartbeat_timeout means the
 *   stream is dead although the socket may not know it: the transfer is dropped and made again.
 *   Silence the gateway causes is not the device's: a deadline that passes while the loop did
 *   not run (CPU starvation, a stopped process) gives the reads a turn, then asks the socket;
 *   bytes unread there keep the stream (for at most another timeout without a part). Before a
 *   stream flows, the time the loop did not run does not count (the device's answers wait for
 *   the gateway's requests).
 * - Reconnect: after a failure, the project's one backoff (alarmgw/backoff.h): from backoff_min
 *   doubling to backoff_max, each delay a uniform point in its upper half, so that devices
 *   behind one switch do not come back in step; a stream that lived
 *   through a heartbeat period resets the delay (one a device ends at once keeps backing off).
 * - Health: a device that cannot be reached at all (no HTTP answer) raises camera_offline once; a
 *   device that answers but whose stream fails or stops raises event_channel_lost once; each is
 *   cleared (the same kind, active false) when the stream delivers again.
 * - Repeats: ISAPI re-posts an active event about once a second (activePostCount) and often never
 *   sends the inactive one. An active alert of the same topic and channel as one emitted less than
 *   coalesce_ms ago is not emitted again (counted); an inactive one always is, and ends the run.
 *   The rules' clear timeout (longer than coalesce_ms) ends runs that never get an inactive.
 * - Back-pressure: when emit() returns -EAGAIN the alert (and every later one of that device) is
 *   held, the transfer is paused (curl keeps the bytes it has not delivered, the device's TCP
 *   window closes), and resume() emits what was held, then unpauses. Nothing is dropped.
 * All on the loop thread; remove(), stop() and resume() are not to be called from inside the
 * core's emit() (they may end the transfer whose bytes are being parsed). */
#ifndef AGW_VENDOR_PULL_H
#define AGW_VENDOR_PULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarmgw/adapter.h"
#include "alarmgw/vendor_routes.h"
#include "alarmgw/vendor_unmatched.h"
#include "alarmgw/vendor_table.h"

/* The stream parser of a protocol, behind a function table. */
struct agw_vendor_parser_ops {
	/* A parser for a response of this Content-Type (may be NULL); alerts and problems go to the
	 * callbacks with arg. */
	int (*create)(const char *content_type, const struct agw_vendor_table *table,
		      int (*on_alert)(void *arg, struct agw_alert *alert),
		      void (*on_error)(void *arg, uint64_t offset, const char *what), void *arg, void **ret);
	/* Optional: like create, and pictures that come with an event (ISAPI JPEG parts) go to
	 * on_picture (index from 0 within the event) before the event goes to on_alert; the client hands them to the core as evidence
	 * (agw_adapter_ctx.picture) for the camera the event is routed to. */
	int (*create_with_pictures)(const char *content_type, const struct agw_vendor_table *table,
				    int (*on_alert)(void *arg, struct agw_alert *alert),
				    void (*on_error)(void *arg, uint64_t offset, const char *what),
				    void (*on_picture)(void *arg, const struct agw_alert *event, unsigned index,
						       const char *content_type, const void *data, size_t len),
				    void *arg, void **ret);
	int (*feed)(void *parser, const void *buf, size_t len);
	int (*finish)(void *parser);
	void (*destroy)(void *parser);
	/* Complete parts read so far (events, heartbeats, any other document). Liveness counts these,
	 * not bytes: a stream whose bytes never make a part (a boundary that does not match, garbage)
	 * is as dead as a silent one. Optional: without it, any byte counts. */
	uint64_t (*parts)(void *parser);
};

struct agw_vendor_pull_config {
	const char *adapter;                    /* "isapi", "dahua": log tag and alert->adapter */
	const char *path;                       /* request path and query, appended to the device address */
	const struct agw_vendor_parser_ops *ops;
	const struct agw_vendor_table *table;
	int64_t heartbeat_timeout_ms;
	int64_t connect_timeout_ms;
	int64_t backoff_min_ms, backoff_max_ms;
	int64_t coalesce_ms;                    /* 0: every repeat is emitted */
	bool allow_basic;                       /* Basic as well as Digest (sends the password in clear on http) */
	bool tls_verify;
	const char *ca_file;                    /* NULL: the system's */
	/* NVR channel routes (vendor_routes.h), kept by the caller when it shares them (the ISAPI push
	 * listener routes the same way); NULL: the client keeps its own from add() and remove(). */
	struct agw_vendor_routes *routes;
	/* NVR channels no row names, stored this run (vendor_unmatched.h), shared the same way; NULL:
	 * the client keeps its own. */
	struct agw_vendor_unmatched *unmatched;
};

/* The options every pull adapter offers, embedded in its private struct and listed in its option
 * table with AGW_VENDOR_PULL_OPTIONS, so that ISAPI, Dahua and the adapters to come spell them,
 * bound them and check them the same way. */
struct agw_vendor_pull_options {
	int64_t heartbeat_timeout_ms, connect_timeout_ms, backoff_min_ms, backoff_max_ms, coalesce_ms;
	bool basic_auth, tls_verify;
	char *ca_file;
};

/* The option table entries of struct agw_vendor_pull_options `member` of the adapter's `type`;
 * the heartbeat timeout and the coalescing window differ by protocol (default as text, and the
 * heartbeat timeout's help). */
#define AGW_VENDOR_PULL_OPTIONS(type, member, heartbeat_default, heartbeat_help, coalesce_default)                      \
	{"heartbeat_timeout", AGW_OPT_DURATION, offsetof(type, member.heartbeat_timeout_ms), heartbeat_default, 1000,      \
	 3600000, false, heartbeat_help},                                                                                  \
	{"connect_timeout", AGW_OPT_DURATION, offsetof(type, member.connect_timeout_ms), "10s", 100, 600000, false,        \
	 "deadline of a connection to a device"},                                                                          \
	{"backoff_min", AGW_OPT_DURATION, offsetof(type, member.backoff_min_ms), "1s", 10, 3600000, false,                \
	 "first reconnect delay after a failure (doubles each time, with jitter)"},                                        \
	{"backoff_max", AGW_OPT_DURATION, offsetof(type, member.backoff_max_ms), "60s", 10, 86400000, false,              \
	 "longest reconnect delay"},                                                                                       \
	{"coalesce", AGW_OPT_DURATION, offsetof(type, member.coalesce_ms), coalesce_default, 0, 3600000, false,           \
	 "an active event repeated (same topic and channel) within this time of the last one emitted is not emitted "     \
	 "again; 0 emits every repeat. Keep the rules' clear timeout longer"},                                             \
	{"basic_auth", AGW_OPT_BOOL, offsetof(type, member.basic_auth), "false", 0, 0, false,                             \
	 "also answer a Basic challenge (the password then travels in clear over http); Digest is always used"},           \
	{"tls_verify", AGW_OPT_BOOL, offsetof(type, member.tls_verify), "true", 0, 0, false,                              \
	 "verify https devices' certificates (false accepts self-signed ones)"},                                           \
	{"ca_file", AGW_OPT_PATH, offsetof(type, member.ca_file), NULL, 0, 0, false, "CA bundle for https devices"}

/* What `alarmgw check` refuses in those options; 0 or -EINVAL with err set. */
int agw_vendor_pull_options_check(const struct agw_vendor_pull_options *o, char *err, size_t errlen);
/* cfg's fields that the options give (the rest is the caller's). */
void agw_vendor_pull_config_apply(struct agw_vendor_pull_config *cfg, const struct agw_vendor_pull_options *o);

struct agw_vendor_pull;

/* cfg's strings and table must outlive the client. */
int agw_vendor_pull_new(const struct agw_vendor_pull_config *cfg, struct agw_adapter_ctx *ctx,
			struct agw_vendor_pull **ret);
/* Devices: a stream starts at once when the client is started. */
int agw_vendor_pull_add(struct agw_vendor_pull *p, const struct agw_camera *camera);
void agw_vendor_pull_remove(struct agw_vendor_pull *p, const char *camera_id);
int agw_vendor_pull_start(struct agw_vendor_pull *p);
/* Ends every transfer and closes every handle; done(arg) runs once all are closed (it may run
 * before this returns). The client is then freed. A stream is first read until its socket holds
 * nothing more (at most 2 s; resume() still hands over what the core held back): the bytes in it
 * were written by the device, which does not write them again. */
void agw_vendor_pull_stop(struct agw_vendor_pull *p, void (*done)(void *arg), void *arg);
/* Frees a client that was never started (after stop, the client is already gone). */
void agw_vendor_pull_free(struct agw_vendor_pull *p);
void agw_vendor_pull_resume(struct agw_vendor_pull *p);

/* The client's curl loop (evidence snapshots share it); NULL once stopping. */
struct agw_curl_loop *agw_vendor_pull_http(struct agw_vendor_pull *p);

/* The URL of a device: "host[:port]" -> "http://host[:port]" + path; an http(s) URL keeps its
 * scheme and its path prefix. Returns a malloc'd string or NULL. */
char *agw_vendor_pull_url(const char *address, const char *path);

/* A picture that came with a device's event (ISAPI JPEG parts, in a stream or a post): the first
 * one of the event (the scene; later ones are crops) goes to the core as evidence of the camera
 * the event is routed to (the event is not routed yet: routing it here gives the same camera).
 * 0 when taken or not a scene picture, or the core's negative errno when it refused it. */
int agw_vendor_event_picture(struct agw_adapter_ctx *ctx, const struct agw_vendor_routes *routes, const char *adapter,
			     const char *device, const struct agw_alert *event, unsigned index, const char *content_type,
			     const void *data, size_t len);

#endif
