/* SPDX-License-Identifier: GPL-2.0-or-later */
/* alarmgw-vendorsim: N simulated Hikvision ISAPI or Dahua devices on one libuv loop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "alarmgw/log.h"
#include "vendorsim.h"

#define MAX_DEVICES 60000

static void usage(FILE *f)
{
	fputs("usage: alarmgw-vendorsim --protocol isapi|dahua [options]\n"
	      "  -n, --devices N             devices to simulate (default 1)\n"
	      "  -p, --base-port P           device i listens on P+i (default 19000)\n"
	      "      --host ADDR             listen address (default 127.0.0.1)\n"
	      "      --id-prefix P           device ids P-00001 ... (default hik or dh)\n"
	      "      --channels N            video channels per device: 1 a camera, more an NVR (default 1)\n"
	      "      --auth MODE             digest, basic (Digest or Basic) or none (default digest)\n"
	      "      --user U --password P   credentials (default admin / admin)\n"
	      "      --rate R                events per second per device, may be < 1 (default 0)\n"
	      "      --run S                 seconds an active event lasts (default 3)\n"
	      "      --quiet S               a type and channel whose event ended starts again only after\n"
	      "                              S seconds (default 12)\n"
	      "      --heartbeat S           ISAPI heartbeat period (default 5; Dahua: heartbeat=N of the request)\n"
	      "      --pictures F            share of ISAPI smart events followed by a JPEG part (default 1)\n"
	      "      --dialect D             ISAPI: xml20, xml10, xml (no namespace), json, with +lf, +mime;\n"
	      "                              Dahua: standard, lf, amcrest (e.g. xml10+lf+mime)\n"
	      "      --mixed                 device i takes dialect i % 16 (ISAPI) or i % 3 (Dahua)\n"
	      "      --max-backlog B         unsent bytes per stream before parts are dropped (default 1 MiB)\n"
	      "      --events-log FILE       JSONL: every event edge, every part's fate, every stream\n"
	      "      --ledger FILE           writes the gateway ledger CSV for these devices\n"
	      "      --control-port P        HTTP control port on 127.0.0.1\n"
	      "      --duration S            exit after S seconds\n"
	      "      --seed N                random seed (default 1)\n"
	      "      --log-level LEVEL       err, warning, notice, info, debug (default notice)\n"
	      "misbehaviour of every device from the start:\n"
	      "      --no-inactive  --max-streams N  --slow BPS  --stale-nonce N  --wrong-boundary N  --cut N\n",
	      f);
}

enum {
	OPT_ID_PREFIX = 256,
	OPT_PROTOCOL,
	OPT_CHANNELS,
	OPT_AUTH,
	OPT_RUN,
	OPT_QUIET,
	OPT_HEARTBEAT,
	OPT_PICTURES,
	OPT_DIALECT,
	OPT_MIXED,
	OPT_MAX_BACKLOG,
	OPT_NO_INACTIVE,
	OPT_MAX_STREAMS,
	OPT_SLOW,
	OPT_STALE_NONCE,
	OPT_WRONG_BOUNDARY,
	OPT_CUT,
};

/* How every device misbehaves from the start: 1 when c is one of those options (*ret_bad set),
 * 0 otherwise. */
static int parse_misbehaviour(int c, const char *arg, struct vsim_misbehaviour *mb, int *ret_bad)
{
	int bad = 0;
	switch (c) {
	case OPT_NO_INACTIVE:
		mb->no_inactive = true;
		break;
	case OPT_MAX_STREAMS:
		bad = sim_parse_uint(arg, 1e6, &mb->max_streams);
		break;
	case OPT_SLOW:
		bad = sim_parse_uint(arg, 1e9, &mb->slow_bps);
		break;
	case OPT_STALE_NONCE:
		bad = sim_parse_uint(arg, 1e6, &mb->stale_nonce);
		break;
	case OPT_WRONG_BOUNDARY:
		bad = sim_parse_uint(arg, 1e6, &mb->wrong_boundary);
		break;
	case OPT_CUT:
		bad = sim_parse_uint(arg, 1e6, &mb->cut);
		break;
	default:
		return 0;
	}
	*ret_bad = bad;
	return 1;
}

/* What the devices' streams carry: 1 when c is one of those options (*ret_bad set), 0 otherwise. */
static int parse_stream(int c, const char *arg, struct vsim_options *o, int *ret_bad)
{
	double d;
	int bad = 0;
	switch (c) {
	case OPT_RUN:
		bad = sim_parse_number(arg, 0, 3600, &o->run_seconds);
		break;
	case OPT_QUIET:
		bad = sim_parse_number(arg, 0, 3600, &o->quiet);
		break;
	case OPT_HEARTBEAT:
		bad = sim_parse_number(arg, 0.05, 3600, &o->heartbeat);
		break;
	case OPT_PICTURES:
		bad = sim_parse_number(arg, 0, 1, &o->pictures);
		break;
	case OPT_MIXED:
		o->mixed = true;
		break;
	case OPT_MAX_BACKLOG:
		bad = sim_parse_number(arg, 1024, 1024.0 * 1024 * 1024, &d);
		o->max_backlog = (size_t)d;
		break;
	default:
		return 0;
	}
	*ret_bad = bad;
	return 1;
}

/* What no single option can check. */
static int check_options(struct vsim_options *o, bool have_protocol, const char *dialect)
{
	if (!have_protocol) {
		fprintf(stderr, "vendorsim: --protocol isapi|dahua is required\n");
		return -EINVAL;
	}
	if (dialect && vsim_dialect_parse(o->protocol, dialect, &o->dialect) < 0) {
		fprintf(stderr, "vendorsim: unknown dialect %s for this protocol\n", dialect);
		return -EINVAL;
	}
	/* written into the ledger CSV as they are, the user name before a ':' */
	if (strpbrk(o->common.user, ",\"\r\n:") || strpbrk(o->common.password, ",\"\r\n")) {
		fprintf(stderr, "vendorsim: --user and --password may not hold ',', '\"' or a line break (nor ':' in --user)\n");
		return -EINVAL;
	}
	return sim_ports_check("vendorsim", &o->common, o->devices);
}

/* The simulator's own options, then the shared ones (simmain.h). */
static const struct option longopts[] = {
	{"devices", required_argument, NULL, 'n'},
	{"id-prefix", required_argument, NULL, OPT_ID_PREFIX},
	{"protocol", required_argument, NULL, OPT_PROTOCOL},
	{"channels", required_argument, NULL, OPT_CHANNELS},
	{"auth", required_argument, NULL, OPT_AUTH},
	{"run", required_argument, NULL, OPT_RUN},
	{"quiet", required_argument, NULL, OPT_QUIET},
	{"heartbeat", required_argument, NULL, OPT_HEARTBEAT},
	{"pictures", required_argument, NULL, OPT_PICTURES},
	{"dialect", required_argument, NULL, OPT_DIALECT},
	{"mixed", no_argument, NULL, OPT_MIXED},
	{"max-backlog", required_argument, NULL, OPT_MAX_BACKLOG},
	{"no-inactive", no_argument, NULL, OPT_NO_INACTIVE},
	{"max-streams", required_argument, NULL, OPT_MAX_STREAMS},
	{"slow", required_argument, NULL, OPT_SLOW},
	{"stale-nonce", required_argument, NULL, OPT_STALE_NONCE},
	{"wrong-boundary", required_argument, NULL, OPT_WRONG_BOUNDARY},
	{"cut", required_argument, NULL, OPT_CUT},
	SIM_COMMON_LONGOPTS,
	{"help", no_argument, NULL, 'h'},
	{0},
};

static int parse_options(int argc, char **argv, struct vsim_options *o)
{
	*o = (struct vsim_options){
		.common = {.host = "127.0.0.1", .base_port = 19000, .user = "admin", .password = "admin", .seed = 1},
		.devices = 1, .channels = 1, .run_seconds = 3, .quiet = 12, .heartbeat = 5, .pictures = 1,
		.max_backlog = 1024 * 1024,
	};
	const char *dialect = NULL;
	bool have_protocol = false;
	int c;
	agw_log_set_level(AGW_LOG_NOTICE);
	while ((c = getopt_long(argc, argv, "n:p:h", longopts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'n':
			bad = sim_parse_uint(optarg, MAX_DEVICES, &o->devices);
			bad = bad ? bad : o->devices == 0 ? -EINVAL : 0;
			break;
		case OPT_ID_PREFIX:
			/* letters, digits and '-' only, short enough for the id field */
			bad = strlen(optarg) == 0 || strlen(optarg) > 8 || strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(optarg) ? -EINVAL : 0;
			o->id_prefix = optarg;
			break;
		case OPT_PROTOCOL:
			have_protocol = true;
			if (strcmp(optarg, "isapi") == 0)
				o->protocol = VSIM_ISAPI;
			else if (strcmp(optarg, "dahua") == 0)
				o->protocol = VSIM_DAHUA;
			else
				bad = -EINVAL;
			break;
		case OPT_CHANNELS:
			bad = sim_parse_uint(optarg, VSIM_MAX_CHANNELS, &o->channels);
			bad = bad ? bad : o->channels == 0 ? -EINVAL : 0;
			break;
		case OPT_DIALECT:
			dialect = optarg;
			break;
		case OPT_AUTH:
			if (strcmp(optarg, "digest") == 0)
				o->auth = VSIM_AUTH_DIGEST;
			else if (strcmp(optarg, "basic") == 0)
				o->auth = VSIM_AUTH_BASIC;
			else if (strcmp(optarg, "none") == 0)
				o->auth = VSIM_AUTH_NONE;
			else
				bad = -EINVAL;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			if (!sim_common_option(c, optarg, &o->common, &bad) && !parse_stream(c, optarg, o, &bad) &&
			    !parse_misbehaviour(c, optarg, &o->mb, &bad)) {
				usage(stderr);
				return -EINVAL;
			}
			break;
		}
		if (bad) {
			fprintf(stderr, "vendorsim: bad value for option %s: %s\n", argv[optind - 1], optarg ? optarg : "");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vendorsim: unexpected argument %s\n", argv[optind]);
		return -EINVAL;
	}
	return check_options(o, have_protocol, dialect);
}

static void stop(struct vsim *sim)
{
	if (sim->stopping)
		return;
	sim->stopping = true;
	for (unsigned i = 0; i < sim->ndevs; i++)
		vsim_device_close(&sim->devs[i]);
	camsim_http_server_stop(&sim->control);
	uv_close((uv_handle_t *)&sim->duration_timer, NULL);
	uv_close((uv_handle_t *)&sim->sigterm, NULL);
	uv_close((uv_handle_t *)&sim->sigint, NULL);
	uv_close((uv_handle_t *)&sim->flush_check, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	agw_log_notice("vendorsim", NULL, "signal %d: stopping", signum);
	stop(s->data);
}

static void on_duration(uv_timer_t *t)
{
	stop(t->data);
}

/* Once per loop turn: the log reaches the file soon after parts are written. */
static void on_check(uv_check_t *h)
{
	vsim_evlog_flush(h->data);
}

/* The devices' listeners, the control server and the ledger; what failed is said on stderr. */
static int start_servers(struct vsim *sim)
{
	for (unsigned i = 0; i < sim->ndevs; i++) {
		int r = vsim_device_start(&sim->devs[i]);
		if (r < 0) {
			fprintf(stderr, "vendorsim: cannot listen on %s:%d: %s\n", sim->opt.common.host, sim->devs[i].port,
				uv_strerror(r));
			return -1;
		}
	}
	if (sim->opt.common.control_port) {
		int r = vsim_control_start(sim, sim->opt.common.control_port);
		if (r < 0) {
			fprintf(stderr, "vendorsim: cannot listen on control port %d: %s\n", sim->opt.common.control_port,
				uv_strerror(r));
			return -1;
		}
	}
	if (sim->opt.common.ledger) {
		int r = vsim_ledger_write(sim, sim->opt.common.ledger);
		if (r < 0) {
			fprintf(stderr, "vendorsim: cannot write %s: %s\n", sim->opt.common.ledger, strerror(-r));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct vsim sim = {0};
	int ret = 1;
	if (parse_options(argc, argv, &sim.opt) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	sim_raise_nofile("vendorsim", sim.opt.devices, "devices");
	if (sim_secret_make(sim.secret) < 0)
		return 1;

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sim.loop = uv_default_loop();
	sim.ndevs = sim.opt.devices;
	sim.devs = calloc(sim.ndevs, sizeof(*sim.devs));
	if (!sim.devs) {
		fprintf(stderr, "vendorsim: out of memory\n");
		return 1;
	}
	if (sim.opt.common.events_log && vsim_evlog_open(&sim, sim.opt.common.events_log) < 0) {
		fprintf(stderr, "vendorsim: cannot write %s: %s\n", sim.opt.common.events_log, strerror(errno));
		goto out;
	}
	uv_timer_init(sim.loop, &sim.duration_timer);
	uv_signal_init(sim.loop, &sim.sigterm);
	uv_signal_init(sim.loop, &sim.sigint);
	uv_check_init(sim.loop, &sim.flush_check);
	sim.duration_timer.data = sim.sigterm.data = sim.sigint.data = sim.flush_check.data = &sim;
	for (unsigned i = 0; i < sim.ndevs; i++)
		vsim_device_init(&sim, &sim.devs[i], i);
	if (start_servers(&sim) < 0) {
		stop(&sim);
		uv_run(sim.loop, UV_RUN_DEFAULT);
		goto out;
	}
	for (unsigned i = 0; i < sim.ndevs; i++)
		vsim_events_start(&sim.devs[i]);
	if (sim.opt.common.duration > 0)
		uv_timer_start(&sim.duration_timer, on_duration, (uint64_t)(sim.opt.common.duration * 1000), 0);
	uv_signal_start(&sim.sigterm, on_signal, SIGTERM);
	uv_signal_start(&sim.sigint, on_signal, SIGINT);
	uv_check_start(&sim.flush_check, on_check);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	agw_log_notice("vendorsim", NULL, "%u %s devices on %s:%d..%d started in %.3f s", sim.ndevs,
		       sim.opt.protocol == VSIM_ISAPI ? "ISAPI" : "Dahua", sim.opt.common.host, sim.opt.common.base_port,
		       sim.opt.common.base_port + (int)sim.ndevs - 1,
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("vendorsim: ready %u devices\n", sim.ndevs);
	fflush(stdout);
	uv_run(sim.loop, UV_RUN_DEFAULT);
	ret = 0;
out:
	vsim_evlog_close(&sim);
	if (uv_loop_close(sim.loop) != 0)
		agw_log_warn("vendorsim", NULL, "handles still open at exit");
	free(sim.devs);
	return ret;
}
