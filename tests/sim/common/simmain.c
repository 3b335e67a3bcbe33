/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the simulators' main() share (simmain.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <openssl/rand.h>

#include "alarmgw/log.h"
#include "simmain.h"

int sim_parse_number(const char *s, double min, double max, double *ret)
{
	char *end;
	double d = strtod(s, &end);
	if (end == s || *end || !(d >= min && d <= max))
		return -EINVAL;
	*ret = d;
	return 0;
}

int sim_parse_uint(const char *s, double max, unsigned *ret)
{
	double d;
	if (sim_parse_number(s, 0, max, &d) < 0 || d != (double)(unsigned)d)
		return -EINVAL;
	*ret = (unsigned)d;
	return 0;
}

int sim_common_option(int c, const char *arg, struct sim_common_options *o, int *ret_bad)
{
	double d = 0;
	int bad = 0;
	enum agw_log_level level;
	switch (c) {
	case 'p':
		bad = sim_parse_number(arg, 1, 65535, &d);
		o->base_port = (int)d;
		break;
	case SIM_OPT_HOST:
		o->host = arg;
		break;
	case SIM_OPT_USER:
		o->user = arg;
		break;
	case SIM_OPT_PASSWORD:
		o->password = arg;
		break;
	case SIM_OPT_RATE:
		bad = sim_parse_number(arg, 0, 1000, &o->rate);
		break;
	case SIM_OPT_EVENTS_LOG:
		o->events_log = arg;
		break;
	case SIM_OPT_LEDGER:
		o->ledger = arg;
		break;
	case SIM_OPT_CONTROL_PORT:
		bad = sim_parse_number(arg, 1, 65535, &d);
		o->control_port = (int)d;
		break;
	case SIM_OPT_DURATION:
		bad = sim_parse_number(arg, 0, 1e7, &o->duration);
		break;
	case SIM_OPT_SEED:
		bad = sim_parse_number(arg, 0, 1e15, &d);
		o->seed = (uint64_t)d;
		break;
	case SIM_OPT_LOG_LEVEL:
		bad = agw_log_level_parse(arg, &level);
		if (!bad)
			agw_log_set_level(level);
		break;
	default:
		return 0;
	}
	*ret_bad = bad;
	return 1;
}

int sim_ports_check(const char *tag, const struct sim_common_options *o, unsigned n)
{
	if ((unsigned long)o->base_port + n - 1 <= 65535)
		return 0;
	fprintf(stderr, "%s: ports %d..%d do not fit\n", tag, o->base_port, o->base_port + (int)n - 1);
	return -EINVAL;
}

void sim_raise_nofile(const char *tag, unsigned n, const char *what)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			agw_log_warn(tag, NULL, "cannot raise the descriptor limit: %s", strerror(errno));
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 2 * (rlim_t)n + 64)
		agw_log_warn(tag, NULL,
			     "descriptor limit %llu leaves room for about %lld connections to %u %s; "
			     "run several %s processes for one connection each",
			     (unsigned long long)rl.rlim_cur, (long long)rl.rlim_cur - n - 32, n, what, tag);
}

int sim_secret_make(char out[33])
{
	unsigned char key[16];
	if (RAND_bytes(key, sizeof(key)) != 1)
		return -EIO;
	for (size_t i = 0; i < sizeof(key); i++)
		snprintf(out + 2 * i, 3, "%02x", key[i]);
	return 0;
}
