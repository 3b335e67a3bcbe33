/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which instance runs which camera: cameras hash into a fixed number of slots, and each slot's
 * owner is chosen among the live members by rendezvous (highest random weight) hashing, so that a
 * member joining or leaving moves only the slots it wins or held. Pure code. */
#ifndef AGW_CLUSTER_SLOTS_H
#define AGW_CLUSTER_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#define AGW_SLOTS_MAX 65536

/* The slot of a camera id, in [0, n_slots). Stable across versions: it decides ownership. */
uint32_t agw_slot_of(const char *camera_id, uint32_t n_slots);
/* The index in members[] of the slot's owner, or -1 when there is no member. Members are ids;
 * their order does not matter. */
int agw_slot_owner(uint32_t slot, const char *const *members, size_t n_members);

#endif
