/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "slots.h"

/* FNV-1a 64 then a finalizer (splitmix64's): FNV alone leaves the low bits of similar ids (cam-1,
 * cam-2, ...) correlated, and both the modulo and the rendezvous comparison read those bits. */
static uint64_t mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL

uint32_t agw_slot_of(const char *camera_id, uint32_t n_slots)
{
	if (n_slots == 0)
		return 0;
	return (uint32_t)(mix(fnv1a(FNV_OFFSET, camera_id, strlen(camera_id))) % n_slots);
}

int agw_slot_owner(uint32_t slot, const char *const *members, size_t n_members)
{
	int best = -1;
	uint64_t best_w = 0;
	unsigned char s[4] = {(unsigned char)(slot >> 24), (unsigned char)(slot >> 16), (unsigned char)(slot >> 8),
			      (unsigned char)slot};
	for (size_t i = 0; i < n_members; i++) {
		uint64_t h = fnv1a(FNV_OFFSET, members[i], strlen(members[i]) + 1); /* the NUL separates */
		uint64_t w = mix(fnv1a(h, s, sizeof(s)));
		/* ties (never seen in practice) go to the smaller id, so every member agrees */
		if (best < 0 || w > best_w || (w == best_w && strcmp(members[i], members[best]) < 0)) {
			best = (int)i;
			best_w = w;
		}
	}
	return best;
}
