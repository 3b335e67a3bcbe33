/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libcurl multi driven by the libuv loop: one uv_poll_t per socket curl asks to watch, one
 * uv_timer_t for curl's timeout, no threads, no blocking call. Connections are kept alive in the
 * multi handle's cache and reused across requests of every camera. */
#ifndef ALARMGW_CURL_LOOP_H
#define ALARMGW_CURL_LOOP_H

#include <curl/curl.h>
#include <uv.h>

/* Embed in the owner of an easy handle; set CURLOPT_PRIVATE to it. done runs on the loop once
 * the transfer finished (the handle is already out of the multi handle). */
struct agw_curl_req {
	void (*done)(struct agw_curl_req *req, CURLcode code);
};

struct agw_curl_loop;

int agw_curl_loop_new(uv_loop_t *loop, struct agw_curl_loop **ret);
/* Starts the transfer of a prepared easy handle. */
int agw_curl_loop_start(struct agw_curl_loop *h, CURL *easy);
/* Aborts a running transfer (done is not called). */
void agw_curl_loop_cancel(struct agw_curl_loop *h, CURL *easy);
/* Size of the connection cache (keep-alive connections kept open). */
void agw_curl_loop_set_max_connections(struct agw_curl_loop *h, long n);
/* Cleans up the multi handle (every easy handle must be cancelled or done) and closes the libuv
 * handles; closed(arg) runs once they are all closed, then h is freed. */
void agw_curl_loop_close(struct agw_curl_loop *h, void (*closed)(void *arg), void *arg);

#endif
