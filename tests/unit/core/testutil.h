/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers for the core unit tests: temporary files and directories. */
#ifndef AGW_TESTUTIL_H
#define AGW_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes text to a new temporary file and returns its malloc'd path. */
static inline char *write_temp(const char *suffix, const char *text)
{
	char *path = NULL;
	if (asprintf(&path, "/tmp/agw-test-XXXXXX%s", suffix) < 0)
		abort();
	int fd = mkstemps(path, (int)strlen(suffix));
	if (fd < 0)
		abort();
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		abort();
	close(fd);
	return path;
}

static inline char *temp_dir(void)
{
	char *path = strdup("/tmp/agw-test-XXXXXX");
	if (!path || !mkdtemp(path))
		abort();
	return path;
}

static inline void remove_tree(const char *dir)
{
	char *cmd = NULL;
	if (asprintf(&cmd, "rm -rf '%s'", dir) >= 0 && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
}

#endif
