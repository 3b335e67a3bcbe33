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
#include "pipeline.h"

static int inits, uninits, starts, stops, resumes;
static void *resumed_priv;
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

static void fake_resume(void *priv)
{
	resumes++;
	resumed_priv = priv;
}

static const struct agw_adapter fake_adapter = {
	.name = "fake",
	.priv_size = sizeof(struct agw_adapter_ctx *),
	.init = fake_init,
	.start = fake_start,
	.stop = fake_stop_sync,
	.uninit = fake_uninit,
	.resume = fake_resume,
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

static struct agw_daemon *daemon_new(struct agw_config *cfg)
{
	struct agw_daemon *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	assert_int_equal(uv_loop_init(&d->loop), 0);
	memset(cfg, 0, sizeof(*cfg));
	cfg->state_dir = (char *)"/nonexistent";
	d->cfg = cfg;
	inits = uninits = starts = stops = start_result = resumes = 0;
	return d;
}

static void daemon_done(struct agw_daemon *d)
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
	struct agw_daemon *d = daemon_new(&cfg);
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
	struct agw_daemon *d = daemon_new(&cfg);
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
	struct agw_daemon *d = daemon_new(&cfg);
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

static int emit_one(struct instance *in)
{
	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = (char *)"cam-1";
	a.kind = AGW_KIND_MOTION;
	a.active = AGW_ACTIVE_TRUE;
	return in->ctx.emit(&in->ctx, &a);
}

static void on_done(void *arg, int status)
{
	*(int *)arg = status == 0 ? 1 : status;
}

/* Back-pressure through the daemon: the instance whose emit was refused, and only it, has its
 * resume() called once the queue has room; emit_durable acknowledges after the commit; once the
 * daemon is finished, -ESHUTDOWN. */
static void test_refused_instances_resumed(void **state)
{
	struct agw_config cfg;
	struct agw_daemon *d = daemon_new(&cfg);
	char dir[] = "/tmp/agw-daemon-XXXXXX", path[64], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/d.db", dir);
	assert_int_equal(agw_store_open(path, &d->store, err, sizeof(err)), 0);
	assert_int_equal(agw_pipeline_new(&d->loop, d->store, 4, &d->pipeline), 0);
	agw_pipeline_set_room(d->pipeline, daemon_resume_refused, d);
	struct agw_errors errs = {0};
	d->instances = calloc(2, sizeof(*d->instances));
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(daemon_instance_new(d, &cfg, "fake", &errs, &d->instances[i]), 0);
		assert_int_equal(daemon_instance_start(d, d->instances[i]), 0);
		d->n_instances++;
	}
	struct instance *busy = d->instances[0], *quiet = d->instances[1];
	for (int i = 0; i < 4; i++)
		assert_int_equal(emit_one(busy), 0);
	assert_int_equal(emit_one(busy), -EAGAIN);
	assert_true(busy->refused);
	assert_false(quiet->refused);
	assert_int_equal(resumes, 0);
	assert_int_equal(agw_pipeline_flush(d->pipeline), 4);
	assert_int_equal(resumes, 1);
	assert_ptr_equal(resumed_priv, busy->priv);
	assert_false(busy->refused);
	assert_int_equal(agw_pipeline_flush(d->pipeline), 0);
	assert_int_equal(resumes, 1); /* once per refusal */

	struct agw_alert a;
	agw_alert_init(&a);
	a.camera_id = (char *)"cam-1";
	int acked = 0;
	assert_int_equal(quiet->ctx.emit_durable(&quiet->ctx, &a, NULL, NULL), -EINVAL);
	assert_int_equal(quiet->ctx.emit_durable(&quiet->ctx, &a, on_done, &acked), 0);
	assert_int_equal(acked, 0);
	assert_int_equal(agw_pipeline_flush(d->pipeline), 1);
	assert_int_equal(acked, 1);

	agw_pipeline_free(d->pipeline);
	d->pipeline = NULL;
	d->finished = true;
	assert_int_equal(emit_one(quiet), -ESHUTDOWN);
	for (size_t k = 0; k < d->n_instances; k++)
		daemon_instance_stop(d, d->instances[k]);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	agw_store_close(d->store);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	daemon_done(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_start_uninit_once),
		cmocka_unit_test(test_unstarted_not_uninit),
		cmocka_unit_test(test_sync_stopped_skips_none),
		cmocka_unit_test(test_refused_instances_resumed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
