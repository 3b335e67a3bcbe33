/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A deliberately small HTTP/1.1 server for operations: starting (listen address, token, Host
 * names, the page's settings and files) and stopping. Connections are http_conn.c's, answers
 * http_routes.c's. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alarmgw/alert.h"
#include "alarmgw/log.h"
#include "http_internal.h"
#include "evidence_url.h"
#include "http_tls.h"

#define TOKEN_MIN 16 /* bytes: a guessable token is no token */
#define TOKEN_MAX 512
#define TIME_ZONE_DEFAULT "Asia/Shanghai"

static int parse_listen(const char *text, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon;
	const char *h = text;
	size_t hlen;
	if (*text == '[') {
		const char *rb = strchr(text, ']');
		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = text + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - text);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
		return -EINVAL;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0)
		return 0;
	if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0)
		return 0;
	return -EINVAL;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

void agw_http_free(struct agw_http *h)
{
	agw_http_tls_ctx_free(h->tls_ctx);
	if (h->url_key)
		explicit_bzero(h->url_key, sizeof(*h->url_key));
	free(h->url_key);
	agw_health_tracker_free(h->tracker);
	agw_http_assets_free(h);
	free(h->time_zone);
	free(h->state_dir);
	free(h->tile_url);
	free(h->page_csp);
	free(h->points);
	if (h->token)
		explicit_bzero(h->token, strlen(h->token));
	free(h->token);
	for (size_t i = 0; i < h->n_hosts; i++)
		free(h->hosts[i]);
	free(h->hosts);
	free(h);
}

static void free_unstarted(uv_handle_t *handle)
{
	agw_http_free(handle->data);
}

/* Reads the bearer token: one line of printable characters without spaces. The file should be
 * readable by the service's group only, like the config; a world-readable one is said so once. */
static int token_read(const char *path, char **ret)
{
	char buf[TOKEN_MAX + 2];
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		agw_log_err(AGW_HTTP_COMPONENT, NULL, "http_token_file %s: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0007))
		agw_log_warn(AGW_HTTP_COMPONENT, NULL,
			     "http_token_file %s can be read by every user (mode %03o): make it root:alarmgw 0640",
			     path, (unsigned)(st.st_mode & 0777));
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	bool ok = n >= TOKEN_MIN && n <= TOKEN_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = buf[i] > ' ' && buf[i] < 127;
	if (!ok) {
		agw_log_err(AGW_HTTP_COMPONENT, NULL,
			    "http_token_file %s: the token must be one line of %d to %d printable characters "
			    "without spaces (e.g. openssl rand -hex 32)",
			    path, TOKEN_MIN, TOKEN_MAX);
		explicit_bzero(buf, sizeof(buf));
		return -EINVAL;
	}
	*ret = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return *ret ? 0 : -ENOMEM;
}

/* "a.example, 10.0.0.5:9108 [::1]" -> h->hosts; each entry checked the way requests are. */
static int hosts_parse(struct agw_http *h, const char *text)
{
	const char *p = text;
	while (*p) {
		size_t skip = strspn(p, ", \t");
		p += skip;
		size_t len = strcspn(p, ", \t");
		if (!len)
			break;
		struct agw_http_access probe = {.hosts = NULL, .n_hosts = 0, .port = -1, .token = NULL};
		char *entry = strndup(p, len);
		char **v = entry ? realloc(h->hosts, (h->n_hosts + 1) * sizeof(*v)) : NULL;
		if (!v) {
			free(entry);
			return -ENOMEM;
		}
		h->hosts = v;
		h->hosts[h->n_hosts++] = entry;
		/* An entry that cannot match itself is malformed ("a:b", "[::1"). */
		const char *const one[] = {entry};
		probe.hosts = one;
		probe.n_hosts = 1;
		if (!agw_http_host_allowed(&probe, entry, len)) {
			agw_log_err(AGW_HTTP_COMPONENT, NULL, "http_hosts: \"%s\" is not a host name, host:port or [v6]:port",
				    entry);
			return -EINVAL;
		}
		p += len;
	}
	return 0;
}

/* The tile server's origin for the CSP: the scheme, host and port of the template, with a
 * leading "{s}." subdomain as the wildcard "*." the CSP understands. */
static int tile_origin(const char *url, char *buf, size_t len)
{
	const char *host = strstr(url, "://");
	if (!host || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
		return -EINVAL;
	host += 3;
	size_t n = strcspn(host, "/?#");
	if (n == 0 || (size_t)(host - url) + n + 2 >= len)
		return -EINVAL;
	const char *sub = strstr(host, "{s}");
	if (sub && sub == host && n > 3)
		snprintf(buf, len, "%.*s*%.*s", (int)(host - url), url, (int)(n - 3), host + 3);
	else
		snprintf(buf, len, "%.*s", (int)(host - url) + (int)n, url);
	return strpbrk(buf + (host - url) + 1, "{}' ;") ? -EINVAL : 0;
}

/* An IANA name the system knows ("Asia/Shanghai", "UTC"): the browser would refuse any other and
 * show no time at all. */
static bool zone_known(const char *zone)
{
	char path[160];
	if (strlen(zone) > 64 || strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") !=
					 strlen(zone) || strstr(zone, "..") || zone[0] == '/')
		return false;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The page's zone, tile server and files. Its CSP lets it run its own script, read the API and
 * draw tiles from the configured server, and nothing else. */
static int page_setup(struct agw_http *h, const struct agw_http_config *cfg)
{
	char origin[256] = "", csp[768];
	if (cfg->tile_url && *cfg->tile_url && tile_origin(cfg->tile_url, origin, sizeof(origin)) < 0) {
		agw_log_err(AGW_HTTP_COMPONENT, NULL, "http_tile_url \"%s\" is not an http(s)://host/{z}/{x}/{y} template",
			    cfg->tile_url);
		return -EINVAL;
	}
	snprintf(csp, sizeof(csp),
		 "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:%s%s; "
		 "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
		 origin[0] ? " " : "", origin);
	const char *zone = cfg->time_zone && *cfg->time_zone ? cfg->time_zone : TIME_ZONE_DEFAULT;
	if (!zone_known(zone)) {
		agw_log_err(AGW_HTTP_COMPONENT, NULL,
			    "http_time_zone \"%s\" is not a time zone: a name from /usr/share/zoneinfo, e.g. Asia/Shanghai",
			    zone);
		return -EINVAL;
	}
	h->page_csp = strdup(csp);
	h->time_zone = strdup(zone);
	h->tile_url = cfg->tile_url && *cfg->tile_url ? strdup(cfg->tile_url) : NULL;
	if (!h->page_csp || !h->time_zone || (cfg->tile_url && *cfg->tile_url && !h->tile_url))
		return -ENOMEM;
	return agw_http_assets_load(h, cfg->leaflet_dir);
}

int agw_http_start(uv_loop_t *loop, const char *listen_addr, struct agw_store *store, struct agw_http **ret)
{
	struct agw_http_config cfg = {.listen = listen_addr};
	return agw_http_start_config(loop, &cfg, store, ret);
}

/* The signed-link key when configured; HTTPS when a certificate is (its key defaults to the
 * certificate's file). */
static int tls_setup(struct agw_http *h, const struct agw_http_config *cfg)
{
	char err[300];
	if (cfg->url_key_file && *cfg->url_key_file) {
		int r = (h->url_key = malloc(sizeof(*h->url_key))) ? 0 : -ENOMEM;
		if (r == 0 && (r = agw_evidence_url_key_load(cfg->url_key_file, h->url_key, err, sizeof(err))) < 0)
			agw_log_err(AGW_HTTP_COMPONENT, NULL, "evidence_url_key_file %s", err);
		if (r < 0)
			return r;
		h->access.url_key = h->url_key;
	}
	if (!cfg->tls_cert || !*cfg->tls_cert)
		return 0;
	int r = agw_http_tls_ctx_new(cfg->tls_cert, cfg->tls_key ? cfg->tls_key : cfg->tls_cert, &h->tls_ctx, err,
				     sizeof(err));
	if (r < 0)
		agw_log_err(AGW_HTTP_COMPONENT, NULL, "%s", err);
	return r;
}

int agw_http_start_config(uv_loop_t *loop, const struct agw_http_config *cfg, struct agw_store *store,
			  struct agw_http **ret)
{
	const char *listen_addr = cfg->listen;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (!listen_addr || parse_listen(listen_addr, &ss) < 0) {
		agw_log_err(AGW_HTTP_COMPONENT, NULL, "http_listen \"%s\" is not host:port (127.0.0.1:9108, [::1]:9108)",
			    listen_addr ? listen_addr : "");
		return -EINVAL;
	}
	bool loopback = is_loopback(&ss);
	bool has_token = cfg->token_file && *cfg->token_file;
	if (!loopback && !has_token) {
		agw_log_err(AGW_HTTP_COMPONENT, NULL,
			    "http_listen %s is not a loopback address: set gateway.http_token_file (a bearer token "
			    "every request but /healthz must carry) or listen on 127.0.0.1",
			    listen_addr);
		return -EINVAL;
	}
	struct agw_http *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->loop = loop;
	h->store = store;
	h->healthy = true;
	h->broker_down_ms = AGW_TIME_UNKNOWN;
	int r = has_token ? token_read(cfg->token_file, &h->token) : 0;
	if (r == 0 && cfg->hosts)
		r = hosts_parse(h, cfg->hosts);
	if (r == 0 && !loopback && !h->n_hosts) {
		agw_log_err(AGW_HTTP_COMPONENT, NULL,
			    "http_listen %s is not a loopback address: set gateway.http_hosts to the names clients "
			    "use (the Host header is checked against them)",
			    listen_addr);
		r = -EINVAL;
	}
	if (r == 0 && cfg->state_dir && *cfg->state_dir && !(h->state_dir = strdup(cfg->state_dir)))
		r = -ENOMEM;
	if (r == 0)
		r = tls_setup(h, cfg);
	if (r == 0)
		r = agw_health_tracker_new(&h->tracker);
	if (r == 0)
		r = agw_health_tracker_set_layer(h->tracker, cfg->grid_layer ? cfg->grid_layer : "default");
	if (r == 0)
		r = page_setup(h, cfg);
	if (r == 0)
		r = uv_tcp_init(loop, &h->listener);
	if (r < 0) {
		agw_http_free(h);
		return r;
	}
	h->access.hosts = (const char *const *)h->hosts;
	h->access.n_hosts = h->n_hosts;
	h->access.token = h->token;
	h->listener.data = h;
	r = uv_tcp_bind(&h->listener, (const struct sockaddr *)&ss, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&h->listener, 128, agw_http_on_connection);
	if (r < 0) {
		agw_log_err(AGW_HTTP_COMPONENT, NULL, "cannot listen on %s: %s", listen_addr, uv_strerror(r));
		uv_close((uv_handle_t *)&h->listener, free_unstarted);
		return r;
	}
	struct sockaddr_storage bound;
	int blen = sizeof(bound);
	if (uv_tcp_getsockname(&h->listener, (struct sockaddr *)&bound, &blen) == 0)
		h->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
							   : ((struct sockaddr_in6 *)&bound)->sin6_port);
	h->access.port = h->port;
	h->listener_open = true;
	if (agw_http_sse_init(h) < 0)
		agw_log_warn(AGW_HTTP_COMPONENT, NULL, "cannot start the live-page timer: pages update on reload only");
	agw_log_info(AGW_HTTP_COMPONENT, NULL, "serving /metrics, /healthz, / and /api/status on %s (port %d, %s%s%s)",
		     listen_addr, h->port, h->tls_ctx ? "HTTPS" : "HTTP", h->token ? ", bearer token required" : "",
		     h->n_hosts ? ", Host names from http_hosts" : ", Host must be a loopback name");
	*ret = h;
	return 0;
}

void agw_http_set_health(struct agw_http *h, bool healthy)
{
	if (h)
		h->healthy = healthy;
}

void agw_http_set_health_fn(struct agw_http *h, bool (*fn)(void *arg), void *arg)
{
	if (!h)
		return;
	h->health_fn = fn;
	h->health_arg = arg;
}

int agw_http_port(const struct agw_http *h)
{
	return h ? h->port : -1;
}

static void listener_closed(uv_handle_t *handle)
{
	struct agw_http *h = handle->data;
	h->listener_open = false;
	agw_http_maybe_done(h);
}

void agw_http_stop(struct agw_http *h, void (*done)(void *arg), void *arg)
{
	if (!h || h->stopping)
		return;
	h->stopping = true;
	h->done = done;
	h->done_arg = arg;
	/* A snapshot not yet started is cancelled; one running finishes on the worker and is dropped. */
	agw_http_collect_cancel(h);
	for (struct agw_http_conn *c = h->conns; c; c = c->next)
		agw_http_conn_close(c);
	agw_http_sse_close(h);
	uv_close((uv_handle_t *)&h->listener, listener_closed);
}
