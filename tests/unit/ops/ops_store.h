/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A store in a temporary file for the ops tests: opened fresh, removed with its WAL files. */
#ifndef AGW_TEST_OPS_STORE_H
#define AGW_TEST_OPS_STORE_H

#include <stdio.h>
#include <unistd.h>

#include "alarmgw/metrics.h"
#include "store.h"

/* path: a buffer of at least 64 bytes; prefix like "/tmp/agw-ops-status". */
static inline struct agw_store *ops_store_open(char *path, size_t len, const char *prefix)
{
	snprintf(path, len, "%s-XXXXXX", prefix);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct agw_store *store = NULL;
	char err[256];
	assert_int_equal(agw_store_open(path, &store, err, sizeof(err)), 0);
	agw_metrics_reset();
	return store;
}

static inline void ops_store_remove(struct agw_store *store, const char *path)
{
	char p[128];
	agw_store_close(store);
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

#endif
