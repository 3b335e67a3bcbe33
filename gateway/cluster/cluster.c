/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Slot ownership through etcd (see cluster.h). The state is a table of slots (the key's value as
 * last seen in etcd, whether this instance runs the slot's cameras, claims in flight) and the list
 * of live members; both come from one range of the cluster's prefix and follow its watch.
 * reconcile() compares them with what rendezvous hashing wants and acts: claim, release, drop.
 * One step timer drives the bootstrap (lease, member key, range + watch) and retries it. */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "cluster.h"
#include "etcd.h"
#include "slots.h"

#define RETRY_MS 1000
#define CLAIM_TICK_MS 100
#define CLAIMS_IN_FLIGHT_MAX 256
#define CALL_TIMEOUT_MS 5000
/* Instances of a cluster usually start together: one that claimed every free slot the moment it
 * saw itself alone would hand most of them over a second later, moving each camera twice. So a
 * member claims free slots only once the member list has not changed for this long (existing
 * holders keep theirs meanwhile, and a dead member's slots wait at most this much more). */
#define SETTLE_MS 1500
/* Lease timing, as fractions of the TTL: a keepalive every quarter, each given an eighth to be
 * answered, the next one after a failure (to the next endpoint) a sixteenth later (at least
 * KEEPALIVE_RETRY_MIN_MS), so that one dead member costs nothing. Without a renewal for two
 * thirds of the TTL the slots are fenced: that rides out an etcd leader election (1-2 s, during
 * which keepalives go unanswered) and leaves the last third for the adapters to stop (ONVIF's
 * stop_timeout, 3 s by default) before etcd can expire the lease. */
#define KEEPALIVE_PERIOD(ttl) ((uint64_t)(ttl) / 4)
#define KEEPALIVE_TIMEOUT(ttl) ((ttl) / 8)
#define KEEPALIVE_RETRY(ttl) ((uint64_t)(ttl) / 16 > KEEPALIVE_RETRY_MIN_MS ? (uint64_t)(ttl) / 16 : KEEPALIVE_RETRY_MIN_MS)
#define KEEPALIVE_RETRY_MIN_MS 100
#define FENCE_MARGIN(ttl) ((uint64_t)(ttl) / 3)

struct agw_cluster;

/* A claim in flight: lives in its slot, so that closing the client (which cancels calls without
 * their callbacks) leaks nothing. */
struct claim {
	struct agw_cluster *c;
	uint32_t slot;
	bool adopting; /* second step: the key already names us (an older lease of ours) */
};

struct slot {
	struct claim claim;
	char *owner;   /* the key's value in etcd (a member id), NULL when there is no key */
	bool held;     /* this instance runs the slot's cameras */
	bool queued;   /* a claim is waiting for the rate limit */
	bool claiming; /* a claim transaction is in flight */
	/* Another instance held the key since this one read the cluster: the cluster has heard the
	 * slot's cameras, so their current states are not a first contact (agw_cluster_slot_heard). */
	bool heard;
};

struct agw_cluster {
	uv_loop_t *loop;
	struct agw_cluster_config cfg; /* strings owned */
	char *prefix;                  /* "/alarmgw/<cluster id>/" */
	struct agw_etcd *etcd;
	void (*slot_changed)(void *arg, uint32_t slot, bool held);
	void *arg;
	struct slot *slots;
	char **members; /* sorted */
	size_t n_members;
	int64_t lease_id;
	bool lease_ok, member_ok, synced, etcd_ok, started, stopping;
	/* Fencing: etcd may expire our lease at lease_until (uv_now ms) at the earliest, and another
	 * instance may then claim our slots; we stop them all a third of the TTL before (fenced)
	 * unless a keepalive pushes lease_until further. */
	bool fenced;
	uint64_t lease_until, step_sent_at, keepalive_sent_at;
	size_t claims_in_flight;
	uint64_t members_changed_at; /* uv_now when the member list last changed */
	uint32_t claim_cursor;
	struct agw_etcd_call *step_call, *keepalive_call, *watch;
	uv_timer_t step_timer, keepalive_timer, claim_timer, reconcile_timer, fence_timer;
	int timers_open;
	void (*stop_done)(void *arg);
	void *stop_arg;
};

static void schedule_step(struct agw_cluster *c, uint64_t delay_ms);
static void schedule_reconcile(struct agw_cluster *c);
static void lease_extended(struct agw_cluster *c, uint64_t sent_at, int64_t ttl_s);

/* ---- keys ---- */

static char *key_of_slot(const struct agw_cluster *c, uint32_t slot)
{
	char *k = NULL;
	return asprintf(&k, "%sslots/%05" PRIu32, c->prefix, slot) < 0 ? NULL : k;
}

static json_t *b64_string(const char *s)
{
	char *b = agw_etcd_b64(s, strlen(s));
	json_t *j = b ? json_string(b) : NULL;
	free(b);
	return j;
}

/* The prefix's range: [prefix, prefix with its last byte + 1). */
static json_t *prefix_range(const struct agw_cluster *c, const char *what)
{
	char *end = strdup(c->prefix);
	if (!end)
		return NULL;
	end[strlen(end) - 1]++;
	json_t *o = json_pack("{s:o,s:o}", "key", b64_string(c->prefix), "range_end", b64_string(end));
	free(end);
	(void)what;
	return o;
}

/* ---- the table, from etcd's key-values ---- */

static int member_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void members_clear(struct agw_cluster *c)
{
	for (size_t i = 0; i < c->n_members; i++)
		free(c->members[i]);
	free(c->members);
	c->members = NULL;
	c->n_members = 0;
}

static void member_set(struct agw_cluster *c, const char *id, bool present)
{
	char **found = c->n_members ? bsearch(&id, c->members, c->n_members, sizeof(char *), member_cmp) : NULL;
	if (present == (found != NULL))
		return;
	c->members_changed_at = uv_now(c->loop);
	if (!present) {
		free(*found);
		size_t i = (size_t)(found - c->members);
		memmove(found, found + 1, (c->n_members - i - 1) * sizeof(char *));
		c->n_members--;
		return;
	}
	char **v = realloc(c->members, (c->n_members + 1) * sizeof(char *));
	char *copy = strdup(id);
	if (!v || !copy) {
		free(copy);
		if (v)
			c->members = v;
		return; /* counted as a missing member until the next resync */
	}
	c->members = v;
	c->members[c->n_members++] = copy;
	qsort(c->members, c->n_members, sizeof(char *), member_cmp);
}

/* Applies one key-value (value NULL: deleted) to the table. */
static void apply_kv(struct agw_cluster *c, json_t *kv, bool deleted)
{
	char *key = agw_etcd_unb64(json_string_value(json_object_get(kv, "key")), NULL);
	char *value = deleted ? NULL : agw_etcd_unb64(json_string_value(json_object_get(kv, "value")), NULL);
	size_t plen = strlen(c->prefix);
	if (!key || strncmp(key, c->prefix, plen) != 0)
		goto out;
	const char *rest = key + plen;
	if (strncmp(rest, "members/", 8) == 0 && rest[8]) {
		member_set(c, rest + 8, !deleted);
	} else if (strncmp(rest, "slots/", 6) == 0) {
		char *end;
		unsigned long s = strtoul(rest + 6, &end, 10);
		if (*end || s >= c->cfg.slots)
			goto out;
		free(c->slots[s].owner);
		c->slots[s].owner = value && *value ? value : NULL;
		if (c->slots[s].owner) {
			c->slots[s].heard |= strcmp(value, c->cfg.member_id) != 0;
			value = NULL;
		}
	}
out:
	free(key);
	free(value);
}

/* ---- claims and releases ---- */

static void claim_send(struct claim *cl);

static void slot_take(struct agw_cluster *c, uint32_t s)
{
	free(c->slots[s].owner);
	c->slots[s].owner = strdup(c->cfg.member_id);
	if (c->slots[s].held)
		return;
	c->slots[s].held = true;
	agw_metric_add("agw_cluster_claims_total", NULL, 1);
	c->slot_changed(c->arg, s, true);
}

static void slot_leave(struct agw_cluster *c, uint32_t s, const char *why)
{
	if (!c->slots[s].held)
		return;
	c->slots[s].held = false;
	agw_metric_add("agw_cluster_releases_total", NULL, 1);
	agw_log_debug("cluster", NULL, "slot %" PRIu32 ": %s", s, why);
	c->slot_changed(c->arg, s, false);
}

static void claim_answered(void *arg, int status, json_t *answer, const char *why)
{
	struct claim *cl = arg;
	struct agw_cluster *c = cl->c;
	struct slot *st = &c->slots[cl->slot];
	if (status < 0) {
		agw_log_debug("cluster", NULL, "claim of slot %" PRIu32 " failed: %s", cl->slot, why ? why : "");
		goto done; /* tried again by a later reconcile */
	}
	if (json_is_true(json_object_get(answer, "succeeded"))) {
		slot_take(c, cl->slot);
		goto done;
	}
	/* The key exists: ours from an older lease (a restart within the TTL), or someone else's. */
	json_t *kvs = json_object_get(json_object_get(json_array_get(json_object_get(answer, "responses"), 0),
						      "response_range"), "kvs");
	char *holder = agw_etcd_unb64(json_string_value(json_object_get(json_array_get(kvs, 0), "value")), NULL);
	if (holder && strcmp(holder, c->cfg.member_id) == 0 && !cl->adopting) {
		free(holder);
		cl->adopting = true;
		claim_send(cl);
		return;
	}
	free(st->owner);
	st->owner = holder;
	st->heard |= holder && strcmp(holder, c->cfg.member_id) != 0;
done:
	st->claiming = false;
	c->claims_in_flight--;
	schedule_reconcile(c);
}

static void claim_send(struct claim *cl)
{
	struct agw_cluster *c = cl->c;
	char *key = key_of_slot(c, cl->slot);
	json_t *compare = cl->adopting
		? json_pack("{s:o,s:s,s:s,s:o}", "key", b64_string(key), "result", "EQUAL", "target", "VALUE", "value",
			    b64_string(c->cfg.member_id))
		: json_pack("{s:o,s:s,s:s,s:s}", "key", b64_string(key), "result", "EQUAL", "target", "CREATE",
			    "create_revision", "0");
	char lease[32];
	snprintf(lease, sizeof(lease), "%" PRId64, c->lease_id);
	json_t *body = json_pack("{s:[o],s:[{s:{s:o,s:o,s:s}}],s:[{s:{s:o}}]}", "compare", compare, "success",
				 "request_put", "key", b64_string(key), "value", b64_string(c->cfg.member_id), "lease",
				 lease, "failure", "request_range", "key", b64_string(key));
	free(key);
	int r = body ? agw_etcd_call(c->etcd, "/v3/kv/txn", body, CALL_TIMEOUT_MS, claim_answered, cl, NULL) : -ENOMEM;
	if (r < 0)
		claim_answered(cl, r, NULL, strerror(-r));
}

static void release_answered(void *arg, int status, json_t *answer, const char *why)
{
	(void)answer;
	if (status < 0) /* the key then goes with our lease, at the latest */
		agw_log_debug("cluster", NULL, "releasing slot %" PRIu32 " failed: %s", ((struct claim *)arg)->slot,
			      why ? why : "");
}

/* Deletes the slot's key if it still names this instance. */
static void release_key(struct agw_cluster *c, uint32_t s)
{
	char *key = key_of_slot(c, s);
	if (!key)
		return;
	json_t *body = json_pack("{s:[{s:o,s:s,s:s,s:o}],s:[{s:{s:o}}]}", "compare", "key", b64_string(key), "result",
				 "EQUAL", "target", "VALUE", "value", b64_string(c->cfg.member_id), "success",
				 "request_delete_range", "key", b64_string(key));
	if (body)
		agw_etcd_call(c->etcd, "/v3/kv/txn", body, CALL_TIMEOUT_MS, release_answered, &c->slots[s].claim, NULL);
	free(key);
	free(c->slots[s].owner);
	c->slots[s].owner = NULL;
}

static void on_claim_tick(uv_timer_t *t)
{
	struct agw_cluster *c = t->data;
	int64_t budget = c->cfg.claim_rate * CLAIM_TICK_MS / 1000;
	if (budget < 1)
		budget = 1;
	for (uint32_t n = 0; n < c->cfg.slots && budget > 0 && c->claims_in_flight < CLAIMS_IN_FLIGHT_MAX; n++) {
		uint32_t s = (c->claim_cursor + n) % c->cfg.slots;
		struct slot *st = &c->slots[s];
		if (!st->queued)
			continue;
		st->queued = false;
		struct claim *cl = &st->claim;
		*cl = (struct claim){.c = c, .slot = s};
		st->claiming = true;
		c->claims_in_flight++;
		budget--;
		c->claim_cursor = s + 1;
		claim_send(cl);
	}
}

/* ---- reconcile: what rendezvous hashing wants against what we hold ---- */

static void on_reconcile(uv_timer_t *t);

static void reconcile(struct agw_cluster *c)
{
	if (!c->synced || !c->lease_ok || !c->member_ok || c->stopping || c->fenced)
		return;
	const char *me = c->cfg.member_id;
	size_t wanted = 0, held = 0, queued = 0;
	uint64_t settled_at = c->members_changed_at + SETTLE_MS;
	bool settled = uv_now(c->loop) >= settled_at;
	if (!settled) /* look again once the member list has settled */
		uv_timer_start(&c->reconcile_timer, on_reconcile, settled_at - uv_now(c->loop), 0);
	for (uint32_t s = 0; s < c->cfg.slots; s++) {
		struct slot *st = &c->slots[s];
		int owner = agw_slot_owner(s, (const char *const *)c->members, c->n_members);
		bool want = owner >= 0 && strcmp(c->members[owner], me) == 0;
		bool key_mine = st->owner && strcmp(st->owner, me) == 0;
		wanted += want;
		if (st->held && st->owner && !key_mine) {
			slot_leave(c, s, "its key names another instance");
		} else if (st->held && !want) {
			slot_leave(c, s, "handed over");
			release_key(c, s);
		} else if (want && settled && !st->owner && !st->claiming && !st->queued) {
			st->queued = true; /* absent key: claim it (again, when it went with an old lease) */
		} else if (want && !st->held && key_mine && !st->claiming && !st->queued) {
			st->queued = true; /* our key from before a restart: adopt it */
		}
		held += st->held;
		queued += st->queued || st->claiming;
	}
	agw_metric_set("agw_cluster_slots_held", NULL, (int64_t)held);
	agw_metric_set("agw_cluster_slots_wanted", NULL, (int64_t)wanted);
	agw_metric_set("agw_cluster_members", NULL, (int64_t)c->n_members);
	(void)queued;
}

static void on_reconcile(uv_timer_t *t)
{
	reconcile(t->data);
}

static void schedule_reconcile(struct agw_cluster *c)
{
	if (!c->stopping && !uv_is_active((uv_handle_t *)&c->reconcile_timer))
		uv_timer_start(&c->reconcile_timer, on_reconcile, 0, 0);
}

/* ---- the watch ---- */

static void on_watch_result(void *arg, json_t *result)
{
	struct agw_cluster *c = arg;
	if (json_is_true(json_object_get(result, "canceled")) || agw_etcd_int(json_object_get(result, "compact_revision"), 0)) {
		agw_log_warn("cluster", NULL, "etcd cancelled the watch; reading the cluster again");
		agw_etcd_cancel(c->watch);
		c->watch = NULL;
		c->synced = false;
		schedule_step(c, RETRY_MS);
		return;
	}
	size_t i;
	json_t *ev;
	json_array_foreach(json_object_get(result, "events"), i, ev) {
		const char *type = json_string_value(json_object_get(ev, "type"));
		apply_kv(c, json_object_get(ev, "kv"), type && strcmp(type, "DELETE") == 0);
	}
	schedule_reconcile(c);
}

static void on_watch_end(void *arg, int status)
{
	struct agw_cluster *c = arg;
	c->watch = NULL;
	c->synced = false;
	agw_log_warn("cluster", NULL, "the etcd watch ended (%s); reading the cluster again",
		     status ? strerror(-status) : "closed");
	schedule_step(c, RETRY_MS);
}

/* ---- bootstrap steps: lease, member key, range + watch ---- */

static void step_answered(void *arg, int status, json_t *answer, const char *why);

static int step_call(struct agw_cluster *c, const char *path, json_t *body)
{
	if (!body)
		return -ENOMEM;
	c->step_sent_at = uv_now(c->loop);
	return agw_etcd_call(c->etcd, path, body, CALL_TIMEOUT_MS, step_answered, c, &c->step_call);
}

static void step(struct agw_cluster *c)
{
	if (c->step_call || c->stopping)
		return;
	int r = 0;
	if (!c->lease_ok) {
		r = step_call(c, "/v3/lease/grant", json_pack("{s:I}", "TTL", (json_int_t)((c->cfg.lease_ttl_ms + 999) / 1000)));
	} else if (!c->member_ok) {
		char *key = NULL, lease[32], *value = NULL;
		snprintf(lease, sizeof(lease), "%" PRId64, c->lease_id);
		if (asprintf(&key, "%smembers/%s", c->prefix, c->cfg.member_id) < 0)
			key = NULL;
		json_t *v = json_pack("{s:s,s:I}", "id", c->cfg.member_id, "slots", (json_int_t)c->cfg.slots);
		value = v ? json_dumps(v, JSON_COMPACT) : NULL;
		json_decref(v);
		r = key && value ? step_call(c, "/v3/kv/put", json_pack("{s:o,s:o,s:s}", "key", b64_string(key), "value",
									 b64_string(value), "lease", lease))
				 : -ENOMEM;
		free(key);
		free(value);
	} else if (!c->synced) {
		agw_etcd_cancel(c->watch);
		c->watch = NULL;
		r = step_call(c, "/v3/kv/range", prefix_range(c, "range"));
	}
	if (r < 0) {
		c->step_call = NULL;
		schedule_step(c, RETRY_MS);
	}
}

static void range_answered(struct agw_cluster *c, json_t *answer)
{
	for (uint32_t s = 0; s < c->cfg.slots; s++) {
		free(c->slots[s].owner);
		c->slots[s].owner = NULL;
	}
	members_clear(c);
	size_t i;
	json_t *kv;
	json_array_foreach(json_object_get(answer, "kvs"), i, kv)
		apply_kv(c, kv, false);
	int64_t rev = agw_etcd_int(json_object_get(json_object_get(answer, "header"), "revision"), 0);
	json_t *create = prefix_range(c, "watch");
	if (create)
		json_object_set_new(create, "start_revision", json_integer(rev + 1));
	if (!create || agw_etcd_watch(c->etcd, create, on_watch_result, on_watch_end, c, &c->watch) < 0) {
		c->watch = NULL;
		schedule_step(c, RETRY_MS);
		return;
	}
	c->synced = true;
	agw_log_info("cluster", NULL, "%zu members, revision %" PRId64, c->n_members, rev);
	schedule_reconcile(c);
}

static void step_answered(void *arg, int status, json_t *answer, const char *why)
{
	struct agw_cluster *c = arg;
	c->step_call = NULL;
	if (status < 0) {
		agw_log_warn("cluster", NULL, "etcd %s: %s", agw_etcd_endpoint(c->etcd), why ? why : strerror(-status));
		schedule_step(c, RETRY_MS);
		return;
	}
	c->etcd_ok = true;
	if (!c->lease_ok) {
		c->lease_id = agw_etcd_int(json_object_get(answer, "ID"), 0);
		c->lease_ok = c->lease_id != 0;
		if (c->lease_ok)
			lease_extended(c, c->step_sent_at, agw_etcd_int(json_object_get(answer, "TTL"), 0));
		if (c->lease_ok)
			agw_log_notice("cluster", NULL, "member %s, lease %" PRIx64, c->cfg.member_id, (uint64_t)c->lease_id);
	} else if (!c->member_ok) {
		c->member_ok = true;
	} else if (!c->synced) {
		range_answered(c, answer);
		return;
	}
	schedule_step(c, 0);
}

static void on_step(uv_timer_t *t)
{
	step(t->data);
}

static void schedule_step(struct agw_cluster *c, uint64_t delay_ms)
{
	if (!c->stopping)
		uv_timer_start(&c->step_timer, on_step, delay_ms, 0);
}

/* ---- fencing and keepalive ---- */

static void on_fence(uv_timer_t *t)
{
	struct agw_cluster *c = t->data;
	if (c->stopping || c->fenced)
		return;
	size_t n = 0;
	for (uint32_t s = 0; s < c->cfg.slots; s++)
		n += c->slots[s].held;
	c->fenced = true;
	agw_metric_add("agw_cluster_fenced_total", NULL, 1);
	agw_log_err("cluster", NULL,
		    "etcd has not renewed lease %" PRIx64 " and may expire it in %" PRId64
		    " ms: stopping the cameras of the %zu slots held here before another instance can claim them",
		    (uint64_t)c->lease_id, (int64_t)(c->lease_until - uv_now(c->loop)), n);
	for (uint32_t s = 0; s < c->cfg.slots; s++)
		slot_leave(c, s, "fenced");
	agw_metric_set("agw_cluster_slots_held", NULL, 0);
}

/* etcd renewed the lease, to ttl_s from a request sent at sent_at (it cannot expire before). */
static void lease_extended(struct agw_cluster *c, uint64_t sent_at, int64_t ttl_s)
{
	/* From the network: bounded by what we asked for, so a wrong answer fences early, never late. */
	int64_t asked = (c->cfg.lease_ttl_ms + 999) / 1000;
	if (ttl_s < 0 || ttl_s > asked)
		ttl_s = ttl_s < 0 ? 0 : asked;
	uint64_t until = sent_at + (uint64_t)ttl_s * 1000;
	if (until > c->lease_until || c->fenced)
		c->lease_until = until;
	uint64_t margin = FENCE_MARGIN(c->cfg.lease_ttl_ms), now = uv_now(c->loop);
	uint64_t fence_at = c->lease_until > now + margin ? c->lease_until - margin : now;
	uv_timer_start(&c->fence_timer, on_fence, fence_at - now, 0);
	if (c->fenced) {
		c->fenced = false;
		agw_log_notice("cluster", NULL, "lease %" PRIx64 " renewed: taking slots again", (uint64_t)c->lease_id);
		schedule_reconcile(c);
	}
}

static void on_keepalive(uv_timer_t *t);

static void keepalive_answered(void *arg, int status, json_t *answer, const char *why)
{
	struct agw_cluster *c = arg;
	c->keepalive_call = NULL;
	if (status < 0) {
		/* A member without a leader renews nothing either: it may be the minority side of a
		 * partition while the majority has a leader that expires our lease on time, and from here
		 * that cannot be told from a quorum lost everywhere. So both fence on the same clock;
		 * after a quorum loss the new leader renews every lease and the slots come back here. */
		if (c->etcd_ok)
			agw_log_err("cluster", NULL, "etcd %s (%s): keeping the slots held here until %" PRIu64
				    " ms before the lease can expire", status == -ENOTCONN ? "has no leader" : "unreachable",
				    why ? why : strerror(-status), FENCE_MARGIN(c->cfg.lease_ttl_ms));
		c->etcd_ok = false;
		uv_timer_start(&c->keepalive_timer, on_keepalive, KEEPALIVE_RETRY(c->cfg.lease_ttl_ms),
			       KEEPALIVE_PERIOD(c->cfg.lease_ttl_ms));
		return;
	}
	bool was_ok = c->etcd_ok;
	c->etcd_ok = true;
	int64_t ttl = agw_etcd_int(json_object_get(json_object_get(answer, "result"), "TTL"), 0);
	if (ttl > 0)
		lease_extended(c, c->keepalive_sent_at, ttl);
	if (ttl <= 0) {
		/* The lease expired while etcd did not hear us: our keys are gone. Take a new lease and
		 * read the cluster again; reconcile then claims back what is free and drops what another
		 * instance took meanwhile. */
		agw_log_warn("cluster", NULL, "lease %" PRIx64 " expired; joining again", (uint64_t)c->lease_id);
		c->lease_ok = c->member_ok = c->synced = false;
		schedule_step(c, 0);
	} else if (!was_ok) {
		agw_log_notice("cluster", NULL, "etcd reachable again; reading the cluster");
		c->synced = false;
		schedule_step(c, 0);
	}
}

static void on_keepalive(uv_timer_t *t)
{
	struct agw_cluster *c = t->data;
	if (!c->lease_ok || c->keepalive_call || c->stopping)
		return;
	json_t *body = json_pack("{s:I}", "ID", (json_int_t)c->lease_id);
	c->keepalive_sent_at = uv_now(c->loop);
	if (body && agw_etcd_call(c->etcd, "/v3/lease/keepalive", body, KEEPALIVE_TIMEOUT(c->cfg.lease_ttl_ms),
				  keepalive_answered, c, &c->keepalive_call) < 0)
		c->keepalive_call = NULL;
}

/* ---- lifecycle ---- */

int agw_cluster_new(uv_loop_t *loop, const struct agw_cluster_config *cfg,
		    void (*slot_changed)(void *arg, uint32_t slot, bool held), void *arg, struct agw_cluster **ret)
{
	if (!cfg->etcd || !cfg->cluster_id || !cfg->member_id || cfg->slots == 0 || cfg->slots > AGW_SLOTS_MAX ||
	    cfg->lease_ttl_ms < 2000 || cfg->claim_rate <= 0)
		return -EINVAL;
	struct agw_cluster *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->cfg = *cfg;
	c->cfg.etcd = strdup(cfg->etcd);
	c->cfg.cluster_id = strdup(cfg->cluster_id);
	c->cfg.member_id = strdup(cfg->member_id);
	c->slots = calloc(cfg->slots, sizeof(*c->slots));
	if (asprintf(&c->prefix, "/alarmgw/%s/", cfg->cluster_id) < 0)
		c->prefix = NULL;
	int r = -ENOMEM;
	if (c->cfg.etcd && c->cfg.cluster_id && c->cfg.member_id && c->slots && c->prefix)
		r = agw_etcd_new(loop, c->cfg.etcd, &c->etcd);
	if (r < 0) {
		free((char *)c->cfg.etcd);
		free((char *)c->cfg.cluster_id);
		free((char *)c->cfg.member_id);
		free(c->slots);
		free(c->prefix);
		free(c);
		return r;
	}
	c->slot_changed = slot_changed;
	c->arg = arg;
	uv_timer_t *timers[] = {&c->step_timer, &c->keepalive_timer, &c->claim_timer, &c->reconcile_timer,
				&c->fence_timer};
	for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++) {
		uv_timer_init(loop, timers[i]);
		timers[i]->data = c;
	}
	*ret = c;
	return 0;
}

int agw_cluster_start(struct agw_cluster *c)
{
	c->started = true;
	uint64_t every = KEEPALIVE_PERIOD(c->cfg.lease_ttl_ms);
	uv_timer_start(&c->keepalive_timer, on_keepalive, every, every);
	uv_timer_start(&c->claim_timer, on_claim_tick, CLAIM_TICK_MS, CLAIM_TICK_MS);
	schedule_step(c, 0);
	return 0;
}

uint32_t agw_cluster_slot_of(const struct agw_cluster *c, const char *camera_id)
{
	return agw_slot_of(camera_id, c->cfg.slots);
}

bool agw_cluster_holds(const struct agw_cluster *c, uint32_t slot)
{
	return slot < c->cfg.slots && c->slots[slot].held;
}

bool agw_cluster_slot_heard(const struct agw_cluster *c, uint32_t slot)
{
	return slot < c->cfg.slots && c->slots[slot].heard;
}

void agw_cluster_status(const struct agw_cluster *c, struct agw_cluster_status *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->etcd_ok = c->etcd_ok;
	ret->members = c->n_members;
	ret->lease_id = c->lease_id;
	ret->endpoint = agw_etcd_endpoint(c->etcd);
	for (uint32_t s = 0; s < c->cfg.slots; s++) {
		const struct slot *st = &c->slots[s];
		int owner = agw_slot_owner(s, (const char *const *)c->members, c->n_members);
		ret->wanted += owner >= 0 && strcmp(c->members[owner], c->cfg.member_id) == 0;
		ret->held += st->held;
		ret->claiming += st->queued || st->claiming;
	}
}

static void on_stop_finished(uv_timer_t *t)
{
	struct agw_cluster *c = t->data;
	agw_etcd_cancel(c->step_call);
	c->step_call = NULL;
	if (c->stop_done) {
		void (*done)(void *) = c->stop_done;
		c->stop_done = NULL;
		done(c->stop_arg);
	}
}

static void revoke_answered(void *arg, int status, json_t *answer, const char *why)
{
	struct agw_cluster *c = arg;
	(void)answer;
	c->step_call = NULL;
	if (status < 0)
		agw_log_warn("cluster", NULL, "revoking the lease failed (%s): the others take over after its TTL",
			     why ? why : strerror(-status));
	else
		agw_log_notice("cluster", NULL, "left the cluster: every slot released");
	/* done runs from a timer, not from inside the etcd client's callback: it may free us */
	uv_timer_start(&c->step_timer, on_stop_finished, 0, 0);
}

void agw_cluster_stop(struct agw_cluster *c, int64_t timeout_ms, void (*done)(void *arg), void *arg)
{
	c->stopping = true;
	c->stop_done = done;
	c->stop_arg = arg;
	uv_timer_stop(&c->keepalive_timer);
	uv_timer_stop(&c->claim_timer);
	uv_timer_stop(&c->reconcile_timer);
	uv_timer_stop(&c->fence_timer);
	agw_etcd_cancel(c->step_call);
	agw_etcd_cancel(c->watch);
	c->step_call = c->watch = NULL;
	json_t *body = c->lease_ok ? json_pack("{s:I}", "ID", (json_int_t)c->lease_id) : NULL;
	if (!body || agw_etcd_call(c->etcd, "/v3/lease/revoke", body, timeout_ms, revoke_answered, c, &c->step_call) < 0)
		uv_timer_start(&c->step_timer, on_stop_finished, 0, 0);
	else
		uv_timer_start(&c->step_timer, on_stop_finished, (uint64_t)timeout_ms, 0);
}

static void timer_closed(uv_handle_t *h)
{
	struct agw_cluster *c = h->data;
	if (--c->timers_open > 0)
		return;
	for (uint32_t s = 0; s < c->cfg.slots; s++)
		free(c->slots[s].owner);
	free(c->slots);
	members_clear(c);
	free((char *)c->cfg.etcd);
	free((char *)c->cfg.cluster_id);
	free((char *)c->cfg.member_id);
	free(c->prefix);
	free(c);
}

void agw_cluster_free(struct agw_cluster *c)
{
	if (!c)
		return;
	c->stopping = true;
	c->stop_done = NULL;
	/* claims in flight own their struct claim: closing the client cancels them without callbacks */
	agw_etcd_close(c->etcd, NULL, NULL);
	c->timers_open = 5;
	uv_close((uv_handle_t *)&c->step_timer, timer_closed);
	uv_close((uv_handle_t *)&c->keepalive_timer, timer_closed);
	uv_close((uv_handle_t *)&c->claim_timer, timer_closed);
	uv_close((uv_handle_t *)&c->reconcile_timer, timer_closed);
	uv_close((uv_handle_t *)&c->fence_timer, timer_closed);
}
