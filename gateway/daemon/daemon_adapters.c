/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's adapter instances: creating them from their config sections, starting and stopping
 * them, the emit/stopped callbacks they call, and handing each the cameras of its protocol. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "camera_diff.h"
#include "evidence.h"
#include "daemon_internal.h"
#include "ledger.h"
#include "options.h"
#include "pipeline.h"

static int emit_common(struct agw_adapter_ctx *ctx, const struct agw_alert *alert, void (*done)(void *, int),
		       void *arg)
{
	struct instance *in = ctx->core;
	struct agw_daemon *d = in->d;
	if (!alert->camera_id || !*alert->camera_id) {
		agw_metric_add("agw_alerts_refused_total", "reason=\"no_camera\"", 1);
		return -EINVAL;
	}
	if (!d->pipeline || d->finished)
		return -ESHUTDOWN; /* the last batch is written: nothing more can be */
	struct agw_alert copy = *alert;
	if (!copy.adapter)
		copy.adapter = (char *)in->adapter->name;
	int r = agw_pipeline_submit_durable(d->pipeline, &copy, done, arg);
	if (r == -EAGAIN) {
		/* Back-pressure: the adapter keeps the alert and waits for resume(). */
		in->refused = true;
		uint64_t now = uv_now(&d->loop);
		if (!d->refused_logged || now - d->refused_logged > 10000) { /* floods: log every 10 s at most */
			agw_log_warn("core", NULL, "holding adapters back: %s (agw_alerts_refused_total)",
				     agw_pipeline_store_ok(d->pipeline, NULL) ? "the alert queue is full"
									     : "journal writes are failing");
			d->refused_logged = now ? now : 1;
		}
		return r;
	}
	if (r < 0)
		return r;
	/* Health edges go to the camera's retained health topic from the journal's transaction
	 * (daemon_decide.c), not from here: nothing is published before it is journaled. */
	return 0;
}

static int core_emit(struct agw_adapter_ctx *ctx, const struct agw_alert *alert)
{
	return emit_common(ctx, alert, NULL, NULL);
}

static int core_emit_durable(struct agw_adapter_ctx *ctx, const struct agw_alert *alert,
			     void (*done)(void *arg, int status), void *arg)
{
	if (!done)
		return -EINVAL;
	return emit_common(ctx, alert, done, arg);
}

void daemon_resume_refused(void *daemon)
{
	struct agw_daemon *d = daemon;
	agw_log_debug("core", NULL, "the alert queue has room again: resuming adapters");
	/* By index: a resume() emits, and may be refused again (it is then marked again). A stopping
	 * adapter is resumed too: it may still be finishing what it took from its sources. */
	for (size_t i = 0; i < d->n_instances; i++) {
		struct instance *in = d->instances[i];
		if (!in->refused || !in->started)
			continue;
		in->refused = false;
		if (in->adapter->resume)
			in->adapter->resume(in->priv);
		if (!agw_pipeline_store_ok(d->pipeline, NULL))
			break; /* refused again for all: the next room call goes on */
	}
}

void daemon_instance_free(struct instance *in)
{
	if (in->initialized && in->adapter->uninit)
		in->adapter->uninit(in->priv);
	agw_options_free(in->adapter, in->priv);
	free(in->priv);
	free(in);
}

/* A retired instance leaves d->instances on a later loop turn, never inside stopped(): an adapter
 * may call stopped() from within stop(), while the caller is walking the array (a reload), and
 * compacting it there made the walk skip the next adapter. */
struct retire {
	uv_timer_t timer;
	struct instance *in;
};

static void retire_closed(uv_handle_t *h)
{
	struct retire *rt = h->data;
	struct instance *in = rt->in;
	struct agw_daemon *d = in->d;
	for (size_t i = 0; i < d->n_instances; i++)
		if (d->instances[i] == in) {
			memmove(&d->instances[i], &d->instances[i + 1], (d->n_instances - i - 1) * sizeof(in));
			d->n_instances--;
			break;
		}
	daemon_instance_free(in);
	free(rt);
}

static void retire_now(uv_timer_t *t)
{
	uv_close((uv_handle_t *)t, retire_closed);
}

static int core_state_put(struct agw_adapter_ctx *ctx, const char *camera_id, const char *key, const char *value)
{
	struct instance *in = ctx->core;
	return agw_store_adapter_state_put(in->d->store, in->adapter->name, camera_id, key, value, agw_now_ms());
}

static int core_state_get(struct agw_adapter_ctx *ctx, const char *camera_id, const char *key, char **ret_value)
{
	struct instance *in = ctx->core;
	return agw_store_adapter_state_get(in->d->store, in->adapter->name, camera_id, key, ret_value);
}

static int core_locate(struct agw_adapter_ctx *ctx, const char *camera_id, double lon, double lat, const char *crs)
{
	struct instance *in = ctx->core;
	return daemon_locate(in->d, camera_id, lon, lat, crs);
}

/* Store trouble here is reported by the journal writes that fail with it: this fact only feeds
 * the page, and the next subscription writes it again. */
static void core_subscribed(struct agw_adapter_ctx *ctx, const char *camera_id)
{
	struct instance *in = ctx->core;
	if (camera_id && in->adapter->subscribes)
		agw_store_channel_subscribed(in->d->store, camera_id, agw_now_ms());
}

int daemon_camera_add(struct instance *in, const struct agw_camera *c)
{
	int r = in->adapter->camera_add(in->priv, c);
	if (r == 0 && in->adapter->subscribes)
		agw_store_channel_tried(in->d->store, c->id, agw_now_ms());
	return r;
}

static void core_stopped(struct agw_adapter_ctx *ctx)
{
	struct instance *in = ctx->core;
	struct agw_daemon *d = in->d;
	agw_log_info("core", NULL, "adapter %s stopped", in->adapter->name);
	in->started = false;
	d->stops_pending--;
	if (in->retiring) {
		/* Without memory for the timer the instance stays in the array, stopped, and is freed
		 * with the others at exit. */
		struct retire *rt = malloc(sizeof(*rt));
		if (rt && uv_timer_init(&d->loop, &rt->timer) == 0) {
			rt->in = in;
			rt->timer.data = rt;
			uv_timer_start(&rt->timer, retire_now, 0, 0);
		} else {
			free(rt);
		}
	}
	daemon_adapters_stopped_check(d);
	daemon_maybe_finish_stop(d);
}

/* Creates an instance with parsed options; errors go to errs. */
int daemon_instance_new(struct agw_daemon *d, const struct agw_config *cfg, const char *name, struct agw_errors *errs,
			struct instance **ret)
{
	const struct agw_adapter *a = agw_adapter_find(name);
	if (!a) {
		agw_errors_add(errs, cfg->path, 0, "unknown adapter \"%s\"", name);
		return -ENOENT;
	}
	struct instance *in = calloc(1, sizeof(*in));
	void *priv = calloc(1, a->priv_size ? a->priv_size : 1);
	if (!in || !priv) {
		free(in);
		free(priv);
		return -ENOMEM;
	}
	in->adapter = a;
	in->priv = priv;
	in->d = d;
	in->ctx = (struct agw_adapter_ctx){
		.loop = &d->loop,
		.name = a->name,
		.state_dir = cfg->state_dir,
		.emit = core_emit,
		.emit_durable = core_emit_durable,
		.stopped = core_stopped,
		.subscribed = core_subscribed,
		.state_put = core_state_put,
		.state_get = core_state_get,
		.locate = core_locate,
		.picture = cfg->evidence.enabled ? daemon_evidence_picture : NULL,
		.snapshot_learned = cfg->evidence.enabled ? daemon_evidence_learned : NULL,
		.core = in,
	};
	if (agw_options_parse(a, agw_config_adapter_section((struct agw_config *)cfg, name), priv, cfg->path, errs) <
	    0) {
		agw_options_free(a, priv);
		free(priv);
		free(in);
		return -EINVAL;
	}
	*ret = in;
	return 0;
}

static bool serves(const struct instance *in, const struct agw_camera *c)
{
	return in->adapter->protocol && c->protocol && strcmp(in->adapter->protocol, c->protocol) == 0 &&
	       daemon_camera_owned(in->d, c);
}

int daemon_instance_start(struct agw_daemon *d, struct instance *in)
{
	int r = in->adapter->init ? in->adapter->init(in->priv, &in->ctx) : 0;
	if (r < 0) {
		agw_log_err("core", NULL, "adapter %s failed to initialize: %s", in->adapter->name, strerror(-r));
		return r;
	}
	in->initialized = true;
	r = in->adapter->start ? in->adapter->start(in->priv) : 0;
	if (r < 0) {
		agw_log_err("core", NULL, "adapter %s failed to start: %s", in->adapter->name, strerror(-r));
		if (in->adapter->uninit)
			in->adapter->uninit(in->priv);
		in->initialized = false; /* uninit done: daemon_instance_free must not run it twice */
		return r;
	}
	in->started = true;
	size_t n = 0;
	/* One transaction for the channels' first tries of 10,000 cameras, not 10,000. */
	bool txn = in->adapter->subscribes && agw_store_begin(d->store) == 0;
	for (size_t i = 0; i < d->n_cameras; i++)
		if (serves(in, &d->cameras[i]) && in->adapter->camera_add) {
			if (daemon_camera_add(in, &d->cameras[i]) < 0)
				agw_log_err("core", d->cameras[i].id, "adapter %s refused the camera", in->adapter->name);
			else
				n++;
		}
	if (txn && agw_store_commit(d->store) < 0)
		agw_store_rollback(d->store);
	agw_log_info("core", NULL, "adapter %s started with %zu cameras", in->adapter->name, n);
	return 0;
}

void daemon_instance_stop(struct agw_daemon *d, struct instance *in)
{
	if (!in->started || in->stopping)
		return;
	in->stopping = true;
	if (d->evidence)
		agw_evidence_adapter_stopping(d->evidence, in->adapter->name);
	d->stops_pending++;
	in->adapter->stop(in->priv); /* calls core_stopped, maybe synchronously */
}

/* ---- cameras ---- */

int daemon_load_cameras(struct agw_daemon *d, const struct agw_config *cfg, struct agw_camera **ret, size_t *ret_n)
{
	if (cfg->ledger_file) {
		struct agw_errors errs = {0};
		char *path = agw_config_resolve(cfg, cfg->ledger_file);
		int r = path ? agw_ledger_import(d->store, path, &errs) : -ENOMEM;
		for (size_t i = 0; i < errs.n; i++)
			agw_log_err("core", NULL, "ledger: %s", errs.v[i]);
		agw_errors_clear(&errs);
		free(path);
		if (r < 0)
			return r;
	}
	int n = agw_store_cameras_load(d->store, ret, ret_n);
	return n < 0 ? n : 0;
}

/* Applies a new camera list: only cameras that were added, removed or changed are touched, so
 * unchanged cameras keep their subscriptions. Takes ownership of cams. */
void daemon_apply_cameras(struct agw_daemon *d, struct agw_camera *cams, size_t n)
{
	/* O(n log n) (camera_diff.c): a 200,000-camera ledger must not stall the loop */
	struct agw_camera_diff diff;
	if (agw_camera_diff(d->cameras, d->n_cameras, cams, n, &diff) < 0) {
		agw_log_err("core", NULL, "out of memory: the new camera list is not applied");
		agw_cameras_free(cams, n);
		return;
	}
	for (size_t k = 0; k < d->n_instances; k++) {
		struct instance *in = d->instances[k];
		if (!in->started || in->stopping)
			continue;
		if (in->adapter->camera_remove) {
			for (size_t i = 0; i < diff.n_removed; i++)
				if (serves(in, diff.removed[i]))
					in->adapter->camera_remove(in->priv, diff.removed[i]->id);
			for (size_t i = 0; i < diff.n_changed; i++)
				if (serves(in, diff.changed_old[i]))
					in->adapter->camera_remove(in->priv, diff.changed_old[i]->id);
		}
		const struct agw_camera **lists[] = {diff.changed_new, diff.added};
		size_t counts[] = {diff.n_changed, diff.n_added};
		for (size_t l = 0; l < 2 && in->adapter->camera_add; l++)
			for (size_t i = 0; i < counts[l]; i++)
				if (serves(in, lists[l][i]) && daemon_camera_add(in, lists[l][i]) < 0)
					agw_log_err("core", lists[l][i]->id, "adapter %s refused the camera", in->adapter->name);
	}
	size_t added = diff.n_added, changed = diff.n_changed, removed = diff.n_removed;
	agw_camera_diff_free(&diff);
	/* The diff points into the old list: free it only now. Adapters copied what they keep of each
	 * camera in camera_add (include/alarmgw/adapter.h), unchanged ones included. */
	agw_cameras_free(d->cameras, d->n_cameras);
	d->cameras = cams;
	d->n_cameras = n;
	agw_log_info("core", NULL, "cameras: %zu in the ledger; %zu added, %zu changed, %zu removed", n, added, changed,
		     removed);
	agw_metric_set("agw_cameras", NULL, (int64_t)n);
}

