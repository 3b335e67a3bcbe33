/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ledger snapshot URLs (evidence_ledger.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/alert.h"
#include "alarmgw/curl_loop.h"
#include "alarmgw/http_get.h"
#include "alarmgw/str.h"
#include "evidence_ledger.h"

struct lsnap {
	struct lsnap *prev, *next;
	struct agw_ledger_snaps *l;
	struct agw_snapshot *s;
	struct agw_http_get *get;
	char *url;
};

struct agw_ledger_snaps {
	struct agw_curl_loop *http;
	struct lsnap *running;
};

int agw_ledger_snaps_new(uv_loop_t *loop, struct agw_ledger_snaps **ret)
{
	struct agw_ledger_snaps *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	int rc = agw_curl_loop_new(loop, &l->http);
	if (rc < 0) {
		free(l);
		return rc;
	}
	*ret = l;
	return 0;
}

static void lsnap_end(struct lsnap *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		n->l->running = n->next;
	if (n->next)
		n->next->prev = n->prev;
	n->s->adapter = NULL;
	free(n->url);
	free(n);
}

static void on_get(void *arg, int status, const char *reason, const void *body, size_t len, const char *ctype)
{
	struct lsnap *n = arg;
	struct agw_snapshot *s = n->s;
	struct agw_picture pic = {.status = status, .type = "snapshot", .source = n->url, .data = body, .len = len,
				  .camera_time_ms = AGW_TIME_UNKNOWN};
	char why[400];
	if (status < 0) {
		snprintf(why, sizeof(why), "snapshot %.200s: %s", n->url, reason);
		pic.reason = why;
	} else if (ctype && strncmp(ctype, "image/", 6) != 0) {
		snprintf(why, sizeof(why), "snapshot %.200s: content type %.60s, not a picture", n->url, ctype);
		pic.status = -EPROTO;
		pic.reason = why;
	}
	n->get = NULL;
	s->done(s, &pic); /* pic.source points into n: end it after */
	lsnap_end(n);
}

int agw_ledger_snaps_start(struct agw_ledger_snaps *l, const char *url, const char *user, const char *pass,
			   struct agw_snapshot *s)
{
	struct lsnap *n = calloc(1, sizeof(*n));
	if (!n || !(n->url = strdup(url))) {
		free(n);
		return -ENOMEM;
	}
	n->l = l;
	n->s = s;
	/* http_get copies what it keeps: the camera may be freed by a reload while this runs */
	struct agw_http_get_opts o = {.url = n->url, .username = user && *user ? user : NULL, .password = pass,
				      .max_bytes = s->max_bytes, .timeout_ms = s->timeout_ms, .tls_verify = true};
	int rc = agw_http_get_start(l->http, &o, on_get, n, &n->get);
	if (rc < 0) {
		free(n->url);
		free(n);
		return rc;
	}
	n->next = l->running;
	if (l->running)
		l->running->prev = n;
	l->running = n;
	s->adapter = n;
	return 0;
}

void agw_ledger_snaps_cancel(struct agw_ledger_snaps *l, struct agw_snapshot *s)
{
	(void)l;
	struct lsnap *n = s->adapter;
	if (!n)
		return;
	agw_http_get_cancel(n->get);
	lsnap_end(n);
}

static void http_closed(void *arg)
{
	free(arg);
}

void agw_ledger_snaps_close(struct agw_ledger_snaps *l)
{
	if (!l)
		return;
	while (l->running) {
		agw_http_get_cancel(l->running->get);
		lsnap_end(l->running);
	}
	agw_curl_loop_close(l->http, http_closed, l);
}
