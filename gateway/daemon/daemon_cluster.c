/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cluster mode (gateway/cluster/cluster.h): the daemon runs only the cameras of the slots this
 * instance holds. A slot gained hands its cameras to their adapters; a slot lost takes them away
 * (the adapters finish their pulls); a graceful stop gives every slot back after the adapters have
 * stopped, so the other instances take the cameras at once rather than after the lease TTL. */
#include <errno.h>
#include <string.h>

#include "alarmgw/log.h"
#include "case_engine.h"
#include "cluster.h"
#include "decider.h"
#include "daemon_internal.h"

#define LEAVE_TIMEOUT_MS 1500 /* within the daemon's stop deadline */

static bool protocol_of(const struct instance *in, const struct agw_camera *c)
{
	return in->adapter->protocol && c->protocol && strcmp(in->adapter->protocol, c->protocol) == 0;
}

/* An NVR's channel rows live on their device's connection: they go with the device's slot. */
static uint32_t slot_of(const struct agw_daemon *d, const struct agw_camera *c)
{
	return agw_cluster_slot_of(d->cluster, c->device ? c->device : c->id);
}

/* A camera taken over from another instance was heard by the cluster: its Initialized active
 * state is an alarm that went on (or began) while the cameras changed hands, not a first contact.
 * Set before the adapter subscribes, so the Initialized burst finds it. */
static void mark_heard(struct agw_daemon *d, const struct agw_camera *c, bool held)
{
	struct agw_engine *e = d->decider ? agw_decider_engine(d->decider) : NULL;
	if (e)
		agw_engine_camera_heard(e, c->id, held && agw_cluster_slot_heard(d->cluster, slot_of(d, c)));
}

void daemon_cluster_reapply(struct agw_daemon *d)
{
	for (size_t i = 0; d->cluster && i < d->n_cameras; i++)
		if (agw_cluster_holds(d->cluster, slot_of(d, &d->cameras[i])))
			mark_heard(d, &d->cameras[i], true);
}

static void slot_changed(void *arg, uint32_t slot, bool held)
{
	struct agw_daemon *d = arg;
	size_t n = 0;
	for (size_t i = 0; i < d->n_cameras; i++) {
		const struct agw_camera *c = &d->cameras[i];
		if (slot_of(d, c) != slot)
			continue;
		mark_heard(d, c, held);
		for (size_t k = 0; k < d->n_instances; k++) {
			struct instance *in = d->instances[k];
			if (!in->started || in->stopping || !protocol_of(in, c))
				continue;
			if (held && in->adapter->camera_add) {
				if (daemon_camera_add(in, c) < 0)
					agw_log_err("core", c->id, "adapter %s refused the camera", in->adapter->name);
				else
					n++;
			} else if (!held && in->adapter->camera_remove) {
				in->adapter->camera_remove(in->priv, c->id);
				n++;
			}
		}
	}
	agw_log_debug("cluster", NULL, "slot %u %s: %zu cameras", slot, held ? "gained" : "given up", n);
}

static bool clustered(const struct agw_daemon *d)
{
	return d->cfg->cluster.etcd && *d->cfg->cluster.etcd;
}

bool daemon_camera_owned(const struct agw_daemon *d, const struct agw_camera *c)
{
	if (!clustered(d))
		return true;
	/* before the cluster is up (adapters start first) nothing is held yet */
	return d->cluster && agw_cluster_holds(d->cluster, slot_of(d, c));
}

int daemon_cluster_start(struct agw_daemon *d)
{
	const struct agw_cluster_settings *s = &d->cfg->cluster;
	if (!clustered(d))
		return 0;
	if (!s->id || !*s->id) {
		agw_log_err("cluster", NULL, "cluster.id is required with cluster.etcd (the same on every instance)");
		return -EINVAL;
	}
	struct agw_cluster_config cc = {
		.etcd = s->etcd,
		.cluster_id = s->id,
		.member_id = d->cfg->gateway_id,
		.slots = (uint32_t)s->slots,
		.lease_ttl_ms = s->lease_ttl_ms,
		.claim_rate = s->claim_rate,
	};
	int r = agw_cluster_new(&d->loop, &cc, slot_changed, d, &d->cluster);
	if (r < 0) {
		agw_log_err("cluster", NULL, "cannot set up the cluster: %s", strerror(-r));
		return r;
	}
	uv_timer_init(&d->loop, &d->cluster_wait);
	d->cluster_wait.data = d;
	agw_log_notice("cluster", NULL, "cluster %s through etcd %s: cameras start as their slots are claimed",
		       cc.cluster_id, s->etcd);
	return agw_cluster_start(d->cluster);
}

static void left(void *arg)
{
	struct agw_daemon *d = arg;
	d->stops_pending--;
	daemon_maybe_finish_stop(d);
}

static void on_cluster_wait(uv_timer_t *t)
{
	struct agw_daemon *d = t->data;
	for (size_t i = 0; i < d->n_instances; i++)
		if (d->instances[i]->started)
			return; /* an adapter still finishes its pulls */
	uv_timer_stop(t);
	agw_cluster_stop(d->cluster, LEAVE_TIMEOUT_MS, left, d);
}

void daemon_cluster_stop(struct agw_daemon *d)
{
	if (!d->cluster)
		return;
	d->stops_pending++;
	uv_timer_start(&d->cluster_wait, on_cluster_wait, 0, 20);
}

void daemon_cluster_free(struct agw_daemon *d)
{
	if (!d->cluster)
		return;
	uv_timer_stop(&d->cluster_wait);
	agw_cluster_free(d->cluster);
	d->cluster = NULL;
}
