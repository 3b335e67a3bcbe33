/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A string-keyed hash map (open addressing, linear probing, tombstones). Keys are borrowed: the
 * caller keeps them alive while they are in the map (usually the value owns its key). */
#ifndef AGW_RULES_STRMAP_H
#define AGW_RULES_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct agw_strmap_slot {
	const char *key; /* NULL: empty; tombstone when value == NULL and key != NULL */
	void *value;
	uint64_t hash;
};

struct agw_strmap {
	struct agw_strmap_slot *slots;
	size_t cap, used, live; /* used counts live entries and tombstones */
};

uint64_t agw_hash_bytes(uint64_t h, const void *data, size_t len); /* FNV-1a 64, h = seed */
#define AGW_FNV64_OFFSET 0xcbf29ce484222325ULL

void agw_strmap_init(struct agw_strmap *m);
void agw_strmap_clear(struct agw_strmap *m); /* frees the table, not the values */
void *agw_strmap_get(const struct agw_strmap *m, const char *key);
/* Inserts or replaces. value must not be NULL. */
int agw_strmap_put(struct agw_strmap *m, const char *key, void *value);
void *agw_strmap_remove(struct agw_strmap *m, const char *key);
/* Iteration: i from 0; returns the next live slot index >= i or m->cap at the end. */
size_t agw_strmap_next(const struct agw_strmap *m, size_t i);

#endif
