/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

uint64_t agw_hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void agw_strmap_init(struct agw_strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void agw_strmap_clear(struct agw_strmap *m)
{
	free(m->slots);
	agw_strmap_init(m);
}

/* FNV-1a up to the NUL: one pass, no strlen. */
static uint64_t key_hash(const char *key)
{
	uint64_t h = AGW_FNV64_OFFSET;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct agw_strmap_slot *find(const struct agw_strmap *m, const char *key, uint64_t h)
{
	if (!m->cap)
		return NULL;
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct agw_strmap_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->value && s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
}

void *agw_strmap_get(const struct agw_strmap *m, const char *key)
{
	struct agw_strmap_slot *s = find(m, key, key_hash(key));
	return s ? s->value : NULL;
}

static int rehash(struct agw_strmap *m, size_t cap)
{
	struct agw_strmap_slot *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct agw_strmap_slot *s = &m->slots[i];
		if (!s->key || !s->value)
			continue;
		size_t j = s->hash & (cap - 1);
		while (slots[j].key)
			j = (j + 1) & (cap - 1);
		slots[j] = *s;
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	m->used = m->live;
	return 0;
}

int agw_strmap_put(struct agw_strmap *m, const char *key, void *value)
{
	uint64_t h = key_hash(key);
	struct agw_strmap_slot *s = find(m, key, h);
	if (s) {
		s->key = key;
		s->value = value;
		return 0;
	}
	/* Keep the load (tombstones included) under 1/2 so probes stay short. */
	if ((m->used + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap : 16;
		while ((m->live + 1) * 4 > cap)
			cap *= 2;
		if (cap == m->cap && (m->used + 1) * 2 > cap)
			cap *= 2;
		if (rehash(m, cap) < 0)
			return -ENOMEM;
	}
	size_t i = h & (m->cap - 1);
	while (m->slots[i].key && m->slots[i].value)
		i = (i + 1) & (m->cap - 1);
	if (!m->slots[i].key)
		m->used++;
	m->slots[i] = (struct agw_strmap_slot){key, value, h};
	m->live++;
	return 0;
}

void *agw_strmap_remove(struct agw_strmap *m, const char *key)
{
	struct agw_strmap_slot *s = find(m, key, key_hash(key));
	if (!s)
		return NULL;
	void *v = s->value;
	s->value = NULL; /* tombstone: key stays non-NULL so probes continue */
	s->key = "";
	m->live--;
	return v;
}

size_t agw_strmap_next(const struct agw_strmap *m, size_t i)
{
	while (i < m->cap && !(m->slots[i].key && m->slots[i].value))
		i++;
	return i;
}
