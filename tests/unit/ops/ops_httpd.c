/* SPDX-License-Identifier: GPL-2.0-or-later */
/* agw-ops-httpd: the operations HTTP server alone on a store, for the integration tests (the
 * daemon serves the same module). Prints "port N" once listening. SIGUSR1 marks the loop
 * unhealthy, SIGUSR2 healthy again; SIGTERM/SIGINT stop the server and exit 0.
 * usage: agw-ops-httpd DB [LISTEN] [--metric NAME[{LABELS}]=VALUE]... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/metrics.h"
#include "http.h"
#include "store.h"

static struct agw_http *http;
static uv_signal_t sig_term, sig_int, sig_usr1, sig_usr2;
static int stopped;
static bool healthy = true;

/* The daemon's way: /healthz asks on every request. */
static bool is_healthy(void *arg)
{
	return *(bool *)arg;
}

static void on_stopped(void *arg)
{
	stopped = 1;
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_usr1, NULL);
	uv_close((uv_handle_t *)&sig_usr2, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	if (signum == SIGUSR1 || signum == SIGUSR2) {
		healthy = signum == SIGUSR2;
		return;
	}
	agw_http_stop(http, on_stopped, NULL);
}

/* NAME=VALUE or NAME{LABELS}=VALUE */
static int set_metric(const char *spec)
{
	char name[128], labels[256] = "";
	const char *eq = strrchr(spec, '=');
	const char *brace = strchr(spec, '{');
	if (!eq)
		return -1;
	size_t nlen = (size_t)((brace && brace < eq ? brace : eq) - spec);
	if (nlen == 0 || nlen >= sizeof(name))
		return -1;
	memcpy(name, spec, nlen);
	name[nlen] = '\0';
	if (brace && brace < eq) {
		const char *close = strrchr(spec, '}');
		if (!close || close < brace || (size_t)(close - brace - 1) >= sizeof(labels))
			return -1;
		memcpy(labels, brace + 1, (size_t)(close - brace - 1));
		labels[close - brace - 1] = '\0';
	}
	agw_metric_add(name, labels[0] ? labels : NULL, strtoll(eq + 1, NULL, 10));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: agw-ops-httpd DB [LISTEN] [--token-file FILE] [--hosts NAMES] "
				"[--leaflet-dir DIR] [--tile-url URL] [--time-zone ZONE] [--state-dir DIR] "
				"[--metric NAME[{LABELS}]=VALUE]...\n");
		return 2;
	}
	const char *listen = "127.0.0.1:0", *token_file = NULL, *hosts = NULL, *leaflet_dir = NULL, *tile_url = NULL,
		   *time_zone = NULL, *state_dir = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
			token_file = argv[++i];
		} else if (strcmp(argv[i], "--hosts") == 0 && i + 1 < argc) {
			hosts = argv[++i];
		} else if (strcmp(argv[i], "--leaflet-dir") == 0 && i + 1 < argc) {
			leaflet_dir = argv[++i];
		} else if (strcmp(argv[i], "--tile-url") == 0 && i + 1 < argc) {
			tile_url = argv[++i];
		} else if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc) {
			state_dir = argv[++i];
		} else if (strcmp(argv[i], "--time-zone") == 0 && i + 1 < argc) {
			time_zone = argv[++i];
		} else if (strcmp(argv[i], "--metric") == 0 && i + 1 < argc) {
			if (set_metric(argv[++i]) < 0) {
				fprintf(stderr, "agw-ops-httpd: bad --metric %s\n", argv[i]);
				return 2;
			}
		} else {
			listen = argv[i];
		}
	}
	struct agw_store *store = NULL;
	char err[256];
	if (agw_store_open(argv[1], &store, err, sizeof(err)) < 0) {
		fprintf(stderr, "agw-ops-httpd: %s\n", err);
		return 1;
	}
	uv_loop_t *loop = uv_default_loop();
	struct agw_http_config hc = {.listen = listen, .token_file = token_file, .hosts = hosts,
				     .leaflet_dir = leaflet_dir, .tile_url = tile_url, .time_zone = time_zone,
				     .state_dir = state_dir};
	if (agw_http_start_config(loop, &hc, store, &http) < 0) {
		agw_store_close(store);
		return 1;
	}
	agw_http_set_health_fn(http, is_healthy, &healthy);
	uv_signal_init(loop, &sig_term);
	uv_signal_init(loop, &sig_int);
	uv_signal_init(loop, &sig_usr1);
	uv_signal_init(loop, &sig_usr2);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_start(&sig_usr1, on_signal, SIGUSR1);
	uv_signal_start(&sig_usr2, on_signal, SIGUSR2);
	printf("port %d\n", agw_http_port(http));
	fflush(stdout);
	uv_run(loop, UV_RUN_DEFAULT);
	int r = uv_loop_close(loop);
	agw_store_close(store);
	if (!stopped || r != 0) {
		fprintf(stderr, "agw-ops-httpd: the loop ended with handles open\n");
		return 1;
	}
	return 0;
}
