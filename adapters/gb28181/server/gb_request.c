/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Requests the gateway sends to devices, and their retransmissions (see gb_server_internal.h).
 * the Alarm Response, the Catalog query, DeviceControl (arming, alarm reset) and the alarm
 * SUBSCRIBE. Their loss costs no alarm (an alarm is journaled and answered 200 before its Alarm
 * Response; a lost query or control is sent again on its schedule), so a request that times out is
 * only counted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/log.h"
#include "gb_server_internal.h"

#define T1_MS 500
#define T2_MS 4000
#define TIMER_F_MS (64 * T1_MS)

static struct creq **creq_slot(struct agw_gb_server *s, const char *branch)
{
	struct creq **p = &s->creqs_by_branch[gb_hash(branch) % BUCKETS];
	while (*p && strcmp((*p)->branch, branch) != 0)
		p = &(*p)->hnext;
	return p;
}

static void creq_unlink(struct agw_gb_server *s, struct creq *r)
{
	struct creq **h = creq_slot(s, r->branch);
	if (*h == r)
		*h = r->hnext;
	if (r->prev)
		r->prev->next = r->next;
	else
		s->creqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	s->n_creqs--;
	free(r->data);
	free(r);
}

/* An existing dialog a request belongs to (the alarm subscription's refresh). */
struct dialog {
	const char *call_id;
	const char *to_tag;     /* the device's, "" before it answered */
	const char *target;     /* its Contact URI, "" for sip:ID@its address */
};

/* Sends a MESSAGE or SUBSCRIBE to the device (the ID in its Request-URI and To) and keeps it for
 * retransmission. dlg NULL: outside a dialog, with a fresh Call-ID. Returns 0 or a negative errno. */
static int send_request(struct agw_gb_server *s, const struct device *d, const char *method, const struct dialog *dlg,
			const char *extra, const char *body)
{
	if (s->n_creqs >= (size_t)s->cfg.max_devices * 4)
		return -ENOBUFS; /* devices that never answer: do not let them grow this without bound */
	struct creq *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	uint32_t id = ++s->next_id;
	snprintf(r->branch, sizeof(r->branch), "z9hG4bK%s%08x", s->tag, id);
	r->peer = d->peer;
	char ip[64], cid[96];
	int port;
	gb_peer_text(&d->peer.addr, ip, sizeof(ip), &port);
	const char *via = s->via_host[0] ? s->via_host : d->via_host[0] ? d->via_host : "0.0.0.0";
	const char *call_id = dlg ? dlg->call_id : cid;
	if (!dlg)
		snprintf(cid, sizeof(cid), "%08x%s@%s", id, s->tag, via);
	char target[160], tag[80] = "";
	if (dlg && dlg->target[0])
		snprintf(target, sizeof(target), "%s", dlg->target);
	else
		snprintf(target, sizeof(target), "sip:%s@%s:%d", d->id, ip, port);
	if (dlg && dlg->to_tag[0])
		snprintf(tag, sizeof(tag), ";tag=%s", dlg->to_tag);
	snprintf(r->device, sizeof(r->device), "%s", d->id);
	r->subscribe = !strcmp(method, "SUBSCRIBE");
	int n = asprintf(&r->data,
			 "%s %s SIP/2.0\r\n"
			 "Via: SIP/2.0/%s %s:%d;rport;branch=%s\r\n"
			 "From: <sip:%s@%s>;tag=%s\r\n"
			 "To: <sip:%s@%s>%s\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u %s\r\n"
			 "%s"
			 "Content-Type: Application/MANSCDP+xml\r\n"
			 "Max-Forwards: 70\r\n"
			 "User-Agent: alarmgw\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 method, target, d->peer.conn ? "TCP" : "UDP", via, s->port, r->branch, s->sip_id, s->domain, s->tag,
			 d->id, s->domain, tag, call_id, ++s->cseq, method, extra ? extra : "", strlen(body), body);
	if (n < 0) {
		free(r);
		return -ENOMEM;
	}
	r->len = (size_t)n;
	int64_t now = (int64_t)uv_now(s->loop);
	r->interval_ms = T1_MS;
	r->next_ms = d->peer.conn ? now + TIMER_F_MS : now + T1_MS; /* TCP is reliable: no retransmission */
	r->deadline_ms = now + TIMER_F_MS;
	r->next = s->creqs;
	if (s->creqs)
		s->creqs->prev = r;
	s->creqs = r;
	struct creq **h = &s->creqs_by_branch[gb_hash(r->branch) % BUCKETS];
	r->hnext = *h;
	*h = r;
	s->n_creqs++;
	s->stats.requests_sent++;
	gb_transport_send(s, &r->peer, r->data, r->len);
	return 0;
}

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n"

void gb_request_alarm_response(struct agw_gb_server *s, const struct device *d, const char *sn, const char *channel)
{
	char body[512];
	snprintf(body, sizeof(body),
		 XML_HEAD "<Response>\r\n<CmdType>Alarm</CmdType>\r\n<SN>%.20s</SN>\r\n<DeviceID>%.20s</DeviceID>\r\n"
			  "<Result>OK</Result>\r\n</Response>\r\n",
		 sn, channel);
	send_request(s, d, "MESSAGE", NULL, NULL, body);
}

uint32_t gb_request_catalog(struct agw_gb_server *s, const struct device *d)
{
	uint32_t sn = ++s->next_sn;
	char body[256];
	snprintf(body, sizeof(body),
		 XML_HEAD "<Query>\r\n<CmdType>Catalog</CmdType>\r\n<SN>%u</SN>\r\n<DeviceID>%s</DeviceID>\r\n</Query>\r\n",
		 sn, d->id);
	if (send_request(s, d, "MESSAGE", NULL, NULL, body) < 0)
		return 0;
	s->stats.catalog_queries++;
	return sn;
}

void gb_request_control(struct agw_gb_server *s, const struct device *d, const char *target, const char *command)
{
	char body[512];
	snprintf(body, sizeof(body),
		 XML_HEAD "<Control>\r\n<CmdType>DeviceControl</CmdType>\r\n<SN>%u</SN>\r\n<DeviceID>%.20s</DeviceID>\r\n"
			  "%s\r\n</Control>\r\n",
		 ++s->next_sn, target, command);
	if (send_request(s, d, "MESSAGE", NULL, NULL, body) == 0)
		s->stats.controls_sent++;
}

void gb_request_subscribe(struct agw_gb_server *s, const struct device *d, int64_t expires_s)
{
	/* one dialog per device: a refresh keeps its Call-ID and carries the device's To-tag and goes
	 * to its Contact (RFC 6665 4.1.2.1), so the device refreshes the subscription it has instead
	 * of starting a second one */
	char body[512], extra[256], cid[96];
	snprintf(body, sizeof(body),
		 XML_HEAD "<Query>\r\n<CmdType>Alarm</CmdType>\r\n<SN>%u</SN>\r\n<DeviceID>%s</DeviceID>\r\n"
			  "<StartAlarmPriority>0</StartAlarmPriority>\r\n<EndAlarmPriority>0</EndAlarmPriority>\r\n"
			  "<AlarmMethod>0</AlarmMethod>\r\n</Query>\r\n",
		 ++s->next_sn, d->id);
	snprintf(extra, sizeof(extra), "Event: %s\r\nExpires: %lld\r\nContact: <sip:%s@%s:%d>\r\n",
		 s->sub_event, (long long)expires_s, s->sip_id,
		 s->via_host[0] ? s->via_host : d->via_host[0] ? d->via_host : "0.0.0.0", s->port);
	snprintf(cid, sizeof(cid), "alarm-%s-%s-%u", d->id, s->tag, d->sub_dialog);
	struct dialog dlg = {.call_id = cid, .to_tag = d->sub_to_tag, .target = d->sub_target};
	if (send_request(s, d, "SUBSCRIBE", &dlg, extra, body) == 0)
		s->stats.subscriptions_sent++;
}

/* An answer to request r: a final one ends it, a provisional one stops its retransmissions. */
static void answered(struct agw_gb_server *s, struct creq *r, int status)
{
	if (status >= 200) {
		s->stats.requests_answered++;
		creq_unlink(s, r);
	} else {
		r->next_ms = r->deadline_ms; /* provisional: wait for the final one quietly */
	}
}

/* A final answer to our SUBSCRIBE: a 2xx makes (or keeps) the dialog, with the device's To-tag
 * and Contact; anything else ends it, and the next SUBSCRIBE starts a new one. */
static void subscription_answered(struct agw_gb_server *s, const char *device, const struct agw_gb_sip_msg *m)
{
	struct device *d = gb_server_device(s, device);
	if (!d)
		return;
	osip_generic_param_t *tag = NULL;
	char tag_name[] = "tag";
	if (m->osip->to)
		osip_generic_param_get_byname(&m->osip->to->gen_params, tag_name, &tag);
	if (m->status >= 300 || !tag || !tag->gvalue || strlen(tag->gvalue) >= sizeof(d->sub_to_tag)) {
		if (d->sub_to_tag[0] || m->status >= 300)
			d->sub_dialog++;
		d->sub_to_tag[0] = d->sub_target[0] = '\0';
		return;
	}
	snprintf(d->sub_to_tag, sizeof(d->sub_to_tag), "%s", tag->gvalue);
	osip_contact_t *c = NULL;
	char *uri = NULL;
	d->sub_target[0] = '\0';
	if (osip_message_get_contact(m->osip, 0, &c) >= 0 && c && c->url && osip_uri_to_str(c->url, &uri) == 0 && uri &&
	    strlen(uri) < sizeof(d->sub_target) && !strpbrk(uri, " \r\n"))
		snprintf(d->sub_target, sizeof(d->sub_target), "%s", uri);
	osip_free(uri);
}

bool gb_request_answered(struct agw_gb_server *s, const struct agw_gb_sip_msg *m)
{
	osip_via_t *via = osip_list_get(&m->osip->vias, 0);
	osip_generic_param_t *branch = NULL;
	char name[] = "branch";
	if (via)
		osip_generic_param_get_byname(&via->via_params, name, &branch);
	if (!branch || !branch->gvalue)
		return false;
	struct creq *r = *creq_slot(s, branch->gvalue);
	if (!r)
		return false;
	if (m->status >= 200 && r->subscribe)
		subscription_answered(s, r->device, m);
	answered(s, r, m->status);
	return true;
}

/* Case-insensitive: whether [p, end) starts with word. */
static bool starts(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);
	return (size_t)(end - p) >= n && !strncasecmp(p, word, n);
}

/* The top Via's branch parameter of a response's header block [p, end), into out; false when
 * there is none to read simply (folded lines, no Via): the whole parse decides then. */
static bool top_branch(const char *p, const char *end, char *out, size_t outlen)
{
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol || eol == p || (eol == p + 1 && *p == '\r'))
			return false; /* the end of the headers: no Via */
		const char *q = starts(p, eol, "via") ? p + 3 : starts(p, eol, "v") ? p + 1 : NULL;
		while (q && q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (q && q < eol && *q == ':') {
			const char *stop = memchr(q, ',', (size_t)(eol - q)); /* the first Via of the line */
			stop = stop ? stop : eol;
			for (const char *b = q; b + 8 <= stop; b++)
				if (*b == ';' && !strncasecmp(b + 1, "branch=", 7)) {
					size_t n = strcspn(b + 8, ";, \t\r\n");
					if (b + 8 + n > stop || n == 0 || n >= outlen)
						return false;
					memcpy(out, b + 8, n);
					out[n] = '\0';
					return true;
				}
			return false;
		}
		p = eol + 1;
		if (p < end && (*p == ' ' || *p == '\t'))
			return false; /* a folded line: not for this reader */
	}
	return false;
}

bool gb_request_answered_raw(struct agw_gb_server *s, const char *buf, size_t len)
{
	const char *end = buf + len;
	if (len < 13 || memcmp(buf, "SIP/2.0 ", 8) != 0)
		return false;
	int status = 0;
	for (const char *p = buf + 8; p < buf + 11; p++) {
		if (*p < '0' || *p > '9')
			return false;
		status = status * 10 + (*p - '0');
	}
	const char *eol = memchr(buf, '\n', len);
	char branch[64];
	if (status < 100 || !eol || !top_branch(eol + 1, end, branch, sizeof(branch)))
		return false;
	struct creq *r = *creq_slot(s, branch);
	if (!r || r->subscribe)
		return false;
	s->stats.received++;
	answered(s, r, status);
	return true;
}

void gb_request_sweep(struct agw_gb_server *s, int64_t now)
{
	for (struct creq *r = s->creqs, *next; r; r = next) {
		next = r->next;
		if (now >= r->deadline_ms) {
			s->stats.requests_timed_out++;
			creq_unlink(s, r);
		} else if (now >= r->next_ms) {
			gb_transport_send(s, &r->peer, r->data, r->len);
			r->interval_ms = r->interval_ms * 2 < T2_MS ? r->interval_ms * 2 : T2_MS;
			r->next_ms = now + r->interval_ms;
		}
	}
}

void gb_request_free_all(struct agw_gb_server *s)
{
	while (s->creqs)
		creq_unlink(s, s->creqs);
}
