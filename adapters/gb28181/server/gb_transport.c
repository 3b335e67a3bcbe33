/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The SIP server's transports: one UDP socket and a TCP listener on the same address and port.
 * TCP connections are framed with agw_gb_sip_frame (Content-Length, RFC 3261 18.3); a connection
 * that sends something that cannot be framed, grows past the message limit or stays silent for
 * longer than a device's keepalives allow is closed. Answers to a request that came over TCP go
 * back on its connection; a connection that is gone by then gets nothing (the device sends again
 * when it reconnects). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/sock_diag.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "gb_server_internal.h"

#define TCP_BACKLOG 511
#define TCP_IDLE_SLACK_MS 30000 /* beyond keepalive_interval * keepalive_misses */

void gb_peer_text(const struct sockaddr_storage *ss, char *ip, size_t iplen, int *port)
{
	ip[0] = '\0';
	*port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		uv_ip4_name(a, ip, iplen);
		*port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		uv_ip6_name(a, ip, iplen);
		*port = ntohs(a->sin6_port);
	}
}

bool gb_peer_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
			       sizeof(struct in6_addr));
	return false;
}

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static int parse_listen(const char *text, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon = text ? strrchr(text, ':') : NULL;
	if (!colon || (size_t)(colon - text) >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 0 || port > 65535)
		return -EINVAL;
	char *h = host;
	size_t n = strlen(h);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h[n - 1] = '\0';
		h++;
	}
	memset(ss, 0, sizeof(*ss));
	if (uv_ip4_addr(h, (int)port, (struct sockaddr_in *)ss) == 0)
		return 0;
	return uv_ip6_addr(h, (int)port, (struct sockaddr_in6 *)ss) == 0 ? 0 : -EINVAL;
}

/* ---- sending ---- */

struct udp_send {
	uv_udp_send_t req;
	char data[];
};

struct tcp_write {
	uv_write_t req;
	char data[];
};

static void on_udp_sent(uv_udp_send_t *req, int status)
{
	(void)status; /* a lost answer is a retransmitted request */
	free(req);
}

static void on_tcp_written(uv_write_t *req, int status)
{
	(void)status; /* a broken connection shows in its read callback */
	free(req);
}

static struct gb_conn *conn_find(const struct agw_gb_server *s, uint64_t id)
{
	for (struct gb_conn *c = s->conns_by_id[id % BUCKETS]; c; c = c->hnext)
		if (c->id == id)
			return c;
	return NULL;
}

void gb_transport_send(struct agw_gb_server *s, const struct gb_peer *p, const char *data, size_t len)
{
	if (s->stopping)
		return;
	if (p->conn) {
		struct gb_conn *c = conn_find(s, p->conn);
		struct tcp_write *w = c && !c->closing ? malloc(sizeof(*w) + len) : NULL;
		if (!w)
			return;
		memcpy(w->data, data, len);
		uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
		if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_tcp_written) < 0)
			free(w);
		return;
	}
	struct udp_send *r = malloc(sizeof(*r) + len);
	if (!r)
		return;
	memcpy(r->data, data, len);
	uv_buf_t b = uv_buf_init(r->data, (unsigned)len);
	if (uv_udp_send(&r->req, s->udp, &b, 1, (const struct sockaddr *)&p->addr, on_udp_sent) < 0)
		free(r);
}

/* ---- UDP ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct agw_gb_server *s = h->data;
	*buf = uv_buf_init(s->rbuf, sizeof(s->rbuf));
}

static void count_bad(struct agw_gb_server *s)
{
	s->stats.bad++;
	agw_metric_add("agw_gb28181_bad_messages_total", NULL, 1);
}

static void on_udp(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr, unsigned flags)
{
	struct agw_gb_server *s = u->data;
	if (n <= 0 || !addr)
		return;
	if ((flags & UV_UDP_PARTIAL) || (size_t)n > AGW_GB_SIP_MAX_MESSAGE) {
		count_bad(s); /* larger than a message may be: cut by the kernel, not worth reading */
		return;
	}
	struct gb_peer peer;
	memset(&peer, 0, sizeof(peer));
	memcpy(&peer.addr, addr, addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	gb_server_dispatch(s, buf->base, (size_t)n, 0, &peer);
}

/* ---- TCP ---- */

static void on_conn_closed(uv_handle_t *h)
{
	struct gb_conn *c = h->data;
	struct agw_gb_server *s = c->srv;
	free(c->buf);
	free(c);
	gb_server_closed(s);
}

static void conn_close(struct gb_conn *c)
{
	struct agw_gb_server *s = c->srv;
	if (c->closing)
		return;
	c->closing = true;
	struct gb_conn **p = &s->conns_by_id[c->id % BUCKETS];
	while (*p && *p != c)
		p = &(*p)->hnext;
	if (*p)
		*p = c->hnext;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	s->closing++;
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct gb_conn *c = h->data;
	*buf = uv_buf_init(c->srv->rbuf, sizeof(c->srv->rbuf));
}

/* Appends, frames and dispatches; the connection's buffer only ever holds one unfinished message. */
static void on_conn_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	struct gb_conn *c = stream->data;
	struct agw_gb_server *s = c->srv;
	if (n < 0) {
		conn_close(c);
		return;
	}
	if (n == 0 || c->closing)
		return;
	c->last_ms = (int64_t)uv_now(s->loop);
	if (c->len + (size_t)n > c->cap) {
		size_t cap = c->cap ? c->cap : 1024;
		while (cap < c->len + (size_t)n)
			cap *= 2;
		char *v = realloc(c->buf, cap);
		if (!v) {
			conn_close(c);
			return;
		}
		c->buf = v;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, buf->base, (size_t)n);
	c->len += (size_t)n;
	size_t off = 0;
	for (;;) {
		size_t skip = 0, len = 0;
		char err[256];
		int rc = agw_gb_sip_frame(c->buf + off, c->len - off, &skip, &len, err, sizeof(err));
		if (rc < 0) {
			char ip[64];
			int port;
			gb_peer_text(&c->addr, ip, sizeof(ip), &port);
			agw_log_debug(COMPONENT, NULL, "tcp %s:%d: %s; connection closed", ip, port, err);
			count_bad(s);
			conn_close(c);
			return;
		}
		off += skip;
		if (rc == 0)
			break;
		struct gb_peer peer = {.addr = c->addr, .conn = c->id};
		gb_server_dispatch(s, c->buf + off, len, AGW_GB_SIP_STREAM, &peer);
		off += len;
		if (c->closing || s->stopping)
			return;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct agw_gb_server *s = listener->data;
	if (status < 0)
		return;
	struct gb_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->srv = s;
	uv_tcp_init(s->loop, &c->tcp);
	c->tcp.data = c;
	c->id = ++s->next_conn;
	/* linked before anything can fail, so conn_close can take it apart */
	c->hnext = s->conns_by_id[c->id % BUCKETS];
	s->conns_by_id[c->id % BUCKETS] = c;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	c->last_ms = (int64_t)uv_now(s->loop);
	int len = sizeof(c->addr);
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0 ||
	    uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->addr, &len) < 0) {
		conn_close(c);
		return;
	}
	if ((int64_t)s->n_conns > s->cfg.max_devices) {
		s->stats.bad++;
		agw_log_warn(COMPONENT, NULL, "more than %lld TCP connections: refused", (long long)s->cfg.max_devices);
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	if (uv_read_start((uv_stream_t *)&c->tcp, on_conn_alloc, on_conn_read) < 0)
		conn_close(c);
}

static void udp_drops(struct agw_gb_server *s, int64_t now);

void gb_transport_sweep(struct agw_gb_server *s, int64_t now)
{
	udp_drops(s, now);
	int64_t idle = s->cfg.keepalive_interval_ms * s->cfg.keepalive_misses + TCP_IDLE_SLACK_MS;
	for (struct gb_conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (now - c->last_ms > idle)
			conn_close(c);
	}
}

/* ---- lifecycle ---- */

/* Thousands of devices share this one socket: while the loop commits a batch, their datagrams
 * wait in the kernel, and the default buffer (about 200 KiB) overflows at a few hundred alarms a
 * second. A dropped alarm costs a retransmission (T1, 500 ms), a dropped answer a whole retry. The
 * kernel caps SO_RCVBUF at net.core.rmem_max; SO_RCVBUFFORCE passes it with CAP_NET_ADMIN. */
static void udp_buffer(struct agw_gb_server *s, int fd)
{
	int want = (int)s->cfg.udp_receive_buffer, got = 0;
	socklen_t len = sizeof(got);
	if (want <= 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && got / 2 < want) /* the kernel reports double */
		agw_log_notice(COMPONENT, NULL,
			       "UDP receive buffer is %d KiB, not the %d KiB of udp_receive_buffer: raise "
			       "net.core.rmem_max (sysctl) or give the gateway CAP_NET_ADMIN",
			       got / 2048, want / 1024);
}

/* Datagrams the kernel dropped on the UDP socket because its buffer was full (SO_MEMINFO): alarms
 * and answers the gateway never saw, so no events_lost can name them; counted and logged. */
static void udp_drops(struct agw_gb_server *s, int64_t now)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);
	uv_os_fd_t fd;
	if (!s->udp || uv_fileno((uv_handle_t *)s->udp, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 || len <= SK_MEMINFO_DROPS * sizeof(uint32_t))
		return;
	uint64_t drops = mem[SK_MEMINFO_DROPS];
	if (drops <= s->stats.udp_drops)
		return;
	agw_metric_add("agw_gb28181_udp_drops_total", NULL, drops - s->stats.udp_drops);
	if (now - s->udp_drops_logged_ms >= 60000) {
		agw_log_warn(COMPONENT, NULL, "the kernel dropped %llu datagrams in all at the SIP socket (receive buffer "
					     "full: the loop fell behind); devices retransmit alarms, but raise "
					     "udp_receive_buffer or lighten the load",
			     (unsigned long long)drops);
		s->udp_drops_logged_ms = now;
	}
	s->stats.udp_drops = drops;
}

static int bound_socket(const struct sockaddr_storage *addr, int type, int *ret_fd)
{
	int fd = socket(addr->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)addr, addr_len(addr)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, TCP_BACKLOG) < 0)) {
		int rc = -errno;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	*ret_fd = fd;
	return 0;
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

int gb_transport_start(struct agw_gb_server *s, const char *listen_on, char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	if (parse_listen(listen_on, &addr) < 0) {
		snprintf(err, errlen, "listen '%s' is not ip:port", listen_on ? listen_on : "");
		return -EINVAL;
	}
	/* bound before any libuv handle exists, so a failure leaves nothing to close */
	int ufd = -1, tfd = -1, rc = 0;
	/* Port 0 (tests) lets the kernel pick the UDP port; TCP must take the same number, which some
	 * other TCP socket may hold: pick again rather than fail. A configured port is tried once. */
	bool any_port = addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port == 0
						    : ((struct sockaddr_in *)&addr)->sin_port == 0;
	for (int attempt = 0; attempt < (any_port ? 32 : 1); attempt++) {
		rc = bound_socket(&addr, SOCK_DGRAM, &ufd);
		if (rc < 0) {
			snprintf(err, errlen, "udp %s: %s", listen_on, strerror(-rc));
			return rc;
		}
		struct sockaddr_storage got;
		socklen_t glen = sizeof(got);
		if (getsockname(ufd, (struct sockaddr *)&got, &glen) < 0) {
			rc = -errno;
			snprintf(err, errlen, "udp %s: %s", listen_on, strerror(errno));
			close(ufd);
			return rc;
		}
		rc = bound_socket(&got, SOCK_STREAM, &tfd);
		if (rc == 0)
			break;
		snprintf(err, errlen, "tcp %s: %s", listen_on, strerror(-rc));
		close(ufd);
		ufd = -1;
		if (rc != -EADDRINUSE)
			return rc;
	}
	if (rc < 0)
		return rc;
	s->udp = calloc(1, sizeof(*s->udp));
	s->listener = calloc(1, sizeof(*s->listener));
	if (!s->udp || !s->listener) {
		free(s->udp);
		free(s->listener);
		close(ufd);
		close(tfd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	udp_buffer(s, ufd);
	uv_udp_init(s->loop, s->udp);
	uv_tcp_init(s->loop, s->listener);
	s->udp->data = s;
	s->listener->data = s;
	rc = uv_udp_open(s->udp, ufd);
	if (rc == 0)
		rc = uv_udp_recv_start(s->udp, on_alloc, on_udp);
	if (rc == 0)
		rc = uv_tcp_open(s->listener, tfd);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)s->listener, TCP_BACKLOG, on_connection);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", listen_on, uv_strerror(rc));
		/* the handles own or will own the descriptors; they go without the server */
		uv_close((uv_handle_t *)s->udp, free_handle);
		uv_close((uv_handle_t *)s->listener, free_handle);
		s->udp = NULL;
		s->listener = NULL;
		return rc;
	}
	return 0;
}

static void on_transport_closed(uv_handle_t *h)
{
	struct agw_gb_server *s = h->data;
	free(h);
	gb_server_closed(s);
}

void gb_transport_close(struct agw_gb_server *s)
{
	if (s->udp) {
		s->closing++;
		uv_close((uv_handle_t *)s->udp, on_transport_closed);
		s->udp = NULL;
	}
	if (s->listener) {
		s->closing++;
		uv_close((uv_handle_t *)s->listener, on_transport_closed);
		s->listener = NULL;
	}
	while (s->conns)
		conn_close(s->conns);
}
