/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SIGHUP: re-read the configuration, ledger, rules and grid, all or nothing. First everything is
 * built and validated without touching what runs: the config and its checks, the ledger (written
 * inside a transaction that is rolled back on refusal: the new decider reads the cameras from the
 * store), the decider, every adapter's options, and a new MQTT publisher when the broker settings
 * changed. Any error rolls back and frees all of it: the running configuration stays, the stored
 * ledger too. Only then is everything applied; what did not change is kept (adapters with the same
 * options, unchanged cameras, the publisher when its settings are the same). A rebuilt publisher
 * takes over the outbox after the old one stopped: rows are never lost, and only rows in flight
 * at the switch can be sent twice (QoS 1 is at least once). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "camera_diff.h"
#include "check.h"
#include "daemon_internal.h"
#include "decider.h"
#include "ledger.h"
#include "options.h"
#include "pipeline.h"
#include "publisher.h"

/* What a reload builds before it applies anything. */
struct next {
	struct agw_config *cfg;
	struct agw_camera *cams;
	size_t n_cams;
	struct agw_decider *decider;
	struct instance **fresh; /* one per configured adapter */
	size_t n_fresh;
	struct agw_publisher *publisher; /* NULL: the broker settings did not change */
};

static void next_free(struct next *nx)
{
	for (size_t i = 0; i < nx->n_fresh; i++)
		if (nx->fresh[i])
			daemon_instance_free(nx->fresh[i]);
	free(nx->fresh);
	agw_publisher_free(nx->publisher);
	agw_decider_free(nx->decider);
	agw_cameras_free(nx->cams, nx->n_cams);
	if (nx->cfg) {
		agw_config_free(nx->cfg);
		free(nx->cfg);
	}
	memset(nx, 0, sizeof(*nx));
}

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Everything agw_publisher_new copies (the resend window is applied without a rebuild). */
static bool publisher_same(const struct agw_config *a, const struct agw_config *b)
{
	const struct agw_mqtt_config *x = &a->mqtt, *y = &b->mqtt;
	return str_same(a->gateway_id, b->gateway_id) && str_same(x->uri, y->uri) &&
	       str_same(x->client_id, y->client_id) && str_same(x->username, y->username) &&
	       str_same(x->password, y->password) && x->version == y->version && x->keepalive_ms == y->keepalive_ms &&
	       x->clean_session == y->clean_session && str_same(x->ca_file, y->ca_file) &&
	       str_same(x->cert_file, y->cert_file) && str_same(x->key_file, y->key_file) &&
	       str_same(x->topic_prefix, y->topic_prefix) && str_same(x->status_topic, y->status_topic) &&
	       str_same(x->health_topic, y->health_topic) && str_same(x->feedback_topic, y->feedback_topic) &&
	       x->inflight == y->inflight && x->reconnect_min_ms == y->reconnect_min_ms &&
	       x->reconnect_max_ms == y->reconnect_max_ms;
}

static int camera_by_id(const void *a, const void *b)
{
	return strcmp(((const struct agw_camera *)a)->id, ((const struct agw_camera *)b)->id);
}

/* Writes only what differs between the stored ledger and cams (a 200,000-row ledger with a few
 * changes costs a few rows, not a rewrite of all of them). */
static int write_ledger_changes(struct agw_daemon *d, const struct agw_camera *cams, size_t n)
{
	struct agw_camera *stored = NULL;
	size_t n_stored = 0;
	struct agw_camera_diff diff;
	int r = agw_store_cameras_load(d->store, &stored, &n_stored);
	if (r < 0)
		return r;
	if ((r = agw_camera_diff(stored, n_stored, cams, n, &diff)) < 0) {
		agw_cameras_free(stored, n_stored);
		return r;
	}
	const struct agw_camera **gone = malloc((diff.n_removed + diff.n_changed + 1) * sizeof(*gone));
	const struct agw_camera **put = malloc((diff.n_changed + diff.n_added + 1) * sizeof(*put));
	r = -ENOMEM;
	if (gone && put) {
		memcpy(gone, diff.removed, diff.n_removed * sizeof(*gone));
		memcpy(gone + diff.n_removed, diff.changed_old, diff.n_changed * sizeof(*gone));
		memcpy(put, diff.changed_new, diff.n_changed * sizeof(*put));
		memcpy(put + diff.n_changed, diff.added, diff.n_added * sizeof(*put));
		r = agw_store_cameras_change(d->store, gone, diff.n_removed + diff.n_changed, put,
					     diff.n_changed + diff.n_added);
	}
	free(gone);
	free(put);
	agw_camera_diff_free(&diff);
	agw_cameras_free(stored, n_stored);
	return r;
}

/* Inside the reload's transaction: the new ledger (if configured) is written over the stored one
 * (only the rows that differ), and becomes the camera list; without a ledger file the stored
 * cameras are read as the decider will see them. */
static int stage_cameras(struct agw_daemon *d, struct next *nx, struct agw_errors *errs)
{
	if (nx->cfg->ledger_file) {
		struct agw_camera *cams = NULL;
		size_t n = 0;
		char *path = agw_config_resolve(nx->cfg, nx->cfg->ledger_file);
		int r = path ? agw_ledger_parse(path, &cams, &n, errs) : -ENOMEM;
		if (r >= 0 && (r = write_ledger_changes(d, cams, n)) < 0)
			agw_errors_add(errs, path, 0, "cannot write the ledger to the database");
		free(path);
		if (r < 0) {
			agw_cameras_free(cams, n);
			return r;
		}
		qsort(cams, n, sizeof(*cams), camera_by_id); /* in id order, as the store gives them */
		nx->cams = cams;
		nx->n_cams = n;
		return 0;
	}
	int n = agw_store_cameras_load(d->store, &nx->cams, &nx->n_cams);
	if (n < 0)
		agw_errors_add(errs, nx->cfg->path, 0, "the camera ledger could not be read from the database");
	return n < 0 ? n : 0;
}

/* Builds and validates everything; the store's changes stay uncommitted. */
static int stage(struct agw_daemon *d, struct next *nx, struct agw_errors *errs)
{
	int r = -ENOMEM;
	nx->cfg = calloc(1, sizeof(*nx->cfg));
	if (!nx->cfg)
		return -ENOMEM;
	if (d->cfg->path) {
		if ((r = agw_config_load(d->cfg->path, nx->cfg, errs)) < 0)
			return r;
		if ((r = agw_check_config(nx->cfg, errs)) < 0 || errs->n)
			return r < 0 ? r : -EINVAL;
	} else {
		agw_config_defaults(nx->cfg); /* --db mode: nothing to re-read but the ledger and rules */
	}
	if ((r = stage_cameras(d, nx, errs)) < 0)
		return r;
	if ((r = agw_decider_new(nx->cfg, d->store, &nx->decider, errs)) < 0)
		return r;
	nx->fresh = calloc(nx->cfg->n_adapters + 1, sizeof(*nx->fresh));
	if (!nx->fresh)
		return -ENOMEM;
	for (size_t i = 0; i < nx->cfg->n_adapters; i++) {
		struct instance *in = NULL;
		if (daemon_instance_new(d, nx->cfg, nx->cfg->adapters[i], errs, &in) == 0)
			nx->fresh[nx->n_fresh++] = in;
	}
	if (nx->n_fresh != nx->cfg->n_adapters)
		return -EINVAL; /* the reasons are in errs */
	if (!publisher_same(d->cfg, nx->cfg)) {
		if ((r = agw_publisher_new(&d->loop, nx->cfg, d->store, &nx->publisher)) < 0) {
			agw_errors_add(errs, nx->cfg->path, 0,
				       "mqtt: the new broker settings cannot be used (%s; see above)", strerror(-r));
			return r;
		}
	}
	return errs->n ? -EINVAL : 0;
}

/* A committed hook (gateway/pipeline.h) that follows the publisher across rebuilds. */
void daemon_kick_publisher(void *arg)
{
	struct agw_daemon *d = arg;
	if (d->publisher)
		agw_publisher_kick(d->publisher);
}

static void start_publisher(struct agw_daemon *d)
{
	agw_publisher_set_resend_window(d->publisher, d->cfg->mqtt.resend_window_ms);
	if (agw_publisher_start(d->publisher) < 0)
		agw_log_err("core", NULL, "the new MQTT publisher did not start; cases stay in the outbox");
}

/* The old publisher has stopped (its unacknowledged rows stay in the outbox): the new one takes
 * over from the oldest pending row. */
static void publisher_swapped(void *arg)
{
	struct agw_daemon *d = arg;
	struct agw_publisher *old = d->publisher;
	d->publisher = d->publisher_next;
	d->publisher_next = NULL;
	agw_publisher_take_over(d->publisher, old);
	agw_publisher_free(old);
	agw_log_notice("core", NULL, "MQTT publisher rebuilt with the new broker settings");
	start_publisher(d);
}

static void apply_publisher(struct agw_daemon *d, struct next *nx)
{
	if (!nx->publisher) {
		if (d->publisher)
			agw_publisher_set_resend_window(d->publisher, d->cfg->mqtt.resend_window_ms);
		return;
	}
	if (d->publisher_next) {
		/* a rebuild is already waiting for the old publisher to stop: this one replaces it */
		agw_publisher_free(d->publisher_next);
		d->publisher_next = nx->publisher;
		nx->publisher = NULL;
		return;
	}
	d->publisher_next = nx->publisher;
	nx->publisher = NULL;
	/* One client id on the broker at a time: the new publisher connects only once the old one has
	 * said offline and disconnected (at most ~3 s). */
	agw_publisher_stop(d->publisher, publisher_swapped, d);
}

static void apply_adapters(struct agw_daemon *d, struct next *nx)
{
	/* Keep those whose options are unchanged, replace changed ones, stop removed ones. */
	for (size_t k = 0; k < d->n_instances; k++) {
		struct instance *old = d->instances[k];
		if (old->retiring)
			continue;
		bool keep = false;
		for (size_t i = 0; i < nx->n_fresh; i++)
			if (nx->fresh[i] && nx->fresh[i]->adapter == old->adapter &&
			    agw_options_equal(old->adapter, old->priv, nx->fresh[i]->priv)) {
				daemon_instance_free(nx->fresh[i]);
				nx->fresh[i] = NULL;
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
}

static void start_fresh_adapters(struct agw_daemon *d, struct next *nx)
{
	for (size_t i = 0; i < nx->n_fresh; i++) {
		struct instance *in = nx->fresh[i];
		if (!in)
			continue;
		nx->fresh[i] = NULL;
		struct instance **v = realloc(d->instances, (d->n_instances + 1) * sizeof(*v));
		if (!v) {
			agw_log_err("core", NULL, "out of memory: adapter %s not started", in->adapter->name);
			daemon_instance_free(in);
			continue;
		}
		d->instances = v;
		v[d->n_instances++] = in;
		in->ctx.state_dir = d->cfg->state_dir;
		if (daemon_instance_start(d, in) < 0)
			in->retiring = true;
	}
}

void daemon_reload(struct agw_daemon *d)
{
	sd_notify(0, "RELOADING=1\nSTATUS=reloading");
	agw_log_notice("core", NULL, "reloading %s", d->cfg->path ? d->cfg->path : "(defaults)");
	struct agw_errors errs = {0};
	struct next nx = {0};
	/* The new decider rebuilds open incidents from the cases table: write what is queued first. */
	agw_pipeline_flush(d->pipeline);
	int r = agw_store_begin(d->store);
	if (r < 0)
		agw_errors_add(&errs, d->cfg->path, 0, "cannot begin a transaction on the database");
	else if ((r = stage(d, &nx, &errs)) < 0 || errs.n || (r = agw_store_commit(d->store)) < 0) {
		agw_store_rollback(d->store);
		if (r == 0 || !errs.n)
			agw_errors_add(&errs, d->cfg->path, 0, "reload failed: %s", strerror(r < 0 ? -r : EINVAL));
	}
	if (r < 0 || errs.n) {
		for (size_t i = 0; i < errs.n; i++)
			agw_log_err("core", NULL, "reload: %s", errs.v[i]);
		agw_log_err("core", NULL, "reload refused (%zu errors); the running configuration stays", errs.n);
		agw_metric_add("agw_reloads_total", "result=\"refused\"", 1);
		agw_errors_clear(&errs);
		next_free(&nx);
		agw_log_set_level(d->cfg->log_level);
		sd_notify(0, "READY=1\nSTATUS=running (last reload refused)");
		return;
	}
	/* Everything is valid and the ledger committed: apply all of it. */
	apply_adapters(d, &nx);
	agw_pipeline_set_tick(d->pipeline, agw_decider_tick, nx.decider, 1000);
	agw_decider_keep_links(nx.decider, d->decider);
	agw_decider_free(d->decider);
	d->decider = nx.decider;
	daemon_locate_reapply(d);
	daemon_cluster_reapply(d);
	nx.decider = NULL;
	struct agw_config *old_cfg = d->cfg;
	d->cfg = nx.cfg;
	nx.cfg = NULL;
	for (size_t k = 0; k < d->n_instances; k++)
		d->instances[k]->ctx.state_dir = d->cfg->state_dir;
	agw_log_set_level(d->cfg->log_level);
	daemon_evidence_reload(d, old_cfg);
	daemon_apply_cameras(d, nx.cams, nx.n_cams);
	nx.cams = NULL;
	nx.n_cams = 0;
	start_fresh_adapters(d, &nx);
	apply_publisher(d, &nx);
	next_free(&nx);
	agw_config_free(old_cfg);
	free(old_cfg);
	agw_errors_clear(&errs);
	agw_metric_add("agw_reloads_total", "result=\"applied\"", 1);
	agw_log_notice("core", NULL, "reload done: %zu cameras, %zu adapters", d->n_cameras, d->n_instances);
	sd_notify(0, "READY=1\nSTATUS=running");
}
