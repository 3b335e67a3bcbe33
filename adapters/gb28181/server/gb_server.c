/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The SIP server (see gb_server.h): everything on the loop; its sockets are in gb_transport.c.
 *
 * Transactions (RFC 3261 17.2.2, non-INVITE): keyed by the top Via branch, the method and the
 * source address. A retransmission while the request is in progress (an alarm waiting for its
 * journal commit) gets 100 Trying; one after the answer gets the same answer again, for 32 s
 * (64*T1). So a retransmitted alarm never reaches the pipeline twice; a new transaction with an
 * alarm the device already had journaled (same channel, SN, time and type) is answered 200 and not
 * journaled again. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "gb_alarm.h"
#include "gb_digest.h"
#include "gb_message.h"
#include "gb_reply.h"
#include "gb_server.h"
#include "gb_server_internal.h"

uint32_t gb_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static bool gb_id(const char *s)
{
	if (!s || strlen(s) != GB_ID_LEN)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* ---- sending ---- */

/* Builds and sends an answer; keeps it in txn (may be NULL) for retransmissions. */
static void answer(struct agw_gb_server *s, const struct agw_gb_sip_msg *req, const struct gb_peer *peer,
		   struct txn *t, int status, const char *extra)
{
	char ip[64];
	int port;
	gb_peer_text(&peer->addr, ip, sizeof(ip), &port);
	char *out = NULL;
	size_t len = 0;
	if (agw_gb_reply(req, status, s->tag, ip, port, extra, &out, &len) < 0)
		return;
	gb_transport_send(s, peer, out, len);
	if (t && status >= 200) {
		free(t->response);
		t->response = out;
		t->response_len = len;
	} else {
		free(out);
	}
}

/* ---- transactions ---- */

static char *txn_key(const struct agw_gb_sip_msg *m, const struct gb_peer *peer)
{
	osip_via_t *via = osip_list_get(&m->osip->vias, 0);
	osip_generic_param_t *branch = NULL;
	char name[] = "branch";
	if (via)
		osip_generic_param_get_byname(&via->via_params, name, &branch);
	char ip[64];
	int port;
	gb_peer_text(&peer->addr, ip, sizeof(ip), &port);
	char *key = NULL;
	/* RFC 2543 peers have no branch: Call-ID and CSeq stand in */
	if (asprintf(&key, "%s|%s|%s|%lu|%s:%d", branch && branch->gvalue ? branch->gvalue : "-", m->method, m->call_id,
		     m->cseq, ip, port) < 0)
		return NULL;
	return key;
}

static struct txn *txn_find(struct agw_gb_server *s, const char *key)
{
	for (struct txn *t = s->txns[gb_hash(key) % BUCKETS]; t; t = t->hnext)
		if (!strcmp(t->key, key))
			return t;
	return NULL;
}

static void txn_unlink(struct agw_gb_server *s, struct txn *t)
{
	struct txn **p = &s->txns[gb_hash(t->key) % BUCKETS];
	while (*p && *p != t)
		p = &(*p)->hnext;
	if (*p)
		*p = t->hnext;
}

static void txn_free(struct txn *t)
{
	free(t->key);
	free(t->response);
	agw_gb_sip_msg_free(t->req);
	free(t);
}

static void txn_complete(struct agw_gb_server *s, struct txn *t)
{
	t->state = TXN_COMPLETED;
	agw_gb_sip_msg_free(t->req);
	t->req = NULL;
	t->expire_ms = (int64_t)uv_now(s->loop) + TXN_LINGER_MS;
	t->qnext = NULL;
	if (s->q_tail)
		s->q_tail->qnext = t;
	else
		s->q_head = t;
	s->q_tail = t;
}

static void txns_expire(struct agw_gb_server *s, int64_t now)
{
	while (s->q_head && s->q_head->expire_ms <= now) {
		struct txn *t = s->q_head;
		s->q_head = t->qnext;
		if (!s->q_head)
			s->q_tail = NULL;
		txn_unlink(s, t);
		txn_free(t);
	}
}

/* ---- devices ---- */

static struct device *device_find(const struct agw_gb_server *s, const char *id)
{
	for (struct device *d = s->devices[gb_hash(id) % BUCKETS]; d; d = d->hnext)
		if (!strcmp(d->id, id))
			return d;
	return NULL;
}

struct device *gb_server_device(const struct agw_gb_server *s, const char *id)
{
	return device_find(s, id);
}

static struct device *device_get(struct agw_gb_server *s, const char *id)
{
	struct device *d = device_find(s, id);
	if (d || (int64_t)s->n_devices >= s->cfg.max_devices)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	snprintf(d->id, sizeof(d->id), "%s", id);
	uint32_t h = gb_hash(id) % BUCKETS;
	d->hnext = s->devices[h];
	s->devices[h] = d;
	s->n_devices++;
	return d;
}

/* What makes an alarm the same alarm again: its SN with its channel, time and type. The SN alone
 * is not enough: devices count it from 1 again after a restart. */
static uint64_t alarm_key(const struct agw_gb_doc *doc)
{
	const char *parts[] = {doc->device_id, doc->sn, agw_gb_doc_get(doc, "AlarmTime"), agw_gb_doc_get(doc, "AlarmMethod"),
			       agw_gb_doc_get(doc, "Info/AlarmType")};
	uint64_t h = 14695981039346656037u;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		for (const char *p = parts[i] ? parts[i] : ""; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211u;
		h = (h ^ 0x1F) * 1099511628211u; /* a separator no text contains */
	}
	return h ? h : 1;
}

static bool device_seen(const struct device *d, uint64_t key)
{
	for (unsigned i = 0; i < SN_RING; i++)
		if (d->alarm_keys[i] == key)
			return true;
	return false;
}

static void device_remember(struct device *d, uint64_t key)
{
	d->alarm_keys[d->alarm_pos] = key;
	d->alarm_pos = (d->alarm_pos + 1) % SN_RING;
}

/* The device's Request-URI host when it is an IPv4 address: how it reaches us. */
static void note_via_host(struct device *d, const struct agw_gb_sip_msg *m)
{
	const char *host = m->osip->req_uri ? m->osip->req_uri->host : NULL;
	struct in_addr a;
	if (host && strlen(host) < sizeof(d->via_host) && inet_pton(AF_INET, host, &a) == 1)
		snprintf(d->via_host, sizeof(d->via_host), "%s", host);
}

int gb_server_emit_offline(struct agw_gb_server *s, const char *camera, bool online, const char *topic)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.kind = AGW_KIND_CAMERA_OFFLINE;
	a.active = online ? AGW_ACTIVE_FALSE : AGW_ACTIVE_TRUE;
	a.camera_time_ms = AGW_TIME_UNKNOWN;
	a.gateway_time_ms = agw_now_ms();
	a.camera_id = strdup(camera);
	a.adapter = strdup("gb28181");
	a.topic = strdup(topic);
	int rc = a.camera_id && a.adapter && a.topic ? s->env.emit(s->env.arg, &a) : -ENOMEM;
	agw_alert_clear(&a);
	return rc;
}

/* camera_offline for the ledger camera that is the device itself (an NVR's channels report their
 * own state in the catalog: gb_control.c). Kept pending and retried by the sweep when the core
 * cannot take it now. */
static void device_liveness(struct agw_gb_server *s, struct device *d, bool online)
{
	if (d->online != online)
		gb_notice(s, d->id, online ? GB_NOTICE_ONLINE : GB_NOTICE_OFFLINE, (int64_t)uv_now(s->loop));
	d->online = online;
	enum agw_active want = online ? AGW_ACTIVE_FALSE : AGW_ACTIVE_TRUE;
	const char *cam = s->env.camera_of ? s->env.camera_of(s->env.arg, d->id) : NULL;
	if (!cam || (d->offline_state == want) || (online && d->offline_state == AGW_ACTIVE_NONE)) {
		d->offline_pending = false;
		return;
	}
	int rc = gb_server_emit_offline(s, cam, online, online ? "registration/online" : "registration/offline");
	d->offline_pending = rc < 0;
	if (rc == 0)
		d->offline_state = want;
}

static void on_sweep(uv_timer_t *timer)
{
	struct agw_gb_server *s = timer->data;
	int64_t now = (int64_t)uv_now(s->loop);
	txns_expire(s, now);
	gb_transport_sweep(s, now);
	gb_request_sweep(s, now);
	gb_lost_sweep(s, now);
	gb_notices_sweep(s, now);
	int64_t dead = s->cfg.keepalive_interval_ms * s->cfg.keepalive_misses;
	for (unsigned b = 0; b < BUCKETS; b++)
		for (struct device *d = s->devices[b]; d; d = d->hnext) {
			if (d->registered && now >= d->expires_ms) {
				d->registered = false;
				gb_notice(s, d->id, GB_NOTICE_EXPIRED, now);
			}
			bool alive = d->registered && now - d->last_seen_ms < dead;
			if (alive != d->online || d->offline_pending)
				device_liveness(s, d, alive);
			gb_control_sweep_device(s, d, now);
		}
	gb_control_sweep(s);
}

static void maybe_done(struct agw_gb_server *s);

/* ---- requests ---- */

static int device_offset(const struct agw_gb_server *s, const char *channel, const char *device)
{
	return agw_gb_zones_offset(s->cfg.zones, channel, device, s->cfg.utc_offset_min);
}

static void wall_date(const struct agw_gb_server *s, const char *device, char *buf, size_t len)
{
	/* GB devices set their clocks from REGISTER's Date, in local time without a zone: the
	 * device's own zone, so that its AlarmTime reads back right */
	time_t t = time(NULL) + (time_t)device_offset(s, NULL, device) * 60;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

static void challenge(struct agw_gb_server *s, const struct agw_gb_sip_msg *m, const struct gb_peer *peer,
		      bool stale)
{
	char nonce[AGW_GB_NONCE_LEN + 1], extra[256];
	agw_gb_nonce_make(&s->nonce_key, (int64_t)time(NULL), nonce);
	snprintf(extra, sizeof(extra), "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5%s\r\n",
		 s->domain, nonce, stale ? ", stale=true" : "");
	answer(s, m, peer, NULL, 401, extra);
}

static int64_t requested_expires(const struct agw_gb_sip_msg *m)
{
	osip_header_t *h = NULL;
	if (osip_message_get_expires(m->osip, 0, &h) >= 0 && h && h->hvalue)
		return strtoll(h->hvalue, NULL, 10);
	osip_contact_t *c = NULL;
	if (osip_message_get_contact(m->osip, 0, &c) >= 0 && c) {
		osip_generic_param_t *p = NULL;
		char name[] = "expires";
		osip_contact_param_get_byname(c, name, &p);
		if (p && p->gvalue)
			return strtoll(p->gvalue, NULL, 10);
	}
	return 3600;
}

/* A device that registers anew: its ledger row is subscribed (adapter.h), then it is asked for
 * its catalog, after the 200 (devices ignore requests before it). */
static void registered(struct agw_gb_server *s, struct device *d, const char *id, int64_t now)
{
	const char *cam = s->env.subscribed && s->env.camera_of ? s->env.camera_of(s->env.arg, id) : NULL;
	if (cam)
		s->env.subscribed(s->env.arg, cam);
	gb_control_registered(s, d, now);
}

static void on_register(struct agw_gb_server *s, const struct agw_gb_sip_msg *m, const struct gb_peer *peer)
{
	const char *id = m->from_user;
	if (!gb_id(id)) {
		answer(s, m, peer, NULL, 403, "Warning: 399 alarmgw \"From is not a 20-digit GB/T 28181 ID\"\r\n");
		return;
	}
	osip_authorization_t *auth = NULL;
	osip_message_get_authorization(m->osip, 0, &auth);
	if (!auth) {
		challenge(s, m, peer, false);
		return;
	}
	char nonce[128] = "";
	if (auth->nonce) {
		const char *v = auth->nonce;
		size_t n = strlen(v);
		if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
			v++, n -= 2;
		snprintf(nonce, sizeof(nonce), "%.*s", (int)(n < sizeof(nonce) ? n : 0), v);
	}
	int rc = agw_gb_nonce_check(&s->nonce_key, nonce, (int64_t)time(NULL), NONCE_LIFETIME_S);
	if (rc < 0) {
		challenge(s, m, peer, rc == -ETIMEDOUT);
		return;
	}
	const char *pw = s->env.password_of ? s->env.password_of(s->env.arg, id) : NULL;
	if (!pw)
		pw = s->password;
	char why[128] = "";
	rc = pw ? agw_gb_digest_verify(auth, "REGISTER", pw, why, sizeof(why)) : -EACCES;
	/* a device record only once it authenticated: random IDs cannot fill the table */
	struct device *d = rc == 0 ? device_get(s, id) : device_find(s, id);
	if (rc < 0) {
		s->stats.auth_failed++;
		agw_metric_add("agw_gb28181_auth_failures_total", NULL, 1);
		if (!d || !d->warned_password)
			agw_log_warn(COMPONENT, id, "REGISTER refused: %s", rc == -EINVAL ? why
									 : pw ? "wrong password"
									      : "no password for this device (ledger or adapters.gb28181.password)");
		if (d)
			d->warned_password = true;
		answer(s, m, peer, NULL, rc == -EINVAL ? 400 : 403, NULL);
		return;
	}
	if (!d) {
		answer(s, m, peer, NULL, 503, "Warning: 399 alarmgw \"too many devices\"\r\n");
		return;
	}
	d->warned_password = false;
	int64_t exp = requested_expires(m);
	char extra[160], date[32];
	if (exp != 0 && exp < s->cfg.expires_min_s) {
		snprintf(extra, sizeof(extra), "Min-Expires: %lld\r\n", (long long)s->cfg.expires_min_s);
		answer(s, m, peer, NULL, 423, extra);
		return;
	}
	if (exp > s->cfg.expires_max_s)
		exp = s->cfg.expires_max_s;
	int64_t now = (int64_t)uv_now(s->loop);
	bool was = d->registered;
	d->peer = *peer;
	note_via_host(d, m);
	d->registered = exp > 0;
	d->expires_ms = now + exp * 1000;
	d->last_seen_ms = now;
	if (d->registered != was)
		agw_log_info(COMPONENT, id, "%s", d->registered ? "registered" : "unregistered");
	if (d->registered)
		s->stats.registered++;
	device_liveness(s, d, d->registered);
	bool fresh = d->registered && !was;
	wall_date(s, id, date, sizeof(date));
	snprintf(extra, sizeof(extra), "Expires: %lld\r\nDate: %s\r\n", (long long)exp, date);
	answer(s, m, peer, NULL, 200, extra);
	if (fresh)
		registered(s, d, id, now);
}

static void alarm_done(void *arg, int status)
{
	struct txn *t = arg;
	struct agw_gb_server *s = t->srv;
	s->n_pending--;
	if (t->orphan) {
		/* stopped meanwhile: the socket is gone; the device retransmits to the next start */
		txn_unlink(s, t);
		txn_free(t);
		maybe_done(s);
		return;
	}
	if (status == 0) {
		s->stats.alarms_journaled++;
		struct device *d = device_find(s, t->device);
		if (d && t->alarm_key)
			device_remember(d, t->alarm_key);
		gb_lost_journaled(s, t->lost_key);
		answer(s, t->req, &t->peer, t, 200, NULL);
		txn_complete(s, t);
		if (d) {
			gb_request_alarm_response(s, d, t->sn, t->channel);
			gb_control_alarm_journaled(s, d, t);
		}
	} else {
		/* dropped unwritten: no answer, so the device sends it again */
		txn_unlink(s, t);
		txn_free(t);
	}
}

static void on_alarm(struct agw_gb_server *s, struct agw_gb_message *msg, const struct gb_peer *peer,
		     struct device *d, struct txn *t)
{
	const struct agw_gb_doc *doc = &msg->doc;
	uint64_t key = alarm_key(doc);
	if (doc->sn[0] && device_seen(d, key)) {
		s->stats.alarms_duplicate++;
		gb_lost_journaled(s, key);
		answer(s, msg->sip, peer, t, 200, NULL);
		txn_complete(s, t);
		gb_request_alarm_response(s, d, doc->sn, doc->device_id); /* it may not have had ours */
		return;
	}
	const char *cam = s->env.camera_of ? s->env.camera_of(s->env.arg, doc->device_id) : NULL;
	if (!cam && gb_id(doc->device_id))
		gb_control_unmatched_alarm(s, d, doc->device_id); /* listed, whether or not the device takes it */
	if (!cam && s->env.camera_of)
		cam = s->env.camera_of(s->env.arg, d->id);
	if (!cam) {
		s->stats.alarms_unmatched++;
		agw_metric_add("agw_gb28181_unmatched_alarms_total", NULL, 1);
		agw_log_notice(COMPONENT, d->id, "alarm for channel %s, which no ledger camera has as address: not journaled",
			       doc->device_id);
		answer(s, msg->sip, peer, t, 200, NULL);
		txn_complete(s, t);
		return;
	}
	struct agw_alert a;
	agw_alert_init(&a);
	const char *payload = msg->text.utf8;
	while (*payload && isspace((unsigned char)*payload))
		payload++;
	int rc = agw_gb_alarm_alert(doc, s->cfg.table, device_offset(s, doc->device_id, d->id), payload, &a);
	if (rc == 0) {
		a.camera_id = strdup(cam);
		a.adapter = strdup("gb28181");
		a.gateway_time_ms = agw_now_ms();
		rc = a.camera_id && a.adapter ? 0 : -ENOMEM;
	}
	snprintf(t->device, sizeof(t->device), "%s", d->id);
	t->alarm_key = doc->sn[0] ? key : 0;
	t->lost_key = key;
	snprintf(t->sn, sizeof(t->sn), "%s", doc->sn);
	snprintf(t->channel, sizeof(t->channel), "%s", doc->device_id);
	const char *method = agw_gb_doc_get(doc, "AlarmMethod"), *type = agw_gb_doc_get(doc, "Info/AlarmType");
	snprintf(t->method, sizeof(t->method), "%s", method && strlen(method) < sizeof(t->method) ? method : "");
	snprintf(t->type, sizeof(t->type), "%s", type && strlen(type) < sizeof(t->type) ? type : "");
	if (rc == 0)
		rc = s->env.emit_durable(s->env.arg, &a, alarm_done, t);
	agw_alert_clear(&a);
	if (rc == 0) {
		/* answered from alarm_done, after the commit */
		t->req = msg->sip;
		msg->sip = NULL;
		s->n_pending++;
		return;
	}
	s->stats.alarms_refused++;
	struct gb_lost_alarm lost = {.camera = cam, .device = d->id, .channel = doc->device_id, .sn = doc->sn};
	if (rc == -EAGAIN) {
		/* back-pressure: no answer, the device retransmits, and the retransmission is tried anew;
		 * if it gives up first, the alarm is named in an events_lost (gb_lost.c) */
		gb_lost_refused(s, key, &lost, NULL);
		txn_unlink(s, t);
		txn_free(t);
		return;
	}
	gb_lost_refused(s, key, &lost, strerror(-rc));
	answer(s, msg->sip, peer, t, 500, NULL);
	txn_complete(s, t);
}

static void on_message(struct agw_gb_server *s, struct agw_gb_message *msg, const struct gb_peer *peer)
{
	const struct agw_gb_sip_msg *m = msg->sip;
	char *key = txn_key(m, peer);
	if (!key)
		return;
	struct txn *t = txn_find(s, key);
	if (t) {
		free(key);
		s->stats.retransmissions++;
		if (t->state == TXN_COMPLETED && t->response)
			gb_transport_send(s, peer, t->response, t->response_len);
		else
			answer(s, m, peer, NULL, 100, NULL);
		return;
	}
	struct device *d = device_find(s, m->from_user);
	if (!d || !d->registered) {
		free(key);
		s->stats.unknown_device++;
		answer(s, m, peer, NULL, 403, "Warning: 399 alarmgw \"not registered\"\r\n");
		return;
	}
	/* MESSAGE carries no credentials: only the host that registered speaks for the device */
	if (!gb_peer_same_host(&d->peer.addr, &peer->addr)) {
		free(key);
		s->stats.unknown_device++;
		answer(s, m, peer, NULL, 403, "Warning: 399 alarmgw \"registered from another address\"\r\n");
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		free(key);
		return;
	}
	t->srv = s;
	t->key = key;
	t->peer = *peer;
	uint32_t h = gb_hash(key) % BUCKETS;
	t->hnext = s->txns[h];
	s->txns[h] = t;
	d->last_seen_ms = (int64_t)uv_now(s->loop);
	d->peer = *peer;
	note_via_host(d, m);
	if (msg->has_doc && msg->text.note[0] && !d->warned_encoding) {
		agw_log_notice(COMPONENT, d->id, "%s", msg->text.note);
		d->warned_encoding = true;
	}
	if (!d->online)
		device_liveness(s, d, true);
	if (agw_gb_message_is_alarm(msg)) {
		on_alarm(s, msg, peer, d, t);
		return;
	}
	if (msg->has_doc && msg->doc.cmd == AGW_GB_CMD_KEEPALIVE)
		s->stats.keepalives++;
	answer(s, m, peer, t, 200, NULL);
	txn_complete(s, t);
	if (msg->has_doc)
		gb_control_response(s, d, &msg->doc);
}

void gb_server_dispatch(struct agw_gb_server *s, const char *buf, size_t len, unsigned sip_flags,
			const struct gb_peer *peer)
{
	/* most responses are the devices' 200s to our Alarm Responses: their branch is all we need */
	if (gb_request_answered_raw(s, buf, len))
		return;
	s->stats.received++;
	struct agw_gb_message msg;
	char err[512];
	int rc = agw_gb_message_parse(buf, len, sip_flags, &msg, err, sizeof(err));
	if (rc < 0) {
		s->stats.bad++;
		agw_metric_add("agw_gb28181_bad_messages_total", NULL, 1);
		/* answerable when the SIP part was readable and only the body was not */
		struct agw_gb_sip_msg *m = NULL;
		char e2[64];
		if (agw_gb_sip_parse(buf, len, sip_flags, &m, e2, sizeof(e2)) == 0 && m->method &&
		    strcmp(m->method, "ACK") != 0) {
			char extra[600];
			for (char *p = err; *p; p++)
				if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
					*p = '\'';
			snprintf(extra, sizeof(extra), "Warning: 399 alarmgw \"%.500s\"\r\n", err);
			answer(s, m, peer, NULL, 400, extra);
		}
		agw_gb_sip_msg_free(m);
		char ip[64];
		int port;
		gb_peer_text(&peer->addr, ip, sizeof(ip), &port);
		agw_log_debug(COMPONENT, NULL, "from %s:%d: %s", ip, port, err);
		return;
	}
	if (!msg.sip) {
		s->stats.bad++; /* a bare body is not a SIP message */
		agw_gb_message_clear(&msg);
		return;
	}
	const char *method = msg.sip->method;
	if (!method) {
		gb_request_answered(s, msg.sip); /* an answer to a request of ours, or a stray one */
	} else if (!strcmp(method, "REGISTER")) {
		on_register(s, msg.sip, peer);
	} else if (!strcmp(method, "MESSAGE") || !strcmp(method, "NOTIFY")) {
		on_message(s, &msg, peer);
	} else if (!strcmp(method, "OPTIONS")) {
		answer(s, msg.sip, peer, NULL, 200, NULL);
	} else if (strcmp(method, "ACK") != 0) {
		answer(s, msg.sip, peer, NULL, 405, "Allow: REGISTER, MESSAGE, NOTIFY, OPTIONS\r\n");
	}
	agw_gb_message_clear(&msg);
}

/* ---- lifecycle ---- */

/* The host our requests name in Via: the address option, else the listen address unless it is a
 * wildcard (then each device's own view of us, from its Request-URI). */
static void via_host_of(const struct agw_gb_server_config *cfg, char *out, size_t len)
{
	out[0] = '\0';
	if (cfg->address && *cfg->address) {
		snprintf(out, len, "%s", cfg->address);
		return;
	}
	const char *colon = cfg->listen ? strrchr(cfg->listen, ':') : NULL;
	if (!colon)
		return;
	snprintf(out, len, "%.*s", (int)(colon - cfg->listen), cfg->listen);
	if (!strcmp(out, "0.0.0.0") || !strcmp(out, "[::]") || !strcmp(out, "::") || !out[0])
		out[0] = '\0';
}

int agw_gb_server_start(uv_loop_t *loop, const struct agw_gb_server_config *cfg, const struct agw_gb_server_env *env,
			struct agw_gb_server **ret, char *err, size_t errlen)
{
	if (!gb_id(cfg->sip_id)) {
		snprintf(err, errlen, "sip_id '%s' is not a 20-digit GB/T 28181 ID", cfg->sip_id ? cfg->sip_id : "");
		return -EINVAL;
	}
	struct agw_gb_server *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->loop = loop;
	s->cfg = *cfg;
	s->env = *env;
	snprintf(s->sip_id, sizeof(s->sip_id), "%s", cfg->sip_id);
	snprintf(s->domain, sizeof(s->domain), "%.*s", cfg->domain ? 31 : 10, cfg->domain ? cfg->domain : cfg->sip_id);
	s->password = cfg->password ? strdup(cfg->password) : NULL;
	snprintf(s->sub_event, sizeof(s->sub_event), "%s", cfg->subscribe_event ? cfg->subscribe_event : "presence");
	snprintf(s->catalog_crs, sizeof(s->catalog_crs), "%s", cfg->catalog_crs ? cfg->catalog_crs : "wgs84");
	if (s->cfg.max_channels <= 0)
		s->cfg.max_channels = 200000;
	s->cfg.listen = s->cfg.sip_id = s->cfg.domain = s->cfg.password = s->cfg.subscribe_event = NULL; /* the caller's */
	s->cfg.catalog_crs = NULL;
	int rc = agw_gb_nonce_key_init(&s->nonce_key);
	if (rc < 0)
		snprintf(err, errlen, "no random bytes for nonces");
	else
		rc = gb_transport_start(s, cfg->listen, err, errlen);
	if (rc < 0) {
		free(s->password);
		free(s);
		return rc;
	}
	s->port = agw_gb_server_port(s);
	via_host_of(cfg, s->via_host, sizeof(s->via_host));
	const unsigned char *r = s->nonce_key.secret;
	snprintf(s->tag, sizeof(s->tag), "%02x%02x%02x%02x", r[0], r[1], r[2], r[3]); /* our To-tag */
	uv_timer_init(loop, &s->sweep);
	s->sweep.data = s;
	uv_timer_start(&s->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
	*ret = s;
	return 0;
}

static void maybe_done(struct agw_gb_server *s)
{
	if (s->closing == 0 && s->n_pending == 0 && s->stop_done) {
		void (*done)(void *) = s->stop_done;
		s->stop_done = NULL;
		done(s->stop_arg);
	}
}

void gb_server_closed(struct agw_gb_server *s)
{
	s->closing--;
	maybe_done(s);
}

void gb_server_handle_closed(uv_handle_t *h)
{
	gb_server_closed(h->data);
}

void agw_gb_server_stop(struct agw_gb_server *s, void (*done)(void *arg), void *arg)
{
	s->stop_done = done;
	s->stop_arg = arg;
	if (!s->stopping) {
		s->stopping = true;
		gb_notices_flush(s);
		/* alarms still waiting for their commit: their done() will come and find them orphaned */
		for (unsigned b = 0; b < BUCKETS; b++)
			for (struct txn *t = s->txns[b]; t; t = t->hnext)
				if (t->state == TXN_PROCEEDING)
					t->orphan = true;
		gb_transport_close(s);
		s->closing++;
		uv_close((uv_handle_t *)&s->sweep, gb_server_handle_closed);
	}
	maybe_done(s);
}

void agw_gb_server_free(struct agw_gb_server *s)
{
	if (!s)
		return;
	for (unsigned b = 0; b < BUCKETS; b++) {
		while (s->txns[b]) {
			struct txn *t = s->txns[b];
			s->txns[b] = t->hnext;
			txn_free(t);
		}
		while (s->devices[b]) {
			struct device *d = s->devices[b];
			s->devices[b] = d->hnext;
			free(d);
		}
	}
	gb_request_free_all(s);
	gb_control_free_all(s);
	gb_lost_free_all(s);
	free(s->password);
	free(s);
}

const struct agw_gb_server_stats *agw_gb_server_stats(const struct agw_gb_server *s)
{
	return &s->stats;
}

int agw_gb_server_port(const struct agw_gb_server *s)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	if (uv_udp_getsockname(s->udp, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	char ip[64];
	int port;
	gb_peer_text(&ss, ip, sizeof(ip), &port);
	return port;
}

bool agw_gb_server_device_online(const struct agw_gb_server *s, const char *gb_id)
{
	const struct device *d = device_find(s, gb_id);
	return d && d->registered && d->online;
}
