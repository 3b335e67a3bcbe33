/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the simulators' main() share (camsim and vendorsim): the options every simulator takes,
 * number parsing, the descriptor limit and the Digest secret. */
#ifndef CAMSIM_SIMMAIN_H
#define CAMSIM_SIMMAIN_H

#include <getopt.h>
#include <stdint.h>

/* The options every simulator takes, with the same names, bounds and meaning. */
struct sim_common_options {
	const char *host;
	int base_port;        /* listener i is on base_port + i */
	const char *user;     /* the credentials the simulated devices want */
	const char *password;
	double rate;          /* events (active edges) per second per listener */
	const char *events_log;
	const char *ledger;
	int control_port;     /* 0: none */
	double duration;      /* seconds; 0: until signalled */
	uint64_t seed;
};

/* getopt_long values of the shared options, clear of each simulator's own (from 256). */
enum {
	SIM_OPT_HOST = 0x1000,
	SIM_OPT_USER,
	SIM_OPT_PASSWORD,
	SIM_OPT_RATE,
	SIM_OPT_EVENTS_LOG,
	SIM_OPT_LEDGER,
	SIM_OPT_CONTROL_PORT,
	SIM_OPT_DURATION,
	SIM_OPT_SEED,
	SIM_OPT_LOG_LEVEL,
};

/* The shared entries of a getopt_long table ("base-port" is -p for both). */
#define SIM_COMMON_LONGOPTS                                                                                            \
	{"base-port", required_argument, NULL, 'p'}, {"host", required_argument, NULL, SIM_OPT_HOST},                  \
		{"user", required_argument, NULL, SIM_OPT_USER},                                                       \
		{"password", required_argument, NULL, SIM_OPT_PASSWORD},                                               \
		{"rate", required_argument, NULL, SIM_OPT_RATE},                                                       \
		{"events-log", required_argument, NULL, SIM_OPT_EVENTS_LOG},                                           \
		{"ledger", required_argument, NULL, SIM_OPT_LEDGER},                                                   \
		{"control-port", required_argument, NULL, SIM_OPT_CONTROL_PORT},                                       \
		{"duration", required_argument, NULL, SIM_OPT_DURATION},                                               \
		{"seed", required_argument, NULL, SIM_OPT_SEED},                                                       \
		{"log-level", required_argument, NULL, SIM_OPT_LOG_LEVEL}

/* A number of [min, max], the whole of s. 0 or -EINVAL. */
int sim_parse_number(const char *s, double min, double max, double *ret);
/* A whole number of [0, max]. */
int sim_parse_uint(const char *s, double max, unsigned *ret);
/* Handles option c when it is a shared one: 1 (with *ret_bad -EINVAL for a bad value, else 0), or 0
 * when c is the simulator's own. */
int sim_common_option(int c, const char *arg, struct sim_common_options *o, int *ret_bad);
/* Whether listeners base_port .. base_port + n - 1 fit; says so on stderr, as tag, when not. */
int sim_ports_check(const char *tag, const struct sim_common_options *o, unsigned n);
/* Thousands of listeners plus their connections need far more than the usual 1024 descriptors:
 * takes the hard limit, and warns when even that leaves little room for n listeners' connections
 * (what: "cameras", "devices"). */
void sim_raise_nofile(const char *tag, unsigned n, const char *what);
/* A fresh random secret as 32 hex digits (Digest nonces). 0 or -EIO. */
int sim_secret_make(char out[33]);

#endif
