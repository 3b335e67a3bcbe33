/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ONVIF adapter: PullPoint event subscriptions for thousands of cameras on one libuv loop.
 * This file: the adapter's lifecycle (init, start, stop, uninit), its options, and cameras added
 * and removed; the camera itself is in onvif_camera.c (see onvif_camera.h for the tour). */
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "alarmgw/metrics.h"
#include "onvif_camera.h"
#include "rtsp_grab.h"
#include "onvif_url.h"

static void iso_duration(int64_t ms, char *buf, size_t len)
{
	if (ms % 1000)
		snprintf(buf, len, "PT%lld.%03lldS", (long long)(ms / 1000), (long long)(ms % 1000));
	else
		snprintf(buf, len, "PT%lldS", (long long)(ms / 1000));
}

/* ---- cameras ---- */

static void cam_free(struct cam *c)
{
	agw_onvif_cam_held_drop(c); /* none normally: cam_close dropped them */
	agw_onvif_sources_free(c);
	if (c->easy)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	free(c->body);
	free(c->resp);
	free(c->id);
	free(c->username);
	free(c->password);
	free(c->device_url);
	free(c->scheme);
	free(c->authority);
	free(c->host);
	free(c->events_url);
	free(c->media_url);
	free(c->snap_uri);
	free(c->stream_uri);
	free(c->sub_url);
	free(c->sub_refs);
	free(c);
}

static void cam_timer_closed(uv_handle_t *h)
{
	struct cam *c = h->data;
	struct onvif_adapter *ad = c->ad;
	cam_free(c);
	ad->closing_handles--;
	agw_onvif_maybe_finish_stop(ad);
}

static int cam_new(struct onvif_adapter *ad, const struct agw_camera *camera, struct cam **ret)
{
	struct cam *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ad = ad;
	c->req.done = agw_onvif_cam_done;
	int rc = -ENOMEM;
	if (!(c->id = strdup(camera->id)))
		goto fail;
	if (camera->username && !(c->username = strdup(camera->username)))
		goto fail;
	if (camera->password && !(c->password = strdup(camera->password)))
		goto fail;
	rc = agw_onvif_device_url(camera->address ? camera->address : "", &c->device_url);
	if (rc < 0)
		goto fail;
	rc = agw_onvif_url_split(c->device_url, &c->scheme, &c->authority, &c->host, NULL);
	if (rc < 0)
		goto fail;
	rc = -ENOMEM;
	if (!(c->easy = curl_easy_init()))
		goto fail;
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, (char *)&c->req);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, agw_onvif_cam_write_cb);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	/* curl keeps its receive buffer for the handle's life: 1 KB (its minimum) rather than 16 KB
	 * (or 4) saves 15 KB (3) per camera; an answer of a few KB takes a few reads more */
	curl_easy_setopt(c->easy, CURLOPT_BUFFERSIZE, 1024L);
	curl_easy_setopt(c->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)ad->connect_timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (!ad->tls_verify) {
		/* cameras with self-signed certificates, by the operator's explicit choice */
		curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (ad->ca_file && *ad->ca_file)
		curl_easy_setopt(c->easy, CURLOPT_CAINFO, ad->ca_file);
	if (ad->auth_mode == AUTH_DIGEST)
		agw_onvif_cam_enable_digest(c);
	uv_timer_init(ad->ctx->loop, &c->timer);
	c->timer.data = c;
	*ret = c;
	return 0;
fail:
	cam_free(c);
	return rc;
}

struct cam *agw_onvif_cam_find(struct onvif_adapter *ad, const char *id)
{
	for (struct cam *c = ad->cams; c; c = c->next)
		if (!strcmp(c->id, id))
			return c;
	return NULL;
}

void agw_onvif_list_del(struct cam **head, struct cam *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void list_add(struct cam **head, struct cam *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

static void cam_unlink(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	agw_onvif_list_del(&ad->cams, c);
	ad->n_cams--;
	agw_metric_set("agw_onvif_cameras", NULL, (int64_t)ad->n_cams);
}

/* Cancels what the camera is doing and closes its timer; it is freed in the close callback. */
void agw_onvif_cam_close(struct cam *c)
{
	struct onvif_adapter *ad = c->ad;
	if (c->busy) {
		agw_curl_loop_cancel(onvif_cam_http(c), c->easy);
		c->busy = false;
	}
	if (c->state == CAM_LEAVING)
		ad->leaving--;
	agw_onvif_cam_set_state(c, CAM_CLOSED); /* out of the wait queue, its slot freed */
	agw_onvif_cam_held_drop(c);
	agw_onvif_sources_cancel(c); /* its request runs on the camera's curl loop */
	if (c->offline)
		agw_metric_add("agw_onvif_cameras_offline", NULL, -1);
	if (c->channel_lost)
		agw_metric_add("agw_onvif_event_channels_lost", NULL, -1);
	c->ad->shards[c->shard].n--;
	uv_timer_stop(&c->timer);
	ad->closing_handles++;
	uv_close((uv_handle_t *)&c->timer, cam_timer_closed);
}

/* A shard with room, created when all are full. */
static int shard_pick(struct onvif_adapter *ad, size_t *ret)
{
	for (size_t i = 0; i < ad->n_shards; i++) {
		if (ad->shards[i].n < CAMERAS_PER_SHARD) {
			*ret = i;
			return 0;
		}
	}
	struct shard *v = realloc(ad->shards, (ad->n_shards + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ad->shards = v;
	struct agw_curl_loop *h;
	int rc = agw_curl_loop_new(ad->ctx->loop, &h);
	if (rc < 0)
		return rc;
	/* one kept-alive connection per camera, and room for reconnects */
	agw_curl_loop_set_max_connections(h, CAMERAS_PER_SHARD + CAMERAS_PER_SHARD / 4);
	v[ad->n_shards].http = h;
	v[ad->n_shards].n = 0;
	*ret = ad->n_shards++;
	return 0;
}

static int onvif_camera_add(void *priv, const struct agw_camera *camera)
{
	struct onvif_adapter *ad = priv;
	if (ad->stopping)
		return -ECANCELED;
	if (agw_onvif_cam_find(ad, camera->id))
		return -EEXIST;
	/* an NVR's channel (or a device's own channel): a route to the device's camera */
	int rc = camera->device || camera->channel > 0 ? agw_onvif_routes_add(ad, camera) : 0;
	if (rc < 0 || camera->device)
		return rc; /* a channel row opens no connection of its own */
	struct cam *c;
	size_t shard;
	rc = shard_pick(ad, &shard);
	if (rc == 0)
		rc = cam_new(ad, camera, &c);
	if (rc < 0) {
		char safe[512];
		agw_log_err(COMPONENT, camera->id, "unusable camera address %s: %s",
			    agw_url_redact(camera->address ? camera->address : "", safe, sizeof(safe)), strerror(-rc));
		agw_onvif_routes_remove(ad, camera->id);
		return rc;
	}
	c->shard = shard;
	ad->shards[shard].n++;
	list_add(&ad->cams, c);
	ad->n_cams++;
	agw_metric_set("agw_onvif_cameras", NULL, (int64_t)ad->n_cams);
	agw_onvif_subscription_load(c); /* kept by the previous run: resumed by the bootstrap */
	agw_onvif_sources_load(c);      /* an NVR's channels, as the previous run learned them */
	if (ad->started)
		agw_onvif_cam_begin(c);
	return 0;
}

static void onvif_camera_remove(void *priv, const char *camera_id)
{
	struct onvif_adapter *ad = priv;
	agw_onvif_routes_remove(ad, camera_id);
	struct cam *c = agw_onvif_cam_find(ad, camera_id);
	if (!c)
		return;
	/* out of the list at once (it may be added again under the same id), then the one way out:
	 * the pull under way finishes, the subscription is given back (a one-subscriber camera
	 * refuses whoever comes next otherwise), then it closes */
	cam_unlink(c);
	list_add(&ad->retired, c);
	agw_onvif_cam_leave(c, true);
}

/* ---- lifecycle ---- */

static int onvif_init(void *priv, struct agw_adapter_ctx *ctx)
{
	struct onvif_adapter *ad = priv;
	ad->ctx = ctx;
	const char *auth = ad->auth ? ad->auth : "auto";
	if (!strcmp(auth, "auto") || !strcmp(auth, "both"))
		ad->auth_mode = AUTH_AUTO;
	else if (!strcmp(auth, "wsse"))
		ad->auth_mode = AUTH_WSSE;
	else if (!strcmp(auth, "digest"))
		ad->auth_mode = AUTH_DIGEST;
	else if (!strcmp(auth, "none"))
		ad->auth_mode = AUTH_NONE;
	else {
		agw_log_err(COMPONENT, NULL, "auth must be auto, both, wsse, digest or none, not \"%s\"", auth);
		return -EINVAL;
	}
	if (ad->backoff_max_ms < ad->backoff_min_ms)
		ad->backoff_max_ms = ad->backoff_min_ms;
	if (ad->renew_margin_ms + ad->pull_timeout_ms >= ad->termination_ms) {
		agw_log_err(COMPONENT, NULL, "termination_time must be longer than pull_timeout + renew_margin");
		return -EINVAL;
	}
	iso_duration(ad->pull_timeout_ms, ad->pull_duration, sizeof(ad->pull_duration));
	iso_duration(ad->termination_ms, ad->term_duration, sizeof(ad->term_duration));
	if (ad->topic_table && *ad->topic_table) {
		char err[512];
		int rc = agw_onvif_topic_table_load(ad->topic_table, &ad->table, err, sizeof(err));
		if (rc < 0) {
			agw_log_err(COMPONENT, NULL, "topic table: %s", err);
			return rc;
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	if (!(ad->soap = agw_onvif_soap_new())) {
		agw_onvif_topic_table_free(ad->table);
		ad->table = NULL;
		return -ENOMEM;
	}
	uv_timer_init(ctx->loop, &ad->stop_timer);
	ad->stop_timer.data = ad;
	return 0;
}

static int onvif_start(void *priv)
{
	struct onvif_adapter *ad = priv;
	ad->started = true;
	for (struct cam *c = ad->cams; c; c = c->next)
		agw_onvif_cam_begin(c);
	return 0;
}

static void http_closed(void *arg)
{
	struct onvif_adapter *ad = arg;
	ad->closing_handles--;
	agw_onvif_maybe_finish_stop(ad);
}

static void stop_timer_closed(uv_handle_t *h)
{
	struct onvif_adapter *ad = h->data;
	ad->closing_handles--;
	agw_onvif_maybe_finish_stop(ad);
}

static void grabber_stopped(void *arg)
{
	struct onvif_adapter *ad = arg;
	ad->grabber = NULL;
	ad->closing_handles--;
	agw_onvif_maybe_finish_stop(ad);
}

/* Second half of stop: cancel what is left, close every handle; stopped() when all are closed. */
static void finish_stop(struct onvif_adapter *ad)
{
	if (ad->finishing)
		return;
	ad->finishing = true;
	agw_log_info(COMPONENT, NULL, "closing %zu cameras and %zu connection pools", ad->n_cams, ad->n_shards);
	while (ad->cams) {
		struct cam *c = ad->cams;
		cam_unlink(c);
		agw_onvif_cam_close(c);
	}
	while (ad->retired) {
		struct cam *c = ad->retired;
		/* cut by the stop deadline: a pull that never answered took nothing, so a kept
		 * subscription is still worth resuming */
		if (c->state == CAM_LEAVING && c->leave_keep && !c->leave_unsubscribe)
			agw_onvif_subscription_saved(c);
		agw_onvif_list_del(&ad->retired, c);
		agw_onvif_cam_close(c);
	}
	ad->closing_handles += 1; /* the stop timer */
	uv_timer_stop(&ad->stop_timer);
	uv_close((uv_handle_t *)&ad->stop_timer, stop_timer_closed);
	ad->closing_handles += (int)ad->n_shards;
	for (size_t i = 0; i < ad->n_shards; i++) {
		agw_curl_loop_close(ad->shards[i].http, http_closed, ad);
		ad->shards[i].http = NULL;
	}
	if (ad->grabber) {
		ad->closing_handles++;
		agw_rtsp_grabber_stop(ad->grabber, grabber_stopped, ad);
	}
}

void agw_onvif_maybe_finish_stop(struct onvif_adapter *ad)
{
	if (!ad->stopping)
		return;
	if (!ad->finishing) {
		if (ad->leaving <= 0)
			finish_stop(ad);
		return;
	}
	if (ad->closing_handles == 0)
		ad->ctx->stopped(ad->ctx);
}

static void stop_timeout(uv_timer_t *t)
{
	struct onvif_adapter *ad = t->data;
	if (ad->leaving > 0)
		agw_log_info(COMPONENT, NULL, "%d cameras still finishing a pull or an Unsubscribe at the stop deadline: "
			     "cancelled", ad->leaving);
	finish_stop(ad);
}

/* Every camera leaves the one way (onvif_leave.c): the pull under way finishes within
 * stop_timeout and its events are emitted, then the subscription is kept for the next start (the
 * default) or given back (unsubscribe_on_stop). */
static void onvif_stop(void *priv)
{
	struct onvif_adapter *ad = priv;
	if (ad->stopping)
		return;
	ad->stopping = true;
	size_t n = ad->n_cams;
	while (ad->cams) {
		struct cam *c = ad->cams;
		cam_unlink(c);
		list_add(&ad->retired, c);
		agw_onvif_cam_leave(c, ad->unsubscribe_on_stop);
	}
	agw_log_info(COMPONENT, NULL, "stopping: %zu cameras, %d finishing a pull or %s", n, ad->leaving,
		     ad->unsubscribe_on_stop ? "giving back their subscription" : "(subscriptions kept for the next start)");
	if (ad->leaving > 0)
		uv_timer_start(&ad->stop_timer, stop_timeout, (uint64_t)ad->stop_timeout_ms, 0);
	agw_onvif_maybe_finish_stop(ad);
}

static void onvif_resume(void *priv)
{
	agw_onvif_resume(priv);
}

static void onvif_uninit(void *priv)
{
	struct onvif_adapter *ad = priv;
	/* normally empty: stop() closed every camera */
	while (ad->cams) {
		struct cam *c = ad->cams;
		cam_unlink(c);
		cam_free(c);
	}
	while (ad->retired) {
		struct cam *c = ad->retired;
		agw_onvif_list_del(&ad->retired, c);
		cam_free(c);
	}
	agw_rtsp_grabber_abandon(ad->grabber); /* normally gone: stop() ended it */
	ad->grabber = NULL;
	agw_onvif_soap_free(ad->soap);
	ad->soap = NULL;
	agw_onvif_topic_table_free(ad->table);
	ad->table = NULL;
	agw_onvif_routes_free(ad);
	free(ad->shards); /* their multi handles were closed by stop() */
	ad->shards = NULL;
	ad->n_shards = 0;
}

#define OPT(field) offsetof(struct onvif_adapter, field)

static const struct agw_option onvif_options[] = {
	{"connect_timeout", AGW_OPT_DURATION, OPT(connect_timeout_ms), "5s", 100, 120000, false,
	 "TCP connect timeout per request"},
	{"request_timeout", AGW_OPT_DURATION, OPT(request_timeout_ms), "10s", 100, 300000, false,
	 "time a camera has to answer a request (added to pull_timeout for PullMessages)"},
	{"pull_timeout", AGW_OPT_DURATION, OPT(pull_timeout_ms), "10s", 1000, 600000, false,
	 "PullMessages long-poll timeout sent to the camera"},
	{"message_limit", AGW_OPT_INT, OPT(message_limit), "100", 1, 10000, false,
	 "most messages one PullMessages may return"},
	{"termination_time", AGW_OPT_DURATION, OPT(termination_ms), "5m", 10000, 86400000, false,
	 "relative subscription lifetime asked for (CreatePullPointSubscription, Renew)"},
	{"renew_margin", AGW_OPT_DURATION, OPT(renew_margin_ms), "15s", 1000, 3600000, false,
	 "renew when the subscription has less than this (plus one pull) left"},
	{"backoff_min", AGW_OPT_DURATION, OPT(backoff_min_ms), "1s", 10, 3600000, false,
	 "first retry delay after a failure (doubles each time, with jitter)"},
	{"backoff_max", AGW_OPT_DURATION, OPT(backoff_max_ms), "60s", 10, 86400000, false, "longest retry delay"},
	{"max_response_bytes", AGW_OPT_INT, OPT(max_response_bytes), "1048576", 4096, 16777216, false,
	 "larger camera answers are cut there: what was received is read, the rest named in an events_lost alert"},
	{"max_bootstraps", AGW_OPT_INT, OPT(max_bootstraps), "64", 1, 100000, false,
	 "cameras bootstrapping (time, services, subscription) at the same time"},
	{"unsubscribe_on_stop", AGW_OPT_BOOL, OPT(unsubscribe_on_stop), "false", 0, 0, false,
	 "give every subscription back when the gateway stops (false: keep them, the next start resumes "
	 "them and gets what the cameras queued meanwhile)"},
	{"unsubscribe_timeout", AGW_OPT_DURATION, OPT(unsubscribe_timeout_ms), "2s", 100, 4000, false,
	 "time a camera has to answer an Unsubscribe"},
	{"stop_timeout", AGW_OPT_DURATION, OPT(stop_timeout_ms), "3s", 100, 4000, false,
	 "how long stopping lets PullMessages under way finish (their events are kept) and Unsubscribes answer"},
	{"pull_min_interval", AGW_OPT_DURATION, OPT(pull_min_interval_ms), "500ms", 0, 60000, false,
	 "least time between two empty pulls (cameras that ignore the long-poll timeout)"},
	{"auth", AGW_OPT_STRING, OPT(auth), "auto", 0, 0, false,
	 "auto (WS-Security, plus HTTP Digest when challenged), wsse, digest, or none"},
	{"tls_verify", AGW_OPT_BOOL, OPT(tls_verify), "true", 0, 0, false,
	 "verify https cameras' certificates (false accepts self-signed ones)"},
	{"ca_file", AGW_OPT_PATH, OPT(ca_file), NULL, 0, 0, false, "CA bundle for https cameras"},
	{"keyframe_threads", AGW_OPT_INT, OPT(keyframe_threads), "2", 1, 64, false,
	 "threads decoding a keyframe of the stream for evidence pictures of cameras without a snapshot URI "
	 "(started with the first such camera)"},
	{"topic_table", AGW_OPT_PATH, OPT(topic_table), NULL, 0, 0, false,
	 "file of extra topic-to-kind lines (syntax: share/alarmgw/onvif-topics.conf)"},
	{NULL, 0, 0, NULL, 0, 0, false, NULL},
};

/* An ONVIF ledger address: host[:port] or an http(s) URL of the device service. */
static const char *onvif_check_address(const char *address)
{
	if (strstr(address, "://") && strncasecmp(address, "http://", 7) != 0 && strncasecmp(address, "https://", 8) != 0)
		return "an onvif camera needs host[:port] or an http:// or https:// URL";
	return NULL;
}

static int load_table(const struct onvif_adapter *opts, struct agw_onvif_topic_table **ret, char *err, size_t errlen)
{
	*ret = NULL;
	if (!opts->topic_table || !*opts->topic_table)
		return 0;
	return agw_onvif_topic_table_load(opts->topic_table, ret, err, errlen);
}

static int onvif_check(const void *priv, char *err, size_t errlen)
{
	struct agw_onvif_topic_table *t = NULL;
	int r = load_table(priv, &t, err, errlen); /* the loader's message names the file and line */
	agw_onvif_topic_table_free(t);
	return r;
}

static int onvif_normalize_document(const void *priv, const char *buf, size_t len,
				    int (*fn)(void *arg, struct agw_alert *alert), void *arg, char *err, size_t errlen)
{
	struct agw_onvif_topic_table *t = NULL;
	int r = load_table(priv, &t, err, errlen);
	if (r >= 0)
		r = agw_onvif_normalize(buf, len, t, fn, arg, err, errlen);
	agw_onvif_topic_table_free(t);
	return r;
}

const struct agw_adapter agw_adapter_onvif = {
	.name = "onvif",
	.description = "ONVIF cameras: PullPoint event subscriptions (gSOAP bindings on libcurl multi)",
	.protocol = "onvif",
	.subscribes = true,
	.channels = true,      /* NVRs: one device, several video sources (onvif_sources.c) */
	.source_tokens = true,
	.priv_size = sizeof(struct onvif_adapter),
	.options = onvif_options,
	.init = onvif_init,
	.start = onvif_start,
	.stop = onvif_stop,
	.uninit = onvif_uninit,
	.camera_add = onvif_camera_add,
	.camera_remove = onvif_camera_remove,
	.resume = onvif_resume,
	.snapshot = agw_onvif_snapshot,
	.snapshot_cancel = agw_onvif_snapshot_cancel,
	.check_address = onvif_check_address,
	.table_option = "topic_table",
	.check = onvif_check,
	.normalize = onvif_normalize_document,
};
