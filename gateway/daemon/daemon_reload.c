/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SIGHUP: re-read the configuration, ledger, rules and grid; refuse a bad configuration and keep
 * the running one; keep what did not change (adapters with the same options, unchanged cameras). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "daemon_internal.h"
#include "check.h"
#include "decider.h"
#include "options.h"
#include "pipeline.h"

void daemon_reload(struct daemon *d)
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
		r = daemon_load_cameras(d, cfg, &cams, &n_cams);
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
		if (daemon_instance_new(d, cfg, cfg->adapters[i], &errs, &in) == 0)
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
				daemon_instance_free(fresh[i]);
				fresh[i] = NULL;
				keep = true;
			}
		if (!keep) {
			old->retiring = true;
			agw_log_info("core", NULL, "adapter %s: configuration changed or removed, restarting",
				     old->adapter->name);
			if (old->started)
				daemon_instance_stop(d, old);
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
	daemon_apply_cameras(d, cams, n_cams);
	for (size_t i = 0; i < n_fresh; i++) {
		if (!fresh[i])
			continue;
		struct instance **v = realloc(d->instances, (d->n_instances + 1) * sizeof(*v));
		if (!v) {
			daemon_instance_free(fresh[i]);
			continue;
		}
		d->instances = v;
		v[d->n_instances++] = fresh[i];
		fresh[i]->ctx.state_dir = d->cfg->state_dir;
		if (daemon_instance_start(d, fresh[i]) < 0)
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

