/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rtsps:// cameras are opened only when they present a certificate valid for their address:
 * FFmpeg 5.1's RTSP demuxer accepts any (it passes no TLS option down), so the adapter checks
 * first. A local TLS server with throw-away certificates made by the openssl tool plays the
 * camera. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "rtsp_probe.h"
#include "rtsp_tls.h"

struct server {
	int listen_fd, port;
	SSL_CTX *ctx;
	pthread_t thread;
	atomic_bool stop;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	while (!atomic_load(&s->stop)) {
		int fd = accept(s->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		struct timeval tv = {.tv_sec = 10, .tv_usec = 0}; /* not the listener's short one */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		SSL *ssl = SSL_new(s->ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1) {
			char buf[512];
			/* answer whatever comes like a broken camera: RTSP never gets far */
			if (SSL_read(ssl, buf, sizeof(buf)) > 0)
				SSL_write(ssl, "garbage\r\n\r\n", 11);
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(fd);
	}
	return NULL;
}

static char dir[64];

static void make_cert(const char *name, const char *san)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s/%s.key -out %s/%s.pem -days 2 "
		 "-subj /CN=camera -addext subjectAltName=%s >/dev/null 2>&1",
		 dir, name, dir, name, san);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/agw-tls-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	make_cert("camera", "IP:127.0.0.1");
	make_cert("other", "IP:127.0.0.1");
	make_cert("named", "DNS:cam.example");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void server_start(struct server *s, const char *cert)
{
	char crt[128], key[128];
	snprintf(crt, sizeof(crt), "%s/%s.pem", dir, cert);
	snprintf(key, sizeof(key), "%s/%s.key", dir, cert);
	s->ctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate_file(s->ctx, crt, SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(s->ctx, key, SSL_FILETYPE_PEM), 1);
	s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->listen_fd, 8), 0);
	socklen_t len = sizeof(a);
	getsockname(s->listen_fd, (struct sockaddr *)&a, &len);
	s->port = ntohs(a.sin_port);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	setsockopt(s->listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)); /* accept wakes to see stop */
	atomic_init(&s->stop, false);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
	SSL_CTX_free(s->ctx);
}

static int check(const struct server *s, const char *host, const char *ca, bool verify, char *reason, size_t len)
{
	char url[256], ca_path[128];
	snprintf(url, sizeof(url), "rtsps://admin:secret@%s:%d/Streaming/Channels/101", host, s->port);
	snprintf(ca_path, sizeof(ca_path), "%s/%s.pem", dir, ca ? ca : "");
	struct agw_rtsp_tls tls = {.verify = verify, .ca_file = ca ? ca_path : NULL};
	reason[0] = '\0';
	return agw_rtsp_tls_check(url, &tls, 5000, NULL, reason, len);
}

static void test_check(void **state)
{
	struct server s;
	char reason[200];
	server_start(&s, "camera");
	assert_int_equal(check(&s, "127.0.0.1", "camera", true, reason, sizeof(reason)), 0);
	assert_int_equal(check(&s, "127.0.0.1", "other", true, reason, sizeof(reason)), -EPERM);
	assert_non_null(strstr(reason, "certificate"));
	assert_null(strstr(reason, "secret")); /* the URL's credentials never appear */
	assert_int_equal(check(&s, "127.0.0.1", NULL, true, reason, sizeof(reason)), -EPERM); /* not in the system store */
	assert_int_equal(check(&s, "127.0.0.1", "other", false, reason, sizeof(reason)), 0);   /* told not to verify */
	server_stop(&s);
	/* a certificate for another name than the one the camera is addressed by */
	server_start(&s, "named");
	assert_int_equal(check(&s, "127.0.0.1", "named", true, reason, sizeof(reason)), -EPERM);
	server_stop(&s);
}

/* The patrol's open refuses a camera with an untrusted certificate; FFmpeg alone would have gone on
 * to speak RTSP with it. */
static void test_probe_refuses(void **state)
{
	struct server s;
	server_start(&s, "camera");
	char url[128], ca[128];
	snprintf(url, sizeof(url), "rtsps://127.0.0.1:%d/x", s.port);
	snprintf(ca, sizeof(ca), "%s/other.pem", dir);
	atomic_bool stop;
	atomic_init(&stop, false);
	struct agw_rtsp_tls tls = {.verify = true, .ca_file = ca};
	struct agw_rtsp_probe_opts opts = {
		.timeout_ms = 5000, .io_timeout_ms = 2000, .max_packets = 10, .stop = &stop, .tls = &tls};
	struct agw_rtsp_probe p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(agw_rtsp_probe_run(url, &opts, &p), -EPERM);
	assert_non_null(strstr(p.reason, "certificate"));
	agw_rtsp_probe_clear(&p);
	server_stop(&s);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* as the daemon: a peer that closed is an error, not a signal */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_probe_refuses),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
