/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The outbox publisher: creating, starting and freeing it (the rest is in gateway/publisher_*.c,
 * which share gateway/publisher_internal.h). How delivery stays loss-free:
 * - A row leaves the outbox only after the broker's PUBACK for it (QoS 1).
 * - Every (re)connect starts a new "generation": the in-flight window is forgotten and sending
 *   restarts at the oldest row still in the outbox. Late callbacks from an older generation still
 *   delete their rows (a PUBACK is a PUBACK) but no longer count against the window. Resends are
 *   duplicates, never gaps; each message carries its case id for consumers to dedup.
 * - paho's callbacks carry a tag (kind, publisher slot, generation, seq) instead of a pointer, so a
 *   callback that arrives after the publisher was freed finds an empty slot and does nothing. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "mqtt_topic.h"
#include "broker_list.h"
#include "publisher_internal.h"
#include "topic.h"

static int slot_claim(struct agw_publisher *p)
{
	int r = -EMFILE;
	pthread_mutex_lock(&pub_reg_lock);
	for (unsigned i = 0; i < MAX_PUBLISHERS; i++)
		if (!pub_registry[i]) {
			pub_registry[i] = p;
			p->slot = i;
			r = 0;
			break;
		}
	pthread_mutex_unlock(&pub_reg_lock);
	return r;
}

static int copy_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return -ENOMEM;
	return 0;
}

/* Every broker of the list is reached the same way (TLS or not, same CA): *ret_tls says which. */
static int broker_list_tls(const char *list, size_t n, bool *ret_tls)
{
	bool first = false;
	for (size_t i = 0; i < n; i++) {
		char *u = agw_broker_list_get(list, i);
		bool tls = u && (strncmp(u, "ssl://", 6) == 0 || strncmp(u, "mqtts://", 8) == 0);
		free(u);
		if (i > 0 && tls != first) {
			agw_log_err(COMP, NULL, "mqtt.uri: the brokers of the list must all use TLS or none");
			return -EINVAL;
		}
		first = tls;
	}
	*ret_tls = first;
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
	p->n_uris = agw_broker_list_count(m->uri);
	if (broker_list_tls(m->uri, p->n_uris, &p->tls) < 0) {
		free(p);
		return -EINVAL;
	}
	const char *gateway = cfg->gateway_id ? cfg->gateway_id : "alarmgw";
	p->uri_index = agw_broker_list_first(m->uri, gateway);
	if ((r = copy_str(&p->uris, m->uri)) < 0 ||
	    (r = (p->uri = agw_broker_list_get(m->uri, p->uri_index)) ? 0 : -EINVAL) < 0 ||
	    (r = copy_str(&p->client_id, m->client_id ? m->client_id : gateway)) < 0 ||
	    (r = copy_str(&p->username, m->username)) < 0 || (r = copy_str(&p->password, m->password)) < 0 ||
	    (r = copy_str(&p->ca_file, m->ca_file)) < 0 || (r = copy_str(&p->cert_file, m->cert_file)) < 0 ||
	    (r = copy_str(&p->key_file, m->key_file)) < 0 ||
	    (r = copy_str(&p->prefix, m->topic_prefix ? m->topic_prefix : "agw")) < 0 ||
	    (r = copy_str(&p->gateway, gateway)) < 0)
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
	if ((r = pub_feedback_open(p)) < 0)
		goto fail;
	if ((r = slot_claim(p)) < 0)
		goto fail;
	if ((r = pub_client_create(p)) < 0)
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
	uv_async_init(p->loop, &p->async, pub_async_cb);
	uv_timer_init(p->loop, &p->retry_timer);
	uv_timer_init(p->loop, &p->tick_timer);
	uv_timer_init(p->loop, &p->stop_timer);
	p->async.data = p->retry_timer.data = p->tick_timer.data = p->stop_timer.data = p;
	p->open_handles = 4;
	p->started = true;
	pthread_mutex_lock(&pub_reg_lock);
	p->accepting = true;
	pthread_mutex_unlock(&pub_reg_lock);
	agw_metric_set("agw_mqtt_connected", NULL, 0);
	pub_update_depth(p);
	uv_timer_start(&p->tick_timer, pub_tick_cb, TICK_MS, TICK_MS);
	pub_do_connect(p);
	return 0;
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
			pub_close_handles(p);
		}
		return;
	}
	pthread_mutex_lock(&pub_reg_lock);
	if (pub_registry[p->slot] == p)
		pub_registry[p->slot] = NULL;
	pthread_mutex_unlock(&pub_reg_lock);
	/* After the slot is cleared a late paho callback finds nothing; destroy stops the rest. */
	if (p->client)
		MQTTAsync_destroy(&p->client);
	pub_feedback_close(p);
	for (size_t i = 0; i < p->n_ev; i++) {
		free(p->ev[i].text);
		free(p->ev[i].data);
	}
	free(p->ev);
	free(p->ring);
	free(p->acked);
	free(p->uri);
	free(p->uris);
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
	free(p);
}
