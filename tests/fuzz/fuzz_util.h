/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers the fuzz targets share. Header-only: each target is one small file plus this. */
#ifndef AGW_FUZZ_UTIL_H
#define AGW_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A NUL-terminated copy of the input, for parsers that take C strings. */
static inline char *agw_fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort(); /* the harness, not the parser, ran out: nothing to learn */
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* For parsers that read a file by path (the ledger, the rules and config files): the input as an
 * anonymous in-memory file. *ret_fd is to be closed; the path is "/proc/self/fd/N". */
static inline void agw_fuzz_memfile(const uint8_t *data, size_t size, int *ret_fd, char *path, size_t pathlen)
{
	int fd = memfd_create("agw-fuzz", 0);
	if (fd < 0)
		abort();
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	*ret_fd = fd;
}

#endif
