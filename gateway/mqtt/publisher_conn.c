/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The connection to the broker: a fresh paho client per attempt, connect options (session, last
 * will, TLS), reconnect backoff with jitter, and what connect, connect failure and a lost
 * connection do. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "alarmgw/backoff.h"
#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "broker_list.h"
#include "feedback.h"
#include "mqtt_topic.h"
#include "publisher_internal.h"

static void retry_cb(uv_timer_t *t);

void pub_schedule_retry(struct agw_publisher *p)
{
	if (p->stop != STOP_NONE)
		return;
	long long d = agw_backoff_ms(p->attempt, p->reconnect_min_ms, p->reconnect_max_ms);
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
int pub_client_create(struct agw_publisher *p)
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
	rc = MQTTAsync_setCallbacks(client, tag_ptr(tag_make(TAG_CONTROL, p->slot, conn, 0)), pub_on_lost, pub_on_message,
				    NULL);
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

/* After a failed attempt, the next broker of the cluster (a lost connection first tries the same
 * one again: it may have been a blip). */
static void next_broker(struct agw_publisher *p)
{
	char *u = agw_broker_list_get(p->uris, p->uri_index + 1);
	if (!u)
		return; /* out of memory: stay on the current one */
	p->uri_index = (p->uri_index + 1) % p->n_uris;
	free(p->uri);
	p->uri = u;
	char safe[256];
	agw_log_info(COMP, NULL, "trying broker %s", agw_url_redact(p->uri, safe, sizeof(safe)));
}

void pub_do_connect(struct agw_publisher *p)
{
	if (p->attempt > 0 && p->n_uris > 1)
		next_broker(p);
	if (p->attempt > 0 || p->gen > 0) {
		if (pub_client_create(p) < 0) {
			pub_schedule_retry(p);
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
		co.onSuccess5 = pub_on_connect_ok5;
		co.onFailure5 = pub_on_connect_fail5;
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
		co.onSuccess = pub_on_connect_ok;
		co.onFailure = pub_on_connect_fail;
	}
	co.keepAliveInterval = p->keepalive_s;
	/* paho's own window is a little larger than ours: the status shares the connection. */
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
		ssl.ssl_error_cb = pub_on_ssl_error;
		ssl.ssl_error_context = tag_ptr(ctl_tag(p));
		co.ssl = &ssl;
	}
	pthread_mutex_lock(&pub_reg_lock);
	p->ssl_error[0] = '\0';
	pthread_mutex_unlock(&pub_reg_lock);
	int rc = MQTTAsync_connect(p->client, &co);
	MQTTProperties_free(&props);
	if (rc != MQTTASYNC_SUCCESS) {
		agw_metric_add("agw_mqtt_connect_errors_total", "reason=\"client\"", 1);
		agw_log_err(COMP, NULL, "cannot start connecting: %s", MQTTAsync_strerror(rc));
		pub_schedule_retry(p);
		return;
	}
	p->connecting = true;
}

static void retry_cb(uv_timer_t *t)
{
	struct agw_publisher *p = t->data;
	if (!p->connected && !p->connecting && p->stop == STOP_NONE)
		pub_do_connect(p);
}

const char *pub_reason_text(int code)
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

void pub_handle_connect_failed(struct agw_publisher *p, const struct event *e)
{
	p->connecting = false;
	char uri[256], ssl_error[256];
	agw_url_redact(p->uri, uri, sizeof(uri));
	pthread_mutex_lock(&pub_reg_lock);
	snprintf(ssl_error, sizeof(ssl_error), "%s", p->ssl_error);
	pthread_mutex_unlock(&pub_reg_lock);
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
				    uri, pub_reason_text(e->code), e->code);
		else if (e->code > 0)
			agw_log_err(COMP, NULL, "broker %s refused the connection: %s (code %d)", uri,
				    pub_reason_text(e->code), e->code);
		else
			agw_log_err(COMP, NULL, "cannot connect to %s (%s): %s%s%s%s", uri, reason,
				    e->text ? e->text : pub_reason_text(e->code), ssl_error[0] ? " [TLS: " : "",
				    ssl_error, ssl_error[0] ? "]" : "");
	}
	if (p->stop != STOP_NONE) {
		pub_stop_advance(p);
		return;
	}
	pub_schedule_retry(p);
}

void pub_handle_connected(struct agw_publisher *p, const struct event *e)
{
	char uri[256];
	p->connecting = false;
	if (p->stop != STOP_NONE) {
		/* Connected while stopping: say goodbye properly. */
		p->connected = true;
		pub_stop_advance(p);
		return;
	}
	p->connected = true;
	p->attempt = 0;
	agw_metric_set("agw_mqtt_connected", NULL, 1);
	agw_metric_add("agw_mqtt_connects_total", NULL, 1);
	agw_log_notice(COMP, NULL, "connected to %s (MQTT %s, session %s)", agw_url_redact(p->uri, uri, sizeof(uri)),
		       p->version == 5 ? "5" : "3.1.1", e->flag ? "resumed" : "new");
	pub_rewind_window(p);
	pub_publish_status(p, "online");
	pub_subscribe_feedback(p);
	pub_fill_window(p);
}

void pub_handle_lost(struct agw_publisher *p, const struct event *e)
{
	if (!p->connected)
		return;
	p->connected = false;
	agw_metric_set("agw_mqtt_connected", NULL, 0);
	agw_metric_add("agw_mqtt_connection_lost_total", NULL, 1);
	agw_log_warn(COMP, NULL, "connection lost: %s; %zu messages in flight will be resent",
		     e->text ? e->text : "no reason given", p->n);
	if (p->n && !p->conn_done) {
		/* Lost with rows in flight and not one answered: maybe the broker closes the connection
		 * on a row it refuses, and the refusal was lost with the connection. Probe next time. */
		p->suspect++;
		if (!p->probe && p->suspect == 1)
			agw_log_notice(COMP, NULL, "the next connection sends one row at a time until the broker answers one");
		p->probe = true;
		if (p->suspect > 3) {
			/* the same oldest row was alone in flight three times, and each time the broker
			 * closed the connection without answering: it will not take that row */
			int64_t seq = p->ring[p->head].seq;
			pub_park_row(p, seq, "the broker closed the connection each time this row was sent (3 times)",
				     "connection closed");
			p->suspect = 0;
			p->probe = false;
		}
	}
	if (p->stop != STOP_NONE) {
		pub_stop_advance(p);
		return;
	}
	pub_schedule_retry(p);
}
