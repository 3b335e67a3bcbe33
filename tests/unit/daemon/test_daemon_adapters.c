/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The core's side of the adapter lifecycle, with a fake adapter that counts what the core calls:
 * uninit exactly once for an instance that was initialized (never for one that was not), and
 * every adapter of the array stopped even when stop() calls stopped() synchronously. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon_internal.h"

static int inits, uninits, starts, stops;
static int start_result;

/* The fake's private state is the context, so stop() can call stopped(). */
static int fake_init(void *priv, struct agw_adapter_ctx *ctx)
{
	*(struct agw_adapter_ctx **)priv = ctx;
	inits++;
	return 0;
}

static int fake_start(void *priv)
{
	starts++;
	return start_result;
}

/* Like an adapter with no handle left to close: stopped() before stop() returns. */
static void fake_stop_sync(void *priv)
{
	stops++;
	struct agw_adapter_ctx *ctx = *(struct agw_adapter_ctx **)priv;
	ctx->stopped(ctx);
}

static void fake_uninit(void *priv)
{
	uninits++;
}

static const struct agw_adapter fake_adapter = {
	.name = "fake",
	.priv_size = sizeof(struct agw_adapter_ctx *),
	.init = fake_init,
	.start = fake_start,
	.stop = fake_stop_sync,
	.uninit = fake_uninit,
};

/* The registry the core links against, here with only the fake. */
const struct agw_adapter *const agw_adapters[] = {&fake_adapter, NULL};

const struct agw_adapter *agw_adapter_find(const char *name)
{
	return strcmp(name, fake_adapter.name) == 0 ? &fake_adapter : NULL;
}

const struct agw_adapter *agw_adapter_for_protocol(const char *protocol)
{
	return NULL;
}

const char *agw_adapter_protocol_list(void)
{
	return "";
}

static struct daemon *daemon_new(struct agw_config *cfg)
{
	struct daemon *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	assert_int_equal(uv_loop_init(&d->loop), 0);
	memset(cfg, 0, sizeof(*cfg));
	cfg->state_dir = (char *)"/nonexistent";
	d->cfg = cfg;
	inits = uninits = starts = stops = start_result = 0;
	return d;
}

static void daemon_done(struct daemon *d)
{
	uv_run(&d->loop, UV_RUN_DEFAULT);
	for (size_t i = 0; i < d->n_instances; i++)
		daemon_instance_free(d->instances[i]);
	free(d->instances);
	assert_int_equal(uv_loop_close(&d->loop), 0);
	free(d);
}

/* A failed start is cleaned up once: the uninit after start() failed, none when freed. */
static void test_failed_start_uninit_once(void **state)
{
	struct agw_config cfg;
	struct daemon *d = daemon_new(&cfg);
	struct agw_errors errs = {0};
	struct instance *in = NULL;
	assert_int_equal(daemon_instance_new(d, &cfg, "fake", &errs, &in), 0);
	start_result = -EIO;
	assert_int_equal(daemon_instance_start(d, in), -EIO);
	assert_int_equal(inits, 1);
	assert_int_equal(uninits, 1);
	daemon_instance_free(in);
	assert_int_equal(uninits, 1);
	daemon_done(d);
}

/* An instance made but never started (a reload's duplicate of an unchanged adapter) was never
 * initialized: freeing it must not uninit it. */
static void test_unstarted_not_uninit(void **state)
{
	struct agw_config cfg;
	struct daemon *d = daemon_new(&cfg);
	struct agw_errors errs = {0};
	struct instance *in = NULL;
	assert_int_equal(daemon_instance_new(d, &cfg, "fake", &errs, &in), 0);
	daemon_instance_free(in);
	assert_int_equal(inits, 0);
	assert_int_equal(uninits, 0);
	daemon_done(d);
}

/* What a reload does to adapters whose configuration changed: retire and stop each, walking the
 * array. With stopped() called inside stop(), every one must still be stopped, and each freed
 * once, after the walk. */
static void test_sync_stopped_skips_none(void **state)
{
	struct agw_config cfg;
	struct daemon *d = daemon_new(&cfg);
	struct agw_errors errs = {0};
	enum { N = 4 };
	d->instances = calloc(N, sizeof(*d->instances));
	assert_non_null(d->instances);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(daemon_instance_new(d, &cfg, "fake", &errs, &d->instances[i]), 0);
		assert_int_equal(daemon_instance_start(d, d->instances[i]), 0);
		d->n_instances++;
	}
	for (size_t k = 0; k < d->n_instances; k++) {
		struct instance *old = d->instances[k];
		if (old->retiring)
			continue;
		old->retiring = true;
		daemon_instance_stop(d, old);
	}
	assert_int_equal(stops, N);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	assert_int_equal(d->n_instances, 0);
	assert_int_equal(uninits, N);
	assert_int_equal(d->stops_pending, 0);
	daemon_done(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_start_uninit_once),
		cmocka_unit_test(test_unstarted_not_uninit),
		cmocka_unit_test(test_sync_stopped_skips_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
