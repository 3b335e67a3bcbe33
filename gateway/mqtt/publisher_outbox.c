/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The outbox drain: the in-flight window filled from sqlite in seq order, PUBACK bookkeeping (what
 * each acknowledgement or refusal means), deletes after the resend window, and the outbox and
 * latency metrics. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "mqtt_topic.h"
#include "publisher_internal.h"

static const char SQL_FIRST_AFTER[] =
	"SELECT created_at FROM outbox WHERE seq > ? AND state = 'pending' ORDER BY seq LIMIT 1";

/* agw_outbox_depth: pending rows not yet acknowledged (acknowledged rows waiting out their resend
 * window are agw_outbox_resend_window_rows; in flight ones agw_outbox_inflight_rows);
 * agw_outbox_parked: rows the broker refused, waiting for the operator; agw_outbox_oldest_age_seconds:
 * age of the oldest pending row not yet acknowledged. All are row counts. */
void pub_update_depth(struct agw_publisher *p)
{
	int64_t oldest = INT64_MAX;
	struct agw_outbox_counts c = {0};
	if (agw_outbox_counts(p->store, &c) < 0)
		return;
	if (p->n)
		oldest = p->ring[p->head].created_at;
	sqlite3_stmt *st = agw_store_stmt(p->store, SQL_FIRST_AFTER);
	if (st) {
		sqlite3_bind_int64(st, 1, p->cursor);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) < oldest)
			oldest = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	int64_t depth = c.pending - (int64_t)p->a_n;
	agw_metric_set("agw_outbox_depth", NULL, depth > 0 ? depth : 0);
	agw_metric_set("agw_outbox_parked", NULL, c.parked);
	agw_metric_set("agw_outbox_inflight_rows", NULL, (int64_t)p->n);
	agw_metric_set("agw_outbox_resend_window_rows", NULL, (int64_t)p->a_n);
	int64_t age = oldest == INT64_MAX ? 0 : (agw_now_ms() - oldest) / 1000;
	agw_metric_set("agw_outbox_oldest_age_seconds", NULL, age > 0 ? age : 0);
}

/* Forgets the window and restarts from the oldest row: called on every (re)connect. */
void pub_rewind_window(struct agw_publisher *p)
{
	pub_flush_deletes(p, false, 0); /* rows past their resend window need no resend */
	p->gen = (p->gen + 1) & GEN_MASK;
	p->head = p->n = 0;
	p->cursor = 0;
	p->conn_done = 0;
	/* Acknowledged rows still in their resend window are sent again by this generation (a broker
	 * killed with SIGKILL loses what it acknowledged but had not delivered or saved). */
	p->a_head = p->a_n = 0;
}

/* Deletes acknowledged rows whose resend window has passed (all of them with all=true), in one
 * transaction. Rows that cannot be deleted now stay listed and are retried on the next turn; if the
 * process dies first they are resent (a duplicate, never a loss). */
void pub_flush_deletes(struct agw_publisher *p, bool all, size_t min_rows)
{
	/* The window is a duration: measured on the monotonic clock, so a wall clock step neither
	 * deletes rows early nor keeps them for an hour. */
	int64_t limit = (int64_t)(uv_hrtime() / 1000000) - p->resend_window_ms;
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
	p->acked[p->a_head + p->a_n++] = (struct acked){.seq = seq, .at_ms = (int64_t)(uv_hrtime() / 1000000)};
	return 0;
}

static struct slot *ring_at(struct agw_publisher *p, size_t i)
{
	return &p->ring[(p->head + i) % p->window];
}

/* The row left the window of this generation (acknowledged or parked): advance over done slots. */
static void slot_done(struct agw_publisher *p, int64_t seq, bool acked)
{
	for (size_t i = 0; i < p->n; i++) {
		struct slot *s = ring_at(p, i);
		if (s->seq != seq)
			continue;
		if (!s->acked && acked) {
			int64_t lat = agw_now_ms() - s->created_at;
			p->m_lat_sum += lat;
			p->m_lat_count++;
			p->m_lat_last = lat;
			p->m_lat_bucket[agw_lat_bucket(lat)]++;
		}
		s->acked = true;
		break;
	}
	while (p->n && ring_at(p, 0)->acked) {
		p->head = (p->head + 1) % p->window;
		p->n--;
	}
	/* The broker answered for a row on this connection. A PUBACK ends probing; a refusal does not
	 * (a broker that closes the connection after each refusal would destroy the next one's reason
	 * again with a full window in flight). */
	p->conn_done++;
	p->suspect = 0;
	if (acked)
		p->probe = false;
}

static void outbox_acked(struct agw_publisher *p, uint64_t tag)
{
	int64_t seq = (int64_t)tag_val(tag);
	if (note_acked(p, seq) < 0)
		agw_log_err(COMP, NULL, "out of memory; outbox row %" PRId64 " will be resent", seq);
	if (tag_gen(tag) != p->gen)
		return;
	slot_done(p, seq, true);
}

void pub_park_row(struct agw_publisher *p, int64_t seq, const char *reason, const char *label)
{
	int r = agw_outbox_park(p->store, seq, reason, agw_now_ms());
	/* the label is a slug of the reason: "not authorized" -> not_authorized */
	char labels[96];
	int k = snprintf(labels, sizeof(labels), "reason=\"");
	for (const char *c = label; *c && k < (int)sizeof(labels) - 3; c++)
		labels[k++] = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ? *c : '_';
	snprintf(labels + k, sizeof(labels) - (size_t)k, "\"");
	if (r == 0)
		agw_metric_add("agw_outbox_parked_total", labels, 1);
	/* Every parked row is an alarm an operator must see, but a broker refusing a whole topic
	 * tree must not flood the journal: 10 lines a minute, the rest counted. */
	int64_t now = agw_now_ms();
	if (now - p->park_log_window_ms > 60000) {
		if (p->park_logged > 10)
			agw_log_err(COMP, NULL, "%d more outbox rows parked in the last minute (agw_outbox_parked_total)",
				    p->park_logged - 10);
		p->park_log_window_ms = now;
		p->park_logged = 0;
	}
	if (r < 0 && r != -ENOENT)
		agw_log_err(COMP, NULL, "outbox row %" PRId64 " refused (%s) but could not be parked: %s; it is resent "
					"after the next reconnect", seq, reason, strerror(-r));
	else if (r == 0 && p->park_logged++ < 10)
		agw_log_err(COMP, NULL, "outbox row %" PRId64 " parked: %s; the other rows go on (see `alarmgw outbox list "
					"--parked`, then `alarmgw outbox retry`)", seq, reason);
	slot_done(p, seq, false);
}

void pub_handle_send_failed(struct agw_publisher *p, const struct event *e)
{
	enum tag_kind kind = tag_kind(e->tag);
	if (tag_gen(e->tag) != p->gen)
		return; /* an older generation: the rewind already resent it */
	if (kind != TAG_OUTBOX)
		return;
	if (e->code < 0x80) {
		/* not a refusal: the connection went; the reconnect resends the row */
		agw_metric_add("agw_mqtt_publish_errors_total", "reason=\"connection\"", 1);
		return;
	}
	/* The broker refused this row (MQTT 5 reason code: ACL, quota, too large, bad topic). Resending
	 * it would be refused again and, at the head of the line, hold up everything after it: park
	 * it with the reason and go on. The connection stays. */
	agw_metric_add("agw_mqtt_publish_errors_total", "reason=\"nack\"", 1);
	char reason[96];
	snprintf(reason, sizeof(reason), "broker refused: %s (0x%02x)", pub_reason_text(e->code), (unsigned)e->code);
	pub_park_row(p, (int64_t)tag_val(e->tag), reason, pub_reason_text(e->code));
}

void pub_handle_sent(struct agw_publisher *p, const struct event *e)
{
	switch (tag_kind(e->tag)) {
	case TAG_OUTBOX:
		outbox_acked(p, e->tag);
		break;
	case TAG_STATUS:
		if (p->stop == STOP_OFFLINE && tag_gen(e->tag) == p->gen) {
			p->offline_acked = true;
			pub_stop_advance(p);
		}
		break;
	case TAG_UNUSED:
	case TAG_CONTROL:
		break;
	}
}

void pub_flush_metrics(struct agw_publisher *p)
{
	if (p->m_published)
		agw_metric_add("agw_mqtt_published_total", NULL, p->m_published);
	if (p->m_lat_count) {
		agw_metric_add("agw_publish_latency_ms_sum", NULL, p->m_lat_sum);
		agw_metric_add("agw_publish_latency_ms_count", NULL, p->m_lat_count);
		agw_metric_set("agw_publish_latency_ms_last", NULL, p->m_lat_last);
		agw_metric_lat_flush("agw_publish_latency_ms", p->m_lat_bucket);
	}
	p->m_published = p->m_lat_sum = p->m_lat_count = 0;
}

/* Hands one row to paho, with its MQTT 5 properties (outbox.props) when the session is MQTT 5:
 * under 3.1.1 the metadata stays in the store and the case message. */
static int send_row(struct agw_publisher *p, int64_t seq, const char *topic, MQTTAsync_message *m, const char *props_json)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	ro.context = tag_ptr(tag_make(TAG_OUTBOX, p->slot, p->gen, (uint64_t)seq));
	if (p->version == 5) {
		ro.onSuccess5 = pub_on_sent5;
		ro.onFailure5 = pub_on_send_fail5;
	} else {
		ro.onSuccess = pub_on_sent;
		ro.onFailure = pub_on_send_fail;
	}
	MQTTProperties props = MQTTProperties_initializer;
	if (p->version == 5 && props_json && pub_props_from_json(props_json, &props) == 0)
		m->properties = props;
	int src = MQTTAsync_sendMessage(p->client, topic, m, &ro);
	MQTTProperties_free(&props); /* paho copied them */
	return src;
}

/* Sends rows after the cursor while the window has room; also while a stop drains, so that rows
 * made in the last moments go out before the disconnect. */
void pub_fill_window(struct agw_publisher *p)
{
	if (!p->connected || (p->stop != STOP_NONE && p->stop != STOP_DRAIN))
		return;
	size_t window = p->probe ? 1 : p->window;
	while (p->n < window) {
		sqlite3_stmt *st = agw_store_stmt(p->store, "SELECT seq, topic, payload, qos, retained, created_at, props "
							    "FROM outbox WHERE seq > ? AND state = 'pending' "
							    "ORDER BY seq LIMIT ?");
		if (!st)
			return;
		size_t asked = window - p->n;
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
				/* A wildcard topic would make the broker drop the connection, for ever: park
				 * the row (shown to the operator) and go on with the others. */
				agw_metric_add("agw_mqtt_publish_errors_total", "reason=\"topic\"", 1);
				char reason[300];
				snprintf(reason, sizeof(reason), "invalid topic \"%.200s\" (wildcard, empty or too long)",
					 topic ? topic : "");
				pub_park_row(p, seq, reason, "invalid topic");
				continue;
			}
			int src = send_row(p, seq, topic, &m, (const char *)sqlite3_column_text(st, 6));
			if (src == MQTTASYNC_BAD_UTF8_STRING || src == MQTTASYNC_TOPICNAME_TRUNCATED ||
			    src == MQTTASYNC_BAD_QOS || src == MQTTASYNC_BAD_STRUCTURE) {
				/* paho refuses this message itself, and would every time */
				char reason[128];
				snprintf(reason, sizeof(reason), "the MQTT client refused it: %s", MQTTAsync_strerror(src));
				agw_metric_add("agw_mqtt_publish_errors_total", "reason=\"client\"", 1);
				pub_park_row(p, seq, reason, "client");
				continue;
			}
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
	pub_fill_window(p);
}

void pub_tick_cb(uv_timer_t *t)
{
	struct agw_publisher *p = t->data;
	if (++p->delete_ticks >= DELETE_TICKS) {
		p->delete_ticks = 0;
		pub_flush_metrics(p); /* the latency histogram is 14 series: once a second is enough */
		pub_flush_deletes(p, false, 0);
	}
	/* rows another process requeued (`alarmgw outbox retry`) have new seqs: pick them up */
	if (p->stop == STOP_NONE)
		pub_fill_window(p);
	/* feedback left in the inbox by a failed write or a previous run */
	if (p->stop == STOP_NONE)
		pub_apply_feedback(p);
	pub_update_depth(p);
}

void agw_publisher_set_resend_window(struct agw_publisher *p, int64_t ms)
{
	p->resend_window_ms = ms > 0 ? ms : 0;
}

long long agw_publisher_acked(const struct agw_publisher *p)
{
	return p->acked_total;
}
