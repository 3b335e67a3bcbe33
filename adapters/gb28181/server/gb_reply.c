/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SIP responses (see gb_reply.h). libosip2 clones and prints the headers; the order and the
 * framing are ours. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb_reply.h"

const char *agw_gb_reason(int status)
{
	switch (status) {
	case 100: return "Trying";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Request Entity Too Large";
	case 415: return "Unsupported Media Type";
	case 423: return "Interval Too Brief";
	case 500: return "Server Internal Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

struct out {
	char *buf;
	size_t len, cap;
	int err;
};

static void put(struct out *o, const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	if (o->err)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->cap + n + 1) * 2;
		char *v = realloc(o->buf, cap);
		if (!v) {
			o->err = -ENOMEM;
			return;
		}
		o->buf = v;
		o->cap = cap;
	}
	o->len += (size_t)sprintf(o->buf + o->len, "%s%s\r\n", a, b);
}

/* Puts "Name: <header printed by libosip2>"; the header is freed. */
static void put_str(struct out *o, const char *name, int rc, char *s)
{
	if (rc != 0 || !s) {
		if (!o->err)
			o->err = -EINVAL;
	} else {
		put(o, name, s);
	}
	osip_free(s);
}

static void put_vias(struct out *o, const osip_message_t *req, const char *src_ip, int src_port)
{
	int n = osip_list_size(&req->vias);
	for (int i = 0; i < n; i++) {
		osip_via_t *v = osip_list_get(&req->vias, i), *c = NULL;
		if (osip_via_clone(v, &c) != 0) {
			o->err = -ENOMEM;
			return;
		}
		if (i == 0 && src_ip) {
			osip_generic_param_t *rport = NULL;
			char rport_name[] = "rport";
			osip_generic_param_get_byname(&c->via_params, rport_name, &rport);
			if (rport && !rport->gvalue && src_port > 0) {
				char port[16];
				snprintf(port, sizeof(port), "%d", src_port);
				rport->gvalue = osip_strdup(port);
			}
			osip_generic_param_t *recv = NULL;
			char recv_name[] = "received";
			osip_generic_param_get_byname(&c->via_params, recv_name, &recv);
			if (!recv)
				osip_via_set_received(c, osip_strdup(src_ip));
		}
		char *s = NULL;
		int rc = osip_via_to_str(c, &s);
		osip_via_free(c);
		put_str(o, "Via: ", rc, s);
	}
}

int agw_gb_reply(const struct agw_gb_sip_msg *req, int status, const char *to_tag, const char *src_ip, int src_port,
		 const char *extra, char **ret, size_t *ret_len)
{
	const osip_message_t *m = req->osip;
	if (!m || !m->from || !m->to || !m->call_id || !m->cseq)
		return -EINVAL;
	struct out o = {0};
	char line[64];
	snprintf(line, sizeof(line), "%03d %s", status, agw_gb_reason(status));
	put(&o, "SIP/2.0 ", line);
	put_vias(&o, m, src_ip, src_port);
	char *s = NULL;
	int rc = osip_from_to_str(m->from, &s); /* before put_str reads s: argument order is unspecified */
	put_str(&o, "From: ", rc, s);
	osip_to_t *to = NULL;
	if (osip_to_clone(m->to, &to) != 0) {
		o.err = -ENOMEM;
	} else {
		osip_generic_param_t *tag = NULL;
		char tag_name[] = "tag";
		osip_generic_param_get_byname(&to->gen_params, tag_name, &tag);
		if (!tag && to_tag && status > 100)
			osip_to_set_tag(to, osip_strdup(to_tag));
		s = NULL;
		rc = osip_to_to_str(to, &s);
		put_str(&o, "To: ", rc, s);
		osip_to_free(to);
	}
	s = NULL;
	rc = osip_call_id_to_str(m->call_id, &s);
	put_str(&o, "Call-ID: ", rc, s);
	s = NULL;
	rc = osip_cseq_to_str(m->cseq, &s);
	put_str(&o, "CSeq: ", rc, s);
	put(&o, "User-Agent: ", "alarmgw");
	if (extra && *extra) {
		/* extra lines already end in CRLF: put() adds one more, so strip it */
		size_t n = strlen(extra);
		char *copy = strndup(extra, n >= 2 && extra[n - 2] == '\r' ? n - 2 : n);
		if (!copy)
			o.err = -ENOMEM;
		else
			put(&o, copy, "");
		free(copy);
	}
	put(&o, "Content-Length: 0", "");
	put(&o, "", "");
	if (o.err) {
		free(o.buf);
		return o.err;
	}
	*ret = o.buf;
	*ret_len = o.len;
	return 0;
}
