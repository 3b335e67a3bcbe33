/* SPDX-License-Identifier: GPL-2.0-or-later */
/* agw-rtsp-drive: runs the RTSP adapter alone on a libuv loop and prints every alert it emits as
 * one JSON line on stdout (agw_alert_to_json). The integration tests drive it against
 * alarmgw-rtspd; it needs no database, broker or config file.
 *
 *   agw-rtsp-drive --state DIR [--set option=value]... --camera ID=URL[,USER[,PASSWORD]]...
 *
 * Options are the adapter's option table (same names and value syntax as the config section
 * adapters.rtsp). stdin commands: "remove ID", "quit"; end of stdin, SIGINT or SIGTERM stop it.
 * --refuse N: the first N alerts are refused as by a full core queue (-ENOBUFS) and printed as
 * "REFUSED <json>", to test that the adapter emits them again.
 * Prints "READY" after start and "STOPPED <ms>" once the adapter has stopped (the time stop took). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <uv.h>

#include "alarmgw/adapter.h"
#include "alarmgw/log.h"

extern const struct agw_adapter agw_adapter_rtsp;

static const struct agw_adapter *ad = &agw_adapter_rtsp;
static void *priv;
static struct agw_adapter_ctx ctx;
static uv_signal_t sig_int, sig_term;
static uv_pipe_t in_pipe;
static bool stopping, stopped;
static uint64_t stop_began_ms;
static long refuse;

static int parse_duration(const char *t, int64_t *ret_ms)
{
	char *end;
	double v = strtod(t, &end);
	if (end == t || v < 0)
		return -EINVAL;
	double mul = 1000;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "m") == 0)
		mul = 60000;
	else if (strcmp(end, "h") == 0)
		mul = 3600000;
	else if (*end && strcmp(end, "s") != 0)
		return -EINVAL;
	*ret_ms = (int64_t)llround(v * mul);
	return 0;
}

/* Sets one option from text, the way the config would. */
static int option_set(const struct agw_option *o, const char *text)
{
	void *field = (char *)priv + o->offset;
	char *end;
	switch (o->type) {
	case AGW_OPT_STRING:
	case AGW_OPT_PATH:
		free(*(char **)field);
		*(char **)field = strdup(text);
		return 0;
	case AGW_OPT_BOOL:
		*(bool *)field = strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0;
		return 0;
	case AGW_OPT_DURATION:
		return parse_duration(text, (int64_t *)field);
	case AGW_OPT_INT:
		*(int64_t *)field = strtoll(text, &end, 10);
		return *end ? -EINVAL : 0;
	case AGW_OPT_DOUBLE:
		*(double *)field = strtod(text, &end);
		return *end ? -EINVAL : 0;
	}
	return -EINVAL;
}

static const struct agw_option *option_find(const char *name, size_t len)
{
	for (const struct agw_option *o = ad->options; o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static int emit(struct agw_adapter_ctx *c, const struct agw_alert *alert)
{
	char *json = NULL;
	if (agw_alert_to_json(alert, &json) < 0)
		return -ENOMEM;
	if (refuse > 0) {
		refuse--;
		printf("REFUSED %s\n", json);
		fflush(stdout);
		free(json);
		return -ENOBUFS;
	}
	printf("%s\n", json);
	fflush(stdout);
	free(json);
	return 0;
}

static void on_stopped(struct agw_adapter_ctx *c)
{
	stopped = true;
	printf("STOPPED %llu\n", (unsigned long long)(uv_now(c->loop) - stop_began_ms));
	fflush(stdout);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_term, NULL);
	if (!uv_is_closing((uv_handle_t *)&in_pipe))
		uv_close((uv_handle_t *)&in_pipe, NULL);
}

static void begin_stop(void)
{
	if (stopping)
		return;
	stopping = true;
	uv_update_time(ctx.loop);
	stop_began_ms = uv_now(ctx.loop);
	ad->stop(priv);
}

static void on_signal(uv_signal_t *s, int signum)
{
	begin_stop();
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char storage[4096];
	buf->base = storage;
	buf->len = sizeof(storage);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	static char line[4096];
	static size_t len;
	if (n < 0) {
		uv_close((uv_handle_t *)s, NULL);
		begin_stop();
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		char ch = buf->base[i];
		if (ch != '\n') {
			if (len + 1 < sizeof(line))
				line[len++] = ch;
			continue;
		}
		line[len] = '\0';
		len = 0;
		if (strcmp(line, "quit") == 0)
			begin_stop();
		else if (strncmp(line, "remove ", 7) == 0 && ad->camera_remove && !stopping)
			ad->camera_remove(priv, line + 7);
	}
}

static int camera_arg(char *arg, struct agw_camera *cam)
{
	char *eq = strchr(arg, '=');
	if (!eq)
		return -EINVAL;
	*eq = '\0';
	memset(cam, 0, sizeof(*cam));
	cam->id = arg;
	cam->protocol = (char *)"rtsp";
	cam->lon = cam->lat = NAN;
	cam->address = strtok(eq + 1, ",");
	cam->username = strtok(NULL, ",");
	cam->password = strtok(NULL, ",");
	return cam->address ? 0 : -EINVAL;
}

/* The command line: the state folder, adapter options and cameras. */
static int parse_args(int argc, char **argv, const char **ret_state, struct agw_camera *cams, size_t max_cams,
		      size_t *n_cams)
{
	static const struct option opts[] = {
		{"state", required_argument, NULL, 's'},
		{"set", required_argument, NULL, 'o'},
		{"camera", required_argument, NULL, 'c'},
		{"debug", no_argument, NULL, 'd'},
		{"refuse", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "s:o:c:dr:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			*ret_state = optarg;
			break;
		case 'o': {
			char *eq = strchr(optarg, '=');
			const struct agw_option *o = eq ? option_find(optarg, (size_t)(eq - optarg)) : NULL;
			if (!o || option_set(o, eq + 1) < 0) {
				fprintf(stderr, "agw-rtsp-drive: bad option %s\n", optarg);
				return -EINVAL;
			}
			break;
		}
		case 'c':
			if (*n_cams == max_cams || camera_arg(optarg, &cams[*n_cams]) < 0) {
				fprintf(stderr, "agw-rtsp-drive: bad camera %s (ID=URL[,USER[,PASSWORD]])\n", optarg);
				return -EINVAL;
			}
			(*n_cams)++;
			break;
		case 'd':
			agw_log_set_level(AGW_LOG_DEBUG);
			break;
		case 'r':
			refuse = strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: agw-rtsp-drive --state DIR [--set option=value]... "
					"--camera ID=URL[,USER[,PASSWORD]]...\n");
			return -EINVAL;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *state = NULL;
	struct agw_camera cams[64];
	size_t n_cams = 0;
	signal(SIGPIPE, SIG_IGN);
	priv = calloc(1, ad->priv_size);
	for (const struct agw_option *o = ad->options; o->name; o++)
		if (o->def && option_set(o, o->def) < 0) {
			fprintf(stderr, "bad default for %s\n", o->name);
			return 2;
		}
	if (parse_args(argc, argv, &state, cams, sizeof(cams) / sizeof(cams[0]), &n_cams) < 0)
		return 2;
	uv_loop_t *loop = uv_default_loop();
	ctx = (struct agw_adapter_ctx){.loop = loop, .name = ad->name, .state_dir = state, .emit = emit,
				       .stopped = on_stopped};
	int r = ad->init(priv, &ctx);
	if (r < 0) {
		fprintf(stderr, "agw-rtsp-drive: init: %s\n", strerror(-r));
		return 1;
	}
	for (size_t i = 0; i < n_cams; i++)
		if (ad->camera_add(priv, &cams[i]) < 0)
			fprintf(stderr, "agw-rtsp-drive: camera %s refused\n", cams[i].id);
	uv_signal_init(loop, &sig_int);
	uv_signal_init(loop, &sig_term);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_pipe_init(loop, &in_pipe, 0);
	if (uv_pipe_open(&in_pipe, 0) == 0)
		uv_read_start((uv_stream_t *)&in_pipe, on_alloc, on_read);
	r = ad->start(priv);
	if (r < 0) {
		fprintf(stderr, "agw-rtsp-drive: start: %s\n", strerror(-r));
		begin_stop();
	} else {
		printf("READY\n");
		fflush(stdout);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	ad->uninit(priv);
	for (const struct agw_option *o = ad->options; o->name; o++)
		if (o->type == AGW_OPT_STRING)
			free(*(char **)((char *)priv + o->offset));
	free(priv);
	uv_loop_close(loop);
	return stopped ? 0 : 1;
}
