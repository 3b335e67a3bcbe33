/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The case engine (see case_engine.h for the lifecycle it implements). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_engine.h"

/* Per camera and kind: the incident this camera keeps active, a pending minimum-duration start,
 * and the recent times for a repeat count. */
struct agw_kind_state {
	struct agw_engine_cam *cam;
	enum agw_alert_kind kind;
	struct agw_case *inc; /* invariant: set iff this state is in inc->active_ks */
	bool pending;
	const struct agw_rule *pending_rule;
	int64_t pending_since, pending_seq, pending_camera_time;
	char *pending_topic, *pending_event_id;
	struct agw_kind_state *pnext, *pprev;
	const struct agw_rule *rep_rule;
	int64_t *rep;         /* ring of AGW_REPEAT_MAX times */
	uint32_t rep_n, rep_head;
};

struct cell_flood {
	char *code;
	int64_t start, count;
};

struct agw_engine {
	char *gateway_id;
	char *unassigned;
	struct agw_ruleset *rules;
	struct agw_grid *grid;
	struct agw_strmap cams;      /* id -> struct agw_engine_cam */
	struct agw_strmap incidents; /* key -> struct agw_case (live and recently cleared) */
	struct agw_strmap ids;       /* case id -> struct agw_case */
	struct agw_strmap floods;    /* cell code -> struct cell_flood */
	struct agw_kind_state *pending;
	struct agw_case **heap; /* timers: min-heap on case->due */
	size_t heap_n, heap_cap;
	struct agw_strmap rules_by_camera; /* camera id -> struct cam_rules: rules that list it */
};

/* The rules naming one camera in their camera list, ascending. */
struct cam_rules {
	const char *id; /* borrowed from the first rule naming it */
	uint32_t *v;
	size_t n, cap;
};

#define KEY_MAX 512

const char *agw_decision_action_name(enum agw_decision_action a)
{
	switch (a) {
	case AGW_DECISION_OPEN:
		return "open";
	case AGW_DECISION_UPDATE:
		return "update";
	case AGW_DECISION_CLOSE:
		return "close";
	case AGW_DECISION_DROP:
	default:
		return "drop";
	}
}

static const char *const status_names[] = {"open", "accepted", "dispatched", "closed"};

const char *agw_case_status_name(enum agw_case_status s)
{
	return (unsigned)s <= AGW_CASE_CLOSED ? status_names[s] : "open";
}

int agw_case_status_parse(const char *name, enum agw_case_status *ret)
{
	for (int i = 0; name && i <= AGW_CASE_CLOSED; i++)
		if (strcmp(name, status_names[i]) == 0) {
			*ret = (enum agw_case_status)i;
			return 0;
		}
	return -EINVAL;
}

void agw_case_id_make(const char *gateway_id, const char *key, int64_t first_seen_ms, char *buf)
{
	char num[32];
	uint64_t h = AGW_FNV64_OFFSET;
	h = agw_hash_bytes(h, gateway_id, strlen(gateway_id) + 1);
	h = agw_hash_bytes(h, key, strlen(key) + 1);
	int n = snprintf(num, sizeof(num), "%" PRId64, first_seen_ms);
	h = agw_hash_bytes(h, num, (size_t)n);
	snprintf(buf, AGW_CASE_ID_MAX, "agw-%016" PRIx64, h);
}

/* Human form of a duration for reasons: "90s", "5m", "1h30m", "250ms". */
static const char *fmt_dur(int64_t ms, char *buf, size_t len)
{
	if (ms % 1000)
		snprintf(buf, len, "%" PRId64 "ms", ms);
	else if (ms % 60000)
		snprintf(buf, len, "%" PRId64 "s", ms / 1000);
	else if (ms % 3600000)
		snprintf(buf, len, "%" PRId64 "m", ms / 60000);
	else
		snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
	return buf;
}

/* ---- cameras ---- */

static void ks_pending_clear(struct agw_engine *e, struct agw_kind_state *ks)
{
	if (!ks->pending)
		return;
	if (ks->pprev)
		ks->pprev->pnext = ks->pnext;
	else
		e->pending = ks->pnext;
	if (ks->pnext)
		ks->pnext->pprev = ks->pprev;
	ks->pnext = ks->pprev = NULL;
	ks->pending = false;
	ks->pending_rule = NULL;
	free(ks->pending_topic);
	free(ks->pending_event_id);
	ks->pending_topic = ks->pending_event_id = NULL;
}

static void cam_free(struct agw_engine *e, struct agw_engine_cam *c)
{
	for (int k = 0; k < AGW_KIND__COUNT; k++) {
		struct agw_kind_state *ks = c->ks[k];
		if (ks) {
			ks_pending_clear(e, ks);
			free(ks->rep);
			free(ks);
		}
		free(c->cand[k]);
	}
	free(c->id);
	free(c->name);
	free(c->vendor);
	free(c->owner_cell);
	agw_strv_clear(&c->tags);
	free(c);
}

static struct agw_kind_state *ks_get(struct agw_engine_cam *cam, enum agw_alert_kind kind)
{
	if (!cam->ks[kind]) {
		struct agw_kind_state *ks = calloc(1, sizeof(*ks));
		if (!ks)
			return NULL;
		ks->cam = cam;
		ks->kind = kind;
		cam->ks[kind] = ks;
	}
	return cam->ks[kind];
}

static void cam_resolve(struct agw_engine *e, struct agw_engine_cam *c)
{
	c->cell = NULL;
	if (c->has_location && e->grid) {
		double x, y;
		agw_crs_convert(c->crs, agw_grid_crs(e->grid), c->lon, c->lat, &x, &y);
		c->cell = agw_grid_locate(e->grid, x, y);
	}
	if (c->cell) {
		c->cell_code = c->cell->code;
		c->cell_source = AGW_CELL_LOCATED;
	} else if (c->owner_cell && *c->owner_cell) {
		c->cell = e->grid ? agw_grid_find(e->grid, c->owner_cell) : NULL;
		c->cell_code = c->owner_cell;
		c->cell_source = AGW_CELL_OWNER;
	} else {
		c->cell_code = e->unassigned;
		c->cell_source = AGW_CELL_UNASSIGNED;
	}
	for (int k = 0; k < AGW_KIND__COUNT; k++) {
		free(c->cand[k]);
		c->cand[k] = NULL;
		c->n_cand[k] = 0;
	}
	c->cand_done = 0;
}

static int split_tags(struct agw_strv *sv, const char *tags)
{
	const char *p = tags;
	while (p && *p) {
		size_t n = strcspn(p, ",;");
		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		size_t m = n;
		while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
			m--;
		if (m) {
			char *t = strndup(p, m);
			if (!t || agw_strv_add(sv, t) < 0) {
				free(t);
				return -ENOMEM;
			}
			free(t);
		}
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

static int dup_or_null(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

int agw_engine_camera_set(struct agw_engine *e, const char *id, const char *name, const char *vendor,
			  const char *tags, const char *owner_cell, bool has_location, double lon, double lat,
			  enum agw_crs crs)
{
	if (!id || !*id)
		return -EINVAL;
	struct agw_engine_cam *c = agw_strmap_get(&e->cams, id);
	bool fresh = !c;
	if (fresh) {
		c = calloc(1, sizeof(*c));
		if (!c || !(c->id = strdup(id)))
			goto oom;
	}
	char *nname, *nvendor, *nowner;
	struct agw_strv ntags = {0};
	if (dup_or_null(&nname, name ? name : id) < 0)
		goto oom;
	if (dup_or_null(&nvendor, vendor) < 0 || dup_or_null(&nowner, owner_cell) < 0 || split_tags(&ntags, tags) < 0) {
		free(nname);
		free(nvendor);
		agw_strv_clear(&ntags);
		goto oom;
	}
	free(c->name);
	free(c->vendor);
	free(c->owner_cell);
	agw_strv_clear(&c->tags);
	c->name = nname;
	c->vendor = nvendor;
	c->owner_cell = nowner;
	c->tags = ntags;
	c->has_location = has_location;
	c->lon = lon;
	c->lat = lat;
	c->crs = crs;
	cam_resolve(e, c);
	if (fresh && agw_strmap_put(&e->cams, c->id, c) < 0)
		goto oom;
	return 0;
oom:
	if (fresh && c)
		cam_free(e, c);
	return -ENOMEM;
}

struct agw_engine_cam *agw_engine_camera(struct agw_engine *e, const char *id)
{
	return agw_strmap_get(&e->cams, id);
}

/* Alerts from cameras missing in the ledger still count: they get a camera without location, up
 * to a limit (camera ids come from the network). */
static struct agw_engine_cam *cam_get(struct agw_engine *e, const char *id, bool *ret_full)
{
	struct agw_engine_cam *c = agw_strmap_get(&e->cams, id);
	*ret_full = false;
	if (c)
		return c;
	if (e->cams.live >= AGW_ENGINE_MAX_CAMERAS) {
		*ret_full = true;
		return NULL;
	}
	if (agw_engine_camera_set(e, id, NULL, NULL, NULL, NULL, false, 0, 0, AGW_CRS_WGS84) < 0)
		return NULL;
	return agw_strmap_get(&e->cams, id);
}

/* The rules whose static conditions can match this camera, per kind, in file order. Computed on
 * the camera's first alert in one pass over the rules (the camera, its tags and its cell do not
 * change between reloads), so a decision only scans the few rules that can apply. */
static int cam_candidates(struct agw_engine *e, struct agw_engine_cam *c)
{
	if (c->cand_done)
		return 0;
	const char *one[1] = {c->cell_code};
	const char *const *path = c->cell ? (const char *const *)c->cell->path : one;
	size_t n_path = c->cell ? c->cell->n_path : 1;
	uint32_t *v[AGW_KIND__COUNT] = {0}, n[AGW_KIND__COUNT] = {0}, cap[AGW_KIND__COUNT] = {0};
	const uint32_t all = (1u << AGW_KIND__COUNT) - 1;
	const struct cam_rules *named = agw_strmap_get(&e->rules_by_camera, c->id);
	size_t ni = 0;
	for (size_t i = 0; i < e->rules->n; i++) {
		const struct agw_rule *r = &e->rules->rules[i];
		if (r->cameras.n) {
			/* Camera lists go through the index: both sequences ascend. */
			while (named && ni < named->n && named->v[ni] < i)
				ni++;
			if (!named || ni >= named->n || named->v[ni] != i)
				continue;
		}
		if (!agw_rule_matches_where(r, NULL, &c->tags, path, n_path))
			continue;
		uint32_t kinds = r->kinds ? r->kinds : all;
		for (uint32_t k = 0; k < AGW_KIND__COUNT; k++) {
			if (!(kinds & (1u << k)))
				continue;
			if (n[k] == cap[k]) {
				cap[k] = cap[k] ? cap[k] * 2 : 4;
				uint32_t *nv = realloc(v[k], cap[k] * sizeof(**v));
				if (!nv) {
					for (int j = 0; j < AGW_KIND__COUNT; j++)
						free(v[j]);
					return -ENOMEM;
				}
				v[k] = nv;
			}
			v[k][n[k]++] = (uint32_t)i;
		}
	}
	for (uint32_t k = 0; k < AGW_KIND__COUNT; k++) {
		c->cand[k] = v[k];
		c->n_cand[k] = n[k];
	}
	c->cand_done = all;
	return 0;
}

/* ---- engine ---- */

static void camera_rules_free(struct agw_engine *e)
{
	for (size_t i = agw_strmap_next(&e->rules_by_camera, 0); i < e->rules_by_camera.cap;
	     i = agw_strmap_next(&e->rules_by_camera, i + 1)) {
		struct cam_rules *cr = e->rules_by_camera.slots[i].value;
		free(cr->v);
		free(cr);
	}
	agw_strmap_clear(&e->rules_by_camera);
}

static int index_camera_rules(struct agw_engine *e)
{
	for (size_t i = 0; i < e->rules->n; i++) {
		const struct agw_strv *cams = &e->rules->rules[i].cameras;
		for (size_t k = 0; k < cams->n; k++) {
			struct cam_rules *cr = agw_strmap_get(&e->rules_by_camera, cams->v[k]);
			if (!cr) {
				if (!(cr = calloc(1, sizeof(*cr))))
					return -ENOMEM;
				cr->id = cams->v[k];
				if (agw_strmap_put(&e->rules_by_camera, cr->id, cr) < 0) {
					free(cr);
					return -ENOMEM;
				}
			}
			if (cr->n && cr->v[cr->n - 1] == i)
				continue; /* listed twice in one rule */
			if (cr->n == cr->cap) {
				size_t cap = cr->cap ? cr->cap * 2 : 4;
				uint32_t *v = realloc(cr->v, cap * sizeof(*v));
				if (!v)
					return -ENOMEM;
				cr->v = v;
				cr->cap = cap;
			}
			cr->v[cr->n++] = (uint32_t)i;
		}
	}
	return 0;
}

int agw_engine_new(const struct agw_engine_config *cfg, struct agw_ruleset *rules, struct agw_grid *grid,
		   struct agw_engine **ret)
{
	struct agw_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->gateway_id = strdup(cfg && cfg->gateway_id ? cfg->gateway_id : "alarmgw");
	e->unassigned = strdup(cfg && cfg->unassigned_cell && *cfg->unassigned_cell ? cfg->unassigned_cell
										      : "unassigned");
	if (!e->gateway_id || !e->unassigned) {
		free(e->gateway_id);
		free(e->unassigned);
		free(e);
		return -ENOMEM;
	}
	e->rules = rules;
	e->grid = grid;
	agw_strmap_init(&e->cams);
	agw_strmap_init(&e->incidents);
	agw_strmap_init(&e->ids);
	agw_strmap_init(&e->floods);
	agw_strmap_init(&e->rules_by_camera);
	if (index_camera_rules(e) < 0) {
		e->rules = NULL; /* the caller keeps ownership on failure */
		e->grid = NULL;
		agw_engine_free(e);
		return -ENOMEM;
	}
	*ret = e;
	return 0;
}

static void case_free(struct agw_case *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_active_ks; i++)
		c->active_ks[i]->inc = NULL;
	free(c->active_ks);
	free(c->key);
	free(c->rule);
	free(c->category);
	free(c->title);
	free(c->topic);
	for (size_t i = 0; i < c->n_evidence; i++)
		free(c->evidence[i].event_id);
	free(c);
}

void agw_engine_free(struct agw_engine *e)
{
	if (!e)
		return;
	for (size_t i = agw_strmap_next(&e->incidents, 0); i < e->incidents.cap; i = agw_strmap_next(&e->incidents, i + 1))
		case_free(e->incidents.slots[i].value);
	for (size_t i = agw_strmap_next(&e->cams, 0); i < e->cams.cap; i = agw_strmap_next(&e->cams, i + 1))
		cam_free(e, e->cams.slots[i].value);
	for (size_t i = agw_strmap_next(&e->floods, 0); i < e->floods.cap; i = agw_strmap_next(&e->floods, i + 1)) {
		struct cell_flood *f = e->floods.slots[i].value;
		free(f->code);
		free(f);
	}
	agw_strmap_clear(&e->cams);
	agw_strmap_clear(&e->incidents);
	agw_strmap_clear(&e->ids);
	agw_strmap_clear(&e->floods);
	free(e->heap);
	camera_rules_free(e);
	agw_ruleset_free(e->rules);
	agw_grid_free(e->grid);
	free(e->gateway_id);
	free(e->unassigned);
	free(e);
}

const struct agw_ruleset *agw_engine_rules(const struct agw_engine *e)
{
	return e->rules;
}

const struct agw_grid *agw_engine_grid(const struct agw_engine *e)
{
	return e->grid;
}

const char *agw_engine_gateway_id(const struct agw_engine *e)
{
	return e->gateway_id;
}

size_t agw_engine_open_incidents(const struct agw_engine *e)
{
	return e->incidents.live;
}

/* ---- incidents ---- */

static void ks_link(struct agw_case *c, struct agw_kind_state *ks)
{
	if (ks->inc == c)
		return;
	if (ks->inc) {
		/* The camera moved to another incident (a rule with another dedup key matched). */
		struct agw_case *o = ks->inc;
		for (size_t i = 0; i < o->n_active_ks; i++)
			if (o->active_ks[i] == ks) {
				o->active_ks[i] = o->active_ks[--o->n_active_ks];
				break;
			}
		ks->inc = NULL;
	}
	if (c->n_active_ks == c->cap_active_ks) {
		size_t cap = c->cap_active_ks ? c->cap_active_ks * 2 : 2;
		struct agw_kind_state **v = realloc(c->active_ks, cap * sizeof(*v));
		if (!v)
			return; /* the clear timeout still closes the incident */
		c->active_ks = v;
		c->cap_active_ks = cap;
	}
	c->active_ks[c->n_active_ks++] = ks;
	ks->inc = c;
}

static void ks_unlink(struct agw_kind_state *ks)
{
	struct agw_case *c = ks->inc;
	if (!c)
		return;
	for (size_t i = 0; i < c->n_active_ks; i++)
		if (c->active_ks[i] == ks) {
			c->active_ks[i] = c->active_ks[--c->n_active_ks];
			break;
		}
	ks->inc = NULL;
}

static void case_unlink_all(struct agw_case *c)
{
	for (size_t i = 0; i < c->n_active_ks; i++)
		c->active_ks[i]->inc = NULL;
	c->n_active_ks = 0;
}

static void heap_remove(struct agw_engine *e, struct agw_case *c);

static void case_remove(struct agw_engine *e, struct agw_case *c)
{
	heap_remove(e, c);
	if (c->in_index) {
		agw_strmap_remove(&e->incidents, c->key);
		agw_strmap_remove(&e->ids, c->id);
		c->in_index = false;
	}
	case_free(c);
}

/* When the tick must look at this incident next: its clear timeout, or the end of its window. */
static int64_t case_due(const struct agw_case *c)
{
	if (c->active)
		return c->clear_timeout_ms > 0 ? c->last_active_ms + c->clear_timeout_ms : INT64_MAX;
	return c->last_seen + c->dedup_window_ms + 1;
}

/* ---- timer heap: the tick visits only incidents that are due ---- */

static void heap_set(struct agw_engine *e, size_t i, struct agw_case *c)
{
	e->heap[i] = c;
	c->heap_pos = i;
}

static void heap_sift(struct agw_engine *e, size_t i)
{
	struct agw_case *c = e->heap[i];
	while (i > 0 && e->heap[(i - 1) / 2]->due > c->due) {
		heap_set(e, i, e->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		int64_t best = c->due;
		if (l < e->heap_n && e->heap[l]->due < best)
			m = l, best = e->heap[l]->due;
		if (l + 1 < e->heap_n && e->heap[l + 1]->due < best)
			m = l + 1;
		if (m == i)
			break;
		heap_set(e, i, e->heap[m]);
		i = m;
	}
	heap_set(e, i, c);
}

static void heap_remove(struct agw_engine *e, struct agw_case *c)
{
	size_t i = c->heap_pos;
	if (i == SIZE_MAX)
		return;
	c->heap_pos = SIZE_MAX;
	struct agw_case *last = e->heap[--e->heap_n];
	if (i < e->heap_n) {
		heap_set(e, i, last);
		heap_sift(e, i);
	}
}

/* Makes sure the heap visits c no later than its due time. A due time that moved later is left
 * as it is (the tick finds the entry early and requeues it): most alerts push an incident's due
 * time later, and this keeps them O(1). */
static void due_update(struct agw_engine *e, struct agw_case *c)
{
	int64_t due = case_due(c);
	if (c->heap_pos != SIZE_MAX && due >= c->due)
		return;
	c->due = due;
	if (c->heap_pos == SIZE_MAX) {
		if (e->heap_n == e->heap_cap) {
			size_t cap = e->heap_cap ? e->heap_cap * 2 : 64;
			struct agw_case **h = realloc(e->heap, cap * sizeof(*h));
			if (!h)
				return; /* the incident then lives until the platform closes it; memory is short anyway */
			e->heap = h;
			e->heap_cap = cap;
		}
		heap_set(e, e->heap_n++, c);
	}
	heap_sift(e, c->heap_pos);
}

/* The tick looked at c before its real due time: requeue it there. */
static void due_requeue(struct agw_engine *e, struct agw_case *c)
{
	c->due = case_due(c);
	heap_sift(e, c->heap_pos);
}

static bool case_live(const struct agw_case *c, int64_t t)
{
	return c->status != AGW_CASE_CLOSED && (c->active || t - c->last_seen <= c->dedup_window_ms);
}

static void evidence_add(struct agw_case *c, int64_t seq, const char *event_id)
{
	struct agw_case_evidence *ev = &c->evidence[c->evidence_next];
	if (c->n_evidence == AGW_CASE_EVIDENCE_MAX)
		free(ev->event_id);
	else
		c->n_evidence++;
	ev->alert_seq = seq;
	ev->event_id = event_id ? strdup(event_id) : NULL;
	c->evidence_next = (c->evidence_next + 1) % AGW_CASE_EVIDENCE_MAX;
}

static void set_topic(struct agw_case *c, const char *topic)
{
	if (!topic || (c->topic && strcmp(c->topic, topic) == 0))
		return;
	char *t = strdup(topic);
	if (t) {
		free(c->topic);
		c->topic = t;
	}
}

/* What an alert (or a pending start replayed by the tick) contributes to a case. */
struct contrib {
	int64_t t, camera_time, seq;
	enum agw_active active;
	const char *topic, *event_id;
};

static void case_touch(struct agw_case *c, struct agw_kind_state *ks, const struct contrib *x)
{
	c->count++;
	if (x->t > c->last_seen)
		c->last_seen = x->t;
	if (x->camera_time != AGW_TIME_UNKNOWN)
		c->last_camera_time = x->camera_time;
	c->updated_ms = x->t;
	set_topic(c, x->topic);
	evidence_add(c, x->seq, x->event_id);
	/* An aggregate counts alerts of many incidents: it has no state of its own to pair or clear. */
	if (x->active == AGW_ACTIVE_TRUE && !c->aggregate) {
		c->has_state = true;
		c->active = true;
		c->cleared_ms = 0;
		c->last_active_ms = x->t;
		if (ks)
			ks_link(c, ks);
	}
}

static struct agw_case *case_new(struct agw_engine *e, const char *key, const struct agw_rule *rule,
				 struct agw_engine_cam *cam, enum agw_alert_kind kind, int64_t first_seen,
				 const struct contrib *x)
{
	struct agw_case *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->heap_pos = SIZE_MAX;
	if (!(c->key = strdup(key)) || !(c->rule = strdup(rule->name)) ||
	    dup_or_null(&c->category, rule->category ? rule->category : "video_alarm") < 0)
		goto oom;
	agw_case_id_make(e->gateway_id, key, first_seen, c->id);
	/* Another incident (closed by the platform) may have had this very id. */
	for (unsigned n = 2; agw_strmap_get(&e->ids, c->id) && n < 1000; n++) {
		char base[AGW_CASE_ID_MAX];
		agw_case_id_make(e->gateway_id, key, first_seen, base);
		snprintf(c->id, sizeof(c->id), "%.20s-%u", base, n);
	}
	c->priority = rule->priority >= 1 && rule->priority <= 4 ? rule->priority : 3;
	c->cam = cam;
	c->kind = kind;
	c->status = AGW_CASE_OPEN;
	c->first_seen = c->last_seen = first_seen;
	c->first_camera_time = c->last_camera_time = x->camera_time;
	c->created_ms = x->t;
	c->dedup_window_ms = rule->dedup_window_ms;
	c->clear_timeout_ms = rule->clear_timeout_ms;
	c->count = 0;
	if (agw_strmap_put(&e->incidents, c->key, c) < 0)
		goto oom;
	if (agw_strmap_put(&e->ids, c->id, c) < 0) {
		agw_strmap_remove(&e->incidents, c->key);
		goto oom;
	}
	c->in_index = true;
	return c;
oom:
	case_free(c);
	return NULL;
}

static int set_title(struct agw_case *c, const char *tmpl)
{
	char buf[512];
	agw_case_title(tmpl ? tmpl : "{kind} at {camera_name}", c, buf, sizeof(buf));
	return agw_rule_set_text(&c->title, buf);
}

static void key_append(char *buf, size_t *o, const char *s)
{
	size_t n = strlen(s);
	if (n > KEY_MAX - 1 - *o)
		n = KEY_MAX - 1 - *o;
	memcpy(buf + *o, s, n);
	*o += n;
}

/* "camera/<id>/<kind>" or "cell/<code>/<kind>" (hot path: no printf). */
static void make_key(char *buf, enum agw_dedup_by by, const struct agw_engine_cam *cam, enum agw_alert_kind kind)
{
	size_t o = 0;
	/* The unassigned queue is no place: its cameras are deduplicated one by one. */
	if (cam->cell_source == AGW_CELL_UNASSIGNED)
		by = AGW_DEDUP_CAMERA;
	key_append(buf, &o, by == AGW_DEDUP_CELL ? "cell/" : "camera/");
	key_append(buf, &o, by == AGW_DEDUP_CELL ? cam->cell_code : cam->id);
	key_append(buf, &o, "/");
	key_append(buf, &o, agw_alert_kind_name(kind));
	buf[o] = '\0';
}

/* Fixed-window counter: true when one more case would pass the limit. */
static bool flood_full(const struct agw_flood *f, int64_t *start, int64_t *count, int64_t t)
{
	if (!f->max_cases)
		return false;
	if (*count == 0 || t - *start >= f->window_ms) {
		*start = t;
		*count = 0;
	}
	return *count >= (int64_t)f->max_cases;
}

static struct cell_flood *cell_flood_get(struct agw_engine *e, const char *code)
{
	struct cell_flood *f = agw_strmap_get(&e->floods, code);
	if (f)
		return f;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->code = strdup(code)) || agw_strmap_put(&e->floods, f->code, f) < 0) {
		if (f)
			free(f->code);
		free(f);
		return NULL;
	}
	return f;
}

/* Opens a case for a new incident (or, past the flood limit, joins the aggregate case). */
static int open_incident(struct agw_engine *e, struct agw_engine_cam *cam, struct agw_kind_state *ks,
			 enum agw_alert_kind kind, const struct agw_rule *rule, const char *key, int64_t first_seen,
			 const struct contrib *x, struct agw_decision *d)
{
	const struct agw_ruleset *rs = e->rules;
	struct cell_flood *cf = cell_flood_get(e, cam->cell_code);
	if (!cf)
		return -ENOMEM;
	char akey[KEY_MAX], dur[32];
	bool per_camera = false;
	akey[0] = '\0';
	if (flood_full(&rs->flood_camera, &cam->flood_start, &cam->flood_count, x->t)) {
		snprintf(akey, sizeof(akey), "flood/camera/%s", cam->id);
		per_camera = true;
		snprintf(d->reason, sizeof(d->reason), "flood: camera %s opened %u cases within %s; aggregated", cam->id,
			 rs->flood_camera.max_cases, fmt_dur(rs->flood_camera.window_ms, dur, sizeof(dur)));
	} else if (cam->cell_source != AGW_CELL_UNASSIGNED && flood_full(&rs->flood_cell, &cf->start, &cf->count, x->t)) {
		snprintf(akey, sizeof(akey), "flood/cell/%s", cam->cell_code);
		snprintf(d->reason, sizeof(d->reason), "flood: cell %s opened %u cases within %s; aggregated",
			 cam->cell_code, rs->flood_cell.max_cases, fmt_dur(rs->flood_cell.window_ms, dur, sizeof(dur)));
	}
	d->rule = rule->name;
	if (akey[0]) {
		struct agw_case *agg = agw_strmap_get(&e->incidents, akey);
		if (agg && !case_live(agg, x->t)) {
			case_remove(e, agg);
			agg = NULL;
		}
		if (agg) {
			case_touch(agg, NULL, x);
			d->action = AGW_DECISION_UPDATE;
			d->kase = agg;
			return 0;
		}
		agg = case_new(e, akey, rule, cam, kind, first_seen, x);
		if (!agg)
			return -ENOMEM;
		agg->aggregate = true;
		/* The aggregate lives as long as the flood window, whatever the rule's dedup window. */
		agg->dedup_window_ms = per_camera ? rs->flood_camera.window_ms : rs->flood_cell.window_ms;
		agg->clear_timeout_ms = 0;
		case_touch(agg, NULL, x);
		char t[160];
		snprintf(t, sizeof(t), "Alarm flood: many %s alerts at %s", "{kind}",
			 per_camera ? "{camera_name}" : "cell {cell}");
		if (set_title(agg, t) < 0)
			return -ENOMEM;
		d->action = AGW_DECISION_OPEN;
		d->kase = agg;
		return 0;
	}
	struct agw_case *c = case_new(e, key, rule, cam, kind, first_seen, x);
	if (!c)
		return -ENOMEM;
	case_touch(c, ks, x);
	if (set_title(c, rule->title) < 0)
		return -ENOMEM;
	cam->flood_count++;
	cf->count++;
	d->action = AGW_DECISION_OPEN;
	d->kase = c;
	snprintf(d->reason, sizeof(d->reason), "new incident %s", key);
	return 0;
}

static const struct agw_rule *match_rule(struct agw_engine *e, struct agw_engine_cam *cam, enum agw_alert_kind kind,
					 int64_t t, int *err)
{
	*err = cam_candidates(e, cam);
	if (*err < 0)
		return NULL;
	for (uint32_t i = 0; i < cam->n_cand[kind]; i++) {
		const struct agw_rule *r = &e->rules->rules[cam->cand[kind][i]];
		if (agw_rule_schedule_matches(r, e->rules->tz_offset_min, t))
			return r;
	}
	return NULL;
}

/* Records t and tells whether the rule's repeat count is reached within its window. */
static int repeat_reached(struct agw_kind_state *ks, const struct agw_rule *r, int64_t t, uint32_t *ret_n)
{
	if (!ks->rep && !(ks->rep = calloc(AGW_REPEAT_MAX, sizeof(int64_t))))
		return -ENOMEM;
	if (ks->rep_rule != r) {
		ks->rep_rule = r;
		ks->rep_n = ks->rep_head = 0;
	}
	ks->rep[ks->rep_head] = t;
	ks->rep_head = (ks->rep_head + 1) % AGW_REPEAT_MAX;
	if (ks->rep_n < AGW_REPEAT_MAX)
		ks->rep_n++;
	uint32_t want = r->repeat_count > AGW_REPEAT_MAX ? AGW_REPEAT_MAX : r->repeat_count, n = 0;
	for (uint32_t i = 0; i < ks->rep_n; i++) {
		int64_t ti = ks->rep[(ks->rep_head + AGW_REPEAT_MAX - 1 - i) % AGW_REPEAT_MAX];
		if (t - ti > r->repeat_window_ms)
			break;
		n++;
	}
	*ret_n = n;
	if (n >= want) {
		ks->rep_n = 0; /* the next incident counts afresh */
		return 1;
	}
	return 0;
}

static void drop(struct agw_decision *d, const char *rule, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void drop(struct agw_decision *d, const char *rule, const char *fmt, ...)
{
	va_list ap;
	d->action = AGW_DECISION_DROP;
	d->rule = rule;
	d->kase = NULL;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

static int inactive_edge(struct agw_engine *e, struct agw_engine_cam *cam, const struct agw_alert *a,
			 const struct contrib *x, struct agw_decision *d)
{
	struct agw_kind_state *ks = cam->ks[a->kind];
	char dur[32], dur2[32];
	if (ks && ks->inc) {
		struct agw_case *c = ks->inc;
		ks_unlink(ks);
		c->count++;
		if (x->t > c->last_seen)
			c->last_seen = x->t;
		if (x->camera_time != AGW_TIME_UNKNOWN)
			c->last_camera_time = x->camera_time;
		c->updated_ms = x->t;
		evidence_add(c, x->seq, x->event_id);
		d->rule = c->rule;
		d->kase = c;
		if (c->n_active_ks == 0) {
			c->active = false;
			c->cleared_ms = x->t;
			d->action = AGW_DECISION_CLOSE;
			snprintf(d->reason, sizeof(d->reason), "inactive edge: alert ended after %s",
				 fmt_dur(x->t - c->first_seen, dur, sizeof(dur)));
		} else {
			d->action = AGW_DECISION_UPDATE;
			snprintf(d->reason, sizeof(d->reason), "inactive edge; %zu other camera(s) still active",
				 c->n_active_ks);
		}
		return 0;
	}
	if (ks && ks->pending) {
		const struct agw_rule *r = ks->pending_rule;
		int64_t held = x->t - ks->pending_since;
		ks_pending_clear(e, ks);
		drop(d, r->name, "active for %s, shorter than min_duration %s", fmt_dur(held, dur, sizeof(dur)),
		     fmt_dur(r->min_duration_ms, dur2, sizeof(dur2)));
		return 0;
	}
	if (a->operation == AGW_OP_INITIALIZED)
		drop(d, NULL, "initialized: current state on subscription, not an event");
	else
		drop(d, NULL, "inactive edge without an active case");
	return 0;
}

static int decide(struct agw_engine *e, const struct agw_alert *a, int64_t alert_seq, int64_t now_ms,
		  struct agw_decision *d)
{
	memset(d, 0, sizeof(*d));
	struct contrib x = {
		.t = a->gateway_time_ms ? a->gateway_time_ms : now_ms,
		.camera_time = a->camera_time_ms,
		.seq = alert_seq,
		.active = a->active,
		.topic = a->topic,
		.event_id = a->event_id,
	};
	d->alert_seq = alert_seq;
	d->at_ms = x.t;
	if (!a->camera_id || (unsigned)a->kind >= AGW_KIND__COUNT) {
		drop(d, NULL, "malformed alert");
		return 0;
	}
	bool full;
	struct agw_engine_cam *cam = cam_get(e, a->camera_id, &full);
	if (!cam && full) {
		drop(d, NULL, "unknown camera: already tracking %d cameras", AGW_ENGINE_MAX_CAMERAS);
		return 0;
	}
	if (!cam)
		return -ENOMEM;
	if (a->active == AGW_ACTIVE_FALSE)
		return inactive_edge(e, cam, a, &x, d);
	if (a->operation == AGW_OP_INITIALIZED) {
		drop(d, NULL, "initialized: current state on subscription, not an event");
		return 0;
	}
	if (a->operation == AGW_OP_DELETED) {
		drop(d, NULL, "deleted: the property went away, not an event");
		return 0;
	}
	int err;
	const struct agw_rule *r = match_rule(e, cam, a->kind, x.t, &err);
	if (err < 0)
		return err;
	if (!r) {
		drop(d, NULL, "no rule matched");
		return 0;
	}
	if (r->action == AGW_RULE_DROP) {
		drop(d, r->name, "%s", r->reason ? r->reason : "dropped by rule");
		return 0;
	}
	char key[KEY_MAX], dur[32];
	make_key(key, r->dedup_by, cam, a->kind);
	struct agw_case *c = agw_strmap_get(&e->incidents, key);
	if (c && !case_live(c, x.t)) {
		case_remove(e, c);
		c = NULL;
	}
	struct agw_kind_state *ks = ks_get(cam, a->kind);
	if (!ks)
		return -ENOMEM;
	if (c) {
		case_touch(c, ks, &x);
		d->action = AGW_DECISION_UPDATE;
		d->rule = r->name;
		d->kase = c;
		snprintf(d->reason, sizeof(d->reason), "dedup: same %s and kind within %s (count %" PRId64 ")",
			 r->dedup_by == AGW_DEDUP_CELL ? "cell" : "camera", fmt_dur(c->dedup_window_ms, dur, sizeof(dur)),
			 c->count);
		return 0;
	}
	if (r->repeat_count > 1) {
		uint32_t n;
		int rr = repeat_reached(ks, r, x.t, &n);
		if (rr < 0)
			return rr;
		if (!rr) {
			drop(d, r->name, "repeat %u/%u within %s", n, r->repeat_count,
			     fmt_dur(r->repeat_window_ms, dur, sizeof(dur)));
			return 0;
		}
	}
	int64_t first_seen = x.t;
	if (r->min_duration_ms > 0 && a->active == AGW_ACTIVE_TRUE) {
		if (!ks->pending || ks->pending_rule != r) {
			ks_pending_clear(e, ks);
			ks->pending = true;
			ks->pending_rule = r;
			ks->pending_since = x.t;
			ks->pending_seq = alert_seq;
			ks->pending_camera_time = x.camera_time;
			ks->pending_topic = a->topic ? strdup(a->topic) : NULL;
			ks->pending_event_id = a->event_id ? strdup(a->event_id) : NULL;
			ks->pnext = e->pending;
			if (e->pending)
				e->pending->pprev = ks;
			e->pending = ks;
		}
		if (x.t - ks->pending_since < r->min_duration_ms) {
			drop(d, r->name, "pending: a case opens once active for %s",
			     fmt_dur(r->min_duration_ms, dur, sizeof(dur)));
			return 0;
		}
		first_seen = ks->pending_since;
		ks_pending_clear(e, ks);
	}
	return open_incident(e, cam, ks, a->kind, r, key, first_seen, &x, d);
}

int agw_engine_decide(struct agw_engine *e, const struct agw_alert *a, int64_t alert_seq, int64_t now_ms,
		      struct agw_decision *d)
{
	int r = decide(e, a, alert_seq, now_ms, d);
	if (r == 0 && d->kase)
		due_update(e, d->kase);
	return r;
}

int agw_engine_tick(struct agw_engine *e, int64_t now_ms, agw_engine_emit_fn emit, void *arg)
{
	int emitted = 0;
	char dur[32];
	/* Starts that stayed active for their minimum duration. */
	for (struct agw_kind_state *ks = e->pending, *next; ks; ks = next) {
		next = ks->pnext;
		const struct agw_rule *r = ks->pending_rule;
		if (now_ms - ks->pending_since < r->min_duration_ms)
			continue;
		struct agw_decision d = {.alert_seq = ks->pending_seq, .at_ms = now_ms};
		struct contrib x = {
			.t = now_ms,
			.camera_time = ks->pending_camera_time,
			.seq = ks->pending_seq,
			.active = AGW_ACTIVE_TRUE,
			.topic = ks->pending_topic,
			.event_id = ks->pending_event_id,
		};
		char key[KEY_MAX];
		make_key(key, r->dedup_by, ks->cam, ks->kind);
		struct agw_case *c = agw_strmap_get(&e->incidents, key);
		if (c && !case_live(c, now_ms)) {
			case_remove(e, c);
			c = NULL;
		}
		int64_t since = ks->pending_since;
		int ret = 0;
		if (c) {
			case_touch(c, ks, &x);
			d.action = AGW_DECISION_UPDATE;
			d.rule = r->name;
			d.kase = c;
			snprintf(d.reason, sizeof(d.reason), "active for %s: joined open incident",
				 fmt_dur(r->min_duration_ms, dur, sizeof(dur)));
		} else {
			ret = open_incident(e, ks->cam, ks, ks->kind, r, key, since, &x, &d);
			if (ret < 0) {
				ks_pending_clear(e, ks);
				return ret;
			}
			if (d.action == AGW_DECISION_OPEN && !d.kase->aggregate)
				snprintf(d.reason, sizeof(d.reason), "active for %s (min_duration)",
					 fmt_dur(r->min_duration_ms, dur, sizeof(dur)));
		}
		ks_pending_clear(e, ks);
		due_update(e, d.kase);
		if (emit && (ret = emit(arg, &d)) < 0)
			return ret;
		emitted++;
	}
	/* Clear timeouts, then forget incidents whose dedup window passed: only the incidents at the
	 * top of the timer heap are visited. */
	while (e->heap_n && e->heap[0]->due <= now_ms) {
		struct agw_case *c = e->heap[0];
		if (c->active && c->clear_timeout_ms > 0 && now_ms - c->last_active_ms >= c->clear_timeout_ms) {
			case_unlink_all(c);
			c->active = false;
			c->cleared_ms = now_ms;
			c->updated_ms = now_ms;
			due_requeue(e, c);
			struct agw_decision d = {.action = AGW_DECISION_CLOSE, .rule = c->rule, .kase = c, .at_ms = now_ms};
			snprintf(d.reason, sizeof(d.reason), "clear timeout: no inactive edge within %s",
				 fmt_dur(c->clear_timeout_ms, dur, sizeof(dur)));
			int ret = emit ? emit(arg, &d) : 0;
			if (ret < 0)
				return ret;
			emitted++;
		} else if (!case_live(c, now_ms)) {
			case_remove(e, c);
		} else {
			due_requeue(e, c); /* touched since it was queued: due later */
		}
	}
	return emitted;
}

int agw_engine_feedback(struct agw_engine *e, const char *case_id, enum agw_case_status status,
			struct agw_case **ret_case)
{
	if ((unsigned)status > AGW_CASE_CLOSED)
		return -EINVAL;
	struct agw_case *c = case_id ? agw_strmap_get(&e->ids, case_id) : NULL;
	if (!c)
		return -ENOENT;
	if (status == AGW_CASE_CLOSED) {
		/* The platform closed it: the next alert for this incident opens a new case. */
		case_unlink_all(c);
		case_remove(e, c);
		if (ret_case)
			*ret_case = NULL;
		return 0;
	}
	c->status = status;
	if (ret_case)
		*ret_case = c;
	return 0;
}

int agw_engine_restore(struct agw_engine *e, const struct agw_case_restore *r)
{
	if (!r->id || !r->key || !r->camera_id || strlen(r->id) >= AGW_CASE_ID_MAX || (unsigned)r->kind >= AGW_KIND__COUNT)
		return -EINVAL;
	if (r->status == AGW_CASE_CLOSED || agw_strmap_get(&e->incidents, r->key) || agw_strmap_get(&e->ids, r->id))
		return -EEXIST;
	bool full;
	struct agw_engine_cam *cam = cam_get(e, r->camera_id, &full);
	if (!cam)
		return full ? -E2BIG : -ENOMEM;
	struct agw_case *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->heap_pos = SIZE_MAX;
	snprintf(c->id, sizeof(c->id), "%s", r->id);
	if (!(c->key = strdup(r->key)) || dup_or_null(&c->rule, r->rule ? r->rule : "") < 0 ||
	    dup_or_null(&c->category, r->category) < 0 || dup_or_null(&c->title, r->title) < 0 ||
	    dup_or_null(&c->topic, r->topic) < 0) {
		case_free(c);
		return -ENOMEM;
	}
	const struct agw_rule *rule = agw_ruleset_find(e->rules, r->rule);
	c->dedup_window_ms = rule ? rule->dedup_window_ms : e->rules->def_dedup_window_ms;
	c->clear_timeout_ms = rule ? rule->clear_timeout_ms : e->rules->def_clear_timeout_ms;
	c->aggregate = r->aggregate;
	if (c->aggregate) {
		c->dedup_window_ms = strncmp(r->key, "flood/cell/", 11) == 0 ? e->rules->flood_cell.window_ms
									     : e->rules->flood_camera.window_ms;
		c->clear_timeout_ms = 0;
	}
	c->priority = r->priority;
	c->cam = cam;
	c->kind = r->kind;
	c->status = r->status;
	c->has_state = r->has_state;
	c->first_seen = r->first_seen;
	c->last_seen = r->last_seen;
	c->first_camera_time = r->first_camera_time;
	c->last_camera_time = r->last_camera_time;
	c->created_ms = r->created_ms;
	c->updated_ms = r->updated_ms;
	c->cleared_ms = r->cleared_ms;
	c->count = r->count;
	c->last_active_ms = r->last_seen;
	if (agw_strmap_put(&e->incidents, c->key, c) < 0 || agw_strmap_put(&e->ids, c->id, c) < 0) {
		agw_strmap_remove(&e->incidents, c->key);
		case_free(c);
		return -ENOMEM;
	}
	c->in_index = true;
	due_update(e, c);
	/* The camera of the first alert is the one known to be active; others rejoin on their next
	 * active alert, and the clear timeout covers the rest. */
	if (r->active && !r->aggregate) {
		struct agw_kind_state *ks = ks_get(cam, r->kind);
		c->active = true;
		if (ks)
			ks_link(c, ks);
	}
	return 0;
}
