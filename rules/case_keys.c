/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Incident keys ("camera/<id>/<kind>", "cell/<code>/<kind>"), the deterministic case ids
 * derived from them, and the text builder of decision reasons. */
#include <string.h>

#include "case_engine_internal.h"

/* Every open makes one: decimal and hex by hand, the same text as "%" PRId64 and "agw-%016" PRIx64
 * (the ids are kept in stores and shared across a cluster, so the text must never change). */
void agw_case_id_make(const char *gateway_id, const char *key, int64_t first_seen_ms, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	char num[24];
	struct engine_text t;
	engine_text_init(&t, num, sizeof(num));
	engine_text_int(&t, first_seen_ms);
	uint64_t h = AGW_FNV64_OFFSET;
	h = agw_hash_bytes(h, gateway_id, strlen(gateway_id) + 1);
	h = agw_hash_bytes(h, key, strlen(key) + 1);
	h = agw_hash_bytes(h, num, t.len);
	memcpy(buf, "agw-", 4);
	for (int i = 0; i < 16; i++)
		buf[4 + i] = hex[(h >> (60 - 4 * i)) & 15];
	buf[20] = '\0';
}

static void key_append(char *buf, size_t *o, const char *s)
{
	size_t n = strlen(s);
	if (n > KEY_MAX - 1 - *o)
		n = KEY_MAX - 1 - *o;
	memcpy(buf + *o, s, n);
	*o += n;
}

/* "camera/<id>/<kind>", "cell/<code>/<kind>" or "group/<name>/<kind>"; "any" for the kind when
 * the rule folds every kind (hot path: no printf). */
void engine_make_key(char *buf, const struct agw_rule *r, const struct agw_engine_cam *cam, enum agw_alert_kind kind)
{
	size_t o = 0;
	enum agw_dedup_by by = r->dedup_by;
	/* The unassigned queue is no place: its cameras are deduplicated one by one. */
	if (by == AGW_DEDUP_CELL && cam->cell_source == AGW_CELL_UNASSIGNED)
		by = AGW_DEDUP_CAMERA;
	if (by == AGW_DEDUP_GROUP && !cam->group)
		by = AGW_DEDUP_CAMERA;
	key_append(buf, &o, by == AGW_DEDUP_CELL ? "cell/" : by == AGW_DEDUP_GROUP ? "group/" : "camera/");
	key_append(buf, &o, by == AGW_DEDUP_CELL ? cam->cell_code : by == AGW_DEDUP_GROUP ? cam->group : cam->id);
	key_append(buf, &o, "/");
	key_append(buf, &o, r->dedup_any_kind ? "any" : agw_alert_kind_name(kind));
	buf[o] = '\0';
}

void engine_text_putn(struct engine_text *t, const char *s, size_t n)
{
	if (!t->size)
		return;
	if (n > t->size - 1 - t->len)
		n = t->size - 1 - t->len;
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

/* The same text as "%" PRId64. */
void engine_text_int(struct engine_text *t, int64_t v)
{
	char num[24], *p = num + sizeof(num);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	engine_text_putn(t, p, (size_t)(num + sizeof(num) - p));
}

void engine_text_dur(struct engine_text *t, int64_t ms)
{
	if (ms % 1000 || ms == 0) {
		engine_text_int(t, ms);
		engine_text_putn(t, "ms", 2);
	} else if (ms % 60000) {
		engine_text_int(t, ms / 1000);
		engine_text_putn(t, "s", 1);
	} else if (ms % 3600000) {
		engine_text_int(t, ms / 60000);
		engine_text_putn(t, "m", 1);
	} else {
		engine_text_int(t, ms / 3600000);
		engine_text_putn(t, "h", 1);
	}
}
