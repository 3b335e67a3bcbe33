/* SPDX-License-Identifier: GPL-2.0-or-later */
/* agw-mqtt-driver: the publisher on a store, for the integration tests. Pushes numbered case rows
 * into the outbox (as the decider would, one transaction per batch, then kick), publishes camera
 * health, prints feedback and connection changes on stdout, and stops on a condition:
 *   CONNECTED / DISCONNECTED      connection state changes
 *   FEEDBACK <case_id> <status>   a valid feedback message
 *   PUSHED <n>                    all rows pushed
 *   STOPPED acked=<n> remaining=<rows in the outbox>
 *   METRIC <name>{<labels>} <value>   (with --metrics, at exit)
 * Case ids are "<case-prefix>-<i>" for i in [start, start+push); --topic-of I=TOPIC sends case I to
 * TOPIC instead of its cell's topic (a case routed where an ACL refuses it). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "health_out.h"
#include "publisher.h"
#include "store.h"

static struct {
	const char *db;
	long long push, start, batch, interval_ms, size, run_ms, resend_ms;
	const char *case_prefix;
	int until_empty, metrics;
	char *health[64];
	int n_health;
	long long health_count, health_flip_ms; /* cameras cam-h<i> offline at start, online after flip */
	long long odd_index;  /* the row of this index goes to odd_topic */
	const char *odd_topic;
} o = {.batch = 500, .interval_ms = 10, .size = 300, .case_prefix = "c", .resend_ms = -1};

static struct agw_config cfg;
static struct agw_store *store;
static struct agw_publisher *pub;
static uv_timer_t push_timer, poll_timer, flip_timer;
static uv_signal_t sigterm, sigint;
static long long pushed;
static int was_connected = -1, stopping;
static uint64_t started_ms;

static int on_feedback(void *arg, const char *case_id, const char *status, const char *by, const char *note)
{
	(void)arg;
	(void)note;
	if (*by)
		printf("FEEDBACK %s %s by=%s\n", case_id, status, by);
	else
		printf("FEEDBACK %s %s\n", case_id, status);
	fflush(stdout);
	return 0;
}

static int push_batch(void)
{
	char topic[128], *payload = malloc((size_t)o.size + 256);
	if (!payload)
		return -ENOMEM;
	int r = agw_store_begin(store);
	for (long long k = 0; r == 0 && k < o.batch && pushed < o.push; k++, pushed++) {
		long long i = o.start + pushed;
		char id[64];
		snprintf(id, sizeof(id), "%s-%lld", o.case_prefix, i);
		if (o.odd_topic && i == o.odd_index)
			snprintf(topic, sizeof(topic), "%s", o.odd_topic);
		else
			snprintf(topic, sizeof(topic), "%s/cases/d%lld/g%lld", cfg.mqtt.topic_prefix, i % 3, i % 7);
		int n = snprintf(payload, 256, "{\"case_id\":\"%s\",\"n\":%lld,\"pad\":\"", id, i);
		while (n < o.size - 2)
			payload[n++] = 'x';
		payload[n++] = '"';
		payload[n++] = '}';
		r = agw_store_outbox_push(store, topic, payload, (size_t)n, 1, false, id, cfg.mqtt.outbox_max_rows, NULL);
	}
	free(payload);
	if (r < 0) {
		agw_store_rollback(store);
		return r;
	}
	return agw_store_commit(store);
}

static void push_cb(uv_timer_t *t)
{
	if (stopping)
		return;
	int r = push_batch();
	if (r < 0) {
		fprintf(stderr, "push failed: %s\n", strerror(-r));
		exit(1);
	}
	agw_publisher_kick(pub);
	if (pushed >= o.push) {
		uv_timer_stop(t);
		printf("PUSHED %lld\n", pushed);
		fflush(stdout);
	}
}

/* Health goes through the outbox as the daemon writes it: a health edge per camera. */
static int push_health(const char *camera, const char *state)
{
	struct agw_alert a = {.camera_id = (char *)camera, .gateway_time_ms = agw_now_ms()};
	if (strcmp(state, "event_channel_lost") == 0) {
		a.kind = AGW_KIND_EVENT_CHANNEL_LOST;
		a.active = AGW_ACTIVE_TRUE;
	} else {
		a.kind = AGW_KIND_CAMERA_OFFLINE;
		a.active = strcmp(state, "offline") == 0 ? AGW_ACTIVE_TRUE : AGW_ACTIVE_FALSE;
	}
	return agw_health_outbox_push(store, &cfg, &a) == 1 ? 0 : -EINVAL;
}

static void set_all_health(const char *state)
{
	if (!o.health_count || agw_store_begin(store) < 0)
		return;
	for (long long i = 0; i < o.health_count; i++) {
		char id[32];
		snprintf(id, sizeof(id), "cam-h%05lld", i);
		if (push_health(id, state) < 0)
			fprintf(stderr, "health %s refused\n", id);
	}
	agw_store_commit(store);
	agw_publisher_kick(pub);
}

static void flip_cb(uv_timer_t *t)
{
	set_all_health("online");
	printf("FLIPPED\n");
	fflush(stdout);
}

static void print_metric(const char *name, const char *labels, int64_t value, void *arg)
{
	printf("METRIC %s{%s} %lld\n", name, labels, (long long)value);
}

static void stopped(void *arg)
{
	printf("STOPPED acked=%lld remaining=%lld\n", agw_publisher_acked(pub), (long long)agw_store_outbox_count(store));
	if (o.metrics)
		agw_metrics_foreach(print_metric, NULL);
	fflush(stdout);
	uv_close((uv_handle_t *)&push_timer, NULL);
	uv_close((uv_handle_t *)&poll_timer, NULL);
	uv_close((uv_handle_t *)&flip_timer, NULL);
	uv_close((uv_handle_t *)&sigterm, NULL);
	uv_close((uv_handle_t *)&sigint, NULL);
}

static void begin_stop(void)
{
	if (stopping)
		return;
	stopping = 1;
	uv_timer_stop(&push_timer);
	uv_timer_stop(&poll_timer);
	uv_timer_stop(&flip_timer);
	agw_publisher_stop(pub, stopped, NULL);
}

static void poll_cb(uv_timer_t *t)
{
	int c = agw_publisher_connected(pub);
	if (c != was_connected) {
		printf("%s\n", c ? "CONNECTED" : "DISCONNECTED");
		fflush(stdout);
		was_connected = c;
	}
	if (o.until_empty && pushed >= o.push && agw_store_outbox_count(store) == 0)
		begin_stop();
	if (o.run_ms > 0 && uv_now(t->loop) - started_ms >= (uint64_t)o.run_ms)
		begin_stop();
}

static void signal_cb(uv_signal_t *s, int signum)
{
	begin_stop();
}

static void usage(void)
{
	fprintf(stderr, "usage: agw-mqtt-driver --db PATH --uri URI [--version 4|5] [--client-id ID] [--gateway ID]\n"
			"  [--username U --password P] [--ca FILE] [--cert FILE --key FILE] [--inflight N]\n"
			"  [--push N] [--start I] [--batch B] [--interval-ms T] [--size BYTES] [--case-prefix P]\n"
			"  [--feedback-topic T] [--health CAMERA=STATE]... [--resend-window-ms MS]\n"
			"  [--health-count N [--health-flip-ms MS]] [--topic-of I=TOPIC]\n"
			"  [--reconnect-min-ms MS] [--reconnect-max-ms MS] [--clean] [--until-empty] [--run-ms MS] [--metrics]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},         {"uri", required_argument, NULL, 'u'},
		{"version", required_argument, NULL, 'V'},    {"client-id", required_argument, NULL, 'i'},
		{"gateway", required_argument, NULL, 'g'},    {"username", required_argument, NULL, 'U'},
		{"password", required_argument, NULL, 'P'},   {"ca", required_argument, NULL, 'C'},
		{"cert", required_argument, NULL, 'E'},       {"key", required_argument, NULL, 'K'},
		{"inflight", required_argument, NULL, 'w'},   {"push", required_argument, NULL, 'n'},
		{"start", required_argument, NULL, 's'},      {"batch", required_argument, NULL, 'b'},
		{"interval-ms", required_argument, NULL, 't'}, {"size", required_argument, NULL, 'z'},
		{"case-prefix", required_argument, NULL, 'p'}, {"feedback-topic", required_argument, NULL, 'f'},
		{"health", required_argument, NULL, 'H'},     {"resend-window-ms", required_argument, NULL, 'R'},
		{"reconnect-min-ms", required_argument, NULL, 'm'}, {"reconnect-max-ms", required_argument, NULL, 'M'},
		{"clean", no_argument, NULL, 'c'},            {"until-empty", no_argument, NULL, 'e'},
		{"run-ms", required_argument, NULL, 'r'},     {"metrics", no_argument, NULL, 'x'},
		{"health-count", required_argument, NULL, 'N'}, {"health-flip-ms", required_argument, NULL, 'F'},
		{"topic-of", required_argument, NULL, 'T'},   {"help", no_argument, NULL, 'h'},
		{0},
	};
	cfg.gateway_id = strdup("gw-test");
	cfg.mqtt.version = 4;
	cfg.mqtt.keepalive_ms = 10000;
	cfg.mqtt.topic_prefix = strdup("agw");
	cfg.mqtt.status_topic = strdup("{prefix}/gateways/{gateway}/status");
	cfg.mqtt.health_topic = strdup("{prefix}/cameras/{camera}/health");
	cfg.mqtt.feedback_topic = strdup("{prefix}/case-status/{gateway}");
	cfg.mqtt.inflight = 64;
	cfg.mqtt.outbox_max_rows = 0;
	cfg.mqtt.reconnect_min_ms = 200;
	cfg.mqtt.reconnect_max_ms = 2000;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o.db = optarg; break;
		case 'u': cfg.mqtt.uri = optarg; break;
		case 'V': cfg.mqtt.version = atoi(optarg); break;
		case 'i': cfg.mqtt.client_id = optarg; break;
		case 'g': cfg.gateway_id = optarg; break;
		case 'U': cfg.mqtt.username = optarg; break;
		case 'P': cfg.mqtt.password = optarg; break;
		case 'C': cfg.mqtt.ca_file = optarg; break;
		case 'E': cfg.mqtt.cert_file = optarg; break;
		case 'K': cfg.mqtt.key_file = optarg; break;
		case 'w': cfg.mqtt.inflight = atoll(optarg); break;
		case 'n': o.push = atoll(optarg); break;
		case 's': o.start = atoll(optarg); break;
		case 'b': o.batch = atoll(optarg); break;
		case 't': o.interval_ms = atoll(optarg); break;
		case 'z': o.size = atoll(optarg) < 64 ? 64 : atoll(optarg); break;
		case 'p': o.case_prefix = optarg; break;
		case 'f': cfg.mqtt.feedback_topic = optarg; break;
		case 'H':
			if (o.n_health < 64)
				o.health[o.n_health++] = optarg;
			break;
		case 'R': o.resend_ms = atoll(optarg); break;
		case 'm': cfg.mqtt.reconnect_min_ms = atoll(optarg); break;
		case 'M': cfg.mqtt.reconnect_max_ms = atoll(optarg); break;
		case 'c': cfg.mqtt.clean_session = true; break;
		case 'e': o.until_empty = 1; break;
		case 'r': o.run_ms = atoll(optarg); break;
		case 'x': o.metrics = 1; break;
		case 'N': o.health_count = atoll(optarg); break;
		case 'F': o.health_flip_ms = atoll(optarg); break;
		case 'T': {
			char *eq = strchr(optarg, '=');
			if (!eq) {
				usage();
				return 2;
			}
			*eq = '\0';
			o.odd_index = atoll(optarg);
			o.odd_topic = eq + 1;
			break;
		}
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (!o.db || !cfg.mqtt.uri) {
		usage();
		return 2;
	}
	agw_log_set_level(getenv("AGW_DEBUG") ? AGW_LOG_DEBUG : AGW_LOG_INFO);
	char err[256];
	if (agw_store_open(o.db, &store, err, sizeof(err)) < 0) {
		fprintf(stderr, "cannot open %s: %s\n", o.db, err);
		return 1;
	}
	uv_loop_t *loop = uv_default_loop();
	int r = agw_publisher_new(loop, &cfg, store, &pub);
	if (r < 0) {
		fprintf(stderr, "publisher: %s\n", strerror(-r));
		agw_store_close(store);
		return 1;
	}
	agw_publisher_set_feedback(pub, on_feedback, NULL);
	if (o.resend_ms >= 0)
		agw_publisher_set_resend_window(pub, o.resend_ms);
	for (int i = 0; i < o.n_health; i++) {
		char *eq = strchr(o.health[i], '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (push_health(o.health[i], eq + 1) < 0)
			fprintf(stderr, "health %s=%s refused\n", o.health[i], eq + 1);
	}
	set_all_health("offline");
	uv_timer_init(loop, &push_timer);
	uv_timer_init(loop, &poll_timer);
	uv_timer_init(loop, &flip_timer);
	if (o.health_flip_ms > 0)
		uv_timer_start(&flip_timer, flip_cb, (uint64_t)o.health_flip_ms, 0);
	uv_signal_init(loop, &sigterm);
	uv_signal_init(loop, &sigint);
	uv_signal_start(&sigterm, signal_cb, SIGTERM);
	uv_signal_start(&sigint, signal_cb, SIGINT);
	started_ms = uv_now(loop);
	agw_publisher_start(pub);
	if (o.push > 0)
		uv_timer_start(&push_timer, push_cb, 0, (uint64_t)o.interval_ms);
	uv_timer_start(&poll_timer, poll_cb, 20, 20);
	uv_run(loop, UV_RUN_DEFAULT);
	agw_publisher_free(pub);
	agw_store_close(store);
	uv_loop_close(loop);
	return 0;
}
