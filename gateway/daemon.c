/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon: owns the loop, the store, the pipeline, the adapters and their cameras, and the
 * stop/reload sequences. Modules plug in at the marked wiring points. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "check.h"
#include "daemon.h"
#include "decider.h"
#include "ledger.h"
#include "options.h"
#include "pipeline.h"
#include "retention.h"
#include "publisher.h"
#include "http.h"
#include "store.h"

#define STOP_DEADLINE_MS 4500 /* SIGTERM to exit: systemd and operators expect well under 5 s */

struct daemon;

struct instance {
	const struct agw_adapter *adapter;
	void *priv;
	struct agw_adapter_ctx ctx;
	struct daemon *d;
	bool started;
	bool stopping;
	bool retiring; /* being replaced or removed by a reload: free it once stopped */
};

struct daemon {
	uv_loop_t loop;
	struct agw_config *cfg; /* heap: the decider keeps pointers into it */
	struct agw_store *store;
	struct agw_pipeline *pipeline;
	struct instance **instances;
	size_t n_instances;
	struct agw_camera *cameras;
	size_t n_cameras;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t watchdog, deadline, retention;
	uint64_t watchdog_interval_ms;
	int stops_pending;
	bool stopping;
	bool finished;
	int exit_code;
	long long journaled; /* alerts written this run, kept when the pipeline is gone */
	/* wiring points: modules owned elsewhere */
	struct agw_http *http; /* metrics, health, status page; NULL when http_listen is unset */
	struct agw_decider *decider;
	struct agw_publisher *publisher;
};

/* ---- adapters ---- */

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

static void maybe_finish_stop(struct daemon *d);

static void free_instance(struct instance *in)
{
	if (in->adapter->uninit)
		in->adapter->uninit(in->priv);
	agw_options_free(in->adapter, in->priv);
	free(in->priv);
	free(in);
}

static void core_stopped(struct agw_adapter_ctx *ctx)
{
	struct instance *in = ctx->core;
	struct daemon *d = in->d;
	agw_log_info("core", NULL, "adapter %s stopped", in->adapter->name);
	in->started = false;
	d->stops_pending--;
	if (in->retiring) {
		for (size_t i = 0; i < d->n_instances; i++)
			if (d->instances[i] == in) {
				memmove(&d->instances[i], &d->instances[i + 1], (d->n_instances - i - 1) * sizeof(in));
				d->n_instances--;
				break;
			}
		free_instance(in);
	}
	maybe_finish_stop(d);
}

/* Creates an instance with parsed options; errors go to errs. */
static int instance_new(struct daemon *d, const struct agw_config *cfg, const char *name, struct agw_errors *errs,
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
	return in->adapter->protocol && c->protocol && strcmp(in->adapter->protocol, c->protocol) == 0;
}

static int instance_start(struct daemon *d, struct instance *in)
{
	int r = in->adapter->init ? in->adapter->init(in->priv, &in->ctx) : 0;
	if (r < 0) {
		agw_log_err("core", NULL, "adapter %s failed to initialize: %s", in->adapter->name, strerror(-r));
		return r;
	}
	r = in->adapter->start ? in->adapter->start(in->priv) : 0;
	if (r < 0) {
		agw_log_err("core", NULL, "adapter %s failed to start: %s", in->adapter->name, strerror(-r));
		if (in->adapter->uninit)
			in->adapter->uninit(in->priv);
		in->adapter = in->adapter; /* uninit done; free_instance must not run it twice */
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

static void instance_stop(struct daemon *d, struct instance *in)
{
	if (!in->started || in->stopping)
		return;
	in->stopping = true;
	d->stops_pending++;
	in->adapter->stop(in->priv); /* calls core_stopped, maybe synchronously */
}

/* ---- cameras ---- */

static int load_cameras(struct daemon *d, const struct agw_config *cfg, struct agw_camera **ret, size_t *ret_n)
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
static void apply_cameras(struct daemon *d, struct agw_camera *cams, size_t n)
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

/* ---- stop ---- */

static void close_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* /healthz: the condition under which the watchdog is pinged, and not stopping. */
static bool daemon_healthy(void *arg)
{
	struct daemon *d = arg;
	return !d->stopping && d->pipeline && agw_pipeline_healthy(d->pipeline);
}

static void finish(struct daemon *d)
{
	if (d->finished)
		return;
	d->finished = true;
	agw_pipeline_flush(d->pipeline); /* writes what is still queued */
	d->journaled = (long long)agw_pipeline_written(d->pipeline);
	agw_pipeline_free(d->pipeline);
	d->pipeline = NULL;
	/* wiring point: stop the modules that hold handles (publisher, http) before this */
	agw_publisher_free(d->publisher); /* not yet stopped (deadline): closes its own handles */
	d->publisher = NULL;
	agw_http_stop(d->http, NULL, NULL);
	d->http = NULL;
	uv_walk(&d->loop, close_handle, NULL);
}

static void maybe_finish_stop(struct daemon *d)
{
	if (d->stopping && d->stops_pending == 0)
		finish(d);
}

static void on_deadline(uv_timer_t *t)
{
	struct daemon *d = t->data;
	agw_log_err("core", NULL, "adapters did not stop within %d ms; stopping anyway", STOP_DEADLINE_MS);
	finish(d);
}

static void publisher_stopped(void *arg)
{
	struct daemon *d = arg;
	d->stops_pending--;
	maybe_finish_stop(d);
}

/* Case status from the platform, on the loop thread; outside the pipeline's batch (autocommit). */
static void case_feedback(void *arg, const char *case_id, const char *status)
{
	struct daemon *d = arg;
	int r = agw_decider_case_feedback(d->decider, d->store, case_id, status);
	if (r == -ENOENT) {
		agw_metric_add("agw_feedback_errors_total", "reason=\"unknown_case\"", 1);
		agw_log_warn("mqtt", NULL, "feedback for unknown case %s ignored", case_id);
	} else if (r < 0) {
		agw_log_err("mqtt", NULL, "feedback for case %s not recorded: %s", case_id, strerror(-r));
	}
}

static void begin_stop(struct daemon *d, const char *why)
{
	if (d->stopping) {
		agw_log_notice("core", NULL, "%s again: already stopping", why);
		return;
	}
	d->stopping = true;
	agw_log_notice("core", NULL, "%s: stopping", why);
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	uv_timer_start(&d->deadline, on_deadline, STOP_DEADLINE_MS, 0);
	uv_timer_stop(&d->watchdog);
	uv_timer_stop(&d->retention);
	for (size_t i = 0; i < d->n_instances; i++)
		instance_stop(d, d->instances[i]);
	if (d->publisher) {
		/* in flight: up to 2 s for PUBACKs, then the retained offline status and a disconnect */
		d->stops_pending++;
		agw_publisher_stop(d->publisher, publisher_stopped, d);
	}
	maybe_finish_stop(d);
}

/* ---- reload ---- */

static void reload(struct daemon *d)
{
	sd_notify(0, "RELOADING=1\nSTATUS=reloading");
	agw_log_notice("core", NULL, "reloading %s", d->cfg->path ? d->cfg->path : "(defaults)");
	struct agw_config *cfg = calloc(1, sizeof(*cfg));
	struct agw_errors errs = {0};
	struct agw_decider *decider = NULL;
	struct agw_camera *cams = NULL;
	size_t n_cams = 0;
	int r = -ENOMEM;
	if (cfg && d->cfg->path) {
		r = agw_config_load(d->cfg->path, cfg, &errs);
		if (r == 0)
			r = agw_check_config(cfg, &errs);
	} else if (cfg) {
		agw_config_defaults(cfg); /* --db mode: nothing to re-read but the ledger and rules */
		r = 0;
	}
	if (r == 0 && errs.n == 0) {
		/* The new decider rebuilds open incidents from the cases table: write what is queued first.
		 * Cameras come before the decider, which locates them in the grid. */
		agw_pipeline_flush(d->pipeline);
		r = load_cameras(d, cfg, &cams, &n_cams);
		if (r < 0)
			agw_errors_add(&errs, cfg->path, 0, "the camera ledger could not be loaded");
		else
			r = agw_decider_new(cfg, d->store, &decider, &errs);
	}
	if (r < 0 || errs.n) {
		for (size_t i = 0; i < errs.n; i++)
			agw_log_err("core", NULL, "reload: %s", errs.v[i]);
		agw_log_err("core", NULL, "reload refused (%zu errors); the running configuration stays", errs.n);
		agw_metric_add("agw_reloads_total", "result=\"refused\"", 1);
		agw_errors_clear(&errs);
		agw_cameras_free(cams, n_cams);
		agw_config_free(cfg);
		free(cfg);
		agw_log_set_level(d->cfg->log_level);
		sd_notify(0, "READY=1\nSTATUS=running (last reload refused)");
		return;
	}
	/* Adapters: keep those whose options are unchanged, replace changed ones, stop removed ones. */
	struct instance **fresh = calloc(cfg->n_adapters + 1, sizeof(*fresh));
	size_t n_fresh = 0;
	for (size_t i = 0; fresh && i < cfg->n_adapters; i++) {
		struct instance *in = NULL;
		if (instance_new(d, cfg, cfg->adapters[i], &errs, &in) == 0)
			fresh[n_fresh++] = in;
	}
	for (size_t k = 0; k < d->n_instances; k++) {
		struct instance *old = d->instances[k];
		if (old->retiring)
			continue;
		bool keep = false;
		for (size_t i = 0; i < n_fresh; i++)
			if (fresh[i] && fresh[i]->adapter == old->adapter &&
			    agw_options_equal(old->adapter, old->priv, fresh[i]->priv)) {
				free_instance(fresh[i]);
				fresh[i] = NULL;
				keep = true;
			}
		if (!keep) {
			old->retiring = true;
			agw_log_info("core", NULL, "adapter %s: configuration changed or removed, restarting",
				     old->adapter->name);
			if (old->started)
				instance_stop(d, old);
		}
	}
	/* Swap in the new rules, grid and cameras. */
	agw_pipeline_set_decider(d->pipeline, agw_decider_decide, decider);
	agw_pipeline_set_tick(d->pipeline, agw_decider_tick, decider, 1000);
	agw_decider_free(d->decider);
	d->decider = decider;
	struct agw_config *old_cfg = d->cfg;
	d->cfg = cfg;
	for (size_t k = 0; k < d->n_instances; k++)
		d->instances[k]->ctx.state_dir = d->cfg->state_dir;
	agw_log_set_level(d->cfg->log_level);
	apply_cameras(d, cams, n_cams);
	for (size_t i = 0; i < n_fresh; i++) {
		if (!fresh[i])
			continue;
		struct instance **v = realloc(d->instances, (d->n_instances + 1) * sizeof(*v));
		if (!v) {
			free_instance(fresh[i]);
			continue;
		}
		d->instances = v;
		v[d->n_instances++] = fresh[i];
		fresh[i]->ctx.state_dir = d->cfg->state_dir;
		if (instance_start(d, fresh[i]) < 0)
			fresh[i]->retiring = true;
	}
	free(fresh);
	agw_config_free(old_cfg);
	free(old_cfg);
	agw_errors_clear(&errs);
	agw_metric_add("agw_reloads_total", "result=\"applied\"", 1);
	agw_log_notice("core", NULL, "reload done: %zu cameras, %zu adapters", d->n_cameras, d->n_instances);
	sd_notify(0, "READY=1\nSTATUS=running");
}

/* ---- journal retention ---- */

#define RETENTION_PERIOD_MS 60000
#define RETENTION_BATCH 5000

static void on_retention(uv_timer_t *t)
{
	struct daemon *d = t->data;
	struct agw_retention policy = {
		.max_age_ms = d->cfg->journal_retention_ms,
		.max_rows = d->cfg->journal_max_rows,
		.batch = RETENTION_BATCH,
	};
	int64_t n = agw_retention_prune(d->store, &policy, agw_now_ms());
	/* A backlog is worked off in batches between other work, not in one long transaction. */
	uv_timer_start(t, on_retention, n > 0 ? 50 : RETENTION_PERIOD_MS, 0);
}

/* ---- signals, watchdog ---- */

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	if (signum == SIGHUP) {
		if (!d->stopping)
			reload(d);
		return;
	}
	begin_stop(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_watchdog(uv_timer_t *t)
{
	struct daemon *d = t->data;
	/* Ping only while healthy: a store that keeps failing lets systemd restart us. */
	if (agw_pipeline_healthy(d->pipeline))
		sd_notify(0, "WATCHDOG=1");
	else
		agw_log_err("core", NULL, "unhealthy (journal writes failing): watchdog not pinged");
	char status[160];
	snprintf(status, sizeof(status), "STATUS=running: %zu cameras, %lld alerts, %zu queued", d->n_cameras,
		 (long long)agw_pipeline_written(d->pipeline), agw_pipeline_queued(d->pipeline));
	sd_notify(0, status);
}

/* Every camera holds at least one socket (a long-poll), so 10,000 cameras need more descriptors than
 * the usual soft limit of 1,024: take the hard limit (systemd's LimitNOFILE sets both). */
static void raise_nofile_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rlim_t was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		agw_log_warn("core", NULL, "cannot raise the open file limit from %llu: %s", (unsigned long long)was,
			     strerror(errno));
}

int agw_daemon_run(struct agw_config *cfg)
{
	struct daemon *d = calloc(1, sizeof(*d));
	if (!d) {
		agw_config_free(cfg);
		free(cfg);
		return 1;
	}
	d->cfg = cfg;
	int code = 1;
	struct agw_errors errs = {0};
	uv_loop_init(&d->loop);
	agw_log_set_level(d->cfg->log_level);
	/* A broken pipe to a peer is an error to handle where it happens, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile_limit();

	char *db = agw_config_db_path(d->cfg);
	char err[512];
	if (!db || agw_store_open(db, &d->store, err, sizeof(err)) < 0) {
		agw_log_err("core", NULL, "%s", db ? err : "out of memory");
		free(db);
		goto out;
	}
	agw_log_info("core", NULL, "database %s (schema %d)", db, agw_store_schema_version(d->store));
	free(db);
	if (agw_pipeline_new(&d->loop, d->store, (size_t)d->cfg->queue_max, &d->pipeline) < 0)
		goto out;
	/* The ledger first: the decider locates the cameras in the grid when it is created. */
	struct agw_camera *cams = NULL;
	size_t n = 0;
	if (load_cameras(d, d->cfg, &cams, &n) < 0) {
		agw_log_err("core", NULL, "cannot load the camera ledger");
		goto out;
	}
	d->cameras = cams;
	d->n_cameras = n;
	agw_metric_set("agw_cameras", NULL, (int64_t)n);
	if (agw_decider_new(d->cfg, d->store, &d->decider, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			agw_log_err("core", NULL, "%s", errs.v[i]);
		goto out;
	}
	agw_pipeline_set_decider(d->pipeline, agw_decider_decide, d->decider);
	agw_pipeline_set_tick(d->pipeline, agw_decider_tick, d->decider, 1000);
	if (agw_publisher_new(&d->loop, d->cfg, d->store, &d->publisher) < 0)
		goto out;
	agw_publisher_set_feedback(d->publisher, case_feedback, d);
	agw_publisher_set_resend_window(d->publisher, d->cfg->mqtt.resend_window_ms);
	if (agw_pipeline_add_committed_hook(d->pipeline, agw_publisher_kick, d->publisher) < 0 ||
	    agw_publisher_start(d->publisher) < 0)
		goto out;
	if (d->cfg->http_listen && *d->cfg->http_listen) {
		if (agw_http_start(&d->loop, d->cfg->http_listen, d->store, &d->http) < 0)
			goto out;
		agw_http_set_health_fn(d->http, daemon_healthy, d);
	}

	for (size_t i = 0; i < d->cfg->n_adapters; i++) {
		struct instance *in = NULL;
		if (instance_new(d, d->cfg, d->cfg->adapters[i], &errs, &in) < 0)
			continue;
		struct instance **v = realloc(d->instances, (d->n_instances + 1) * sizeof(*v));
		if (!v) {
			free_instance(in);
			goto out;
		}
		d->instances = v;
		v[d->n_instances++] = in;
	}
	if (errs.n) {
		for (size_t i = 0; i < errs.n; i++)
			agw_log_err("core", NULL, "%s", errs.v[i]);
		goto out;
	}
	for (size_t i = 0; i < d->n_instances; i++)
		if (instance_start(d, d->instances[i]) < 0)
			goto out;

	uv_signal_init(&d->loop, &d->sig_term);
	uv_signal_init(&d->loop, &d->sig_int);
	uv_signal_init(&d->loop, &d->sig_hup);
	d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
	uv_signal_start(&d->sig_term, on_signal, SIGTERM);
	uv_signal_start(&d->sig_int, on_signal, SIGINT);
	uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
	uv_timer_init(&d->loop, &d->deadline);
	uv_timer_init(&d->loop, &d->watchdog);
	uv_timer_init(&d->loop, &d->retention);
	d->deadline.data = d->watchdog.data = d->retention.data = d;
	uv_timer_start(&d->retention, on_retention, 1000, 0);
	uint64_t usec = 0;
	if (d->cfg->watchdog_ms > 0)
		d->watchdog_interval_ms = (uint64_t)d->cfg->watchdog_ms;
	else if (sd_watchdog_enabled(0, &usec) > 0)
		d->watchdog_interval_ms = usec / 2000; /* ping at twice the rate systemd requires */
	if (d->watchdog_interval_ms)
		uv_timer_start(&d->watchdog, on_watchdog, d->watchdog_interval_ms, d->watchdog_interval_ms);

	agw_log_notice("core", NULL, "alarmgw %s running: gateway %s, %zu cameras, %zu adapters", AGW_VERSION,
		       d->cfg->gateway_id, d->n_cameras, d->n_instances);
	sd_notify(0, "READY=1\nSTATUS=running");
	uv_run(&d->loop, UV_RUN_DEFAULT);
	code = 0;
	agw_log_notice("core", NULL, "stopped: %lld alerts journaled this run", (long long)d->journaled);
out:
	if (!d->finished) {
		/* Start-up failed: stop whatever started, then drain the loop. */
		d->stopping = true;
		for (size_t i = 0; i < d->n_instances; i++)
			instance_stop(d, d->instances[i]);
		finish(d);
		uv_run(&d->loop, UV_RUN_DEFAULT);
	}
	for (size_t i = 0; i < d->n_instances; i++)
		free_instance(d->instances[i]);
	free(d->instances);
	agw_cameras_free(d->cameras, d->n_cameras);
	agw_decider_free(d->decider);
	if (uv_loop_close(&d->loop) != 0)
		agw_log_warn("core", NULL, "event loop closed with handles still open");
	agw_store_close(d->store);
	agw_errors_clear(&errs);
	agw_config_free(d->cfg);
	free(d->cfg);
	free(d);
	return code;
}
