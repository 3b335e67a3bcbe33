/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench-publish: how close the outbox publisher comes to what the broker can take.
 * Each run: (1) a plain paho MQTTAsync publisher sends N QoS 1 messages of the same size with the
 * same in-flight window and counts PUBACKs; (2) N case rows are put in a fresh outbox and the
 * publisher drains it (read, publish, PUBACK, delete). Both are timed from the first send to the
 * last PUBACK. Prints every run and the medians. Starts its own mosquitto on a free loopback port
 * unless --uri is given. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <MQTTAsync.h>

#include "alarmgw/log.h"
#include "publisher.h"
#include "store.h"

static long messages = 50000, size = 600, runs = 5, inflight = 64;
static const char *uri;
static char uri_buf[64];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- raw paho publisher ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long raw_acked, raw_inflight, raw_failed;
static int raw_connected;

static void raw_sent(void *ctx, MQTTAsync_successData *r)
{
	pthread_mutex_lock(&lock);
	raw_acked++;
	raw_inflight--;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static void raw_fail(void *ctx, MQTTAsync_failureData *r)
{
	pthread_mutex_lock(&lock);
	raw_failed++;
	raw_inflight--;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static void raw_conn_ok(void *ctx, MQTTAsync_successData *r)
{
	pthread_mutex_lock(&lock);
	raw_connected = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static void raw_conn_fail(void *ctx, MQTTAsync_failureData *r)
{
	pthread_mutex_lock(&lock);
	raw_connected = -1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static double raw_run(const char *payload)
{
	MQTTAsync c;
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	if (MQTTAsync_create(&c, uri, "bench-raw", MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTASYNC_SUCCESS)
		return -1;
	raw_acked = raw_inflight = raw_failed = 0;
	raw_connected = 0;
	co.cleansession = 1;
	co.MQTTVersion = MQTTVERSION_3_1_1;
	co.maxInflight = (int)inflight + 64;
	co.onSuccess = raw_conn_ok;
	co.onFailure = raw_conn_fail;
	MQTTAsync_connect(c, &co);
	pthread_mutex_lock(&lock);
	while (!raw_connected)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	if (raw_connected < 0) {
		MQTTAsync_destroy(&c);
		return -1;
	}
	double t0 = now_s();
	for (long i = 0; i < messages; i++) {
		pthread_mutex_lock(&lock);
		while (raw_inflight >= inflight)
			pthread_cond_wait(&cond, &lock);
		raw_inflight++;
		pthread_mutex_unlock(&lock);
		char topic[64];
		snprintf(topic, sizeof(topic), "bench/raw/d%ld/g%ld", i % 3, i % 7);
		MQTTAsync_message m = MQTTAsync_message_initializer;
		MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
		m.payload = (void *)payload;
		m.payloadlen = (int)size;
		m.qos = 1;
		ro.onSuccess = raw_sent;
		ro.onFailure = raw_fail;
		if (MQTTAsync_sendMessage(c, topic, &m, &ro) != MQTTASYNC_SUCCESS) {
			fprintf(stderr, "raw send failed\n");
			MQTTAsync_destroy(&c);
			return -1;
		}
	}
	pthread_mutex_lock(&lock);
	while (raw_acked + raw_failed < messages)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	double t1 = now_s();
	MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
	MQTTAsync_disconnect(c, &d);
	usleep(100000);
	MQTTAsync_destroy(&c);
	if (raw_failed)
		fprintf(stderr, "raw: %ld sends failed\n", raw_failed);
	return (double)raw_acked / (t1 - t0);
}

/* ---- outbox publisher ---- */

static struct agw_publisher *pub;
static double t_start, t_end;
static int stopping;

static void stop_done(void *arg)
{
	uv_stop(arg);
}

static void poll_cb(uv_timer_t *t)
{
	if (!t_start && agw_publisher_connected(pub)) {
		t_start = now_s();
		agw_publisher_kick(pub);
	}
	if (t_start && !stopping && agw_publisher_acked(pub) >= messages) {
		t_end = now_s();
		stopping = 1;
		uv_timer_stop(t);
		agw_publisher_stop(pub, stop_done, t->loop);
	}
}

static double outbox_run(const char *dir, int run, const char *payload)
{
	char db[512], topic[64], id[32];
	snprintf(db, sizeof(db), "%s/bench-%d.db", dir, run);
	struct agw_store *store;
	char err[256];
	if (agw_store_open(db, &store, err, sizeof(err)) < 0) {
		fprintf(stderr, "store: %s\n", err);
		return -1;
	}
	/* the backlog: N case rows, pushed the way the decider pushes them (not timed) */
	agw_store_begin(store);
	for (long i = 0; i < messages; i++) {
		snprintf(topic, sizeof(topic), "bench/cases/d%ld/g%ld", i % 3, i % 7);
		snprintf(id, sizeof(id), "c-%ld", i);
		if (agw_store_outbox_push(store, topic, payload, (size_t)size, 1, false, id, 0, NULL) < 0) {
			agw_store_rollback(store);
			agw_store_close(store);
			return -1;
		}
	}
	agw_store_commit(store);

	struct agw_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	char gw[] = "bench-gw", prefix[] = "bench", status[] = "{prefix}/gateways/{gateway}/status",
	     health[] = "{prefix}/cameras/{camera}/health", fb[] = "{prefix}/case-status/{gateway}";
	cfg.gateway_id = gw;
	cfg.mqtt.uri = (char *)uri;
	cfg.mqtt.version = 4;
	cfg.mqtt.keepalive_ms = 30000;
	cfg.mqtt.topic_prefix = prefix;
	cfg.mqtt.status_topic = status;
	cfg.mqtt.health_topic = health;
	cfg.mqtt.feedback_topic = fb;
	cfg.mqtt.inflight = inflight;
	cfg.mqtt.reconnect_min_ms = 100;
	cfg.mqtt.reconnect_max_ms = 1000;
	uv_loop_t loop;
	uv_loop_init(&loop);
	if (agw_publisher_new(&loop, &cfg, store, &pub) < 0) {
		agw_store_close(store);
		return -1;
	}
	agw_publisher_set_resend_window(pub, 0);
	t_start = t_end = 0;
	stopping = 0;
	uv_timer_t poll;
	uv_timer_init(&loop, &poll);
	agw_publisher_start(pub);
	uv_timer_start(&poll, poll_cb, 1, 1);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&poll, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	long long left = agw_store_outbox_count(store);
	agw_publisher_free(pub);
	uv_loop_close(&loop);
	agw_store_close(store);
	unlink(db);
	if (left != 0)
		fprintf(stderr, "outbox: %lld rows left after the run\n", left);
	return t_end > t_start ? (double)messages / (t_end - t_start) : -1;
}

/* ---- broker ---- */

static pid_t broker;

static int start_broker(const char *dir)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(s, (struct sockaddr *)&a, &len) < 0)
		return -errno;
	int port = ntohs(a.sin_port);
	close(s);
	char conf[512];
	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", dir);
	FILE *f = fopen(conf, "w");
	if (!f)
		return -errno;
	if (geteuid() == 0)
		fprintf(f, "user root\n");
	fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 0\nmax_queued_messages 0\n"
		   "log_dest none\n", port);
	fclose(f);
	broker = fork();
	if (broker == 0) {
		execlp("mosquitto", "mosquitto", "-c", conf, (char *)NULL);
		_exit(127);
	}
	snprintf(uri_buf, sizeof(uri_buf), "tcp://127.0.0.1:%d", port);
	uri = uri_buf;
	for (int i = 0; i < 100; i++) { /* wait up to 5 s for the port */
		int c = socket(AF_INET, SOCK_STREAM, 0);
		int ok = connect(c, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(c);
		if (ok)
			return 0;
		usleep(50000);
	}
	return -ETIMEDOUT;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"messages", required_argument, NULL, 'n'}, {"size", required_argument, NULL, 's'},
		{"runs", required_argument, NULL, 'r'},     {"inflight", required_argument, NULL, 'w'},
		{"uri", required_argument, NULL, 'u'},      {"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': messages = atol(optarg); break;
		case 's': size = atol(optarg); break;
		case 'r': runs = atol(optarg); break;
		case 'w': inflight = atol(optarg); break;
		case 'u': uri = optarg; break;
		default:
			fprintf(stderr, "usage: bench-publish [--messages N] [--size BYTES] [--runs R] [--inflight W] "
					"[--uri tcp://host:port]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (messages < 1 || size < 1 || runs < 1 || runs > 99 || inflight < 1)
		return 2;
	agw_log_set_level(AGW_LOG_WARNING);
	char dir[] = "/tmp/bench-publish-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	if (!uri && start_broker(dir) < 0) {
		fprintf(stderr, "cannot start mosquitto\n");
		return 1;
	}
	char *payload = malloc((size_t)size);
	memset(payload, 'x', (size_t)size);
	double raw[99], box[99], ratio[99];
	printf("bench-publish: %ld messages of %ld bytes, QoS 1, in-flight window %ld, broker %s (mosquitto on loopback)\n",
	       messages, size, inflight, uri);
	printf("%4s %14s %16s %7s\n", "run", "raw paho msg/s", "outbox cases/s", "ratio");
	int rc = 0;
	for (long r = 0; r < runs; r++) {
		raw[r] = raw_run(payload);
		box[r] = outbox_run(dir, (int)r, payload);
		if (raw[r] <= 0 || box[r] <= 0) {
			fprintf(stderr, "run %ld failed\n", r + 1);
			rc = 1;
			break;
		}
		ratio[r] = box[r] / raw[r];
		printf("%4ld %14.0f %16.0f %7.2f\n", r + 1, raw[r], box[r], ratio[r]);
		fflush(stdout);
	}
	if (!rc)
		printf("median %11.0f %16.0f %7.2f\n", median(raw, runs), median(box, runs), median(ratio, runs));
	free(payload);
	if (broker > 0) {
		kill(broker, SIGTERM);
		waitpid(broker, NULL, 0);
	}
	char path[600];
	snprintf(path, sizeof(path), "%s/mosquitto.conf", dir);
	unlink(path);
	rmdir(dir);
	return rc;
}
