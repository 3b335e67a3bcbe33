/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The evidence scheduler's hooks into the daemon: a capture goes to the running adapter instance
 * that emitted the alert; a completion kicks the publisher; pictures events bring are offered. */
#include <errno.h>
#include <string.h>

#include "alarmgw/log.h"
#include "daemon_internal.h"
#include "evidence.h"

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

static int hook_start(void *arg, const char *adapter, struct agw_snapshot *s)
{
	struct instance *in = NULL;
	int rc = running_instance(arg, adapter, &in);
	if (rc < 0)
		return rc;
	s->core_target = in;
	return in->adapter->snapshot(in->priv, s);
}

static void hook_cancel(void *arg, const char *adapter, struct agw_snapshot *s)
{
	(void)arg;
	(void)adapter;
	struct instance *in = s->core_target; /* the instance it started on: still there (its stop cancels first) */
	if (in && in->adapter->snapshot_cancel)
		in->adapter->snapshot_cancel(in->priv, s);
}

int daemon_evidence_start(struct agw_daemon *d)
{
	if (!d->cfg->evidence.enabled)
		return 0;
	struct agw_evidence_hooks hooks = {
		.start = hook_start, .cancel = hook_cancel, .committed = daemon_kick_publisher, .arg = d};
	return agw_evidence_new(&d->loop, d->store, d->cfg, &hooks, &d->evidence);
}

void daemon_evidence_reload(struct agw_daemon *d, const struct agw_config *old)
{
	if (d->cfg->evidence.enabled != old->evidence.enabled)
		agw_log_warn("core", NULL, "reload: evidence.enabled = %s takes effect at the next start",
			     d->cfg->evidence.enabled ? "true" : "false");
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

int daemon_evidence_picture(struct agw_adapter_ctx *ctx, const char *camera_id, const struct agw_picture *p)
{
	struct instance *in = ctx->core;
	if (!in->d->evidence)
		return -ENOTSUP;
	return agw_evidence_offer(in->d->evidence, camera_id, p);
}
