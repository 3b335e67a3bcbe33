/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to the MQTT publisher (gateway/publisher*.c): its state, the tags paho's callbacks carry,
 * the events they queue, and the functions its files share (pub_ prefix). Callers use publisher.h. */
#ifndef ALARMGW_PUBLISHER_INTERNAL_H
#define ALARMGW_PUBLISHER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <MQTTAsync.h>

#include "alarmgw/metrics.h"
#include "mqtt_topic.h"
#include "publisher.h"

_Static_assert(sizeof(void *) >= sizeof(uint64_t), "paho contexts carry 64-bit tags");

#define COMP "mqtt"
#define MAX_PUBLISHERS 64
#define STOP_DRAIN_MS 2000     /* how long stop sends pending rows and waits for their PUBACKs */
#define STOP_STEP_MS 500       /* offline status PUBACK, then disconnect: all of stop <= 3 s */
#define TICK_MS 250            /* metrics refresh, pending deletes */
#define DELETE_BATCH 512       /* acknowledged rows deleted per transaction between ticks */
/* Every this many ticks the publish metrics are added to the table, and the rows past their resend
 * window are deleted however few: a delete
 * transaction costs about as much as a few dozen rows (its commit), and a row kept a second
 * longer is only sent again after a crash (QoS 1: a duplicate, never a loss). */
#define DELETE_TICKS 4
#define FEEDBACK_QUEUE_MAX 10000
#define FEEDBACK_BATCH 256     /* inbox rows applied per loop wake-up */
/* How long paho's thread waits for the database's write lock when it writes a feedback to the
 * inbox. paho holds its own mutex while messageArrived runs, so the loop's paho calls can wait this
 * long too, and only while another writer holds the database. */
#define FEEDBACK_BUSY_MS 2000
#define CONNECT_TIMEOUT_S 10

enum tag_kind { TAG_OUTBOX = 0, TAG_STATUS = 1, TAG_UNUSED = 2, TAG_CONTROL = 3 };
#define VAL_BITS 42
#define VAL_MASK ((UINT64_C(1) << VAL_BITS) - 1)
#define GEN_MASK 0x3fffu

static inline uint64_t tag_make(enum tag_kind kind, unsigned slot, unsigned gen, uint64_t val)
{
	return ((uint64_t)kind << 62) | ((uint64_t)slot << 56) | ((uint64_t)(gen & GEN_MASK) << VAL_BITS) |
	       (val & VAL_MASK);
}
static inline enum tag_kind tag_kind(uint64_t t) { return (enum tag_kind)(t >> 62); }
static inline unsigned tag_slot(uint64_t t) { return (unsigned)((t >> 56) & 0x3f); }
static inline unsigned tag_gen(uint64_t t) { return (unsigned)((t >> VAL_BITS) & GEN_MASK); }
static inline uint64_t tag_val(uint64_t t) { return t & VAL_MASK; }
static inline void *tag_ptr(uint64_t t) { return (void *)(uintptr_t)t; }

enum ev_type {
	EV_CONNECTED,
	EV_CONNECT_FAILED,
	EV_LOST,
	EV_SENT,
	EV_SEND_FAILED,
	EV_MESSAGE,
	EV_SUBSCRIBE_FAILED,
	EV_DISCONNECTED,
	EV_FEEDBACK_STORED, /* a valid feedback is in the inbox */
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
	int64_t at_ms; /* monotonic */
};

enum stop_phase { STOP_NONE, STOP_DRAIN, STOP_OFFLINE, STOP_DISCONNECT, STOP_CLOSING, STOP_DONE };

struct agw_publisher {
	uv_loop_t *loop;
	struct agw_store *store;
	MQTTAsync client;
	unsigned slot;

	/* copied configuration */
	char *uri;   /* the broker of this connection attempt, from the list in uris */
	char *uris;  /* mqtt.uri as configured: one broker or a comma-separated cluster */
	size_t n_uris, uri_index;
	char *client_id, *username, *password, *ca_file, *cert_file, *key_file;
	char *prefix, *gateway;
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

	/* events from paho threads, under pub_reg_lock */
	struct event *ev;
	size_t n_ev, cap_ev, n_msg_queued;
	bool accepting;

	/* connection */
	bool connected, connecting;
	unsigned attempt, gen, conn;
	/* A broker may close the connection right after refusing a publish (mosquitto 2.0.11 does with
	 * max_queued_messages 0), and its RST can destroy the refusal before paho reads it. A
	 * connection lost with rows in flight and nothing acknowledged makes the next connection
	 * probe: one row at a time until one is acknowledged or parked, so the refusal arrives alone
	 * (before the close) and its row is parked with the broker's reason. */
	unsigned suspect;      /* connections lost in a row with rows in flight and no PUBACK */
	bool probe;            /* this connection sends one row at a time */
	long long conn_done;   /* rows acknowledged or parked on this connection */
	int64_t park_log_window_ms;
	int park_logged;
	char ssl_error[256]; /* last OpenSSL error text (paho thread writes, under pub_reg_lock) */

	/* outbox window: slots from the oldest unacknowledged send to the newest */
	struct slot *ring;
	size_t head, n;
	int64_t cursor;        /* highest seq handed to paho in this generation */
	int64_t high_water;    /* highest seq ever handed to paho (resend accounting) */
	struct acked *acked;   /* acknowledged rows, in ack order, deleted after the resend window */
	size_t a_head, a_n, a_cap;
	int64_t resend_window_ms;
	unsigned delete_ticks; /* ticks since the last delete of every row due */
	long long acked_total;
	int64_t m_published, m_lat_sum, m_lat_count, m_lat_last; /* added to the metrics once per turn */
	int64_t m_lat_bucket[AGW_LAT_BUCKETS];                  /* histogram slots (agw_lat_bucket) */


	/* feedback */
	agw_feedback_fn fb_fn;
	agw_feedback_done_fn fb_done;
	void *fb_arg;
	/* paho's thread writes valid feedback to the inbox through its own connection (under
	 * pub_reg_lock), before it tells paho the message was handled */
	sqlite3 *fb_db;
	sqlite3_stmt *fb_insert;
	bool fb_pending; /* inbox rows may be waiting to be applied */
	int64_t fb_log_window_ms;
	int fb_logged;

	/* stop */
	enum stop_phase stop;
	bool offline_acked;
	void (*done)(void *arg);
	void *done_arg;
};

/* publisher_events.c: paho threads only touch the registry and a publisher's event queue, under
 * this lock. */
extern pthread_mutex_t pub_reg_lock;
extern struct agw_publisher *pub_registry[MAX_PUBLISHERS];
void pub_on_connect_ok(void *ctx, MQTTAsync_successData *r);
void pub_on_connect_ok5(void *ctx, MQTTAsync_successData5 *r);
void pub_on_connect_fail(void *ctx, MQTTAsync_failureData *r);
void pub_on_connect_fail5(void *ctx, MQTTAsync_failureData5 *r);
void pub_on_sent(void *ctx, MQTTAsync_successData *r);
void pub_on_sent5(void *ctx, MQTTAsync_successData5 *r);
void pub_on_send_fail(void *ctx, MQTTAsync_failureData *r);
void pub_on_send_fail5(void *ctx, MQTTAsync_failureData5 *r);
void pub_on_subscribe_fail(void *ctx, MQTTAsync_failureData *r);
void pub_on_subscribe_fail5(void *ctx, MQTTAsync_failureData5 *r);
void pub_on_subscribed5(void *ctx, MQTTAsync_successData5 *r);
void pub_on_disconnected(void *ctx, MQTTAsync_successData *r);
void pub_on_disconnect_fail(void *ctx, MQTTAsync_failureData *r);
void pub_on_lost(void *ctx, char *cause);
int pub_on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m);
int pub_on_ssl_error(const char *str, size_t len, void *u);
void pub_async_cb(uv_async_t *a);

/* Connection events carry the paho client's incarnation, so one from a destroyed client is ignored. */
static inline uint64_t ctl_tag(const struct agw_publisher *p)
{
	return tag_make(TAG_CONTROL, p->slot, p->conn, 0);
}

/* publisher_conn.c */
int pub_client_create(struct agw_publisher *p);
void pub_do_connect(struct agw_publisher *p);
void pub_schedule_retry(struct agw_publisher *p);
const char *pub_reason_text(int code);
void pub_handle_connect_failed(struct agw_publisher *p, const struct event *e);
void pub_handle_connected(struct agw_publisher *p, const struct event *e);
void pub_handle_lost(struct agw_publisher *p, const struct event *e);

/* publisher_outbox.c */
void pub_update_depth(struct agw_publisher *p);
void pub_rewind_window(struct agw_publisher *p);
void pub_flush_deletes(struct agw_publisher *p, bool all, size_t min_rows);
void pub_handle_send_failed(struct agw_publisher *p, const struct event *e);
void pub_handle_sent(struct agw_publisher *p, const struct event *e);
void pub_flush_metrics(struct agw_publisher *p);
void pub_fill_window(struct agw_publisher *p);
/* Parks outbox row seq with reason (a log line, a metric by label, the row leaves the window). */
void pub_park_row(struct agw_publisher *p, int64_t seq, const char *reason, const char *label);
void pub_tick_cb(uv_timer_t *t);

/* publisher_status.c */
void pub_publish_status(struct agw_publisher *p, const char *status);

/* publisher_feedback.c */
void pub_subscribe_feedback(struct agw_publisher *p);
void pub_handle_message(struct agw_publisher *p, struct event *e);
/* Applies what the feedback inbox holds (at most FEEDBACK_BATCH rows), on the loop thread. */
void pub_apply_feedback(struct agw_publisher *p);
/* Opens/closes the feedback inbox connection (agw_publisher_new / free). */
int pub_feedback_open(struct agw_publisher *p);
void pub_feedback_close(struct agw_publisher *p);
/* paho's thread, pub_reg_lock held: writes one valid feedback to the inbox; 0 or -EIO. */
struct agw_feedback;
int pub_feedback_store(struct agw_publisher *p, const struct agw_feedback *fb);

/* publisher_stop.c */
void pub_close_handles(struct agw_publisher *p);
void pub_stop_advance(struct agw_publisher *p);

/* publisher_props.c: an outbox row's MQTT 5 properties from their JSON (outbox.props). */
int pub_props_from_json(const char *json, MQTTProperties *ret);

#endif
