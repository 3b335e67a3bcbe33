/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "rtsp_probe.h"
#include "rtsp_tls.h"

#define RTSPS_DEFAULT_PORT 322
#define POLL_STEP_MS 100

static bool stopped(const atomic_bool *stop)
{
	return stop && atomic_load(stop);
}

/* A connected blocking socket to host:port, or negative errno. Name resolution is not
 * interruptible (getaddrinfo); the connect is, in POLL_STEP_MS steps. */
static int connect_to(const char *host, int port, int64_t deadline_ms, const atomic_bool *stop, char *reason,
		      size_t reason_len)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	char service[8];
	snprintf(service, sizeof(service), "%d", port);
	int g = getaddrinfo(host, service, &hints, &res);
	if (g != 0) {
		snprintf(reason, reason_len, "tls check: cannot resolve the camera's host: %s", gai_strerror(g));
		return -EHOSTUNREACH;
	}
	int fd = -1, r = -ECONNREFUSED;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			r = 0;
			break;
		}
		r = -errno;
		while (r == -EINPROGRESS) {
			if (stopped(stop)) {
				r = -ECANCELED;
				break;
			}
			if (agw_rtsp_mono_ms() >= deadline_ms) {
				r = -ETIMEDOUT;
				break;
			}
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			if (poll(&p, 1, POLL_STEP_MS) > 0) {
				int e = 0;
				socklen_t el = sizeof(e);
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
				r = -e;
			}
		}
		if (r < 0) {
			close(fd);
			fd = -1;
			if (r == -ECANCELED || r == -ETIMEDOUT)
				break;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(reason, reason_len, "tls check: cannot connect: %s", strerror(-r));
		return r;
	}
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	return fd;
}

int agw_rtsp_tls_check(const char *url, const struct agw_rtsp_tls *tls, int64_t timeout_ms, const atomic_bool *stop,
		       char *reason, size_t reason_len)
{
	if (!tls || !tls->verify || strncasecmp(url, "rtsps://", 8) != 0)
		return 0;
	char proto[16], auth[256], host[256], path[8];
	int port = -1;
	av_url_split(proto, sizeof(proto), auth, sizeof(auth), host, sizeof(host), &port, path, sizeof(path), url);
	if (!host[0]) {
		snprintf(reason, reason_len, "tls check: no host in the camera's address");
		return -EINVAL;
	}
	if (port <= 0)
		port = RTSPS_DEFAULT_PORT;
	int64_t deadline = agw_rtsp_mono_ms() + timeout_ms;
	int fd = -1, r = -EPROTO;
	SSL *ssl = NULL;
	/* The trust store is loaded before connecting: the camera should not wait for it. */
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		goto out;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (tls->ca_file && *tls->ca_file ? SSL_CTX_load_verify_locations(ctx, tls->ca_file, NULL) != 1
					  : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(reason, reason_len, "tls check: cannot load the CA file");
		r = -ENOENT;
		goto out;
	}
	fd = connect_to(host, port, deadline, stop, reason, reason_len);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1)
		goto out;
	struct in6_addr a6;
	struct in_addr a4;
	bool is_ip = inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
	if (is_ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	} else {
		SSL_set_tlsext_host_name(ssl, host);
		SSL_set1_host(ssl, host);
	}
	/* The handshake is bounded by socket timeouts; stop is checked before and after. */
	int64_t left = deadline - agw_rtsp_mono_ms();
	if (left <= 0 || stopped(stop)) {
		r = stopped(stop) ? -ECANCELED : -ETIMEDOUT;
		snprintf(reason, reason_len, "tls check: %s", stopped(stop) ? "stopped" : "timed out");
		goto out;
	}
	struct timeval tv = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ERR_clear_error();
	if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);
		if (v != X509_V_OK) {
			snprintf(reason, reason_len, "certificate not trusted for %s: %s", host,
				 X509_verify_cert_error_string(v));
			r = -EPERM;
		} else {
			snprintf(reason, reason_len, "tls check: handshake failed: %s",
				 ERR_reason_error_string(ERR_peek_last_error()) ? ERR_reason_error_string(ERR_peek_last_error())
										  : "connection closed");
			r = agw_rtsp_mono_ms() >= deadline ? -ETIMEDOUT : -EPROTO;
		}
		goto out;
	}
	r = 0; /* no close_notify: nothing was said, and a write could meet a closed peer */
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	return r;
}
