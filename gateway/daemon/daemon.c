/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon: owns the loop, the store, the pipeline, the adapters and their cameras, and the
 * start and stop sequences, signals and the watchdog (reload: daemon_reload.c; adapters and cameras:
 * daemon_adapters.c). Modules plug in at the marked wiring points. */
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
#include "daemon.h"
#include "daemon_internal.h"
#include "decider.h"
#include "evidence.h"
#include "pipeline.h"
#include "retention.h"
#include "publisher.h"
#include "http.h"
#include "store.h"

#define STOP_DEADLINE_MS 4500 /* SIGTERM to the adapters' end: systemd and operators expect about 5 s */
/* then the publisher's drain (2 s), offline status and disconnect (0.5 s each), with a margin; all
 * of stop stays far inside the unit's TimeoutStopSec (30 s) */
#define PUBLISHER_STOP_DEADLINE_MS 3500
/* Longest wait for another connection's lock on the loop thread, per statement. Long enough for
 * the brief locks sqlite itself takes (opening a WAL database after the last connection closed,
 * checkpoints, a CLI command's write), which every module's statement would otherwise fail on;
 * short enough that a lock held for seconds leaves the loop serving (the pipeline retries from a
 * timer). */
#define STORE_BUSY_MS 20
/* At stop, how long to keep retrying a failing store before the queued alerts are given up (and
 * counted): within systemd's TimeoutStopSec (30 s in the shipped unit). */
#define STOP_STORE_WAIT_MS 15000
#define STATUS_EVERY_MS 5000 /* STATUS= refresh when no watchdog is configured */

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
	struct agw_daemon *d = arg;
	return !d->stopping && d->pipeline && agw_pipeline_healthy(d->pipeline);
}

static void finish(struct agw_daemon *d)
{
	if (d->finished)
		return;
	d->finished = true;
	daemon_feedback_summary(d);
	if (d->pipeline) { /* NULL when start-up failed before it existed (no store) */
		agw_pipeline_flush(d->pipeline); /* writes what is still queued */
		d->journaled = (long long)agw_pipeline_written(d->pipeline);
		agw_pipeline_free(d->pipeline);
		d->pipeline = NULL;
	}
	if (d->evidence) /* captures under way are cancelled; their rows say so at the next start */
		agw_evidence_close(d->evidence, NULL, NULL);
	daemon_evidence_close(d);
	/* wiring point: stop the modules that hold handles (publisher, http) before this */
	agw_publisher_free(d->publisher); /* not yet stopped (deadline): closes its own handles */
	d->publisher = NULL;
	agw_publisher_free(d->publisher_next); /* a reload's rebuild that never started */
	d->publisher_next = NULL;
	agw_http_stop(d->http, NULL, NULL);
	d->http = NULL;
	daemon_cluster_free(d);
	uv_walk(&d->loop, close_handle, NULL);
}

void daemon_maybe_finish_stop(struct agw_daemon *d)
{
	if (d->stopping && d->stops_pending == 0)
		finish(d);
}


static void publisher_stopped(void *arg)
{
	struct agw_daemon *d = arg;
	d->stops_pending--;
	daemon_maybe_finish_stop(d);
}

static void on_deadline(uv_timer_t *t);

static void drain_publisher(void *arg)
{
	struct agw_daemon *d = arg;
	if (!d->publisher)
		return;
	/* its own bound, whatever the pictures took before it */
	uv_timer_start(&d->deadline, on_deadline, PUBLISHER_STOP_DEADLINE_MS, 0);
	/* in flight and pending rows: up to 2 s, then the offline status and a disconnect */
	agw_publisher_stop(d->publisher, publisher_stopped, d);
}

/* The publisher stops last, once the adapters have: what they journal while they finish their
 * pulls goes out in this run, rather than waiting in the outbox for a start that may not come (a
 * planned stop must not look like lost cases to whoever reconciles after it). The queued alerts are
 * written first, so their case messages are in the outbox when the drain begins, and the pictures
 * their cases asked for are taken (at most AGW_EVIDENCE_DRAIN_LAST_MS), so they go out too. */
static void stop_publisher(struct agw_daemon *d)
{
	if (d->publisher_stop_begun)
		return;
	d->publisher_stop_begun = true;
	for (int i = 0; d->pipeline && agw_pipeline_queued(d->pipeline) && i < 64; i++)
		if (agw_pipeline_flush(d->pipeline) <= 0)
			break; /* the store is failing: finish() gives it STOP_STORE_WAIT_MS */
	if (d->publisher && d->evidence && agw_evidence_drain(d->evidence, AGW_EVIDENCE_DRAIN_LAST_MS, drain_publisher, d) > 0)
		return;
	drain_publisher(d);
}

void daemon_adapters_stopped_check(struct agw_daemon *d)
{
	if (!d->stopping || d->publisher_stop_begun)
		return;
	for (size_t i = 0; i < d->n_instances; i++)
		if (d->instances[i]->started)
			return;
	stop_publisher(d);
}

static void on_deadline(uv_timer_t *t)
{
	struct agw_daemon *d = t->data;
	if (!d->publisher_stop_begun && d->publisher) {
		agw_log_err("core", NULL, "adapters did not stop within %d ms; stopping the publisher anyway",
			    STOP_DEADLINE_MS);
		stop_publisher(d);
		uv_timer_start(&d->deadline, on_deadline, PUBLISHER_STOP_DEADLINE_MS, 0);
		return;
	}
	agw_log_err("core", NULL, "%s did not stop in time; stopping anyway",
		    d->publisher_stop_begun ? "the publisher" : "adapters");
	finish(d);
}

static void stop_adapters(void *arg);

static void begin_stop(struct agw_daemon *d, const char *why)
{
	if (d->stopping) {
		agw_log_notice("core", NULL, "%s again: already stopping", why);
		return;
	}
	d->stopping = true;
	agw_log_notice("core", NULL, "%s: stopping", why);
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	uv_timer_stop(&d->watchdog);
	uv_timer_stop(&d->retention);
	if (d->publisher)
		d->stops_pending++; /* stopped by daemon_adapters_stopped_check, after the adapters */
	/* Pictures under way are taken first, while their adapters still run: a case opened just
	 * before the stop keeps its picture, and the publisher's drain sends it (at most
	 * AGW_EVIDENCE_DRAIN_MS; what is left is cancelled as before). */
	if (d->evidence && agw_evidence_drain(d->evidence, AGW_EVIDENCE_DRAIN_MS, stop_adapters, d) > 0)
		return;
	stop_adapters(d);
}

static void stop_adapters(void *arg)
{
	struct agw_daemon *d = arg;
	uv_timer_start(&d->deadline, on_deadline, STOP_DEADLINE_MS, 0);
	for (size_t i = 0; i < d->n_instances; i++)
		daemon_instance_stop(d, d->instances[i]);
	daemon_cluster_stop(d);
	daemon_adapters_stopped_check(d);
	daemon_maybe_finish_stop(d);
}

/* ---- journal retention ---- */

#define RETENTION_PERIOD_MS 60000
#define RETENTION_BATCH 5000

static void on_retention(uv_timer_t *t)
{
	struct agw_daemon *d = t->data;
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
	struct agw_daemon *d = s->data;
	if (signum == SIGHUP) {
		if (!d->stopping)
			daemon_reload(d);
		return;
	}
	begin_stop(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_watchdog(uv_timer_t *t)
{
	struct agw_daemon *d = t->data;
	/* The watchdog proves that the loop runs (this timer fired), nothing more. A failing store is
	 * reported (STATUS, /healthz, metrics, the status page) and back-pressure keeps new events at
	 * the cameras; a restart would lose the queued alerts and meet the same full disk again. */
	if (d->watchdog_interval_ms)
		sd_notify(0, "WATCHDOG=1");
	char status[200];
	int64_t failing_ms = 0;
	if (agw_pipeline_store_ok(d->pipeline, &failing_ms))
		snprintf(status, sizeof(status), "STATUS=running: %zu cameras, %lld alerts, %zu queued", d->n_cameras,
			 (long long)agw_pipeline_written(d->pipeline), agw_pipeline_queued(d->pipeline));
	else
		snprintf(status, sizeof(status),
			 "STATUS=degraded: journal writes failing for %lld s, %zu alerts queued, adapters held back; "
			 "%zu cameras",
			 (long long)(failing_ms / 1000), agw_pipeline_queued(d->pipeline), d->n_cameras);
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

static void log_errors(const struct agw_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		agw_log_err("core", NULL, "%s", errs->v[i]);
}

/* The database and the pipeline that writes to it. */
static int open_store(struct agw_daemon *d)
{
	char *db = agw_config_db_path(d->cfg);
	char err[512];
	if (!db || agw_store_open(db, &d->store, err, sizeof(err)) < 0) {
		agw_log_err("core", NULL, "%s", db ? err : "out of memory");
		free(db);
		return -1;
	}
	agw_log_info("core", NULL, "database %s (schema %d)", db, agw_store_schema_version(d->store));
	free(db);
	/* The loop never waits for another process's write lock: a batch that finds the database
	 * locked is retried from a timer (pipeline.c) while back-pressure holds the rest. */
	agw_store_set_busy_timeout(d->store, STORE_BUSY_MS);
	if (agw_pipeline_new(&d->loop, d->store, (size_t)d->cfg->queue_max, &d->pipeline) < 0)
		return -1;
	agw_pipeline_set_max_bytes(d->pipeline, (size_t)d->cfg->queue_max_bytes);
	agw_pipeline_set_commit(d->pipeline, d->cfg->commit_window_ms, (size_t)d->cfg->commit_max);
	agw_pipeline_set_stop_wait(d->pipeline, STOP_STORE_WAIT_MS);
	agw_pipeline_set_room(d->pipeline, daemon_resume_refused, d);
	return 0;
}

/* The ledger, the decider, the publisher and the HTTP server: everything but the adapters. */
static int start_core(struct agw_daemon *d)
{
	/* The ledger first: the decider locates the cameras in the grid when it is created. */
	struct agw_camera *cams = NULL;
	size_t n = 0;
	if (daemon_load_cameras(d, d->cfg, &cams, &n) < 0) {
		agw_log_err("core", NULL, "cannot load the camera ledger");
		return -1;
	}
	d->cameras = cams;
	d->n_cameras = n;
	agw_metric_set("agw_cameras", NULL, (int64_t)n);
	struct agw_errors errs = {0};
	int r = agw_decider_new(d->cfg, d->store, &d->decider, &errs);
	if (r < 0)
		log_errors(&errs);
	agw_errors_clear(&errs);
	if (r < 0)
		return -1;
	agw_pipeline_set_decider(d->pipeline, daemon_decide, d);
	agw_pipeline_set_decider_txn(d->pipeline, daemon_decide_txn);
	agw_pipeline_set_tick(d->pipeline, agw_decider_tick, d->decider, 1000);
	if (agw_publisher_new(&d->loop, d->cfg, d->store, &d->publisher) < 0)
		return -1;
	agw_publisher_set_feedback(d->publisher, daemon_case_feedback, d);
	agw_publisher_set_feedback_done(d->publisher, daemon_case_feedback_done);
	agw_publisher_set_resend_window(d->publisher, d->cfg->mqtt.resend_window_ms);
	if (agw_pipeline_add_committed_hook(d->pipeline, daemon_kick_publisher, d) < 0 ||
	    agw_publisher_start(d->publisher) < 0 || daemon_evidence_start(d) < 0)
		return -1;
	if (!d->cfg->http_listen || !*d->cfg->http_listen)
		return 0;
	char *token_file = d->cfg->http_token_file ? agw_config_resolve(d->cfg, d->cfg->http_token_file) : NULL;
	char *cert = d->cfg->http_tls_cert ? agw_config_resolve(d->cfg, d->cfg->http_tls_cert) : NULL;
	char *key = d->cfg->http_tls_key ? agw_config_resolve(d->cfg, d->cfg->http_tls_key) : NULL;
	struct agw_http_config hc = {.listen = d->cfg->http_listen, .token_file = token_file, .hosts = d->cfg->http_hosts,
				     .grid_layer = d->cfg->grid_layer, .time_zone = d->cfg->http_time_zone,
				     .tile_url = d->cfg->http_tile_url, .state_dir = d->cfg->state_dir,
				     .tls_cert = cert, .tls_key = key};
	char *url_key = d->cfg->evidence_url_key_file ? agw_config_resolve(d->cfg, d->cfg->evidence_url_key_file) : NULL;
	hc.url_key_file = url_key;
	bool nomem = (d->cfg->http_token_file && !token_file) || (d->cfg->http_tls_cert && !cert) ||
		     (d->cfg->http_tls_key && !key) || (d->cfg->evidence_url_key_file && !url_key);
	int hr = nomem ? -ENOMEM : agw_http_start_config(&d->loop, &hc, d->store, &d->http);
	free(token_file);
	free(cert);
	free(key);
	free(url_key);
	if (hr < 0)
		return -1;
	agw_http_set_health_fn(d->http, daemon_healthy, d);
	return 0;
}

/* Every configured adapter instance, then the cluster. All are checked before any starts. */
static int start_adapters(struct agw_daemon *d)
{
	struct agw_errors errs = {0};
	int r = 0;
	for (size_t i = 0; i < d->cfg->n_adapters; i++) {
		struct instance *in = NULL;
		if (daemon_instance_new(d, d->cfg, d->cfg->adapters[i], &errs, &in) < 0)
			continue;
		struct instance **v = realloc(d->instances, (d->n_instances + 1) * sizeof(*v));
		if (!v) {
			daemon_instance_free(in);
			r = -1;
			goto out;
		}
		d->instances = v;
		v[d->n_instances++] = in;
	}
	if (errs.n) {
		log_errors(&errs);
		r = -1;
		goto out;
	}
	for (size_t i = 0; i < d->n_instances && r == 0; i++)
		r = daemon_instance_start(d, d->instances[i]) < 0 ? -1 : 0;
	if (r == 0 && daemon_cluster_start(d) < 0)
		r = -1;
out:
	agw_errors_clear(&errs);
	return r;
}

/* Signals, journal retention and the watchdog (which also keeps STATUS= current). */
static void start_timers(struct agw_daemon *d)
{
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
	/* Without a watchdog the same timer still keeps STATUS= current (a failing store shows in
	 * `systemctl status`). */
	uint64_t every = d->watchdog_interval_ms ? d->watchdog_interval_ms : STATUS_EVERY_MS;
	uv_timer_start(&d->watchdog, on_watchdog, every, every);
}

/* After the loop ended, or after a failed start: stops whatever started, drains the loop and frees
 * everything, the configuration included. */
static void daemon_free(struct agw_daemon *d)
{
	if (!d->finished) {
		/* Start-up failed: stop whatever started, then drain the loop. */
		d->stopping = true;
		for (size_t i = 0; i < d->n_instances; i++)
			daemon_instance_stop(d, d->instances[i]);
		finish(d);
		uv_run(&d->loop, UV_RUN_DEFAULT);
	}
	for (size_t i = 0; i < d->n_instances; i++)
		daemon_instance_free(d->instances[i]);
	free(d->instances);
	agw_cameras_free(d->cameras, d->n_cameras);
	agw_decider_free(d->decider);
	daemon_locate_free(d);
	agw_evidence_free(d->evidence);
	if (uv_loop_close(&d->loop) != 0)
		agw_log_warn("core", NULL, "event loop closed with handles still open");
	agw_store_close(d->store);
	agw_config_free(d->cfg);
	free(d->cfg);
	free(d);
}

int agw_daemon_run(struct agw_config *cfg)
{
	struct agw_daemon *d = calloc(1, sizeof(*d));
	if (!d) {
		agw_config_free(cfg);
		free(cfg);
		return 1;
	}
	d->cfg = cfg;
	int code = 1;
	uv_loop_init(&d->loop);
	agw_log_set_level(d->cfg->log_level);
	/* A broken pipe to a peer is an error to handle where it happens, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile_limit();
	if (open_store(d) < 0 || start_core(d) < 0 || start_adapters(d) < 0)
		goto out;
	start_timers(d);
	agw_log_notice("core", NULL, "alarmgw %s running: gateway %s, %zu cameras, %zu adapters", AGW_VERSION,
		       d->cfg->gateway_id, d->n_cameras, d->n_instances);
	sd_notify(0, "READY=1\nSTATUS=running");
	uv_run(&d->loop, UV_RUN_DEFAULT);
	code = 0;
	agw_log_notice("core", NULL, "stopped: %lld alerts journaled this run", (long long)d->journaled);
out:
	daemon_free(d);
	return code;
}
