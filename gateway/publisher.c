/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The outbox publisher. How delivery stays loss-free:
 * - A row leaves the outbox only after the broker's PUBACK for it (QoS 1).
 * - Every (re)connect starts a new "generation": the in-flight window is forgotten and sending
 *   restarts at the oldest row still in the outbox. Late callbacks from an older generation still
 *   delete their rows (a PUBACK is a PUBACK) but no longer count against the window. Resends are
 *   duplicates, never gaps; each message carries its case id for consumers to dedup.
 * - paho's callbacks carry a tag (kind, publisher slot, generation, seq) instead of a pointer, so a
 *   callback that arrives after the publisher was freed finds an empty slot and does nothing. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "alarmgw/alert.h"
#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "feedback.h"
#include "mqtt_topic.h"
#include "publisher.h"
#include "topic.h"

_Static_assert(sizeof(void *) >= sizeof(uint64_t), "paho contexts carry 64-bit tags");

#define COMP "mqtt"
#define MAX_PUBLISHERS 64
#define STOP_DRAIN_MS 2000     /* how long stop waits for in-flight PUBACKs */
#define STOP_STEP_MS 500       /* offline status PUBACK, then disconnect: all of stop <= 3 s */
#define TICK_MS 250            /* metrics refresh, pending deletes */
#define DELETE_BATCH 512       /* acknowledged rows deleted per transaction between ticks */
#define FEEDBACK_QUEUE_MAX 10000
#define CONNECT_TIMEOUT_S 10
#define HEALTH_BURST 32        /* health messages sent per loop wake-up */

enum tag_kind { TAG_OUTBOX = 0, TAG_STATUS = 1, TAG_HEALTH = 2, TAG_CONTROL = 3 };
#define VAL_BITS 42
#define VAL_MASK ((UINT64_C(1) << VAL_BITS) - 1)
#define GEN_MASK 0x3fffu

static uint64_t tag_make(enum tag_kind kind, unsigned slot, unsigned gen, uint64_t val)
{
	return ((uint64_t)kind << 62) | ((uint64_t)slot << 56) | ((uint64_t)(gen & GEN_MASK) << VAL_BITS) |
	       (val & VAL_MASK);
}
static enum tag_kind tag_kind(uint64_t t) { return (enum tag_kind)(t >> 62); }
static unsigned tag_slot(uint64_t t) { return (unsigned)((t >> 56) & 0x3f); }
static unsigned tag_gen(uint64_t t) { return (unsigned)((t >> VAL_BITS) & GEN_MASK); }
static uint64_t tag_val(uint64_t t) { return t & VAL_MASK; }
static void *tag_ptr(uint64_t t) { return (void *)(uintptr_t)t; }

enum ev_type {
	EV_CONNECTED,
	EV_CONNECT_FAILED,
	EV_LOST,
	EV_SENT,
	EV_SEND_FAILED,
	EV_MESSAGE,
	EV_SUBSCRIBE_FAILED,
	EV_DISCONNECTED,
};

struct event {
	enum ev_type type;
	uint64_t tag;
	int code;      /* paho or MQTT reason code */
	int flag;      /* session present */
	char *text;    /* failure text, or the topic of a message */
	void *data;    /* message payload */
	size_t len;
};

struct slot {
	int64_t seq;
	int64_t created_at;
	bool acked;
};

struct acked {
	int64_t seq;
	int64_t at_ms;
};

struct health {
	char *camera;
	const char *state; /* static string */
	unsigned version;
	bool confirmed;  /* the broker acknowledged the latest version */
	bool sending;
};

enum stop_phase { STOP_NONE, STOP_DRAIN, STOP_OFFLINE, STOP_DISCONNECT, STOP_CLOSING, STOP_DONE };

struct agw_publisher {
	uv_loop_t *loop;
	struct agw_store *store;
	MQTTAsync client;
	unsigned slot;

	/* copied configuration */
	char *uri, *client_id, *username, *password, *ca_file, *cert_file, *key_file;
	char *prefix, *gateway, *health_tmpl;
	char status_topic[AGW_MQTT_TOPIC_MAX], feedback_topic[AGW_MQTT_TOPIC_MAX];
	int version, keepalive_s;
	bool clean, tls;
	size_t window;
	int64_t reconnect_min_ms, reconnect_max_ms;

	/* handles */
	uv_async_t async;
	uv_timer_t retry_timer, tick_timer, stop_timer;
	int open_handles;
	bool started, free_pending;

	/* events from paho threads, under reg_lock */
	struct event *ev;
	size_t n_ev, cap_ev, n_msg_queued;
	bool accepting;

	/* connection */
	bool connected, connecting;
	unsigned attempt, gen, conn, rng;
	unsigned nacks; /* publishes refused by the broker (MQTT 5 reason code) since the last PUBACK */
	char ssl_error[256]; /* last OpenSSL error text (paho thread writes, under reg_lock) */

	/* outbox window: slots from the oldest unacknowledged send to the newest */
	struct slot *ring;
	size_t head, n;
	int64_t cursor;        /* highest seq handed to paho in this generation */
	int64_t high_water;    /* highest seq ever handed to paho (resend accounting) */
	struct acked *acked;   /* acknowledged rows, in ack order, deleted after the resend window */
	size_t a_head, a_n, a_cap;
	int64_t resend_window_ms;
	long long acked_total;
	int64_t m_published, m_lat_sum, m_lat_count, m_lat_last; /* added to the metrics once per turn */
	bool skipped_logged;

	/* health */
	struct health *health;
	size_t n_health, cap_health;
	bool health_dirty; /* some state waits to be (re)sent */

	/* feedback */
	void (*fb_fn)(void *arg, const char *case_id, const char *status);
	void *fb_arg;
	int64_t fb_log_window_ms;
	int fb_logged;

	/* stop */
	enum stop_phase stop;
	bool offline_acked;
	void (*done)(void *arg);
	void *done_arg;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct agw_publisher *registry[MAX_PUBLISHERS];

static void fill_window(struct agw_publisher *p);
static void retry_cb(uv_timer_t *t);
static void stop_advance(struct agw_publisher *p);

/* ---- paho threads: queue an event and wake the loop ---- */

static void post(uint64_t tag, struct event ev)
{
	ev.tag = tag;
	pthread_mutex_lock(&reg_lock);
	struct agw_publisher *p = registry[tag_slot(tag)];
	if (p && p->accepting) {
		if (p->n_ev == p->cap_ev) {
			size_t cap = p->cap_ev ? p->cap_ev * 2 : 256;
			struct event *v = realloc(p->ev, cap * sizeof(*v));
			if (!v)
				goto drop;
			p->ev = v;
			p->cap_ev = cap;
		}
		p->ev[p->n_ev++] = ev;
		if (ev.type == EV_MESSAGE)
			p->n_msg_queued++;
		uv_async_send(&p->async);
		pthread_mutex_unlock(&reg_lock);
		return;
	}
drop:
	pthread_mutex_unlock(&reg_lock);
	if (p)
		agw_metric_add("agw_mqtt_event_drops_total", NULL, 1);
	free(ev.text);
	free(ev.data);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void on_connect_ok(void *ctx, MQTTAsync_successData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_CONNECTED, .flag = r ? r->alt.connect.sessionPresent : 0});
}

static void on_connect_ok5(void *ctx, MQTTAsync_successData5 *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_CONNECTED, .flag = r ? r->alt.connect.sessionPresent : 0});
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_CONNECT_FAILED, .code = r ? r->code : MQTTASYNC_FAILURE,
					    .text = r ? dup_or_null(r->message) : NULL});
}

static void on_connect_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	/* A CONNACK refusal carries a reason code (>= 0x80); transport failures only a paho code. */
	int code = MQTTASYNC_FAILURE;
	if (r)
		code = r->reasonCode ? (int)r->reasonCode : r->code;
	post((uintptr_t)ctx, (struct event){.type = EV_CONNECT_FAILED, .code = code,
					    .text = r ? dup_or_null(r->message) : NULL});
}

static void on_sent(void *ctx, MQTTAsync_successData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_SENT});
}

static void on_sent5(void *ctx, MQTTAsync_successData5 *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_SENT});
}

static void on_send_fail(void *ctx, MQTTAsync_failureData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_SEND_FAILED, .code = r ? r->code : MQTTASYNC_FAILURE,
					    .text = r ? dup_or_null(r->message) : NULL});
}

static void on_send_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	int code = MQTTASYNC_FAILURE;
	if (r)
		code = r->reasonCode ? (int)r->reasonCode : r->code;
	post((uintptr_t)ctx, (struct event){.type = EV_SEND_FAILED, .code = code,
					    .text = r ? dup_or_null(r->message) : NULL});
}

static void on_subscribe_fail(void *ctx, MQTTAsync_failureData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_SUBSCRIBE_FAILED, .code = r ? r->code : MQTTASYNC_FAILURE});
}

static void on_subscribe_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_SUBSCRIBE_FAILED,
					    .code = r ? (r->reasonCode ? (int)r->reasonCode : r->code) : -1});
}

static void on_subscribed5(void *ctx, MQTTAsync_successData5 *r)
{
	/* MQTT 5 reports a refused subscription as a SUBACK reason code >= 0x80 on "success". */
	if (r && r->reasonCode >= 0x80)
		post((uintptr_t)ctx, (struct event){.type = EV_SUBSCRIBE_FAILED, .code = (int)r->reasonCode});
}

static void on_disconnected(void *ctx, MQTTAsync_successData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_DISCONNECTED});
}

static void on_disconnect_fail(void *ctx, MQTTAsync_failureData *r)
{
	post((uintptr_t)ctx, (struct event){.type = EV_DISCONNECTED});
}

static void on_lost(void *ctx, char *cause)
{
	post((uintptr_t)ctx, (struct event){.type = EV_LOST, .text = dup_or_null(cause)});
}

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	uint64_t tag = (uintptr_t)ctx;
	/* Back-pressure instead of loss: returning 0 makes paho deliver the message again later. */
	pthread_mutex_lock(&reg_lock);
	struct agw_publisher *p = registry[tag_slot(tag)];
	bool full = p && p->n_msg_queued >= FEEDBACK_QUEUE_MAX;
	pthread_mutex_unlock(&reg_lock);
	if (full)
		return 0;
	struct event ev = {.type = EV_MESSAGE, .len = (size_t)(m->payloadlen > 0 ? m->payloadlen : 0)};
	/* The size limit is enforced before copying: only the length of an oversized message travels. */
	if (ev.len <= AGW_FEEDBACK_MAX_BYTES) {
		ev.data = malloc(ev.len + 1);
		if (ev.data) {
			memcpy(ev.data, m->payload, ev.len);
			((char *)ev.data)[ev.len] = '\0';
		}
	}
	ev.text = topic_len > 0 ? strndup(topic, (size_t)topic_len) : strdup(topic);
	post(tag, ev);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static int on_ssl_error(const char *str, size_t len, void *u)
{
	uint64_t tag = (uintptr_t)u;
	pthread_mutex_lock(&reg_lock);
	struct agw_publisher *p = registry[tag_slot(tag)];
	if (p) {
		size_t n = len < sizeof(p->ssl_error) - 1 ? len : sizeof(p->ssl_error) - 1;
		memcpy(p->ssl_error, str, n);
		while (n && (p->ssl_error[n - 1] == '\n' || p->ssl_error[n - 1] == '\r'))
			n--;
		p->ssl_error[n] = '\0';
	}
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

/* ---- loop thread ---- */

/* Connection events carry the paho client's incarnation, so one from a destroyed client is ignored. */
static uint64_t ctl_tag(const struct agw_publisher *p)
{
	return tag_make(TAG_CONTROL, p->slot, p->conn, 0);
}

/* The seq span, exact while rows leave in order (the measure the outbox limit uses). Written as
 * separate sub-selects on purpose: "SELECT max(seq)-min(seq)" in one select scans the whole table
 * (sqlite's min/max shortcut applies only to a lone aggregate); these are O(log n) each. */
static const char SQL_SPAN[] = "SELECT coalesce((SELECT max(seq) FROM outbox) - (SELECT min(seq) FROM outbox) + 1, 0)";
static const char SQL_FIRST_AFTER[] = "SELECT created_at FROM outbox WHERE seq > ? ORDER BY seq LIMIT 1";

/* agw_outbox_depth: rows not yet acknowledged (acknowledged rows waiting out their resend window
 * are agw_outbox_resend_window_rows); agw_outbox_oldest_age_seconds: age of the oldest of them. */
static void update_depth(struct agw_publisher *p)
{
	int64_t span = 0, oldest = INT64_MAX;
	sqlite3_stmt *st = agw_store_stmt(p->store, SQL_SPAN);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		span = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	if (p->n)
		oldest = p->ring[p->head].created_at;
	st = agw_store_stmt(p->store, SQL_FIRST_AFTER);
	if (st) {
		sqlite3_bind_int64(st, 1, p->cursor);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) < oldest)
			oldest = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	int64_t depth = span - (int64_t)p->a_n;
	agw_metric_set("agw_outbox_depth", NULL, depth > 0 ? depth : 0);
	agw_metric_set("agw_outbox_resend_window_rows", NULL, (int64_t)p->a_n);
	int64_t age = oldest == INT64_MAX ? 0 : (agw_now_ms() - oldest) / 1000;
	agw_metric_set("agw_outbox_oldest_age_seconds", NULL, age > 0 ? age : 0);
}

static void schedule_retry(struct agw_publisher *p)
{
	if (p->stop != STOP_NONE)
		return;
	/* xorshift: private jitter that does not disturb anyone's random() sequence */
	p->rng ^= p->rng << 13;
	p->rng ^= p->rng >> 17;
	p->rng ^= p->rng << 5;
	long long d = agw_mqtt_backoff_ms(p->attempt, p->reconnect_min_ms, p->reconnect_max_ms, p->rng);
	if (p->attempt < 32)
		p->attempt++;
	agw_log_debug(COMP, NULL, "reconnecting in %lld ms", d);
	uv_timer_start(&p->retry_timer, retry_cb, (uint64_t)d, 0);
}

/* A fresh paho client for every connection attempt. paho 1.3.12 keeps in-flight messages of a
 * persistent session across reconnects and resends them itself; that path raced into a
 * heap-use-after-free inside paho under ASan when a broker was killed twice. The outbox already
 * resends everything, so a new client per connection loses nothing and keeps paho on its simplest
 * path. The broker keeps our session (subscription, queued feedback): same client id. */
static int client_create(struct agw_publisher *p)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	co.MQTTVersion = p->version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
	co.sendWhileDisconnected = 0; /* the outbox is our buffer */
	MQTTAsync client = NULL;
	int rc = MQTTAsync_createWithOptions(&client, p->uri, p->client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		char uri[256];
		agw_log_err(COMP, NULL, "cannot create the MQTT client for %s: %s", agw_url_redact(p->uri, uri, sizeof(uri)),
			    MQTTAsync_strerror(rc));
		return -EINVAL;
	}
	unsigned conn = (p->conn + 1) & GEN_MASK;
	rc = MQTTAsync_setCallbacks(client, tag_ptr(tag_make(TAG_CONTROL, p->slot, conn, 0)), on_lost, on_message, NULL);
	if (rc != MQTTASYNC_SUCCESS) {
		MQTTAsync_destroy(&client);
		return -EINVAL;
	}
	/* The old client goes only after the new one exists: destroying paho's last client stops its
	 * threads and sleeps ~100 ms, which would stall the loop at every reconnect. */
	if (p->client)
		MQTTAsync_destroy(&p->client);
	p->client = client;
	p->conn = conn;
	return 0;
}

static void do_connect(struct agw_publisher *p)
{
	if (p->attempt > 0 || p->gen > 0) {
		if (client_create(p) < 0) {
			schedule_retry(p);
			return;
		}
	}
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions co5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	if (p->version == 5) {
		co = co5;
		co.cleanstart = p->clean;
		co.onSuccess5 = on_connect_ok5;
		co.onFailure5 = on_connect_fail5;
		/* In MQTT 5 a session ends at disconnect unless it has an expiry interval. */
		MQTTProperty expiry = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL,
				       .value.integer4 = p->clean ? 0 : UINT32_MAX};
		/* The broker must not send us anything larger than the feedback limit (plus header room). */
		MQTTProperty maxpkt = {.identifier = MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE,
				       .value.integer4 = AGW_FEEDBACK_MAX_BYTES + AGW_MQTT_TOPIC_MAX + 1024};
		MQTTProperties_add(&props, &expiry);
		MQTTProperties_add(&props, &maxpkt);
		co.connectProperties = &props;
	} else {
		co.cleansession = p->clean;
		co.MQTTVersion = MQTTVERSION_3_1_1;
		co.onSuccess = on_connect_ok;
		co.onFailure = on_connect_fail;
	}
	co.keepAliveInterval = p->keepalive_s;
	/* paho's own window is a little larger than ours: status and health share the connection. */
	co.maxInflight = (int)p->window + 64;
	co.username = p->username;
	co.password = p->password;
	co.connectTimeout = CONNECT_TIMEOUT_S;
	co.retryInterval = 0;
	co.automaticReconnect = 0; /* our own backoff with jitter, in milliseconds */
	co.context = tag_ptr(ctl_tag(p));
	will.topicName = p->status_topic;
	will.message = "offline";
	will.retained = 1;
	will.qos = 1;
	co.will = &will;
	if (p->tls) {
		ssl.trustStore = p->ca_file;
		ssl.keyStore = p->cert_file;
		ssl.privateKey = p->key_file;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1; /* host name check against the certificate */
		ssl.ssl_error_cb = on_ssl_error;
		ssl.ssl_error_context = tag_ptr(ctl_tag(p));
		co.ssl = &ssl;
	}
	pthread_mutex_lock(&reg_lock);
	p->ssl_error[0] = '\0';
	pthread_mutex_unlock(&reg_lock);
	int rc = MQTTAsync_connect(p->client, &co);
	MQTTProperties_free(&props);
	if (rc != MQTTASYNC_SUCCESS) {
		agw_metric_add("agw_mqtt_connect_errors_total", "reason=\"client\"", 1);
		agw_log_err(COMP, NULL, "cannot start connecting: %s", MQTTAsync_strerror(rc));
		schedule_retry(p);
		return;
	}
	p->connecting = true;
}

static void retry_cb(uv_timer_t *t)
{
	struct agw_publisher *p = t->data;
	if (!p->connected && !p->connecting && p->stop == STOP_NONE)
		do_connect(p);
}

static void publish_status(struct agw_publisher *p, const char *status)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message m = MQTTAsync_message_initializer;
	m.payload = (void *)status;
	m.payloadlen = (int)strlen(status);
	m.qos = 1;
	m.retained = 1;
	ro.context = tag_ptr(tag_make(TAG_STATUS, p->slot, p->gen, 0));
	if (p->version == 5) {
		ro.onSuccess5 = on_sent5;
		ro.onFailure5 = on_send_fail5;
	} else {
		ro.onSuccess = on_sent;
		ro.onFailure = on_send_fail;
	}
	int rc = MQTTAsync_sendMessage(p->client, p->status_topic, &m, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		agw_log_warn(COMP, NULL, "cannot publish status %s: %s", status, MQTTAsync_strerror(rc));
}

static void send_health(struct agw_publisher *p, size_t i)
{
	struct health *h = &p->health[i];
	struct agw_topic_vars vars = {.prefix = p->prefix, .gateway = p->gateway, .camera = h->camera};
	char topic[AGW_MQTT_TOPIC_MAX], at[40], *json = NULL;
	if (agw_topic_expand(p->health_tmpl, &vars, topic, sizeof(topic)) < 0) {
		agw_metric_add("agw_mqtt_publish_errors_total", "reason=\"topic\"", 1);
		agw_log_err(COMP, h->camera, "health topic template \"%s\" does not expand", p->health_tmpl);
		h->confirmed = true; /* nothing will ever fix it at run time; logged once */
		return;
	}
	json_t *o = json_pack("{s:s, s:s, s:s}", "camera", h->camera, "state", h->state, "at",
			      agw_time_format_ms(agw_now_ms(), at, sizeof(at)));
	json = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!json)
		return;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message m = MQTTAsync_message_initializer;
	m.payload = json;
	m.payloadlen = (int)strlen(json);
	m.qos = 1;
	m.retained = 1;
	ro.context = tag_ptr(tag_make(TAG_HEALTH, p->slot, p->gen, ((uint64_t)i << 20) | (h->version & 0xfffffu)));
	if (p->version == 5) {
		ro.onSuccess5 = on_sent5;
		ro.onFailure5 = on_send_fail5;
	} else {
		ro.onSuccess = on_sent;
		ro.onFailure = on_send_fail;
	}
	if (MQTTAsync_sendMessage(p->client, topic, &m, &ro) == MQTTASYNC_SUCCESS)
		h->sending = true;
	free(json);
}

/* Sends health states not yet confirmed, at most HEALTH_BURST per call so that 10,000 cameras
 * coming online do not crowd out the cases; the PUBACKs wake the loop and the rest follows. */
static void flush_health(struct agw_publisher *p)
{
	size_t sent = 0;
	p->health_dirty = false;
	for (size_t i = 0; i < p->n_health && p->connected; i++) {
		struct health *h = &p->health[i];
		if (h->confirmed || h->sending)
			continue;
		if (sent == HEALTH_BURST) {
			p->health_dirty = true;
			return;
		}
		send_health(p, i);
		sent++;
		if (!h->sending) { /* paho refused it for now (busy): try again on the next wake-up */
			p->health_dirty = true;
			return;
		}
	}
}

static void subscribe_feedback(struct agw_publisher *p)
{
	if (!p->feedback_topic[0])
		return;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	ro.context = tag_ptr(ctl_tag(p));
	if (p->version == 5) {
		ro.onSuccess5 = on_subscribed5;
		ro.onFailure5 = on_subscribe_fail5;
	} else {
		ro.onFailure = on_subscribe_fail;
	}
	int rc = MQTTAsync_subscribe(p->client, p->feedback_topic, 1, &ro);
	if (rc != MQTTASYNC_SUCCESS)
		agw_log_err(COMP, NULL, "cannot subscribe to %s: %s", p->feedback_topic, MQTTAsync_strerror(rc));
}

static void flush_deletes(struct agw_publisher *p, bool all, size_t min_rows);

/* Forgets the window and restarts from the oldest row: called on every (re)connect. */
static void rewind_window(struct agw_publisher *p)
{
	flush_deletes(p, false, 0); /* rows past their resend window need no resend */
	p->gen = (p->gen + 1) & GEN_MASK;
	p->head = p->n = 0;
	p->cursor = 0;
	p->skipped_logged = false;
	/* Acknowledged rows still in their resend window are sent again by this generation (a broker
	 * killed with SIGKILL loses what it acknowledged but had not delivered or saved). */
	p->a_head = p->a_n = 0;
	for (size_t i = 0; i < p->n_health; i++)
		p->health[i].sending = false;
}

/* Deletes acknowledged rows whose resend window has passed (all of them with all=true), in one
 * transaction. Rows that cannot be deleted now stay listed and are retried on the next turn; if the
 * process dies first they are resent (a duplicate, never a loss). */
static void flush_deletes(struct agw_publisher *p, bool all, size_t min_rows)
{
	int64_t limit = agw_now_ms() - p->resend_window_ms;
	size_t k = 0;
	while (k < p->a_n && (all || p->acked[p->a_head + k].at_ms <= limit))
		k++;
	if (!k || k < min_rows)
		return;
	if (agw_store_begin(p->store) < 0)
		return;
	int64_t deleted = 0;
	for (size_t i = 0; i < k;) {
		/* PUBACKs mostly come in order: one range delete per run of consecutive seqs */
		int64_t lo = p->acked[p->a_head + i].seq, hi = lo;
		for (i++; i < k && p->acked[p->a_head + i].seq == hi + 1; i++)
			hi++;
		sqlite3_stmt *st = agw_store_stmt(p->store, "DELETE FROM outbox WHERE seq BETWEEN ? AND ?");
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, lo);
		sqlite3_bind_int64(st, 2, hi);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			goto fail;
		deleted += sqlite3_changes(agw_store_db(p->store));
	}
	if (agw_store_commit(p->store) < 0)
		goto fail;
	p->a_head += k;
	p->a_n -= k;
	if (!p->a_n)
		p->a_head = 0;
	agw_metric_add("agw_outbox_deleted_total", NULL, deleted);
	return;
fail:
	agw_metric_add("agw_store_errors_total", "op=\"outbox_delete\"", 1);
	agw_log_err(COMP, NULL, "cannot delete acknowledged outbox rows: %s", sqlite3_errmsg(agw_store_db(p->store)));
	agw_store_rollback(p->store);
}

static int note_acked(struct agw_publisher *p, int64_t seq)
{
	p->acked_total++;
	p->m_published++;
	if (p->a_head + p->a_n == p->a_cap) {
		if (p->a_head) {
			/* reuse the space of rows already deleted */
			memmove(p->acked, p->acked + p->a_head, p->a_n * sizeof(*p->acked));
			p->a_head = 0;
		}
		if (p->a_n == p->a_cap) {
			size_t cap = p->a_cap ? p->a_cap * 2 : 1024;
			struct acked *v = realloc(p->acked, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			p->acked = v;
			p->a_cap = cap;
		}
	}
	p->acked[p->a_head + p->a_n++] = (struct acked){.seq = seq, .at_ms = agw_now_ms()};
	return 0;
}

static struct slot *ring_at(struct agw_publisher *p, size_t i)
{
	return &p->ring[(p->head + i) % p->window];
}

static void outbox_acked(struct agw_publisher *p, uint64_t tag)
{
	int64_t seq = (int64_t)tag_val(tag);
	if (note_acked(p, seq) < 0)
		agw_log_err(COMP, NULL, "out of memory; outbox row %" PRId64 " will be resent", seq);
	if (tag_gen(tag) != p->gen)
		return;
	p->nacks = 0;
	for (size_t i = 0; i < p->n; i++) {
		struct slot *s = ring_at(p, i);
		if (s->seq != seq)
			continue;
		if (!s->acked) {
			int64_t lat = agw_now_ms() - s->created_at;
			p->m_lat_sum += lat;
			p->m_lat_count++;
			p->m_lat_last = lat;
		}
		s->acked = true;
		break;
	}
	while (p->n && ring_at(p, 0)->acked) {
		p->head = (p->head + 1) % p->window;
		p->n--;
	}
}

static const char *reason_text(int code)
{
	switch (code) {
	case 1: return "unacceptable protocol version";
	case 2: return "client identifier rejected";
	case 3: return "server unavailable";
	case 4: return "bad user name or password";
	case 5: return "not authorized";
	case 0x80: return "unspecified error";
	case 0x84: return "unsupported protocol version";
	case 0x85: return "client identifier not valid";
	case 0x86: return "bad user name or password";
	case 0x87: return "not authorized";
	case 0x88: return "server unavailable";
	case 0x89: return "server busy";
	case 0x8a: return "banned";
	case 0x8c: return "bad authentication method";
	case 0x97: return "quota exceeded";
	case 0x99: return "payload format invalid";
	default: return code < 0 ? MQTTAsync_strerror(code) : "refused";
	}
}

static void handle_connect_failed(struct agw_publisher *p, const struct event *e)
{
	p->connecting = false;
	char uri[256], ssl_error[256];
	agw_url_redact(p->uri, uri, sizeof(uri));
	pthread_mutex_lock(&reg_lock);
	snprintf(ssl_error, sizeof(ssl_error), "%s", p->ssl_error);
	pthread_mutex_unlock(&reg_lock);
	bool auth = e->code == 4 || e->code == 5 || e->code == 0x86 || e->code == 0x87 || e->code == 0x8c;
	const char *reason = auth ? "auth" : e->code > 0 ? "refused" : ssl_error[0] ? "tls" : "network";
	agw_metric_add("agw_mqtt_connect_errors_total",
		       auth ? "reason=\"auth\"" : e->code > 0 ? "reason=\"refused\"" : ssl_error[0] ? "reason=\"tls\""
												: "reason=\"network\"",
		       1);
	/* Log a failure the first time and then every 10th attempt: a broker down for an hour must
	 * not flood the journal, but the reason must be visible. */
	if (p->attempt == 0 || p->attempt % 10 == 0) {
		if (auth)
			agw_log_err(COMP, NULL,
				    "broker %s refused the connection: %s (code %d); check mqtt.username and "
				    "mqtt.password and the broker's ACL",
				    uri, reason_text(e->code), e->code);
		else if (e->code > 0)
			agw_log_err(COMP, NULL, "broker %s refused the connection: %s (code %d)", uri,
				    reason_text(e->code), e->code);
		else
			agw_log_err(COMP, NULL, "cannot connect to %s (%s): %s%s%s%s", uri, reason,
				    e->text ? e->text : reason_text(e->code), ssl_error[0] ? " [TLS: " : "", ssl_error,
				    ssl_error[0] ? "]" : "");
	}
	if (p->stop != STOP_NONE) {
		stop_advance(p);
		return;
	}
	schedule_retry(p);
}

static void handle_connected(struct agw_publisher *p, const struct event *e)
{
	char uri[256];
	p->connecting = false;
	if (p->stop != STOP_NONE) {
		/* Connected while stopping: say goodbye properly. */
		p->connected = true;
		stop_advance(p);
		return;
	}
	p->connected = true;
	p->attempt = 0;
	agw_metric_set("agw_mqtt_connected", NULL, 1);
	agw_metric_add("agw_mqtt_connects_total", NULL, 1);
	agw_log_notice(COMP, NULL, "connected to %s (MQTT %s, session %s)", agw_url_redact(p->uri, uri, sizeof(uri)),
		       p->version == 5 ? "5" : "3.1.1", e->flag ? "resumed" : "new");
	rewind_window(p);
	publish_status(p, "online");
	subscribe_feedback(p);
	flush_health(p);
	fill_window(p);
}

static void handle_lost(struct agw_publisher *p, const struct event *e)
{
	if (!p->connected)
		return;
	p->connected = false;
	agw_metric_set("agw_mqtt_connected", NULL, 0);
	agw_metric_add("agw_mqtt_connection_lost_total", NULL, 1);
	agw_log_warn(COMP, NULL, "connection lost: %s; %zu messages in flight will be resent",
		     e->text ? e->text : "no reason given", p->n);
	if (p->stop != STOP_NONE) {
		stop_advance(p);
		return;
	}
	schedule_retry(p);
}

static void handle_send_failed(struct agw_publisher *p, const struct event *e)
{
	enum tag_kind kind = tag_kind(e->tag);
	if (tag_gen(e->tag) != p->gen)
		return; /* an older generation: the rewind already resent it */
	if (kind == TAG_HEALTH) {
		size_t i = (size_t)(tag_val(e->tag) >> 20);
		if (i < p->n_health)
			p->health[i].sending = false;
		p->health_dirty = true;
		return;
	}
	if (kind != TAG_OUTBOX)
		return;
	agw_metric_add("agw_mqtt_publish_errors_total", "reason=\"nack\"", 1);
	/* The row stays. If the connection is gone the reconnect resends it; if the broker refused
	 * it (MQTT 5 reason code), the next reconnect resends it: drop the connection's window by
	 * reconnecting, so an order-preserving resend follows. */
	if (p->connected && e->code >= 0x80) {
		/* Consecutive refusals (an ACL that denies the case topic) back off like failed connects
		 * and are logged the first time and every 10th, not on every reconnect. */
		p->nacks++;
		if (p->nacks == 1 || p->nacks % 10 == 0)
			agw_log_err(COMP, NULL,
				    "broker refused outbox row %" PRIu64 ": %s (code 0x%x); the row is kept and resent "
				    "(refusal %u in a row)",
				    tag_val(e->tag), reason_text(e->code), e->code, p->nacks);
		MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
		d.timeout = 100;
		MQTTAsync_disconnect(p->client, &d);
		p->connected = false;
		agw_metric_set("agw_mqtt_connected", NULL, 0);
		p->attempt = p->nacks < 32 ? p->nacks : 32;
		schedule_retry(p);
	}
}

static void handle_message(struct agw_publisher *p, struct event *e)
{
	struct agw_feedback fb;
	const char *reason = "too_large";
	char detail[200];
	int r;
	if (e->len > AGW_FEEDBACK_MAX_BYTES || !e->data) {
		r = -EMSGSIZE;
		snprintf(detail, sizeof(detail), "message of %zu bytes exceeds the %d byte limit", e->len,
			 AGW_FEEDBACK_MAX_BYTES);
	} else {
		r = agw_feedback_parse(e->data, e->len, &fb, &reason, detail, sizeof(detail));
	}
	if (r < 0) {
		char labels[64];
		snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
		agw_metric_add("agw_feedback_errors_total", labels, 1);
		/* At most 10 lines per minute: a misbehaving platform must not flood the journal. */
		int64_t now = agw_now_ms();
		if (now - p->fb_log_window_ms > 60000) {
			p->fb_log_window_ms = now;
			p->fb_logged = 0;
		}
		if (p->fb_logged++ < 10)
			agw_log_warn(COMP, NULL, "malformed feedback on %.200s ignored: %s", e->text ? e->text : "?",
				     detail);
		return;
	}
	char labels[64];
	snprintf(labels, sizeof(labels), "status=\"%s\"", fb.status);
	agw_metric_add("agw_feedback_total", labels, 1);
	agw_log_debug(COMP, NULL, "feedback: case %s %s", fb.case_id, fb.status);
	if (p->fb_fn)
		p->fb_fn(p->fb_arg, fb.case_id, fb.status);
}

static void handle_sent(struct agw_publisher *p, const struct event *e)
{
	switch (tag_kind(e->tag)) {
	case TAG_OUTBOX:
		outbox_acked(p, e->tag);
		break;
	case TAG_STATUS:
		if (p->stop == STOP_OFFLINE && tag_gen(e->tag) == p->gen) {
			p->offline_acked = true;
			stop_advance(p);
		}
		break;
	case TAG_HEALTH: {
		size_t i = (size_t)(tag_val(e->tag) >> 20);
		unsigned ver = (unsigned)(tag_val(e->tag) & 0xfffffu);
		if (i < p->n_health && tag_gen(e->tag) == p->gen) {
			p->health[i].sending = false;
			if ((p->health[i].version & 0xfffffu) == ver)
				p->health[i].confirmed = true;
			else
				p->health_dirty = true; /* a newer state came while this one was in flight */
		}
		break;
	}
	case TAG_CONTROL:
		break;
	}
}

static void flush_metrics(struct agw_publisher *p)
{
	if (p->m_published)
		agw_metric_add("agw_mqtt_published_total", NULL, p->m_published);
	if (p->m_lat_count) {
		agw_metric_add("agw_publish_latency_ms_sum", NULL, p->m_lat_sum);
		agw_metric_add("agw_publish_latency_ms_count", NULL, p->m_lat_count);
		agw_metric_set("agw_publish_latency_ms_last", NULL, p->m_lat_last);
	}
	p->m_published = p->m_lat_sum = p->m_lat_count = 0;
}

static void async_cb(uv_async_t *a)
{
	struct agw_publisher *p = a->data;
	pthread_mutex_lock(&reg_lock);
	struct event *ev = p->ev;
	size_t n = p->n_ev;
	p->ev = NULL;
	p->n_ev = p->cap_ev = 0;
	p->n_msg_queued = 0;
	pthread_mutex_unlock(&reg_lock);
	for (size_t i = 0; i < n; i++) {
		struct event *e = &ev[i];
		bool stale = tag_kind(e->tag) == TAG_CONTROL && tag_gen(e->tag) != p->conn;
		if (stale && e->type != EV_MESSAGE) {
			free(e->text);
			free(e->data);
			continue;
		}
		switch (e->type) {
		case EV_CONNECTED:
			handle_connected(p, e);
			break;
		case EV_CONNECT_FAILED:
			handle_connect_failed(p, e);
			break;
		case EV_LOST:
			handle_lost(p, e);
			break;
		case EV_SENT:
			handle_sent(p, e);
			break;
		case EV_SEND_FAILED:
			handle_send_failed(p, e);
			break;
		case EV_MESSAGE:
			handle_message(p, e);
			break;
		case EV_SUBSCRIBE_FAILED:
			agw_metric_add("agw_mqtt_subscribe_errors_total", NULL, 1);
			agw_log_err(COMP, NULL, "broker refused the feedback subscription %s: %s (code %d)",
				    p->feedback_topic, reason_text(e->code), e->code);
			break;
		case EV_DISCONNECTED:
			if (p->stop == STOP_DISCONNECT)
				stop_advance(p);
			break;
		}
		free(e->text);
		free(e->data);
	}
	free(ev);
	flush_metrics(p);
	/* A commit per wake-up would cost more than the publishing itself: batch deletes here and let
	 * the tick take the rest. A crash before the delete only means a resend. */
	flush_deletes(p, false, DELETE_BATCH);
	if (p->stop == STOP_NONE && p->health_dirty)
		flush_health(p);
	if (p->stop == STOP_NONE)
		fill_window(p);
	else if (p->stop == STOP_DRAIN && p->n == 0)
		stop_advance(p);
}

/* Sends rows after the cursor while the window has room. */
static void fill_window(struct agw_publisher *p)
{
	if (!p->connected || p->stop != STOP_NONE)
		return;
	while (p->n < p->window) {
		sqlite3_stmt *st = agw_store_stmt(p->store, "SELECT seq, topic, payload, qos, retained, created_at "
							    "FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?");
		if (!st)
			return;
		size_t asked = p->window - p->n;
		sqlite3_bind_int64(st, 1, p->cursor);
		sqlite3_bind_int64(st, 2, (int64_t)asked);
		size_t rows = 0;
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			rows++;
			int64_t seq = sqlite3_column_int64(st, 0);
			const char *topic = (const char *)sqlite3_column_text(st, 1);
			MQTTAsync_message m = MQTTAsync_message_initializer;
			m.payload = (void *)sqlite3_column_blob(st, 2);
			m.payloadlen = sqlite3_column_bytes(st, 2);
			m.qos = sqlite3_column_int(st, 3) == 0 ? 0 : 1;
			m.retained = sqlite3_column_int(st, 4) != 0;
			p->cursor = seq;
			if (!agw_mqtt_topic_publishable(topic)) {
				/* A wildcard topic would make the broker drop the connection, for ever.
				 * Keep the row (it shows in depth and age) and go on with the others. */
				agw_metric_add("agw_mqtt_publish_errors_total", "reason=\"topic\"", 1);
				if (!p->skipped_logged)
					agw_log_err(COMP, NULL, "outbox row %" PRId64 " has an invalid topic \"%.200s\"; kept, not sent",
						    seq, topic ? topic : "");
				p->skipped_logged = true;
				continue;
			}
			MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
			ro.context = tag_ptr(tag_make(TAG_OUTBOX, p->slot, p->gen, (uint64_t)seq));
			if (p->version == 5) {
				ro.onSuccess5 = on_sent5;
				ro.onFailure5 = on_send_fail5;
			} else {
				ro.onSuccess = on_sent;
				ro.onFailure = on_send_fail;
			}
			int src = MQTTAsync_sendMessage(p->client, topic, &m, &ro);
			if (src != MQTTASYNC_SUCCESS) {
				/* Disconnected under our feet: connectionLost follows and the reconnect resends. */
				p->cursor = seq - 1;
				sqlite3_reset(st);
				agw_log_debug(COMP, NULL, "send of row %" PRId64 " deferred: %s", seq, MQTTAsync_strerror(src));
				return;
			}
			if (seq <= p->high_water)
				agw_metric_add("agw_mqtt_resent_total", NULL, 1);
			else
				p->high_water = seq;
			if (m.qos == 0) {
				/* QoS 0 gets no PUBACK: it is done once handed over. */
				note_acked(p, seq);
				continue;
			}
			*ring_at(p, p->n) = (struct slot){.seq = seq, .created_at = sqlite3_column_int64(st, 5)};
			p->n++;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			agw_metric_add("agw_store_errors_total", "op=\"outbox_read\"", 1);
			agw_log_err(COMP, NULL, "cannot read the outbox: %s", sqlite3_errmsg(agw_store_db(p->store)));
			return;
		}
		if (rows < asked)
			break; /* the outbox has nothing more after the cursor */
	}
}

void agw_publisher_kick(void *publisher)
{
	struct agw_publisher *p = publisher;
	if (!p || !p->started)
		return;
	fill_window(p);
}

static void tick_cb(uv_timer_t *t)
{
	struct agw_publisher *p = t->data;
	flush_metrics(p);
	flush_deletes(p, false, 0);
	update_depth(p);
}

/* ---- stop ---- */

static void handle_closed(uv_handle_t *h)
{
	struct agw_publisher *p = h->data;
	if (--p->open_handles > 0)
		return;
	p->stop = STOP_DONE;
	/* done may free the publisher: touch nothing after it */
	if (p->free_pending) {
		agw_publisher_free(p);
		return;
	}
	if (p->done)
		p->done(p->done_arg);
}

static void close_handles(struct agw_publisher *p)
{
	pthread_mutex_lock(&reg_lock);
	p->accepting = false;
	pthread_mutex_unlock(&reg_lock);
	uv_close((uv_handle_t *)&p->async, handle_closed);
	uv_close((uv_handle_t *)&p->retry_timer, handle_closed);
	uv_close((uv_handle_t *)&p->tick_timer, handle_closed);
	uv_close((uv_handle_t *)&p->stop_timer, handle_closed);
}

static void stop_timer_cb(uv_timer_t *t)
{
	struct agw_publisher *p = t->data;
	if (p->stop == STOP_DRAIN && p->n)
		agw_log_warn(COMP, NULL, "stopping with %zu messages unacknowledged; they stay in the outbox", p->n);
	stop_advance(p);
}

/* Moves the stop sequence one step: drain -> offline status -> disconnect -> close. */
static void stop_advance(struct agw_publisher *p)
{
	uv_timer_stop(&p->stop_timer);
	if (!p->connected && p->stop < STOP_CLOSING) {
		/* Without a broker to confirm it is alive, rows in their resend window stay for the next
		 * start (resent then). */
		p->stop = STOP_CLOSING;
		flush_metrics(p);
		flush_deletes(p, false, 0);
		update_depth(p);
		close_handles(p);
		return;
	}
	switch (p->stop) {
	case STOP_NONE:
		p->stop = STOP_DRAIN;
		if (p->n) {
			uv_timer_start(&p->stop_timer, stop_timer_cb, STOP_DRAIN_MS, 0);
			return;
		}
		/* fall through */
	case STOP_DRAIN:
		p->stop = STOP_OFFLINE;
		publish_status(p, "offline");
		uv_timer_start(&p->stop_timer, stop_timer_cb, STOP_STEP_MS, 0);
		return;
	case STOP_OFFLINE: {
		p->stop = STOP_DISCONNECT;
		MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
		d.timeout = STOP_STEP_MS / 2;
		d.onSuccess = on_disconnected;
		d.onFailure = on_disconnect_fail;
		d.context = tag_ptr(ctl_tag(p));
		if (MQTTAsync_disconnect(p->client, &d) == MQTTASYNC_SUCCESS) {
			uv_timer_start(&p->stop_timer, stop_timer_cb, STOP_STEP_MS, 0);
			return;
		}
	}
		/* fall through */
	case STOP_DISCONNECT:
		p->connected = false;
		agw_metric_set("agw_mqtt_connected", NULL, 0);
		p->stop = STOP_CLOSING;
		/* When the broker acknowledged the offline status it was alive and working after the rows
		 * in the resend window: they need no resend. Otherwise (frozen, gone) they stay. */
		flush_metrics(p);
		flush_deletes(p, p->offline_acked, 0);
		update_depth(p);
		close_handles(p);
		return;
	case STOP_CLOSING:
	case STOP_DONE:
		return;
	}
}

void agw_publisher_stop(struct agw_publisher *p, void (*done)(void *arg), void *arg)
{
	p->done = done;
	p->done_arg = arg;
	if (!p->started || p->stop != STOP_NONE) {
		if (!p->started && done)
			done(arg);
		return;
	}
	uv_timer_stop(&p->retry_timer);
	uv_timer_stop(&p->tick_timer);
	stop_advance(p);
}

/* ---- setup ---- */

static int slot_claim(struct agw_publisher *p)
{
	int r = -EMFILE;
	pthread_mutex_lock(&reg_lock);
	for (unsigned i = 0; i < MAX_PUBLISHERS; i++)
		if (!registry[i]) {
			registry[i] = p;
			p->slot = i;
			r = 0;
			break;
		}
	pthread_mutex_unlock(&reg_lock);
	return r;
}

static int copy_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return -ENOMEM;
	return 0;
}

int agw_publisher_new(uv_loop_t *loop, const struct agw_config *cfg, struct agw_store *store,
		      struct agw_publisher **ret)
{
	const struct agw_mqtt_config *m = &cfg->mqtt;
	int r = -EINVAL;
	if (!m->uri || (m->version != 4 && m->version != 5)) {
		agw_log_err(COMP, NULL, "mqtt.uri is missing or mqtt.version is not 3.1.1 or 5");
		return -EINVAL;
	}
	struct agw_publisher *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->loop = loop;
	p->store = store;
	p->version = m->version;
	p->clean = m->clean_session;
	p->keepalive_s = (int)((m->keepalive_ms + 999) / 1000);
	p->window = m->inflight > 0 ? (size_t)m->inflight : 64;
	p->resend_window_ms = AGW_MQTT_RESEND_WINDOW_MS;
	p->reconnect_min_ms = m->reconnect_min_ms > 0 ? m->reconnect_min_ms : 1000;
	p->reconnect_max_ms = m->reconnect_max_ms > p->reconnect_min_ms ? m->reconnect_max_ms : p->reconnect_min_ms;
	p->tls = strncmp(m->uri, "ssl://", 6) == 0 || strncmp(m->uri, "mqtts://", 8) == 0;
	const char *gateway = cfg->gateway_id ? cfg->gateway_id : "alarmgw";
	if ((r = copy_str(&p->uri, m->uri)) < 0 || (r = copy_str(&p->client_id, m->client_id ? m->client_id : gateway)) < 0 ||
	    (r = copy_str(&p->username, m->username)) < 0 || (r = copy_str(&p->password, m->password)) < 0 ||
	    (r = copy_str(&p->ca_file, m->ca_file)) < 0 || (r = copy_str(&p->cert_file, m->cert_file)) < 0 ||
	    (r = copy_str(&p->key_file, m->key_file)) < 0 ||
	    (r = copy_str(&p->prefix, m->topic_prefix ? m->topic_prefix : "agw")) < 0 ||
	    (r = copy_str(&p->gateway, gateway)) < 0 ||
	    (r = copy_str(&p->health_tmpl, m->health_topic ? m->health_topic : "{prefix}/cameras/{camera}/health")) < 0)
		goto fail;
	struct agw_topic_vars vars = {.prefix = p->prefix, .gateway = p->gateway};
	if (agw_topic_expand(m->status_topic ? m->status_topic : "{prefix}/gateways/{gateway}/status", &vars,
				  p->status_topic, sizeof(p->status_topic)) < 0 ||
	    !agw_mqtt_topic_publishable(p->status_topic)) {
		agw_log_err(COMP, NULL, "mqtt.status_topic does not expand to a valid topic");
		r = -EINVAL;
		goto fail;
	}
	if (m->feedback_topic && *m->feedback_topic &&
	    agw_topic_expand(m->feedback_topic, &vars, p->feedback_topic, sizeof(p->feedback_topic)) < 0) {
		agw_log_err(COMP, NULL, "mqtt.feedback_topic does not expand to a topic (keys: {prefix} {gateway}; "
					"no wildcards, no empty levels)");
		r = -EINVAL;
		goto fail;
	}
	if (p->tls && !p->ca_file) {
		agw_log_err(COMP, NULL, "mqtt.uri uses TLS but mqtt.ca_file is not set");
		r = -EINVAL;
		goto fail;
	}
	p->ring = calloc(p->window, sizeof(*p->ring));
	if (!p->ring) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = slot_claim(p)) < 0)
		goto fail;
	if ((r = client_create(p)) < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	agw_publisher_free(p);
	return r;
}

int agw_publisher_start(struct agw_publisher *p)
{
	if (p->started)
		return -EALREADY;
	uv_async_init(p->loop, &p->async, async_cb);
	uv_timer_init(p->loop, &p->retry_timer);
	uv_timer_init(p->loop, &p->tick_timer);
	uv_timer_init(p->loop, &p->stop_timer);
	p->async.data = p->retry_timer.data = p->tick_timer.data = p->stop_timer.data = p;
	p->open_handles = 4;
	p->rng = (unsigned)agw_now_ms() ^ ((unsigned)getpid() << 16) ^ (p->slot * 2654435761u);
	if (!p->rng)
		p->rng = 1;
	p->started = true;
	pthread_mutex_lock(&reg_lock);
	p->accepting = true;
	pthread_mutex_unlock(&reg_lock);
	agw_metric_set("agw_mqtt_connected", NULL, 0);
	update_depth(p);
	uv_timer_start(&p->tick_timer, tick_cb, TICK_MS, TICK_MS);
	do_connect(p);
	return 0;
}

void agw_publisher_set_feedback(struct agw_publisher *p, void (*fn)(void *arg, const char *case_id, const char *status),
				void *arg)
{
	p->fb_fn = fn;
	p->fb_arg = arg;
}

int agw_publisher_camera_health(struct agw_publisher *p, const char *camera_id, const char *state)
{
	static const char *const states[] = {"online", "offline", "event_channel_lost"};
	const char *st = NULL;
	for (size_t i = 0; state && i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(state, states[i]) == 0)
			st = states[i];
	if (!st || !camera_id || !*camera_id)
		return -EINVAL;
	size_t i;
	for (i = 0; i < p->n_health; i++)
		if (strcmp(p->health[i].camera, camera_id) == 0)
			break;
	if (i == p->n_health) {
		if (p->n_health == p->cap_health) {
			size_t cap = p->cap_health ? p->cap_health * 2 : 64;
			struct health *v = realloc(p->health, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			p->health = v;
			p->cap_health = cap;
		}
		char *id = strdup(camera_id);
		if (!id)
			return -ENOMEM;
		p->health[p->n_health++] = (struct health){.camera = id};
	} else if (p->health[i].state == st && p->health[i].confirmed) {
		return 0;
	}
	struct health *h = &p->health[i];
	h->state = st;
	h->version++;
	h->confirmed = false;
	if (p->connected && p->stop == STOP_NONE && !h->sending)
		send_health(p, i);
	if (!h->sending)
		p->health_dirty = true; /* sent on connect, or when the previous version is acknowledged */
	return 0;
}

void agw_publisher_set_resend_window(struct agw_publisher *p, int64_t ms)
{
	p->resend_window_ms = ms > 0 ? ms : 0;
}

long long agw_publisher_acked(const struct agw_publisher *p)
{
	return p->acked_total;
}

int agw_publisher_connected(const struct agw_publisher *p)
{
	return p->connected;
}

void agw_publisher_free(struct agw_publisher *p)
{
	if (!p)
		return;
	if (p->started && p->stop != STOP_DONE) {
		/* Not stopped: close the handles now; the last close callback comes back here. */
		p->free_pending = true;
		p->done = NULL;
		if (p->stop != STOP_CLOSING) {
			p->stop = STOP_CLOSING;
			close_handles(p);
		}
		return;
	}
	pthread_mutex_lock(&reg_lock);
	if (registry[p->slot] == p)
		registry[p->slot] = NULL;
	pthread_mutex_unlock(&reg_lock);
	/* After the slot is cleared a late paho callback finds nothing; destroy stops the rest. */
	if (p->client)
		MQTTAsync_destroy(&p->client);
	for (size_t i = 0; i < p->n_ev; i++) {
		free(p->ev[i].text);
		free(p->ev[i].data);
	}
	free(p->ev);
	for (size_t i = 0; i < p->n_health; i++)
		free(p->health[i].camera);
	free(p->health);
	free(p->ring);
	free(p->acked);
	free(p->uri);
	free(p->client_id);
	free(p->username);
	if (p->password) {
		/* do not leave the secret in freed heap */
		memset(p->password, 0, strlen(p->password));
		free(p->password);
	}
	free(p->ca_file);
	free(p->cert_file);
	free(p->key_file);
	free(p->prefix);
	free(p->gateway);
	free(p->health_tmpl);
	free(p);
}
