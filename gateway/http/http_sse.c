/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Live pages: /api/events is a server-sent event stream that says "something changed" (with a
 * change number); the page then asks for the summary and its current rows. A change is a new
 * journaled alert, a camera state, an outbox or case count, store or broker trouble. The stream
 * carries no data of its own, so a slow page that misses an event loses nothing: the next one
 * (or the ping) brings it up to date. At most AGW_HTTP_MAX_SSE pages; behind the same Host and
 * token checks as every path. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "http_internal.h"
#include "http_tls.h"

static void sse_read_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct agw_http_conn *c = handle->data;
	*buf = uv_buf_init(c->req, sizeof(c->req));
}

/* A page sends nothing after its request: anything read is dropped, the end closes. */
static void sse_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	if (nread < 0)
		agw_http_conn_close(stream->data);
}

static void sse_written(uv_write_t *req, int status)
{
	struct agw_http_conn *c = req->data;
	c->sse_writing = false;
	if (status < 0 && c->state != CONN_CLOSING)
		agw_http_conn_close(c);
}

/* Writes text unless the last write is still under way: a page that does not read within the
 * request timeout is closed, one that is merely slow gets the next change. */
static bool sse_write(struct agw_http_conn *c, const char *text)
{
	struct agw_http *h = c->http;
	if (c->state != CONN_SSE)
		return false;
	if (c->sse_writing) {
		if (uv_now(h->loop) - c->sse_write_at > AGW_HTTP_TIMEOUT_MS) {
			agw_http_count_error("timeout");
			agw_http_conn_close(c);
		}
		return false;
	}
	snprintf(c->sse_buf, sizeof(c->sse_buf), "%s", text);
	c->sse_writing = true;
	c->sse_write_at = uv_now(h->loop);
	if (agw_http_conn_write(c, c->sse_buf, strlen(c->sse_buf), sse_written) < 0) {
		c->sse_writing = false;
		agw_http_conn_close(c);
		return false;
	}
	return true;
}

static void sse_tick(uv_timer_t *timer)
{
	struct agw_http *h = timer->data;
	if (!h->n_sse)
		return;
	if (!agw_http_cache_fresh(h))
		agw_http_collect_start(h); /* its end calls agw_http_sse_notify */
	if (uv_now(h->loop) - h->sse_ping_at < AGW_HTTP_SSE_PING_MS)
		return;
	h->sse_ping_at = uv_now(h->loop);
	for (struct agw_http_conn *c = h->conns, *next; c; c = next) {
		next = c->next;
		(void)sse_write(c, ": ping\n\n");
	}
}

int agw_http_sse_init(struct agw_http *h)
{
	int r = uv_timer_init(h->loop, &h->sse_timer);
	if (r < 0)
		return r;
	h->sse_timer.data = h;
	h->sse_timer_open = true;
	uv_unref((uv_handle_t *)&h->sse_timer);
	return uv_timer_start(&h->sse_timer, sse_tick, AGW_HTTP_SSE_INTERVAL_MS, AGW_HTTP_SSE_INTERVAL_MS);
}

static void sse_timer_closed(uv_handle_t *handle)
{
	struct agw_http *h = handle->data;
	h->sse_timer_open = false;
	agw_http_maybe_done(h);
}

void agw_http_sse_close(struct agw_http *h)
{
	if (h->sse_timer_open && !uv_is_closing((uv_handle_t *)&h->sse_timer))
		uv_close((uv_handle_t *)&h->sse_timer, sse_timer_closed);
}

void agw_http_sse_start(struct agw_http_conn *c)
{
	struct agw_http *h = c->http;
	if (h->n_sse >= AGW_HTTP_MAX_SSE) {
		agw_http_refuse(c, 503, "sse_busy", "too many live pages open; close one or reload later",
				"Retry-After: 30\r\n");
		return;
	}
	agw_metric_add("agw_http_responses_total", "code=\"200\"", 1);
	c->sse = true;
	h->n_sse++;
	c->state = CONN_SSE;
	uv_timer_stop(&c->timer);
	c->sse_sent = h->change;
	/* No Content-Length: the stream ends when either side closes. retry: how soon the page's
	 * EventSource comes back after a restart. */
	snprintf(c->req, sizeof(c->req),
		 "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
		 "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n"
		 "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\nConnection: close\r\n\r\n"
		 "retry: 5000\nevent: change\ndata: %" PRId64 "\n\n",
		 h->change);
	c->response = strdup(c->req);
	if (!c->response) {
		agw_http_conn_close(c);
		return;
	}
	c->sse_writing = true;
	c->sse_write_at = uv_now(h->loop);
	if (agw_http_conn_write(c, c->response, strlen(c->response), sse_written) < 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, sse_read_alloc, sse_read) < 0)
		agw_http_conn_close(c);
}

void agw_http_sse_gone(struct agw_http_conn *c)
{
	c->http->n_sse--;
}

/* What a page shows at a glance; a different key is a change. */
static void change_key(const struct agw_http *h, char *buf, size_t len)
{
	const struct agw_status *s = h->cached;
	if (!s || h->last_collect_ret < 0) {
		snprintf(buf, len, "unreadable");
		return;
	}
	snprintf(buf, len, "%" PRId64 "/%zu/%zu/%zu/%zu/%zu/%" PRId64 "/%" PRId64 "/%" PRId64 "/%" PRId64 "/%d/%d",
		 s->journal_last_seq, s->cameras_by_state[AGW_CAMERA_OFFLINE],
		 s->cameras_by_state[AGW_CAMERA_CHANNEL_LOST], s->cameras_by_state[AGW_CAMERA_NEVER_SUBSCRIBED],
		 s->cameras_by_state[AGW_CAMERA_UNKNOWN], s->n_cameras, s->outbox_depth, s->outbox_parked,
		 s->open_total, s->grid ? s->grid->version : 0, agw_metric_get("agw_store_failing", NULL) > 0,
		 h->broker_connected);
}

void agw_http_sse_notify(struct agw_http *h)
{
	char key[sizeof(h->change_key)], text[64];
	change_key(h, key, sizeof(key));
	if (strcmp(key, h->change_key) != 0) {
		snprintf(h->change_key, sizeof(h->change_key), "%s", key);
		h->change++;
	}
	snprintf(text, sizeof(text), "event: change\ndata: %" PRId64 "\n\n", h->change);
	for (struct agw_http_conn *c = h->conns, *next; c; c = next) {
		next = c->next;
		if (c->state == CONN_SSE && c->sse_sent != h->change && sse_write(c, text))
			c->sse_sent = h->change;
	}
}
