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
#include "daemon_internal.h"
#include "ledger.h"
#include "options.h"
#include "pipeline.h"
#include "publisher.h"

/* Health transitions also go out on the camera's retained health topic, so a platform sees the
 * current state of every camera without replaying cases. */
static void report_health(struct daemon *d, const struct agw_alert *a)
{
	if (!d->publisher || a->active == AGW_ACTIVE_NONE)
		return;
	bool on = a->active == AGW_ACTIVE_TRUE;
	const char *state = NULL;
	if (a->kind == AGW_KIND_CAMERA_OFFLINE)
		state = on ? "offline" : "online";
	else if (a->kind == AGW_KIND_EVENT_CHANNEL_LOST)
		state = on ? "event_channel_lost" : "online";
	if (state && agw_publisher_camera_health(d->publisher, a->camera_id, state) < 0)
		agw_log_warn("core", a->camera_id, "health state %s not published", state);
}

static int core_emit(struct agw_adapter_ctx *ctx, const struct agw_alert *alert)
{
	struct instance *in = ctx->core;
	struct daemon *d = in->d;
	if (!alert->camera_id || !*alert->camera_id) {
		agw_metric_add("agw_alerts_refused_total", "reason=\"no_camera\"", 1);
		return -EINVAL;
	}
	int r;
	if (!alert->adapter) {
		struct agw_alert copy = *alert;
		copy.adapter = (char *)in->adapter->name;
		r = agw_pipeline_submit(d->pipeline, &copy);
	} else {
		r = agw_pipeline_submit(d->pipeline, alert);
	}
	if (r < 0) {
		static int64_t last_log;
		int64_t now = agw_now_ms();
		if (now - last_log > 10000) { /* refusals come in floods: log at most every 10 s */
			agw_log_warn("core", alert->camera_id, "alert refused: %s (counted in agw_alerts_refused_total)",
				     strerror(-r));
			last_log = now;
		}
		return r;
	}
	report_health(d, alert);
	return 0;
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
	struct daemon *d = in->d;
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

static void core_stopped(struct agw_adapter_ctx *ctx)
{
	struct instance *in = ctx->core;
	struct daemon *d = in->d;
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
	daemon_maybe_finish_stop(d);
}

/* Creates an instance with parsed options; errors go to errs. */
int daemon_instance_new(struct daemon *d, const struct agw_config *cfg, const char *name, struct agw_errors *errs,
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
		.stopped = core_stopped,
		.state_put = core_state_put,
		.state_get = core_state_get,
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

int daemon_instance_start(struct daemon *d, struct instance *in)
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
	for (size_t i = 0; i < d->n_cameras; i++)
		if (serves(in, &d->cameras[i]) && in->adapter->camera_add) {
			if (in->adapter->camera_add(in->priv, &d->cameras[i]) < 0)
				agw_log_err("core", d->cameras[i].id, "adapter %s refused the camera", in->adapter->name);
			else
				n++;
		}
	agw_log_info("core", NULL, "adapter %s started with %zu cameras", in->adapter->name, n);
	return 0;
}

void daemon_instance_stop(struct daemon *d, struct instance *in)
{
	if (!in->started || in->stopping)
		return;
	in->stopping = true;
	d->stops_pending++;
	in->adapter->stop(in->priv); /* calls core_stopped, maybe synchronously */
}

/* ---- cameras ---- */

int daemon_load_cameras(struct daemon *d, const struct agw_config *cfg, struct agw_camera **ret, size_t *ret_n)
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

static const struct agw_camera *find_camera(const struct agw_camera *v, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			return &v[i];
	return NULL;
}

/* Applies a new camera list: only cameras that were added, removed or changed are touched, so
 * unchanged cameras keep their subscriptions. Takes ownership of cams. */
void daemon_apply_cameras(struct daemon *d, struct agw_camera *cams, size_t n)
{
	size_t added = 0, removed = 0, changed = 0;
	for (size_t k = 0; k < d->n_instances; k++) {
		struct instance *in = d->instances[k];
		if (!in->started || in->stopping)
			continue;
		for (size_t i = 0; i < d->n_cameras; i++) {
			const struct agw_camera *old = &d->cameras[i];
			const struct agw_camera *neu = find_camera(cams, n, old->id);
			if (!serves(in, old))
				continue;
			if (!neu || !agw_camera_equal(old, neu)) {
				if (in->adapter->camera_remove)
					in->adapter->camera_remove(in->priv, old->id);
				neu ? changed++ : removed++;
			}
		}
		for (size_t i = 0; i < n; i++) {
			const struct agw_camera *old = find_camera(d->cameras, d->n_cameras, cams[i].id);
			if (!serves(in, &cams[i]) || (old && agw_camera_equal(old, &cams[i])))
				continue;
			if (in->adapter->camera_add && in->adapter->camera_add(in->priv, &cams[i]) < 0)
				agw_log_err("core", cams[i].id, "adapter %s refused the camera", in->adapter->name);
			if (!old)
				added++;
		}
	}
	/* Adapters read cameras until camera_remove: free the old list only after the diff. */
	agw_cameras_free(d->cameras, d->n_cameras);
	d->cameras = cams;
	d->n_cameras = n;
	agw_log_info("core", NULL, "cameras: %zu in the ledger; %zu added, %zu changed, %zu removed", n, added, changed,
		     removed);
	agw_metric_set("agw_cameras", NULL, (int64_t)n);
}

