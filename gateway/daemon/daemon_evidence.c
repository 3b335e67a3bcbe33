/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The evidence scheduler's hooks into the daemon: a capture goes to the running adapter instance
 * that emitted the alert; a completion kicks the publisher; pictures events bring are offered. */
#include <errno.h>
#include <string.h>

#include "daemon_internal.h"
#include "evidence.h"

static struct instance *running_instance(struct agw_daemon *d, const char *adapter)
{
	for (size_t i = 0; adapter && i < d->n_instances; i++) {
		struct instance *in = d->instances[i];
		if (in->started && !in->stopping && !in->retiring && strcmp(in->adapter->name, adapter) == 0)
			return in;
	}
	return NULL;
}

static int hook_start(void *arg, const char *adapter, struct agw_snapshot *s)
{
	struct instance *in = running_instance(arg, adapter);
	if (!in || !in->adapter->snapshot)
		return -ENOTSUP;
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

int daemon_evidence_picture(struct agw_adapter_ctx *ctx, const char *camera_id, const struct agw_picture *p)
{
	struct instance *in = ctx->core;
	if (!in->d->evidence)
		return -ENOTSUP;
	return agw_evidence_offer(in->d->evidence, camera_id, p);
}
