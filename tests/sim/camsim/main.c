/* SPDX-License-Identifier: GPL-2.0-or-later */
/* alarmgw-camsim: N simulated ONVIF cameras on one libuv loop, for tests and benchmarks. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>

#include "alarmgw/log.h"
#include "camsim.h"

#define MAX_CAMERAS 60000
#define SWEEP_MS 200

static void usage(FILE *f)
{
	fputs("usage: alarmgw-camsim [options]\n"
	      "  -n, --cameras N             cameras to simulate (default 1)\n"
	      "  -p, --base-port P           camera i listens on P+i (default 18000)\n"
	      "      --host ADDR             listen address (default 127.0.0.1)\n"
	      "      --auth MODE             wsse, digest, both or none (default wsse)\n"
	      "      --user U --password P   credentials (default admin / admin)\n"
	      "      --rate R                alarms per second per camera, may be < 1 (default 0)\n"
	      "      --mix SPEC              e.g. motion=5,tamper=1,line=1,intrusion=1 (kinds: motion,\n"
	      "                              tamper, line, intrusion, package, motionalarm, scenechange,\n"
	      "                              input)\n"
	      "      --events-log FILE       JSONL of every event queued to a subscription, and drops\n"
	      "      --ledger FILE           writes the gateway camera ledger CSV for these cameras\n"
	      "      --control-port P        HTTP control port on 127.0.0.1\n"
	      "      --duration S            exit after S seconds\n"
	      "      --queue-limit N         events queued per subscription (default 1000)\n"
	      "      --sources N             video sources per camera: more than 1 makes each an NVR whose\n"
	      "                              events name the source (tokens VideoSource_i; default 1)\n"
	      "      --seed N                random seed (default 1)\n"
	      "      --log-level LEVEL       err, warning, notice, info, debug (default notice)\n"
	      "misbehaviour of every camera from the start:\n"
	      "      --skew S  --clock-reset[=YEAR]  --one-subscriber  --unsubscribe-kills-all  --digest-only\n"
	      "      --no-inactive\n"
	      "      --slow MS  --malformed N  --oversized N  --oversized-bytes B  --fault N\n"
	      "      --expired-reply 404|fault\n"
	      "      --unsupported OPS       e.g. GetServices,GetEventProperties: ActionNotSupported faults\n"
	      "      --advertise-host H      host written into XAddrs and subscription addresses\n"
	      "      --stream-url URL        GetStreamUri's answer (an RTSP server), default rtsp://HOST:554/camsim/ID\n"
	      "      --dialect D             standard, alt1, alt2, alt3, or mixed (camera i: i % 4)\n",
	      f);
}

enum {
	OPT_AUTH = 256,
	OPT_MIX,
	OPT_QUEUE_LIMIT,
	OPT_SOURCES,
	OPT_SKEW,
	OPT_CLOCK_RESET,
	OPT_ONE_SUB,
	OPT_KILLS_ALL,
	OPT_DIGEST_ONLY,
	OPT_SLOW,
	OPT_MALFORMED,
	OPT_OVERSIZED,
	OPT_OVERSIZED_BYTES,
	OPT_FAULT,
	OPT_EXPIRED_REPLY,
	OPT_UNSUPPORTED,
	OPT_ADVERTISE_HOST,
	OPT_STREAM_URL,
	OPT_DIALECT,
	OPT_NO_INACTIVE,
};

/* How every camera misbehaves from the start: 1 when c is one of those options (*ret_bad set),
 * 0 otherwise. */
static int parse_misbehaviour(int c, const char *arg, struct camsim_misbehaviour *mb, int *ret_bad)
{
	double d;
	int bad = 0;
	switch (c) {
	case OPT_NO_INACTIVE:
		mb->no_inactive = true;
		break;
	case OPT_ONE_SUB:
		mb->one_subscriber = true;
		break;
	case OPT_KILLS_ALL:
		mb->unsubscribe_kills_all = true;
		break;
	case OPT_DIGEST_ONLY:
		mb->digest_only = true;
		break;
	case OPT_SLOW:
		bad = sim_parse_number(arg, 0, 600000, &d);
		mb->slow_ms = (unsigned)d;
		break;
	case OPT_MALFORMED:
		bad = sim_parse_number(arg, 0, 1e9, &d);
		mb->malformed = (unsigned)d;
		break;
	case OPT_OVERSIZED:
		bad = sim_parse_number(arg, 0, 1e9, &d);
		mb->oversized = (unsigned)d;
		break;
	case OPT_OVERSIZED_BYTES:
		bad = sim_parse_number(arg, 0, 512.0 * 1024 * 1024, &d);
		mb->oversized_bytes = (size_t)d;
		break;
	case OPT_FAULT:
		bad = sim_parse_number(arg, 0, 1e9, &d);
		mb->faults = (unsigned)d;
		break;
	case OPT_EXPIRED_REPLY:
		if (strcmp(arg, "404") == 0)
			mb->unknown_sub_404 = true;
		else if (strcmp(arg, "fault") != 0)
			bad = -EINVAL;
		break;
	case OPT_UNSUPPORTED:
		bad = camsim_onvif_ops_parse(arg, &mb->unsupported);
		break;
	case OPT_ADVERTISE_HOST:
		if (strlen(arg) >= sizeof(mb->advertise_host))
			bad = -EINVAL;
		else
			strcpy(mb->advertise_host, arg);
		break;
	case OPT_STREAM_URL:
		if (strlen(arg) >= sizeof(mb->stream_url))
			bad = -EINVAL;
		else
			strcpy(mb->stream_url, arg);
		break;
	default:
		return 0;
	}
	*ret_bad = bad;
	return 1;
}

/* The simulator's own options, then the shared ones (simmain.h). */
static const struct option longopts[] = {
	{"cameras", required_argument, NULL, 'n'},
	{"auth", required_argument, NULL, OPT_AUTH},
	{"mix", required_argument, NULL, OPT_MIX},
	{"queue-limit", required_argument, NULL, OPT_QUEUE_LIMIT},
	{"sources", required_argument, NULL, OPT_SOURCES},
	{"skew", required_argument, NULL, OPT_SKEW},
	{"clock-reset", optional_argument, NULL, OPT_CLOCK_RESET},
	{"no-inactive", no_argument, NULL, OPT_NO_INACTIVE},
	{"one-subscriber", no_argument, NULL, OPT_ONE_SUB},
	{"unsubscribe-kills-all", no_argument, NULL, OPT_KILLS_ALL},
	{"digest-only", no_argument, NULL, OPT_DIGEST_ONLY},
	{"slow", required_argument, NULL, OPT_SLOW},
	{"malformed", required_argument, NULL, OPT_MALFORMED},
	{"oversized", required_argument, NULL, OPT_OVERSIZED},
	{"oversized-bytes", required_argument, NULL, OPT_OVERSIZED_BYTES},
	{"fault", required_argument, NULL, OPT_FAULT},
	{"expired-reply", required_argument, NULL, OPT_EXPIRED_REPLY},
	{"unsupported", required_argument, NULL, OPT_UNSUPPORTED},
	{"advertise-host", required_argument, NULL, OPT_ADVERTISE_HOST},
	{"stream-url", required_argument, NULL, OPT_STREAM_URL},
	{"dialect", required_argument, NULL, OPT_DIALECT},
	SIM_COMMON_LONGOPTS,
	{"help", no_argument, NULL, 'h'},
	{0},
};

static int parse_auth(const char *s, enum camsim_auth *ret)
{
	static const char *const names[] = {[CAMSIM_AUTH_NONE] = "none", [CAMSIM_AUTH_WSSE] = "wsse",
					    [CAMSIM_AUTH_DIGEST] = "digest", [CAMSIM_AUTH_BOTH] = "both"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum camsim_auth)i;
			return 0;
		}
	return -EINVAL;
}

static int parse_options(int argc, char **argv, struct camsim_options *o)
{
	*o = (struct camsim_options){
		.common = {.host = "127.0.0.1", .base_port = 18000, .user = "admin", .password = "admin", .seed = 1},
		.cameras = 1, .auth = CAMSIM_AUTH_WSSE, .queue_limit = 1000, .sources = 1,
		.mb = {.oversized_bytes = 20 * 1024 * 1024},
	};
	camsim_mix_parse("motion=5,tamper=1,line=1,intrusion=1", o->mix);
	int c;
	double d;
	agw_log_set_level(AGW_LOG_NOTICE);
	while ((c = getopt_long(argc, argv, "n:p:h", longopts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'n':
			bad = sim_parse_number(optarg, 1, MAX_CAMERAS, &d);
			o->cameras = (unsigned)d;
			break;
		case OPT_AUTH:
			bad = parse_auth(optarg, &o->auth);
			break;
		case OPT_MIX:
			bad = camsim_mix_parse(optarg, o->mix);
			break;
		case OPT_QUEUE_LIMIT:
			bad = sim_parse_number(optarg, 1, 1e6, &d);
			o->queue_limit = (unsigned)d;
			break;
		case OPT_SOURCES:
			bad = sim_parse_number(optarg, 1, CAMSIM_MAX_SOURCES, &d);
			o->sources = (unsigned)d;
			break;
		case OPT_SKEW:
			bad = sim_parse_number(optarg, -1e10, 1e10, &o->skew);
			break;
		case OPT_CLOCK_RESET:
			o->clock_reset_year = 1970;
			if (optarg) {
				bad = sim_parse_number(optarg, 1970, 2100, &d);
				o->clock_reset_year = (int)d;
			}
			break;
		case OPT_DIALECT: {
			int dialect = camsim_dialect_find(optarg);
			o->mixed_dialects = strcmp(optarg, "mixed") == 0;
			if (dialect >= 0)
				o->mb.dialect = (uint8_t)dialect;
			else if (!o->mixed_dialects)
				bad = -EINVAL;
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			if (!sim_common_option(c, optarg, &o->common, &bad) &&
			    !parse_misbehaviour(c, optarg, &o->mb, &bad)) {
				usage(stderr);
				return -EINVAL;
			}
			break;
		}
		if (bad) {
			fprintf(stderr, "camsim: bad value for option %s: %s\n", argv[optind - 1], optarg ? optarg : "");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "camsim: unexpected argument %s\n", argv[optind]);
		return -EINVAL;
	}
	return sim_ports_check("camsim", &o->common, o->cameras);
}

static void stop(struct camsim *sim)
{
	if (sim->stopping)
		return;
	sim->stopping = true;
	for (unsigned i = 0; i < sim->ncams; i++)
		camsim_camera_close(&sim->cams[i]);
	camsim_http_server_stop(&sim->control);
	uv_close((uv_handle_t *)&sim->sweep_timer, NULL);
	uv_close((uv_handle_t *)&sim->duration_timer, NULL);
	uv_close((uv_handle_t *)&sim->sigterm, NULL);
	uv_close((uv_handle_t *)&sim->sigint, NULL);
	uv_close((uv_handle_t *)&sim->flush_check, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	agw_log_notice("camsim", NULL, "signal %d: stopping", signum);
	stop(s->data);
}

static void on_duration(uv_timer_t *t)
{
	stop(t->data);
}

static void on_sweep(uv_timer_t *t)
{
	struct camsim *sim = t->data;
	camsim_subs_sweep(sim);
	camsim_evlog_flush(sim);
}

/* Once per loop turn: the log reaches the file soon after events are queued. */
static void on_check(uv_check_t *h)
{
	camsim_evlog_flush(h->data);
}

/* The cameras' listeners, the control server and the ledger; what failed is said on stderr. On a
 * listener's failure only the cameras set up so far count (sim->ncams), for stop() to close. */
static int start_servers(struct camsim *sim)
{
	for (unsigned started = 0; started < sim->ncams; started++) {
		struct camsim_camera *cam = &sim->cams[started];
		camsim_camera_init(sim, cam, started);
		int r = camsim_camera_start(cam);
		if (r < 0) {
			fprintf(stderr, "camsim: cannot listen on %s:%d: %s\n", sim->opt.common.host, cam->port, uv_strerror(r));
			sim->ncams = started + 1;
			return -1;
		}
	}
	if (sim->opt.common.control_port) {
		int r = camsim_control_start(sim, sim->opt.common.control_port);
		if (r < 0) {
			fprintf(stderr, "camsim: cannot listen on control port %d: %s\n", sim->opt.common.control_port,
				uv_strerror(r));
			return -1;
		}
	}
	if (sim->opt.common.ledger) {
		int r = camsim_ledger_write(sim, sim->opt.common.ledger);
		if (r < 0) {
			fprintf(stderr, "camsim: cannot write %s: %s\n", sim->opt.common.ledger, strerror(-r));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct camsim sim = {0};
	int ret = 1;
	if (parse_options(argc, argv, &sim.opt) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	sim_raise_nofile("camsim", sim.opt.cameras, "cameras");
	xmlInitParser();
	if (sim_secret_make(sim.secret) < 0)
		return 1;

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sim.loop = uv_default_loop();
	sim.ncams = sim.opt.cameras;
	sim.cams = calloc(sim.ncams, sizeof(*sim.cams));
	if (!sim.cams) {
		fprintf(stderr, "camsim: out of memory\n");
		return 1;
	}
	if (sim.opt.common.events_log && camsim_evlog_open(&sim, sim.opt.common.events_log) < 0) {
		fprintf(stderr, "camsim: cannot write %s: %s\n", sim.opt.common.events_log, strerror(errno));
		goto out;
	}
	uv_timer_init(sim.loop, &sim.sweep_timer);
	uv_timer_init(sim.loop, &sim.duration_timer);
	uv_signal_init(sim.loop, &sim.sigterm);
	uv_signal_init(sim.loop, &sim.sigint);
	uv_check_init(sim.loop, &sim.flush_check);
	sim.sweep_timer.data = sim.duration_timer.data = sim.sigterm.data = sim.sigint.data = &sim;
	sim.flush_check.data = &sim;
	if (start_servers(&sim) < 0) {
		stop(&sim);
		uv_run(sim.loop, UV_RUN_DEFAULT);
		goto out;
	}
	for (unsigned i = 0; i < sim.ncams; i++)
		camsim_camera_events_start(&sim.cams[i]);
	uv_timer_start(&sim.sweep_timer, on_sweep, SWEEP_MS, SWEEP_MS);
	if (sim.opt.common.duration > 0)
		uv_timer_start(&sim.duration_timer, on_duration, (uint64_t)(sim.opt.common.duration * 1000), 0);
	uv_signal_start(&sim.sigterm, on_signal, SIGTERM);
	uv_signal_start(&sim.sigint, on_signal, SIGINT);
	uv_check_start(&sim.flush_check, on_check);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	agw_log_notice("camsim", NULL, "%u cameras on %s:%d..%d started in %.3f s", sim.ncams, sim.opt.common.host,
		       sim.opt.common.base_port, sim.opt.common.base_port + (int)sim.ncams - 1,
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("camsim: ready %u cameras\n", sim.ncams);
	fflush(stdout);
	uv_run(sim.loop, UV_RUN_DEFAULT);
	ret = 0;
out:
	camsim_evlog_close(&sim);
	if (uv_loop_close(sim.loop) != 0)
		agw_log_warn("camsim", NULL, "handles still open at exit");
	free(sim.cams);
	xmlCleanupParser();
	return ret;
}
