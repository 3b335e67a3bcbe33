/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GB/T 28181 adapter alone, as the core runs it, for instruction counts that load on the
 * machine does not change: N ledger cameras (IPCs registering as themselves), all registered
 * with Digest from one UDP socket, then alarms sent one at a time, each answered 200 after a
 * "commit" the fake core gives on the next loop turn, its Alarm Response answered 200, and one
 * keepalive per --alarms-per-keepalive alarms (10,000 devices with 60 s keepalives at 1,000
 * alarms/s: 6). Everything the adapter does runs inside uv_run; the driver's own work is outside, so
 *
 *   valgrind --tool=callgrind --toggle-collect=uv_run bench_gb_adapter --devices 10000 --alarms 20000
 *
 * counts the adapter's instructions only (divide by the alarms printed). Without valgrind it
 * prints the wall time per alarm, which includes the driver's. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(what)
#endif

#include "alarmgw/adapter.h"
#include "alarmgw/log.h"
#include "gb_digest.h"

extern const struct agw_adapter agw_adapter_gb28181;
static const struct agw_adapter *ad = &agw_adapter_gb28181;

#define SERVER_ID "34020000002000000001"
#define PASSWORD "12345678"

struct pending {
	void (*done)(void *, int);
	void *arg;
};

static struct pending pend[64];
static size_t n_pend, journaled;
static uv_idle_t committer;

/* The fake core's commit: every alarm emitted this turn is "durable" on the next. */
static void on_commit(uv_idle_t *h)
{
	(void)h;
	size_t n = n_pend;
	n_pend = 0;
	uv_idle_stop(&committer); /* else every loop turn would poll without blocking */
	for (size_t i = 0; i < n; i++) {
		pend[i].done(pend[i].arg, 0);
		journaled++;
	}
}

static int emit(struct agw_adapter_ctx *ctx, const struct agw_alert *a)
{
	(void)ctx;
	(void)a;
	return 0;
}

static int emit_durable(struct agw_adapter_ctx *ctx, const struct agw_alert *a, void (*done)(void *, int), void *arg)
{
	(void)ctx;
	(void)a;
	if (n_pend == sizeof(pend) / sizeof(pend[0]))
		return -EAGAIN;
	pend[n_pend++] = (struct pending){done, arg};
	uv_idle_start(&committer, on_commit);
	return 0;
}

static void stopped(struct agw_adapter_ctx *ctx)
{
	(void)ctx;
}

static void set_option(void *priv, const char *name, const void *value, size_t size)
{
	for (const struct agw_option *o = ad->options; o->name; o++)
		if (!strcmp(o->name, name)) {
			memcpy((char *)priv + o->offset, value, size);
			return;
		}
	fprintf(stderr, "ERROR: no option %s\n", name);
	exit(1);
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("ERROR: port");
		exit(1);
	}
	close(fd);
	return ntohs(a.sin_port);
}

struct driver {
	uv_loop_t *loop;
	int sock;
	struct sockaddr_in to;
	unsigned branch;
	char buf[8192];
};

/* Answers a request of the adapter's (the Alarm Response) 200, with its headers. */
static void answer_request(struct driver *d)
{
	char ans[2048] = "SIP/2.0 200 OK\r\n";
	const char *names[] = {"Via: ", "From: ", "To: ", "Call-ID: ", "CSeq: "};
	for (size_t i = 0; i < 5; i++) {
		const char *p = strstr(d->buf, names[i]), *e = p ? strstr(p, "\r\n") : NULL;
		if (p && e)
			snprintf(ans + strlen(ans), sizeof(ans) - strlen(ans), "%.*s\r\n", (int)(e - p), p);
	}
	snprintf(ans + strlen(ans), sizeof(ans) - strlen(ans), "Content-Length: 0\r\n\r\n");
	sendto(d->sock, ans, strlen(ans), 0, (struct sockaddr *)&d->to, sizeof(d->to));
}

/* Runs the loop until a final answer to us comes, answering the adapter's requests on the way.
 * The loop runs one blocking turn at a time (UV_RUN_ONCE), so no idle spinning is counted. */
static void await_final(struct driver *d, char *out, size_t len)
{
	for (int turns = 0; turns < 10000; turns++) {
		ssize_t n = recv(d->sock, d->buf, sizeof(d->buf) - 1, MSG_DONTWAIT);
		if (n <= 0) {
			uv_run(d->loop, UV_RUN_ONCE);
			continue;
		}
		d->buf[n] = '\0';
		if (!strncmp(d->buf, "SIP/2.0 1", 9))
			continue;
		if (!strncmp(d->buf, "SIP/2.0 ", 8)) {
			snprintf(out, len, "%s", d->buf);
			return;
		}
		answer_request(d);
	}
	fprintf(stderr, "ERROR: no answer\n");
	exit(1);
}

static void send_request(struct driver *d, const char *method, const char *dev, const char *extra, const char *body)
{
	char msg[4096];
	d->branch++;
	int n = snprintf(msg, sizeof(msg),
			 "%s sip:" SERVER_ID "@3402000000 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bK%u\r\n"
			 "From: <sip:%s@3402000000>;tag=%u\r\nTo: <sip:%s@3402000000>\r\n"
			 "Call-ID: %u@127.0.0.1\r\nCSeq: 20 %s\r\n%sMax-Forwards: 70\r\nUser-Agent: bench\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 method, d->branch, dev, d->branch, !strcmp(method, "REGISTER") ? dev : SERVER_ID, d->branch, method,
			 extra, strlen(body), body);
	sendto(d->sock, msg, (size_t)n, 0, (struct sockaddr *)&d->to, sizeof(d->to));
}

static void do_register(struct driver *d, const char *dev)
{
	char ans[8192], auth[768];
	send_request(d, "REGISTER", dev, "Expires: 3600\r\n", "");
	await_final(d, ans, sizeof(ans));
	const char *n = strstr(ans, "nonce=\"");
	if (!n) {
		fprintf(stderr, "ERROR: no challenge: %.80s\n", ans);
		exit(1);
	}
	char nonce[64], a1[256], ha1[33], ha2[33], r[256], resp[33];
	snprintf(nonce, sizeof(nonce), "%.*s", (int)strcspn(n + 7, "\""), n + 7);
	snprintf(a1, sizeof(a1), "%s:3402000000:" PASSWORD, dev);
	agw_gb_md5_hex(a1, strlen(a1), ha1);
	snprintf(a1, sizeof(a1), "REGISTER:sip:" SERVER_ID "@3402000000");
	agw_gb_md5_hex(a1, strlen(a1), ha2);
	snprintf(r, sizeof(r), "%s:%s:%s", ha1, nonce, ha2);
	agw_gb_md5_hex(r, strlen(r), resp);
	snprintf(auth, sizeof(auth),
		 "Authorization: Digest username=\"%s\", realm=\"3402000000\", nonce=\"%s\", uri=\"sip:" SERVER_ID
		 "@3402000000\", response=\"%s\", algorithm=MD5\r\nExpires: 3600\r\n",
		 dev, nonce, resp);
	send_request(d, "REGISTER", dev, auth, "");
	await_final(d, ans, sizeof(ans));
	if (strncmp(ans, "SIP/2.0 200", 11) != 0) {
		fprintf(stderr, "ERROR: %s not registered: %.80s\n", dev, ans);
		exit(1);
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The adapter with its options as the core would set them, n cameras in its ledger, started on
 * a free loopback port (*ret_port); strings[0..2] are its string options, for the caller to free. */
static void *adapter_start(struct agw_adapter_ctx *ctx, long devices, char (*ids)[48], char **strings, int *ret_port)
{
	void *priv = calloc(1, ad->priv_size);
	char listen[32];
	int port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	strings[0] = strdup(listen);
	strings[1] = strdup(SERVER_ID);
	strings[2] = strdup(PASSWORD);
	/* keepalives of an hour: under valgrind, registering 10,000 devices takes minutes, and the
	 * early ones must not go offline meanwhile (only the alarming devices send keepalives here) */
	int64_t v480 = 480, misses = 3, ka = 3600000, emin = 60, emax = 3600, maxdev = devices + 10, maxch = 200000;
	set_option(priv, "listen", &strings[0], sizeof(char *));
	set_option(priv, "sip_id", &strings[1], sizeof(char *));
	set_option(priv, "password", &strings[2], sizeof(char *));
	set_option(priv, "utc_offset", &v480, sizeof(v480));
	set_option(priv, "keepalive_misses", &misses, sizeof(misses));
	set_option(priv, "keepalive_interval", &ka, sizeof(ka));
	set_option(priv, "register_expires_min", &emin, sizeof(emin));
	set_option(priv, "register_expires_max", &emax, sizeof(emax));
	set_option(priv, "max_devices", &maxdev, sizeof(maxdev));
	set_option(priv, "max_channels", &maxch, sizeof(maxch));
	if (ad->init(priv, ctx) < 0)
		exit(1);
	for (long i = 0; i < devices; i++) {
		char cam[40], protocol[] = "gb28181";
		snprintf(ids[i], sizeof(ids[i]), "34020000001320%06ld", i + 1);
		snprintf(cam, sizeof(cam), "gb-%06ld", i + 1);
		struct agw_camera c = {.id = cam, .protocol = protocol, .address = ids[i], .lon = 116.4, .lat = 39.9};
		if (ad->camera_add(priv, &c) < 0)
			exit(1);
	}
	/* the port was free a moment ago: another process may have taken it since (tests run in
	 * parallel), so try a few */
	for (int tries = 0; ad->start(priv) < 0; tries++) {
		if (tries == 5)
			exit(1);
		port = free_port();
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
		free(strings[0]);
		strings[0] = strdup(listen);
		set_option(priv, "listen", &strings[0], sizeof(char *));
	}
	*ret_port = port;
	return priv;
}

static void send_alarm(struct driver *d, const char *dev, long sn, bool keepalive)
{
	char body[1024], ans[8192];
	if (keepalive)
		snprintf(body, sizeof(body),
			 "<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n"
			 "<SN>%ld</SN>\r\n<DeviceID>%s</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n",
			 sn, dev);
	else
		snprintf(body, sizeof(body),
			 "<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n<Notify>\r\n<CmdType>Alarm</CmdType>\r\n<SN>%ld</SN>\r\n"
			 "<DeviceID>%s</DeviceID>\r\n<AlarmPriority>1</AlarmPriority>\r\n<AlarmMethod>5</AlarmMethod>\r\n"
			 "<AlarmTime>2026-12-03T10:00:00</AlarmTime>\r\n<AlarmDescription>\xCA\xD3\xC6\xB5\xB6\xAF\xBC\xEC"
			 "</AlarmDescription>\r\n<Info>\r\n<AlarmType>2</AlarmType>\r\n</Info>\r\n</Notify>\r\n",
			 sn, dev);
	send_request(d, "MESSAGE", dev, "Content-Type: Application/MANSCDP+xml\r\n", body);
	await_final(d, ans, sizeof(ans));
	if (strncmp(ans, "SIP/2.0 200", 11) != 0) {
		fprintf(stderr, "ERROR: %s %ld: %.80s\n", keepalive ? "keepalive" : "alarm", sn, ans);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	long devices = 1000, alarms = 5000, per_keepalive = 6;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--devices"))
			devices = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--alarms"))
			alarms = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--alarms-per-keepalive"))
			per_keepalive = atol(argv[i + 1]);
	}
	if (devices < 1 || alarms < 1 || per_keepalive < 1) {
		fprintf(stderr, "usage: bench_gb_adapter [--devices N] [--alarms N] [--alarms-per-keepalive N]\n");
		return 2;
	}
	agw_log_set_level(AGW_LOG_WARNING); /* not 2 lines per registration */
	uv_loop_t loop;
	uv_loop_init(&loop);
	uv_idle_init(&loop, &committer);
	struct agw_adapter_ctx ctx = {.loop = &loop, .name = "gb28181", .emit = emit, .emit_durable = emit_durable,
				      .stopped = stopped};
	char (*ids)[48] = calloc((size_t)devices, sizeof(*ids));
	char *strings[3];
	int port;
	void *priv = adapter_start(&ctx, devices, ids, strings, &port);
	struct driver d = {.loop = &loop, .sock = socket(AF_INET, SOCK_DGRAM, 0)};
	d.to = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	double t0 = now_s();
	for (long i = 0; i < devices; i++)
		do_register(&d, ids[i]);
	double t1 = now_s();
	CALLGRIND_ZERO_STATS; /* from here: alarms and keepalives only */
	for (long i = 0; i < alarms; i++) {
		const char *dev = ids[(i * 7919) % devices];
		send_alarm(&d, dev, i + 1, false);
		if (i % per_keepalive == 0)
			send_alarm(&d, dev, i + 1, true);
	}
	/* the last Alarm Response's answer */
	uv_run(&loop, UV_RUN_NOWAIT);
	CALLGRIND_DUMP_STATS_AT("alarms");
	double t2 = now_s();
	printf("bench_gb_adapter: %ld devices registered in %.2f s; %ld alarms journaled (%zu), %.1f us/alarm wall "
	       "(with the driver and a keepalive per %ld)\n",
	       devices, t1 - t0, alarms, journaled, (t2 - t1) * 1e6 / (double)alarms, per_keepalive);
	close(d.sock);
	ad->stop(priv);
	uv_close((uv_handle_t *)&committer, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	ad->uninit(priv);
	for (int i = 0; i < 3; i++)
		free(strings[i]);
	free(priv);
	free(ids);
	uv_loop_close(&loop);
	return journaled == (size_t)alarms ? 0 : 1;
}
