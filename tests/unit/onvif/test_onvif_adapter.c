/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ONVIF adapter's camera without a network: a camera is put in the state it would have after
 * subscribing, handed a PullMessages answer as curl would have received it, and what reaches the
 * core is recorded by this test's own emit() (which can refuse, as the core does under
 * back-pressure). The camera's address is a closed local port: requests it starts fail fast and
 * are cancelled by stop() before the loop ever runs them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alarmgw/adapter.h"
#include "alarmgw/alert.h"
#include "onvif_camera.h"

extern const struct agw_adapter agw_adapter_onvif;

#define MAX_ALERTS 64

struct harness {
	uv_loop_t loop;
	struct agw_adapter_ctx ctx;
	struct onvif_adapter *ad;
	struct cam *c;
	struct agw_alert got[MAX_ALERTS];
	size_t n_got;
	int accept;     /* alerts still accepted before refusing; -1 = accept all */
	int refusals;
	bool stopped;
	char *stored;   /* the durable state's "subscription" value, as state_put left it */
	int puts;
};

static struct harness *H;

static int test_emit(struct agw_adapter_ctx *ctx, const struct agw_alert *a)
{
	(void)ctx;
	if (H->accept == 0) {
		H->refusals++;
		return -EAGAIN;
	}
	if (H->accept > 0)
		H->accept--;
	assert_true(H->n_got < MAX_ALERTS);
	agw_alert_init(&H->got[H->n_got]);
	assert_int_equal(agw_alert_copy(&H->got[H->n_got], a), 0);
	H->n_got++;
	return 0;
}

static int test_state_put(struct agw_adapter_ctx *ctx, const char *camera_id, const char *key, const char *value)
{
	(void)ctx;
	assert_string_equal(camera_id, "cam-1");
	assert_string_equal(key, "subscription");
	free(H->stored);
	H->stored = value ? strdup(value) : NULL;
	H->puts++;
	return 0;
}

static int test_state_get(struct agw_adapter_ctx *ctx, const char *camera_id, const char *key, char **ret_value)
{
	(void)ctx;
	(void)key;
	if (!H->stored || strcmp(camera_id, "cam-1") != 0)
		return -ENOENT;
	*ret_value = strdup(H->stored);
	return 0;
}

static void test_stopped(struct agw_adapter_ctx *ctx)
{
	(void)ctx;
	H->stopped = true;
}

static char *read_fixture(const char *name, size_t *ret_len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/onvif/%s", AGW_FIXTURES, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*ret_len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*ret_len] = '\0';
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	H = h;
	assert_int_equal(uv_loop_init(&h->loop), 0);
	h->accept = -1;
	h->ctx = (struct agw_adapter_ctx){.loop = &h->loop, .name = "onvif", .state_dir = "/nonexistent",
					  .emit = test_emit, .stopped = test_stopped};
	struct onvif_adapter *ad = calloc(1, agw_adapter_onvif.priv_size);
	assert_non_null(ad);
	/* the option table's defaults */
	ad->connect_timeout_ms = 5000;
	ad->request_timeout_ms = 10000;
	ad->pull_timeout_ms = 10000;
	ad->message_limit = 100;
	ad->termination_ms = 60000;
	ad->renew_margin_ms = 15000;
	ad->backoff_min_ms = 1000;
	ad->backoff_max_ms = 60000;
	ad->max_response_bytes = 1048576;
	ad->max_bootstraps = 64;
	ad->unsubscribe_timeout_ms = 2000;
	ad->stop_timeout_ms = 3000;
	ad->pull_min_interval_ms = 500;
	ad->tls_verify = true;
	assert_int_equal(agw_adapter_onvif.init(ad, &h->ctx), 0);
	h->ad = ad;
	struct agw_camera cam = {.id = (char *)"cam-1", .address = (char *)"127.0.0.1:9", .protocol = (char *)"onvif"};
	assert_int_equal(agw_adapter_onvif.camera_add(ad, &cam), 0);
	h->c = ad->cams;
	assert_non_null(h->c);
	assert_int_equal(h->c->state, CAM_IDLE);
	/* as after CreatePullPointSubscription */
	agw_onvif_cam_set_state(h->c, CAM_BOOTSTRAP);
	agw_onvif_cam_set_state(h->c, CAM_PULLING);
	h->c->sub_url = strdup("http://127.0.0.1:9/onvif/subscription?Idx=1");
	h->c->term_deadline_ms = onvif_now_ms(ad) + 60000;
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct harness *h = *state;
	agw_adapter_onvif.stop(h->ad);
	for (int i = 0; i < 1000 && !h->stopped; i++)
		uv_run(&h->loop, UV_RUN_ONCE);
	assert_true(h->stopped);
	agw_adapter_onvif.uninit(h->ad);
	free(h->ad);
	assert_int_equal(uv_loop_close(&h->loop), 0);
	for (size_t i = 0; i < h->n_got; i++)
		agw_alert_clear(&h->got[i]);
	free(h->stored);
	free(h);
	return 0;
}

/* The camera receives buf as the answer to its PullMessages. */
static void answer_pull(struct harness *h, const char *buf, size_t len)
{
	struct cam *c = h->c;
	c->op = AGW_ONVIF_PULL_MESSAGES;
	c->sent_ms = onvif_now_ms(h->ad);
	c->resp_len = 0;
	c->resp_too_big = false;
	size_t chunk = 4096;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		if (agw_onvif_cam_write_cb((char *)buf + off, 1, n, c) != n)
			break; /* over max_response_bytes: curl aborts the transfer */
	}
	if (c->resp_too_big) {
		c->busy = true;
		agw_onvif_cam_done(&c->req, CURLE_WRITE_ERROR);
		return;
	}
	agw_onvif_cam_handle_pull(c, onvif_now_ms(h->ad));
}

static const char *item(const struct agw_alert *a, const char *name)
{
	return agw_items_get(&a->data, name);
}

/* A PullMessages answer cut in the middle of its second message: the first message is kept, and
 * an events_lost alert says what could not be read (reason, bytes). */
static void test_malformed_answer_keeps_messages(void **state)
{
	struct harness *h = *state;
	size_t len;
	char *doc = read_fixture("hikvision_pull.xml", &len);
	char *second = strstr(strstr(doc, "</wsnt:NotificationMessage>"), "<tt:Data>");
	assert_non_null(second);
	strcpy(second, "<tt:Broken attr=\"unterminated></env:Body>");
	len = strlen(doc);
	answer_pull(h, doc, len);
	assert_int_equal(h->n_got, 2);
	assert_int_equal(h->got[0].kind, AGW_KIND_MOTION);
	assert_string_equal(h->got[0].camera_id, "cam-1");
	assert_int_equal(h->got[1].kind, AGW_KIND_EVENTS_LOST);
	assert_string_equal(h->got[1].camera_id, "cam-1");
	assert_string_equal(item(&h->got[1], "reason"), "malformed");
	char bytes[32];
	snprintf(bytes, sizeof(bytes), "%zu", len);
	assert_string_equal(item(&h->got[1], "bytes"), bytes);
	assert_string_equal(item(&h->got[1], "messages_read"), "1");
	assert_string_equal(item(&h->got[1], "messages_unreadable"), "1");
	assert_non_null(item(&h->got[1], "error"));
	/* the camera goes on pulling the same subscription */
	assert_int_equal(h->c->state, CAM_PULLING);
	free(doc);
}

/* An answer over max_response_bytes: the messages in the part that was received are kept. */
static void test_oversized_answer_keeps_messages(void **state)
{
	struct harness *h = *state;
	size_t len;
	char *doc = read_fixture("hikvision_pull.xml", &len);
	h->ad->max_response_bytes = 4096;
	/* padding after the messages, as a camera that appends a huge comment or payload */
	char *tail = strstr(doc, "</tev:PullMessagesResponse>");
	assert_non_null(tail);
	size_t head = (size_t)(tail - doc);
	char *big = malloc(head + 20000 + strlen(tail) + 16);
	assert_non_null(big);
	memcpy(big, doc, head);
	memcpy(big + head, "<!-- ", 5);
	memset(big + head + 5, 'x', 20000);
	strcpy(big + head + 20005, " -->");
	strcat(big, tail);
	answer_pull(h, big, strlen(big));
	assert_int_equal(h->n_got, 3);
	assert_int_equal(h->got[0].kind, AGW_KIND_MOTION);
	assert_int_equal(h->got[1].kind, AGW_KIND_TAMPER);
	assert_int_equal(h->got[2].kind, AGW_KIND_EVENTS_LOST);
	assert_string_equal(item(&h->got[2], "reason"), "oversized");
	assert_string_equal(item(&h->got[2], "messages_read"), "2");
	assert_string_equal(item(&h->got[2], "bytes_received"), "4096");
	free(big);
	free(doc);
}

/* A PullMessages the gateway gives up (timeout) while the camera was answering: what arrived is
 * read, and events_lost names the answer nobody will read (once per outage). */
static void test_abandoned_pull_named(void **state)
{
	struct harness *h = *state;
	size_t len;
	char *doc = read_fixture("hikvision_pull.xml", &len);
	char *second = strstr(strstr(doc, "</wsnt:NotificationMessage>"), "<tt:Data>");
	assert_non_null(second);
	struct cam *c = h->c;
	c->op = AGW_ONVIF_PULL_MESSAGES;
	c->resp_len = 0;
	assert_int_equal(agw_onvif_cam_write_cb(doc, 1, (size_t)(second - doc), c), (size_t)(second - doc));
	c->busy = true;
	agw_onvif_cam_done(&c->req, CURLE_OPERATION_TIMEDOUT);
	assert_int_equal(h->n_got, 3);
	assert_int_equal(h->got[0].kind, AGW_KIND_MOTION);
	assert_int_equal(h->got[1].kind, AGW_KIND_EVENTS_LOST);
	assert_string_equal(item(&h->got[1], "reason"), "pull_timeout");
	assert_string_equal(item(&h->got[1], "messages_read"), "1");
	assert_int_equal(h->got[2].kind, AGW_KIND_CAMERA_OFFLINE);
	assert_int_equal(h->got[2].active, AGW_ACTIVE_TRUE);
	/* the subscription may outlive the outage: the same one is pulled again later */
	assert_int_equal(c->state, CAM_PULLING);
	assert_false(c->busy);
	free(doc);
}

/* The core refuses the second event: it is kept, the camera stops pulling, and on resume() the
 * kept event goes first, then the camera pulls again. */
static void test_backpressure_keeps_events(void **state)
{
	struct harness *h = *state;
	size_t len;
	char *doc = read_fixture("hikvision_pull.xml", &len);
	h->accept = 1;
	answer_pull(h, doc, len);
	assert_int_equal(h->n_got, 1);
	assert_int_equal(h->got[0].kind, AGW_KIND_MOTION);
	assert_true(h->refusals >= 1);
	assert_false(h->c->busy); /* no new PullMessages while the core refuses */
	assert_int_equal(h->c->state, CAM_HELD);
	/* still refusing: resume() is only called when there is room, but a second refusal is fine */
	assert_non_null(agw_adapter_onvif.resume);
	agw_adapter_onvif.resume(h->ad);
	assert_int_equal(h->n_got, 1);
	assert_false(h->c->busy);
	h->accept = -1;
	agw_adapter_onvif.resume(h->ad);
	assert_int_equal(h->n_got, 2);
	assert_int_equal(h->got[1].kind, AGW_KIND_TAMPER);
	assert_int_equal(h->c->state, CAM_PULLING);
	assert_true(h->c->busy);
	assert_int_equal(h->c->op, AGW_ONVIF_PULL_MESSAGES);
	free(doc);
}

/* A refused health edge is retried until accepted, in order with the events. */
static void test_health_edge_retried(void **state)
{
	struct harness *h = *state;
	h->accept = 0;
	agw_onvif_cam_set_offline(h->c, true, "timeout");
	agw_onvif_cam_set_offline(h->c, false, NULL);
	assert_int_equal(h->n_got, 0);
	h->accept = -1;
	assert_non_null(agw_adapter_onvif.resume);
	agw_adapter_onvif.resume(h->ad);
	assert_int_equal(h->n_got, 2);
	assert_int_equal(h->got[0].kind, AGW_KIND_CAMERA_OFFLINE);
	assert_int_equal(h->got[0].active, AGW_ACTIVE_TRUE);
	assert_int_equal(h->got[1].kind, AGW_KIND_CAMERA_OFFLINE);
	assert_int_equal(h->got[1].active, AGW_ACTIVE_FALSE);
}

/* The subscription's renew deadline is a duration: it runs on the loop's monotonic clock
 * (uv_now), so a wall clock step (NTP, an operator) neither renews too late nor storms. */
static void test_deadline_on_monotonic_clock(void **state)
{
	struct harness *h = *state;
	struct cam *c = h->c;
	const char *xml =
		"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope' xmlns:a='http://www.w3.org/2005/08/addressing' "
		"xmlns:tev='http://www.onvif.org/ver10/events/wsdl' xmlns:wsnt='http://docs.oasis-open.org/wsn/b-2'><s:Body>"
		"<wsnt:RenewResponse><wsnt:TerminationTime>2026-11-22T08:01:00Z</wsnt:TerminationTime>"
		"<wsnt:CurrentTime>2026-11-22T08:00:00Z</wsnt:CurrentTime></wsnt:RenewResponse></s:Body></s:Envelope>";
	c->op = AGW_ONVIF_RENEW;
	c->resp_len = 0;
	assert_int_equal(agw_onvif_cam_write_cb((char *)xml, 1, strlen(xml), c), strlen(xml));
	uv_update_time(&h->loop);
	int64_t mono = (int64_t)uv_now(&h->loop);
	agw_onvif_cam_handle_response(c, onvif_now_ms(h->ad));
	assert_true(c->term_deadline_ms >= mono + 59000 && c->term_deadline_ms <= mono + 61000);
	/* and the retry delays come from the project's backoff: [min/2..min] floored at min */
	c->failures = 0;
	assert_int_equal(agw_onvif_cam_backoff_ms(c), 1000);
	c->failures = 3;
	int64_t d = agw_onvif_cam_backoff_ms(c);
	assert_true(d >= 4000 && d <= 8000);
	assert_int_equal(c->failures, 4);
}

/* A stop keeps the subscription (unsubscribe_on_stop is false by default): its address,
 * ReferenceParameters and termination time are stored, and a camera added by the next start
 * finds them and resumes (Renew) instead of subscribing anew. */
static void test_stop_keeps_subscription(void **state)
{
	struct harness *h = *state;
	h->ctx.state_put = test_state_put;
	h->ctx.state_get = test_state_get;
	free(h->c->sub_refs);
	h->c->sub_refs = strdup("<dom0:SubscriptionId xmlns:dom0=\"http://www.axis.com/2009/event\">7</dom0:SubscriptionId>");
	agw_adapter_onvif.stop(h->ad);
	for (int i = 0; i < 1000 && !h->stopped; i++)
		uv_run(&h->loop, UV_RUN_ONCE);
	assert_true(h->stopped);
	assert_non_null(h->stored);
	long long term = strtoll(h->stored, NULL, 10);
	int64_t left = term - agw_now_ms();
	assert_true(left > 55000 && left <= 60000);
	assert_non_null(strstr(h->stored, "\nhttp://127.0.0.1:9/onvif/subscription?Idx=1\n<dom0:SubscriptionId"));
	agw_adapter_onvif.uninit(h->ad);
	free(h->ad);

	/* the next start */
	h->stopped = false;
	struct onvif_adapter *ad = calloc(1, agw_adapter_onvif.priv_size);
	assert_non_null(ad);
	ad->connect_timeout_ms = 5000;
	ad->request_timeout_ms = 10000;
	ad->pull_timeout_ms = 10000;
	ad->message_limit = 100;
	ad->termination_ms = 60000;
	ad->renew_margin_ms = 15000;
	ad->backoff_min_ms = 1000;
	ad->backoff_max_ms = 60000;
	ad->max_response_bytes = 1048576;
	ad->max_bootstraps = 64;
	ad->unsubscribe_timeout_ms = 2000;
	ad->stop_timeout_ms = 3000;
	assert_int_equal(agw_adapter_onvif.init(ad, &h->ctx), 0);
	h->ad = ad;
	struct agw_camera cam = {.id = (char *)"cam-1", .address = (char *)"127.0.0.1:9", .protocol = (char *)"onvif"};
	assert_int_equal(agw_adapter_onvif.camera_add(ad, &cam), 0);
	struct cam *c = ad->cams;
	assert_true(c->sub_resumable);
	assert_string_equal(c->sub_url, "http://127.0.0.1:9/onvif/subscription?Idx=1");
	assert_non_null(strstr(c->sub_refs, "SubscriptionId"));
	int64_t mono_left = c->term_deadline_ms - onvif_now_ms(ad);
	assert_true(mono_left > 50000 && mono_left <= 60000);
	/* the camera no longer knows it: forgotten, and a new subscription is asked for */
	agw_onvif_cam_set_state(c, CAM_BOOTSTRAP);
	agw_onvif_subscription_resume_failed(c, "HTTP 404");
	assert_null(c->sub_url);
	assert_false(c->sub_resumable);
	assert_null(h->stored);
	assert_true(c->busy);
	assert_int_equal(c->op, AGW_ONVIF_GET_SERVICES);
	h->c = c;
}

/* A stored subscription whose stored time has passed is still tried: Renews after the last store
 * (before a SIGKILL) may have kept it alive on the camera; the camera says when it does not know
 * it any more (then a new subscription). The chaos test lost the events a camera kept queueing to
 * such a subscription while the gateway subscribed anew beside it. */
static void test_past_subscription_still_tried(void **state)
{
	struct harness *h = *state;
	h->ctx.state_put = test_state_put;
	h->ctx.state_get = test_state_get;
	char buf[256];
	snprintf(buf, sizeof(buf), "%lld\nhttp://127.0.0.1:9/onvif/subscription?Idx=4\n", (long long)(agw_now_ms() - 1000));
	h->stored = strdup(buf);
	struct agw_camera cam = {.id = (char *)"cam-1", .address = (char *)"127.0.0.1:9", .protocol = (char *)"onvif"};
	/* a subscribed camera removed from the ledger gives its subscription back first */
	agw_adapter_onvif.camera_remove(h->ad, "cam-1");
	assert_true(h->c->busy);
	assert_int_equal(h->c->op, AGW_ONVIF_UNSUBSCRIBE);
	assert_int_equal(h->c->state, CAM_LEAVING);
	assert_non_null(h->stored);
	h->c->resp_len = 0;
	agw_onvif_cam_done(&h->c->req, CURLE_OK); /* whatever the answer: given back */
	assert_null(h->stored); /* and forgets what it stored */
	h->stored = strdup(buf);
	assert_int_equal(agw_adapter_onvif.camera_add(h->ad, &cam), 0);
	assert_non_null(h->ad->cams->sub_url);
	assert_string_equal(h->ad->cams->sub_url, "http://127.0.0.1:9/onvif/subscription?Idx=4");
	assert_true(h->ad->cams->sub_resumable);
	assert_non_null(h->stored);
	h->c = h->ad->cams;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_malformed_answer_keeps_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_answer_keeps_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandoned_pull_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure_keeps_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_edge_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline_on_monotonic_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_keeps_subscription, setup, teardown),
		cmocka_unit_test_setup_teardown(test_past_subscription_still_tried, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
