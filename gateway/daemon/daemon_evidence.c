/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The evidence scheduler's hooks into the daemon: a capture goes to the running adapter instance
 * that emitted the alert, or, when that adapter has no picture of the camera, to the ledger row's
 * snapshot_url; a completion kicks the publisher; pictures events bring are offered. */
#include <errno.h>
#include <string.h>

#include "alarmgw/log.h"
#include "daemon_internal.h"
#include "evidence.h"
#include "evidence_ledger.h"

/* The running instance of that adapter; -ESHUTDOWN when it is stopping, -ENOTSUP when none has
 * a snapshot hook. */
static int running_instance(struct agw_daemon *d, const char *adapter, struct instance **ret)
{
	int rc = -ENOTSUP;
	for (size_t i = 0; adapter && i < d->n_instances; i++) {
		struct instance *in = d->instances[i];
		if (strcmp(in->adapter->name, adapter) != 0 || !in->adapter->snapshot)
			continue;
		if (in->started && !in->stopping && !in->retiring) {
			*ret = in;
			return 0;
		}
		rc = -ESHUTDOWN;
	}
	return rc;
}

static const struct agw_camera *camera_by_id(const struct agw_daemon *d, const char *id)
{
	/* a walk: only captures of cameras without an adapter picture come here, at most one per
	 * camera per evidence.min_interval */
	for (size_t i = 0; i < d->n_cameras; i++)
		if (strcmp(d->cameras[i].id, id) == 0)
			return &d->cameras[i];
	return NULL;
}

static int hook_start(void *arg, const char *adapter, struct agw_snapshot *s)
{
	struct agw_daemon *d = arg;
	struct instance *in = NULL;
	int rc = running_instance(d, adapter, &in);
	if (rc == 0) {
		s->core_target = in;
		rc = in->adapter->snapshot(in->priv, s);
		if (rc != -ENOTSUP)
			return rc;
		s->core_target = NULL;
	}
	/* no picture from the adapter (it has no snapshot, or not of this camera, or it is stopping):
	 * the ledger's snapshot_url, else (stopping) the URL the adapter learned; neither needs it */
	const struct agw_camera *c = camera_by_id(d, s->camera_id);
	const char *learned = rc == -ESHUTDOWN && d->evidence ? agw_evidence_learned(d->evidence, s->camera_id) : NULL;
	if (!c || (!c->snapshot_url && !learned))
		return rc;
	if (!d->ledger_snaps && agw_ledger_snaps_new(&d->loop, &d->ledger_snaps) < 0)
		return -ENOMEM;
	if (c->snapshot_url)
		return agw_ledger_snaps_start(d->ledger_snaps, c->snapshot_url,
					      c->snapshot_username ? c->snapshot_username : c->username,
					      c->snapshot_username ? c->snapshot_password : c->password, s);
	return agw_ledger_snaps_start(d->ledger_snaps, learned, c->username, c->password, s);
}

static void hook_cancel(void *arg, const char *adapter, struct agw_snapshot *s)
{
	(void)adapter;
	struct agw_daemon *d = arg;
	struct instance *in = s->core_target; /* the instance it started on: still there (its stop cancels first) */
	if (in && in->adapter->snapshot_cancel)
		in->adapter->snapshot_cancel(in->priv, s);
	else if (!in && d->ledger_snaps)
		agw_ledger_snaps_cancel(d->ledger_snaps, s);
}

void daemon_evidence_close(struct agw_daemon *d)
{
	agw_ledger_snaps_close(d->ledger_snaps);
	d->ledger_snaps = NULL;
}

int daemon_evidence_start(struct agw_daemon *d)
{
	if (!d->cfg->evidence.enabled)
		return 0;
	struct agw_evidence_hooks hooks = {
		.start = hook_start, .cancel = hook_cancel, .committed = daemon_kick_publisher, .arg = d};
	return agw_evidence_new(&d->loop, d->store, d->cfg, &hooks, &d->evidence);
}

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

void daemon_evidence_reload(struct agw_daemon *d, const struct agw_config *old)
{
	if (d->cfg->evidence.enabled != old->evidence.enabled)
		agw_log_warn("core", NULL, "reload: evidence.enabled = %s takes effect at the next start",
			     d->cfg->evidence.enabled ? "true" : "false");
	if (!str_same(d->cfg->evidence.url_base, old->evidence.url_base) ||
	    d->cfg->evidence.url_lifetime_ms != old->evidence.url_lifetime_ms ||
	    !str_same(d->cfg->evidence_url_key_file, old->evidence_url_key_file))
		agw_log_warn("core", NULL, "reload: evidence.url_base, url_lifetime and gateway.evidence_url_key_file "
			     "take effect at the next start (links are signed and checked with the key read then)");
	if (!d->evidence)
		return;
	int r = agw_evidence_reconfigure(d->evidence, d->cfg);
	if (r < 0)
		agw_log_err("core", NULL, "reload: the evidence settings stay as they were: %s", strerror(-r));
	else
		agw_log_info("core", NULL, "reload: evidence settings applied (max_concurrent %lld, queue_max %lld, "
			     "min_interval %lld ms, timeout %lld ms, max_per_case %lld)",
			     (long long)d->cfg->evidence.max_concurrent, (long long)d->cfg->evidence.queue_max,
			     (long long)d->cfg->evidence.min_interval_ms, (long long)d->cfg->evidence.timeout_ms,
			     (long long)d->cfg->evidence.max_per_case);
}

void daemon_evidence_learned(struct agw_adapter_ctx *ctx, const char *camera_id, const char *url)
{
	struct instance *in = ctx->core;
	if (in->d->evidence && agw_evidence_learn(in->d->evidence, camera_id, url) < 0)
		agw_log_warn("core", camera_id, "out of memory: the snapshot URL is not kept for pictures during the stop");
}

int daemon_evidence_picture(struct agw_adapter_ctx *ctx, const char *camera_id, const struct agw_picture *p)
{
	struct instance *in = ctx->core;
	if (!in->d->evidence)
		return -ENOTSUP;
	return agw_evidence_offer(in->d->evidence, camera_id, p);
}
