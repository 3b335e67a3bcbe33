/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The project's random source and backoff (include/alarmgw/backoff.h). */
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "alarmgw/backoff.h"

static _Thread_local uint64_t state;

static void seed(void)
{
	uint64_t s = 0;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ ((uint64_t)getpid() << 16);
	}
	state = s ? s : 0x9E3779B97F4A7C15ULL; /* xorshift never leaves 0 */
}

uint64_t agw_random_u64(void)
{
	if (!state)
		seed();
	uint64_t x = state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

int64_t agw_backoff_ms(unsigned attempt, int64_t min_ms, int64_t max_ms)
{
	if (min_ms < 1)
		min_ms = 1;
	if (max_ms < min_ms)
		max_ms = min_ms;
	int64_t d = min_ms;
	for (unsigned i = 0; i < attempt && d < max_ms; i++)
		d = d > max_ms / 2 ? max_ms : d * 2;
	if (d > max_ms)
		d = max_ms;
	int64_t half = d / 2;
	d = half + (int64_t)(agw_random_u64() % (uint64_t)(d - half + 1));
	return d < min_ms ? min_ms : d;
}
