/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target for everything a GB/T 28181 peer can send: SIP framing, SIP parsing (datagram and
 * stream), encodings, MANSCDP, alarm normalization. With clang:
 *   tests/unit/gb28181/fuzz.sh [SECONDS]   (clang, libfuzzer-14-dev)
 * Without (AGW_FUZZ_STANDALONE), it is a unit test that runs the target over the fixtures, every
 * prefix of them and deterministic mutations, under the build's ASan/UBSan. Besides not crashing,
 * the target checks the contract of an error: a negative errno and a message that says where. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb_message.h"

static bool error_says_where(const char *err)
{
	return !strncmp(err, "line ", 5) || !strncmp(err, "offset ", 7) || !strcmp(err, "out of memory");
}

static int count_alert(void *arg, struct agw_alert *a)
{
	char *json;
	if (agw_alert_to_json(a, &json) == 0)
		free(json);
	(*(int *)arg)++;
	return 0;
}

/* Returns 0, or -1 when an error broke the contract (the fuzzer traps on it). */
static int fuzz_one(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char err[512];
	for (unsigned flags = 0; flags <= AGW_GB_SIP_STREAM; flags += AGW_GB_SIP_STREAM) {
		struct agw_gb_message m;
		err[0] = '\0';
		int rc = agw_gb_message_parse(buf, size, flags, &m, err, sizeof(err));
		if (rc < 0 && !error_says_where(err))
			return -1;
		if (rc == 0)
			agw_gb_message_clear(&m);
	}
	size_t skip = 0, len = 0;
	err[0] = '\0';
	int rc = agw_gb_sip_frame(buf, size, &skip, &len, err, sizeof(err));
	if ((rc < 0 && !error_says_where(err)) || (rc == 1 && skip + len > size))
		return -1;
	int n = 0;
	char note[256];
	err[0] = '\0';
	rc = agw_gb_normalize(buf, size, NULL, NULL, 480, count_alert, &n, note, sizeof(note), err, sizeof(err));
	if ((rc < 0 && !error_says_where(err)) || (rc >= 0 && rc != n))
		return -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_one(data, size) < 0)
		__builtin_trap();
	return 0;
}

#ifdef AGW_FUZZ_STANDALONE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void run(const char *what, const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so ASan sees any read past the end */
	uint8_t *copy = malloc(size ? size : 1);
	assert_non_null(copy);
	memcpy(copy, data, size);
	if (fuzz_one(copy, size) < 0)
		fail_msg("%s: an error without a place, or a count that does not match", what);
	free(copy);
}

static void test_fixtures_and_mutations(void **state)
{
	(void)state;
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/gb28181", AGW_FIXTURES);
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	int files = 0;
	static const uint8_t values[] = {0x00, 0xFF, '<', '\n', '\r', ':'};
	while ((e = readdir(d))) {
		size_t nlen = strlen(e->d_name);
		if (nlen < 4 || (strcmp(e->d_name + nlen - 4, ".xml") && strcmp(e->d_name + nlen - 4, ".sip")))
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		static uint8_t buf[1 << 16];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		files++;
		run(e->d_name, buf, n);
		for (size_t cut = 0; cut < n; cut++)
			run(e->d_name, buf, cut);
		static uint8_t mut[1 << 16];
		for (size_t pos = 0; pos < n; pos++)
			for (size_t v = 0; v < sizeof(values); v++) {
				memcpy(mut, buf, n);
				mut[pos] = values[v];
				run(e->d_name, mut, n);
			}
		for (int i = 0; i < 300; i++) {
			memcpy(mut, buf, n);
			int k = 1 + (int)(next_rand() % 8);
			for (int j = 0; j < k; j++)
				mut[next_rand() % n] = (uint8_t)next_rand();
			run(e->d_name, mut, n);
		}
	}
	closedir(d);
	assert_true(files >= 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_and_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
