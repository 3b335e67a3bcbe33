/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libcurl multi on the libuv loop (see alarmgw/curl_loop.h). The socket callback mirrors curl's wishes
 * into uv_poll_t handles; the timer callback drives curl's timeouts; finished transfers are
 * collected after every curl_multi_socket_action. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "alarmgw/curl_loop.h"

struct sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct agw_curl_loop *h;
	struct sock *prev, *next;
};

struct agw_curl_loop {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	struct sock *socks;
	int open_handles;
	bool closing;
	void (*closed)(void *arg);
	void *closed_arg;
};

static void handle_closed(struct agw_curl_loop *h)
{
	if (--h->open_handles == 0 && h->closing) {
		void (*closed)(void *) = h->closed;
		void *arg = h->closed_arg;
		free(h);
		if (closed)
			closed(arg);
	}
}

static void sock_closed(uv_handle_t *handle)
{
	struct sock *s = handle->data;
	struct agw_curl_loop *h = s->h;
	free(s);
	handle_closed(h);
}

static void sock_close(struct sock *s)
{
	struct agw_curl_loop *h = s->h;
	if (s->prev)
		s->prev->next = s->next;
	else
		h->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, sock_closed);
}

static void check_done(struct agw_curl_loop *h)
{
	CURLMsg *msg;
	int pending;
	while ((msg = curl_multi_info_read(h->multi, &pending))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode code = msg->data.result;
		struct agw_curl_req *req = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req);
		curl_multi_remove_handle(h->multi, easy);
		if (req && req->done)
			req->done(req, code);
	}
}

static void poll_cb(uv_poll_t *poll, int status, int events)
{
	struct sock *s = poll->data;
	struct agw_curl_loop *h = s->h;
	int flags = 0, running;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, s->fd, flags, &running);
	check_done(h);
}

static void timer_cb(uv_timer_t *timer)
{
	struct agw_curl_loop *h = timer->data;
	int running;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

static int socket_fn(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct agw_curl_loop *h = userp;
	struct sock *s = socketp;
	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			curl_multi_assign(h->multi, fd, NULL);
			sock_close(s);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		if (uv_poll_init_socket(h->loop, &s->poll, fd) < 0) {
			/* counted and logged by the transfer that fails because of it */
			agw_metric_add("agw_http_client_errors_total", "reason=\"poll\"", 1);
			free(s);
			return -1;
		}
		s->fd = fd;
		s->h = h;
		s->poll.data = s;
		s->next = h->socks;
		if (h->socks)
			h->socks->prev = s;
		h->socks = s;
		h->open_handles++;
		curl_multi_assign(h->multi, fd, s);
	}
	int events = 0;
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, poll_cb);
	return 0;
}

static int timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	struct agw_curl_loop *h = userp;
	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(&h->timer);
	else /* never call curl back from inside its own callback: 0 ms still goes through the loop */
		uv_timer_start(&h->timer, timer_cb, (uint64_t)timeout_ms, 0);
	return 0;
}

int agw_curl_loop_new(uv_loop_t *loop, struct agw_curl_loop **ret)
{
	struct agw_curl_loop *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->loop = loop;
	h->multi = curl_multi_init();
	if (!h->multi) {
		free(h);
		return -ENOMEM;
	}
	uv_timer_init(loop, &h->timer);
	h->timer.data = h;
	h->open_handles = 1;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_fn);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	*ret = h;
	return 0;
}

int agw_curl_loop_start(struct agw_curl_loop *h, CURL *easy)
{
	if (h->closing)
		return -ECANCELED;
	CURLMcode mc = curl_multi_add_handle(h->multi, easy);
	return mc == CURLM_OK ? 0 : -EIO;
}

void agw_curl_loop_cancel(struct agw_curl_loop *h, CURL *easy)
{
	curl_multi_remove_handle(h->multi, easy);
}

void agw_curl_loop_set_max_connections(struct agw_curl_loop *h, long n)
{
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, n);
}

static void timer_closed(uv_handle_t *handle)
{
	handle_closed(handle->data);
}

void agw_curl_loop_close(struct agw_curl_loop *h, void (*closed)(void *arg), void *arg)
{
	h->closing = true;
	h->closed = closed;
	h->closed_arg = arg;
	/* cleanup closes the cached connections (their sockets are removed through socket_fn) */
	curl_multi_cleanup(h->multi);
	h->multi = NULL;
	while (h->socks)
		sock_close(h->socks);
	uv_timer_stop(&h->timer);
	uv_close((uv_handle_t *)&h->timer, timer_closed);
}
