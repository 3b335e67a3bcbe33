/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The regression driver of the ordinary build: runs a fuzz target's LLVMFuzzerTestOneInput over
 * every file named on the command line (a directory: every file in it), the way libFuzzer's
 * -runs=0 does, so the gcc+ASan test run replays each seed and each past crash without clang.
 * Exits non-zero when an input cannot be read; a sanitizer report aborts the run. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DRIVER_MAX_INPUT (1u << 20) /* libFuzzer's default -max_len is far below this */
#define DRIVER_MALLOC_LIMIT ((size_t)64 << 20) /* libFuzzer's -malloc_limit_mb=64 */

/* In a sanitizer build, the same bound a campaign puts on one allocation: a parser that asks for
 * more than 64 MiB for any input (a size field believed) fails the regression run too. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
					      void (*free_hook)(const volatile void *)) __attribute__((weak));

static void free_hook(const volatile void *ptr)
{
	(void)ptr; /* both hooks are required */
}

static void malloc_hook(const volatile void *ptr, size_t size)
{
	(void)ptr;
	if (size > DRIVER_MALLOC_LIMIT) {
		fprintf(stderr, "one allocation of %zu bytes: over the %zu MiB limit per input\n", size,
			DRIVER_MALLOC_LIMIT >> 20);
		abort();
	}
}

static int run_file(const char *path, unsigned *count)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	uint8_t *buf = malloc(DRIVER_MAX_INPUT);
	size_t n = buf ? fread(buf, 1, DRIVER_MAX_INPUT, f) : 0;
	int bad = !buf || ferror(f) || !feof(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: unreadable or larger than %u bytes\n", path, DRIVER_MAX_INPUT);
		free(buf);
		return -1;
	}
	/* An exact-size copy, so ASan sees a read one byte past the input. */
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy) {
		free(buf);
		return -1;
	}
	memcpy(copy, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	(*count)++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, unsigned *count)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path, count);
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **v = realloc(names, cap * sizeof(*v));
			if (!v) {
				rc = -1;
				break;
			}
			names = v;
		}
		if (asprintf(&names[n], "%s/%s", path, e->d_name) < 0) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0) {
			fprintf(stderr, "running %s\n", names[i]);
			rc = run_path(names[i], count);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	if (__sanitizer_install_malloc_and_free_hooks)
		__sanitizer_install_malloc_and_free_hooks(malloc_hook, free_hook);
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue; /* libFuzzer flags given to the regression command are ignored */
		if (run_path(argv[i], &count) < 0)
			return 1;
	}
	if (count == 0) {
		fprintf(stderr, "no inputs\n");
		return 1;
	}
	fprintf(stderr, "%u inputs ran without a finding\n", count);
	return 0;
}
