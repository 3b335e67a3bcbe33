/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One backoff with jitter and one random source for the whole project (adapters, publisher):
 * retries of many cameras or connections spread out instead of hammering in step. */
#ifndef ALARMGW_BACKOFF_H
#define ALARMGW_BACKOFF_H

#include <stdint.h>

/* A uniformly distributed 64-bit number: xorshift64*, one state per thread, seeded once from
 * getrandom() (the clock and the pid when that fails), so two gateways started together do not
 * draw the same jitter. Never for secrets (nonces and keys come from OpenSSL). */
uint64_t agw_random_u64(void);

/* The delay before retry number `attempt` (0 for the first retry): d = min * 2^attempt, capped at
 * max, then a uniform point in [d/2, d], never below min. min < 1 counts as 1, max < min as min. */
int64_t agw_backoff_ms(unsigned attempt, int64_t min_ms, int64_t max_ms);

#endif
