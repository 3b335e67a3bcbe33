/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Many instances share a city's cameras through etcd. Cameras hash into slots (slots.h); each
 * instance keeps a lease and a member key bound to it; the owner of each slot is chosen among the
 * live members by rendezvous hashing, and an instance runs a slot's cameras only after winning a
 * claim transaction on the slot's key (created if absent, bound to its lease).
 *
 * - Handover releases before it claims: the holder stops the slot's cameras (slot_changed(held =
 *   false)), then deletes the key if it still names it; the new owner claims on the DELETE.
 * - A dead instance's lease expires: its member and slot keys vanish in one revision and the
 *   survivors claim them at claim_rate per second.
 * - Fencing: an instance whose lease etcd has not renewed for two thirds of the TTL stops the
 *   cameras of every slot it holds, so that they are stopped before the lease can expire and
 *   another instance claim them. A member answering that it has no leader renews nothing either:
 *   it may be the minority side of a partition whose majority expires the lease on time, which an
 *   instance cannot tell from a quorum lost everywhere. Once it hears etcd again it claims back
 *   what is still its own (after a quorum loss the new leader renews every lease), or joins again
 *   with a new lease.
 *
 * Keys, under /alarmgw/<cluster id>/: members/<member id> (JSON: id, since) and slots/<NNNNN>
 * (value: the holder's member id). Everything runs on the loop. */
#ifndef AGW_CLUSTER_CLUSTER_H
#define AGW_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct agw_cluster_config {
	const char *etcd;       /* comma-separated endpoint URLs */
	const char *cluster_id; /* the key prefix, and the part of case ids shared by every instance */
	const char *member_id;  /* this instance (gateway.id): unique in the cluster */
	uint32_t slots;         /* the same on every instance */
	int64_t lease_ttl_ms;
	int64_t claim_rate;     /* slot claims per second at most */
};

struct agw_cluster_status {
	bool etcd_ok;           /* the last keepalive was answered */
	size_t members;         /* live members, this one included */
	size_t held;            /* slots whose cameras run here */
	size_t wanted;          /* slots rendezvous hashing gives this instance */
	size_t claiming;        /* claims in flight or queued */
	int64_t lease_id;
	const char *endpoint;
};

struct agw_cluster;

/* slot_changed runs on the loop when this instance starts (held) or must stop (!held) running the
 * slot's cameras; when it returns with held false the cameras are stopped (pulls finish in the
 * adapters) and the key is released. */
int agw_cluster_new(uv_loop_t *loop, const struct agw_cluster_config *cfg,
		    void (*slot_changed)(void *arg, uint32_t slot, bool held), void *arg, struct agw_cluster **ret);
int agw_cluster_start(struct agw_cluster *c);
uint32_t agw_cluster_slot_of(const struct agw_cluster *c, const char *camera_id);
bool agw_cluster_holds(const struct agw_cluster *c, uint32_t slot);
/* True once another instance has held the slot since this one first read the cluster (its key
 * named another member): the slot's cameras were taken over, the cluster has heard them. A slot
 * found free at start (a cold start of the cluster, or a holder whose lease expired before this
 * instance read the cluster) is a first contact. */
bool agw_cluster_slot_heard(const struct agw_cluster *c, uint32_t slot);
void agw_cluster_status(const struct agw_cluster *c, struct agw_cluster_status *ret);
/* Graceful stop, after the adapters stopped: revokes the lease, which deletes the member key and
 * every slot key of this instance in one revision, so the others claim at once instead of after
 * the TTL. done(arg) runs when that is answered or after timeout_ms. */
void agw_cluster_stop(struct agw_cluster *c, int64_t timeout_ms, void (*done)(void *arg), void *arg);
/* Frees it (after stop's done, or without stop: the lease then expires by itself). */
void agw_cluster_free(struct agw_cluster *c);

#endif
