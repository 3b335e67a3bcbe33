/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pipeline -> case engine -> decisions, cases and outbox rows (see decider.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <time.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "decider.h"
#include "decider_internal.h"
#include "evidence_list.h"
#include "evidence_links.h"
#include "grid_import.h"
#include "rules_file.h"
#include "topic.h"

#define UNASSIGNED_NAMED 10

static void metric_decision(struct agw_decider *d, const char *labels)
{
	if (!d->in_txn) {
		agw_metric_add("agw_decisions_total", labels, 1);
		return;
	}
	for (size_t i = 0; i < d->n_staged; i++)
		if (strcmp(d->staged[i].labels, labels) == 0) {
			d->staged[i].n++;
			return;
		}
	if (d->n_staged == STAGED_METRICS) {
		agw_metric_add("agw_decisions_total", labels, 1); /* many reasons in one batch: counted now */
		return;
	}
	snprintf(d->staged[d->n_staged].labels, sizeof(d->staged[0].labels), "%s", labels);
	d->staged[d->n_staged++].n = 1;
}

/* One kind state into kind_states (inside the batch's transaction). */
static int write_ks(void *arg, const struct agw_ks_record *k)
{
	struct agw_store *store = arg;
	sqlite3_stmt *st = agw_store_stmt(
		store, "INSERT INTO kind_states(camera_id, kind, last_state, last_state_at, pending_rule, pending_since,"
		       " pending_seq, pending_camera_time, pending_topic, pending_event_id, rep_rule, rep, watch_since)"
		       " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(camera_id, kind) DO UPDATE SET"
		       " last_state = excluded.last_state, last_state_at = excluded.last_state_at,"
		       " pending_rule = excluded.pending_rule, pending_since = excluded.pending_since,"
		       " pending_seq = excluded.pending_seq, pending_camera_time = excluded.pending_camera_time,"
		       " pending_topic = excluded.pending_topic, pending_event_id = excluded.pending_event_id,"
		       " rep_rule = excluded.rep_rule, rep = excluded.rep, watch_since = excluded.watch_since");
	if (!st)
		return -EIO;
	char rep[AGW_REPEAT_MAX * 21 + 1];
	size_t len = 0;
	rep[0] = '\0';
	for (uint32_t i = 0; i < k->rep_n; i++)
		len += (size_t)snprintf(rep + len, sizeof(rep) - len, "%s%" PRId64, i ? "," : "", k->rep[i]);
	sqlite3_bind_text(st, 1, k->camera_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, agw_alert_kind_name(k->kind), -1, SQLITE_STATIC);
	if (k->last_state != AGW_ACTIVE_NONE) {
		sqlite3_bind_int(st, 3, k->last_state == AGW_ACTIVE_TRUE);
		sqlite3_bind_int64(st, 4, k->last_state_ms);
	}
	if (k->pending_rule) {
		sqlite3_bind_text(st, 5, k->pending_rule, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, k->pending_since);
		sqlite3_bind_int64(st, 7, k->pending_seq);
		sqlite3_bind_int64(st, 8, k->pending_camera_time);
		sqlite3_bind_text(st, 9, k->pending_topic, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 10, k->pending_event_id, -1, SQLITE_STATIC);
	}
	if (k->rep_rule) {
		sqlite3_bind_text(st, 11, k->rep_rule, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 12, rep, (int)len, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 13, k->watch_since);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		agw_log_err(LOG_COMP, k->camera_id, "writing the rule state: %s", sqlite3_errmsg(agw_store_db(store)));
		return -EIO;
	}
	return 0;
}

int agw_decider_txn(void *decider, struct agw_store *store, enum agw_txn_phase phase)
{
	struct agw_decider *d = decider;
	(void)store;
	switch (phase) {
	case AGW_TXN_BEGIN:
		agw_engine_txn_begin(d->engine);
		d->in_txn = true;
		d->n_staged = 0;
		break;
	case AGW_TXN_PRECOMMIT: {
		int r = agw_engine_txn_dirty(d->engine, d->wall_minus_mono, write_ks, store);
		return r < 0 ? r : 0;
	}
	case AGW_TXN_COMMITTED:
		agw_engine_txn_commit(d->engine);
		for (size_t i = 0; i < d->n_staged; i++)
			agw_metric_add("agw_decisions_total", d->staged[i].labels, d->staged[i].n);
		d->n_staged = 0;
		d->in_txn = false;
		break;
	case AGW_TXN_ROLLED_BACK:
		d->n_staged = 0;
		d->in_txn = false;
		if (agw_engine_txn_rollback(d->engine) < 0) {
			/* Out of memory while saving state: the retry may decide differently. */
			agw_metric_add("agw_engine_rollback_errors_total", NULL, 1);
			agw_log_err(LOG_COMP, NULL, "the rule engine could not undo a failed batch (out of memory)");
			return -ENOMEM;
		}
		break;
	}
	return 0;
}

static const char *or_default(const char *s, const char *def)
{
	return s && *s ? s : def;
}

static int load_rules(const struct agw_config *cfg, struct agw_ruleset **ret, struct agw_errors *errs)
{
	if (!cfg->rules_file || !*cfg->rules_file)
		return agw_ruleset_default(ret);
	char *path = agw_config_resolve(cfg, cfg->rules_file);
	if (!path)
		return -ENOMEM;
	int r = agw_rules_file_load(path, ret, errs);
	free(path);
	return r;
}

/* Restores the incidents after a restart: those not ended and recent enough to take alerts, and
 * those with a supervision deadline ahead, whatever their age. Not those kept only for their
 * expiry (expire_at): decider_expiry.c ends them from the table when they are due. Newest first:
 * when two rows share an incident key, the newer takes alerts and the older is kept for its
 * timers. */
static int restore_cases(struct agw_decider *d, struct agw_store *store)
{
	const struct agw_ruleset *rs = agw_engine_rules(d->engine);
	int64_t horizon = rs->def_dedup_window_ms;
	for (size_t i = 0; i < rs->n; i++) {
		horizon = rs->rules[i].dedup_window_ms > horizon ? rs->rules[i].dedup_window_ms : horizon;
		horizon = rs->rules[i].clear_timeout_ms > horizon ? rs->rules[i].clear_timeout_ms : horizon;
	}
	horizon = rs->flood_camera.window_ms > horizon ? rs->flood_camera.window_ms : horizon;
	horizon = rs->flood_cell.window_ms > horizon ? rs->flood_cell.window_ms : horizon;
	sqlite3_stmt *st = agw_store_stmt(store, "SELECT " DECIDER_CASE_COLUMNS " FROM cases"
						 " WHERE status NOT IN ('closed', 'rejected') AND (last_seen >= ?"
						 " OR sup_due IS NOT NULL) ORDER BY updated_at DESC");
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, agw_now_ms() - horizon - 60000);
	int rc, n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int e = decider_case_restore(d, st, false);
		if (e == -ENOMEM) {
			sqlite3_reset(st);
			return e;
		}
		n += e == 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	if (n)
		agw_log_info(LOG_COMP, NULL, "restored %d open incident(s) from the cases table", n);
	return 0;
}

/* The kind states (last known state, pending starts, repeat counters) after a restart; after the
 * cases, so that a pending start of a camera whose incident is active is not restored. */
static int restore_kind_states(struct agw_decider *d, struct agw_store *store)
{
	sqlite3_stmt *st = agw_store_stmt(store, "SELECT camera_id, kind, last_state, last_state_at, pending_rule,"
						 " pending_since, pending_seq, pending_camera_time, pending_topic,"
						 " pending_event_id, rep_rule, rep, watch_since FROM kind_states");
	if (!st)
		return -EIO;
	int rc, n = 0, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct agw_ks_record k = {
			.camera_id = (const char *)sqlite3_column_text(st, 0),
			.last_state = sqlite3_column_type(st, 2) == SQLITE_NULL ? AGW_ACTIVE_NONE
						: sqlite3_column_int(st, 2) ? AGW_ACTIVE_TRUE
									   : AGW_ACTIVE_FALSE,
			.last_state_ms = sqlite3_column_int64(st, 3),
			.pending_rule = (const char *)sqlite3_column_text(st, 4),
			.pending_since = sqlite3_column_int64(st, 5),
			.pending_seq = sqlite3_column_int64(st, 6),
			.pending_camera_time = sqlite3_column_int64(st, 7),
			.pending_topic = (const char *)sqlite3_column_text(st, 8),
			.pending_event_id = (const char *)sqlite3_column_text(st, 9),
			.rep_rule = (const char *)sqlite3_column_text(st, 10),
			.watch_since = sqlite3_column_int64(st, 12),
		};
		if (agw_alert_kind_parse((const char *)sqlite3_column_text(st, 1), &k.kind) < 0)
			continue;
		int64_t rep[AGW_REPEAT_MAX];
		const char *p = (const char *)sqlite3_column_text(st, 11);
		while (p && *p && k.rep_n < AGW_REPEAT_MAX) {
			char *end;
			rep[k.rep_n++] = strtoll(p, &end, 10);
			p = *end == ',' ? end + 1 : NULL;
		}
		k.rep = rep;
		int e = agw_engine_ks_restore(d->engine, &k, d->wall_minus_mono);
		if (e == -ENOMEM) {
			ret = e;
			break;
		}
		n += e == 0;
	}
	sqlite3_reset(st);
	if (ret < 0)
		return ret;
	if (rc != SQLITE_DONE)
		return -EIO;
	if (n)
		agw_log_info(LOG_COMP, NULL, "restored the rule state of %d camera kind(s)", n);
	return 0;
}

/* The grid layer the configuration names; none is not an error (cameras fall back). */
static int load_grid(const struct agw_config *cfg, struct agw_store *store, struct agw_grid **ret,
		     struct agw_errors *errs)
{
	char err[512];
	if (!cfg->grid_layer || !*cfg->grid_layer)
		return 0;
	int r = agw_grid_load(store, cfg->grid_layer, ret, err, sizeof(err));
	if (r == -ENOENT) {
		agw_log_warn(LOG_COMP, NULL, "%s; cameras go to their owner cell or \"%s\"", err,
			     or_default(cfg->unassigned_cell, "unassigned"));
		return 0;
	}
	if (r < 0)
		agw_errors_add(errs, cfg->path ? cfg->path : "grid", 0, "grid layer %s: %s", cfg->grid_layer, err);
	return r;
}

/* The ledger's cameras into the engine, which locates each in the grid. */
static int register_cameras(struct agw_decider *d, const struct agw_camera *cams, size_t n_cams)
{
	int r;
	size_t unassigned = 0;
	for (size_t i = 0; i < n_cams; i++) {
		const struct agw_camera *c = &cams[i];
		enum agw_crs crs = AGW_CRS_WGS84;
		if (c->crs && agw_crs_parse(c->crs, &crs) < 0)
			agw_log_warn(LOG_COMP, c->id, "unknown coordinate system \"%s\"; assuming WGS-84", c->crs);
		bool located = !isnan(c->lon) && !isnan(c->lat);
		if ((r = agw_engine_camera_set(d->engine, c->id, c->name, c->vendor, c->tags, c->owner_cell, located,
					       c->lon, c->lat, crs)) < 0)
			return r;
		struct agw_camera_view view;
		/* Named one by one for the first few; without a grid layer that would be every camera, so
		 * the rest are only counted (10,000 log lines at start help nobody). */
		if (agw_engine_camera_view(d->engine, c->id, &view) == 0 && view.cell_source == AGW_CELL_UNASSIGNED &&
		    ++unassigned <= UNASSIGNED_NAMED)
			agw_log_notice(LOG_COMP, c->id, "outside every grid cell and no owner cell: cases go to \"%s\"",
				       view.cell_code);
	}
	if (unassigned > UNASSIGNED_NAMED)
		agw_log_notice(LOG_COMP, NULL, "%zu cameras in all are outside every grid cell with no owner cell (%zu named above)",
			       unassigned, (size_t)UNASSIGNED_NAMED);
	return 0;
}

int agw_decider_new(const struct agw_config *cfg, struct agw_store *store, struct agw_decider **ret,
		    struct agw_errors *errs)
{
	return agw_decider_open(cfg, store, 0, ret, errs);
}

int agw_decider_open(const struct agw_config *cfg, struct agw_store *store, unsigned flags,
		     struct agw_decider **ret, struct agw_errors *errs)
{
	struct agw_ruleset *rules = NULL;
	struct agw_grid *grid = NULL;
	struct agw_camera *cams = NULL;
	size_t n_cams = 0;
	struct agw_decider *d = NULL;
	int r = load_rules(cfg, &rules, errs);
	if (r < 0 || (r = load_grid(cfg, store, &grid, errs)) < 0)
		goto fail;
	d = calloc(1, sizeof(*d));
	if (!d) {
		r = -ENOMEM;
		goto fail;
	}
	d->topic_prefix = strdup(or_default(cfg->mqtt.topic_prefix, "agw"));
	d->case_topic = strdup(or_default(cfg->mqtt.case_topic, AGW_DEFAULT_CASE_TOPIC));
	d->outbox_max_rows = cfg->mqtt.outbox_max_rows;
	d->case_retention_ms = cfg->case_retention_ms;
	if ((r = agw_evidence_any(store)) < 0)
		goto fail;
	d->list_evidence = cfg->evidence.enabled || r > 0;
	char why[200];
	if ((r = agw_evidence_links_new(cfg, &d->links, why, sizeof(why))) < 0) {
		agw_errors_add(errs, cfg->path ? cfg->path : "config", 0, "evidence.url_base: %s", why);
		goto fail;
	}
	d->wall_minus_mono = agw_now_ms() - decider_mono_now();
	if (!d->topic_prefix || !d->case_topic) {
		r = -ENOMEM;
		goto fail;
	}
	/* In a cluster every instance makes the same case id for the same incident (an incident seen
	 * by two owners during a handover is one case for the platform): ids come from the cluster id. */
	const char *id_base = cfg->cluster.etcd && cfg->cluster.id ? cfg->cluster.id : cfg->gateway_id;
	struct agw_engine_config ec = {.gateway_id = or_default(id_base, "alarmgw"),
				       .unassigned_cell = or_default(cfg->unassigned_cell, "unassigned")};
	if ((r = agw_engine_new(&ec, rules, grid, &d->engine)) < 0)
		goto fail;
	agw_engine_set_store_expiry(d->engine, true); /* decider_expiry.c ends them from the cases table */
	rules = NULL;
	grid = NULL;
	if ((r = agw_store_cameras_load(store, &cams, &n_cams)) < 0) {
		agw_errors_add(errs, cfg->path ? cfg->path : "store", 0, "loading cameras: %s", strerror(-r));
		goto fail;
	}
	if ((r = register_cameras(d, cams, n_cams)) < 0)
		goto fail;
	if (!(flags & AGW_DECIDER_NO_RESTORE) &&
	    ((r = restore_cases(d, store)) < 0 || (r = restore_kind_states(d, store)) < 0)) {
		agw_errors_add(errs, cfg->path ? cfg->path : "store", 0, "restoring open cases and rule state: %s",
			       sqlite3_errmsg(agw_store_db(store)));
		goto fail;
	}
	const struct agw_ruleset *rs = agw_engine_rules(d->engine);
	agw_log_info(LOG_COMP, NULL, "%zu rule(s)%s, %zu grid cell(s), %zu camera(s)", rs->n,
		     rs->is_default ? " (default policy)" : "",
		     agw_engine_grid(d->engine) ? agw_grid_count(agw_engine_grid(d->engine)) : 0, n_cams);
	agw_cameras_free(cams, n_cams);
	*ret = d;
	return 0;
fail:
	agw_cameras_free(cams, n_cams);
	agw_ruleset_free(rules);
	agw_grid_free(grid);
	agw_decider_free(d);
	return r < 0 ? r : -EINVAL;
}

/* The pipeline's monotonic clock (uv_hrtime), in ms. */
int64_t decider_mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void agw_decider_free(struct agw_decider *d)
{
	if (!d)
		return;
	agw_engine_free(d->engine);
	agw_evidence_links_free(d->links);
	free(d->topic_prefix);
	free(d->case_topic);
	free(d);
}

void agw_decider_keep_links(struct agw_decider *nx, struct agw_decider *old)
{
	agw_evidence_links_free(nx->links);
	nx->links = old->links;
	old->links = NULL;
}

struct agw_engine *agw_decider_engine(struct agw_decider *d)
{
	return d->engine;
}

int agw_decider_locate(struct agw_decider *d, const struct agw_camera *c, double lon, double lat, enum agw_crs crs)
{
	if (!isfinite(lon) || !isfinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90)
		return -EINVAL;
	return agw_engine_camera_set(d->engine, c->id, c->name, c->vendor, c->tags, c->owner_cell, true, lon, lat, crs);
}

int agw_decider_evaluate(struct agw_decider *d, int64_t alert_seq, const struct agw_alert *alert,
			 struct agw_decision *ret)
{
	return agw_engine_decide(d->engine, alert, alert_seq, agw_now_ms(), ret);
}

static const char *level(const struct agw_cell *cell, size_t i)
{
	/* path = parents top-down, then the cell: level i exists when there are more than i parents */
	if (cell && i + 1 < cell->n_path)
		return cell->path[i];
	return "_";
}

/* Most decisions add an alert to an open case: only its activity columns change. Writing those alone
 * spares sqlite the index entries of the columns it would otherwise rewrite with the same values
 * (incident and status, closure, supervision, expiry: four indexes, each a b-tree delete and insert
 * on a page of its own). 1: written; 0: the stored row differs in more (or is missing): upsert it. */
static int touch_case_row(struct agw_store *store, const struct agw_case_view *c, const char *json, size_t len)
{
	sqlite3_stmt *st = agw_store_stmt(
		store, "UPDATE cases SET last_seen = ?, count = ?, updated_at = ?, json = ? WHERE id = ? AND status = ?"
		       " AND esc_level = ? AND sup_due IS ? AND expire_at IS ? AND closed_at IS ?");
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, c->last_seen);
	sqlite3_bind_int64(st, 2, c->count);
	sqlite3_bind_int64(st, 3, c->updated_ms);
	sqlite3_bind_text(st, 4, json, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, agw_case_status_name(c->status), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, c->esc_level);
	/* unbound parameters are NULL: "IS NULL" for what the upsert would leave NULL */
	if (c->sup_due_ms)
		sqlite3_bind_int64(st, 8, c->sup_due_ms);
	if (c->expire_ms)
		sqlite3_bind_int64(st, 9, c->expire_ms);
	if (c->end != AGW_END_NONE)
		sqlite3_bind_int64(st, 10, c->ended_ms);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		agw_log_err(LOG_COMP, c->camera_id, "writing case %s: %s", c->id, sqlite3_errmsg(agw_store_db(store)));
		return -EIO;
	}
	return sqlite3_changes(agw_store_db(store)) > 0;
}

static int write_case_row(struct agw_store *store, const struct agw_case_view *c, const char *json, size_t len)
{
	int touched = touch_case_row(store, c, json, len);
	if (touched != 0)
		return touched < 0 ? touched : 0;
	sqlite3_stmt *st = agw_store_stmt(
		store, "INSERT INTO cases(id, incident_key, camera_id, kind, cell_code, status, category, priority,"
		       " first_seen, last_seen, count, opened_at, updated_at, json, esc_level, sup_due, expire_at, closed_at)"
		       " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		       " ON CONFLICT(id) DO UPDATE SET status = excluded.status, last_seen = excluded.last_seen,"
		       " count = excluded.count, updated_at = excluded.updated_at, json = excluded.json,"
		       " esc_level = excluded.esc_level, sup_due = excluded.sup_due, expire_at = excluded.expire_at,"
		       " closed_at = excluded.closed_at");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->camera_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, agw_alert_kind_name(c->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->cell_code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, agw_case_status_name(c->status), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->category, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, c->priority);
	sqlite3_bind_int64(st, 9, c->first_seen);
	sqlite3_bind_int64(st, 10, c->last_seen);
	sqlite3_bind_int64(st, 11, c->count);
	sqlite3_bind_int64(st, 12, c->created_ms);
	sqlite3_bind_int64(st, 13, c->updated_ms);
	sqlite3_bind_text(st, 14, json, (int)len, SQLITE_STATIC);
	sqlite3_bind_int(st, 15, c->esc_level);
	if (c->sup_due_ms)
		sqlite3_bind_int64(st, 16, c->sup_due_ms);
	if (c->expire_ms)
		sqlite3_bind_int64(st, 17, c->expire_ms);
	if (c->end != AGW_END_NONE) /* retention counts from here */
		sqlite3_bind_int64(st, 18, c->ended_ms);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		agw_log_err(LOG_COMP, c->camera_id, "writing case %s: %s", c->id, sqlite3_errmsg(agw_store_db(store)));
		return -EIO;
	}
	return 0;
}

/* One outbox row for the message on the topic the template gives; esc_level: the escalation
 * target's {level} and {code} (0: none). */
static int push_message(struct agw_decider *d, struct agw_store *store, const struct agw_case *inc, const char *tmpl,
			const char *json, size_t len, int esc_level)
{
	struct agw_case_view c;
	agw_case_view_get(inc, &c);
	struct agw_topic_vars vars = {
		.prefix = d->topic_prefix,
		.gateway = agw_engine_gateway_id(d->engine),
		.district = level(c.cell, 0),
		.street = level(c.cell, 1),
		.community = level(c.cell, 2),
		.grid = c.cell_code,
		.kind = agw_alert_kind_name(c.kind),
		.camera = c.camera_id,
		.case_id = esc_level ? c.id : NULL, /* an escalation topic may name the case */
	};
	if (esc_level)
		agw_case_escalation_target(inc, esc_level, &vars.level, &vars.code);
	char topic[1024];
	int r = agw_topic_expand(tmpl, &vars, topic, sizeof(topic));
	if (r < 0) {
		/* `alarmgw check` validates the template; a value can still produce a bad level. */
		agw_metric_add("agw_case_topic_errors_total", NULL, 1);
		agw_log_err(LOG_COMP, c.camera_id, "case %s: the topic template %s does not expand (%s); not published",
			    c.id, tmpl, strerror(-r));
		return 0;
	}
	r = agw_store_outbox_push(store, topic, json, len, 1, false, c.id, d->outbox_max_rows, NULL);
	if (r == -ENOSPC) {
		/* The decision and the case row stay; the platform gets the case's next update. */
		agw_metric_add("agw_outbox_full_total", NULL, 1);
		if (d->outbox_full++ % 1000 == 0)
			agw_log_warn(LOG_COMP, c.camera_id,
				     "outbox full (%" PRId64 " rows): case %s not queued for MQTT (%" PRId64 " so far)",
				     d->outbox_max_rows, c.id, d->outbox_full);
		return 0;
	}
	return r < 0 ? r : 0;
}

/* The case row and its message: on the case topic, and an escalation also up the grid path. */
static int write_case(struct agw_decider *d, struct agw_store *store, const struct agw_decision *dec)
{
	struct agw_case_view c;
	agw_case_view_get(dec->incident, &c);
	struct agw_evidence_list ev = {0};
	char *json = NULL;
	size_t len = 0;
	int r = d->list_evidence ? agw_evidence_list(store, c.id, &ev) : 0;
	if (r < 0)
		return r;
	agw_evidence_links_fill(d->links, c.id, ev.v, ev.n, agw_now_ms());
	r = agw_case_message(d->engine, dec->incident, dec->action, ev.v, ev.n, &json, &len);
	agw_evidence_list_clear(&ev);
	if (r < 0)
		return r;
	if ((r = write_case_row(store, &c, json, len)) == 0)
		r = push_message(d, store, dec->incident, d->case_topic, json, len, 0);
	if (r == 0 && dec->action == AGW_DECISION_ESCALATE) {
		const struct agw_ruleset *rs = agw_engine_rules(d->engine);
		r = push_message(d, store, dec->incident, or_default(rs->supervision.topic, AGW_DEFAULT_ESCALATION_TOPIC),
				 json, len, c.esc_level);
	}
	free(json);
	return r;
}

int decider_write_decision(struct agw_decider *d, struct agw_store *store, const struct agw_decision *dec)
{
	const char *action = agw_decision_action_name(dec->action);
	char labels[160];
	if (dec->action == AGW_DECISION_DROP) {
		/* Drops by reason: the rule that dropped it, or the built-in reason's name (the text before
		 * any ':'), a small fixed set; the full reason is in the decisions table. */
		char why[96];
		snprintf(why, sizeof(why), "%.95s", dec->rule ? dec->rule : dec->reason);
		if (!dec->rule)
			why[strcspn(why, ":")] = '\0';
		for (char *q = why; *q; q++)
			if (*q == '"' || *q == '\\' || *q == '\n')
				*q = '_';
		snprintf(labels, sizeof(labels), "action=\"drop\",reason=\"%s\"", why);
	} else {
		snprintf(labels, sizeof(labels), "action=\"%s\"", action);
	}
	metric_decision(d, labels);
	int r = agw_store_decision_add(store, dec->alert_seq, action, dec->rule, dec->reason,
				       dec->incident ? agw_case_id(dec->incident) : NULL, dec->at_ms);
	if (r < 0)
		return r;
	if (dec->action == AGW_DECISION_DROP || !dec->incident)
		return 0;
	return write_case(d, store, dec);
}

int agw_decider_decide(void *decider, struct agw_store *store, int64_t alert_seq, const struct agw_alert *alert,
		       int64_t mono_ms)
{
	struct agw_decider *d = decider;
	struct agw_decision dec;
	if (alert->gateway_time_ms)
		d->wall_minus_mono = alert->gateway_time_ms - mono_ms;
	d->last_action = AGW_DECISION_DROP;
	int r = agw_engine_decide_at(d->engine, alert, alert_seq, agw_now_ms(), mono_ms, &dec);
	if (r < 0)
		return r;
	r = decider_write_decision(d, store, &dec);
	if (r == 0 && dec.incident) {
		struct agw_case_view c;
		agw_case_view_get(dec.incident, &c);
		d->last_action = dec.action;
		snprintf(d->last_case, sizeof(d->last_case), "%s", c.id);
	}
	return r;
}

const char *agw_decider_last_case(const struct agw_decider *d, enum agw_decision_action *ret_action)
{
	*ret_action = d->last_action;
	return d->last_action == AGW_DECISION_DROP ? NULL : d->last_case;
}

int decider_emit(void *arg, const struct agw_decision *dec)
{
	struct decider_emit_ctx *t = arg;
	return decider_write_decision(t->d, t->store, dec);
}

int agw_decider_tick(void *decider, struct agw_store *store, int64_t now_ms, int64_t mono_ms)
{
	struct decider_emit_ctx t = {decider, store};
	t.d->wall_minus_mono = now_ms - mono_ms;
	int r = agw_engine_tick_at(t.d->engine, now_ms, mono_ms, decider_emit, &t);
	if (r >= 0)
		r = decider_expire_idle(t.d, store, now_ms);
	return r < 0 ? r : 0;
}

int agw_decider_check(const struct agw_config *cfg, struct agw_errors *errs)
{
	int ret = 0;
	struct agw_ruleset *rs = NULL;
	if (cfg->rules_file && *cfg->rules_file)
		ret = load_rules(cfg, &rs, errs);
	/* The case topic template with values shaped like real ones. */
	struct agw_topic_vars vars = {"agw", "gw", "110105", "110105001", "110105001001", "110105001001001",
				      "intrusion", "cam-1", NULL, NULL, NULL, NULL};
	char topic[1024];
	const char *tmpl = or_default(cfg->mqtt.case_topic, AGW_DEFAULT_CASE_TOPIC);
	if (agw_topic_expand(tmpl, &vars, topic, sizeof(topic)) < 0) {
		agw_errors_add(errs, cfg->path ? cfg->path : "config", 0,
			       "mqtt.case_topic \"%s\": unknown placeholder, wildcard (+ #) or empty level", tmpl);
		ret = -EINVAL;
	}
	/* The escalation topic has the escalation target too. */
	vars.level = "street";
	vars.code = "110105001";
	vars.case_id = "agw-0123456789abcdef";
	if (rs && rs->supervision.topic && agw_topic_expand(rs->supervision.topic, &vars, topic, sizeof(topic)) < 0) {
		agw_errors_add(errs, cfg->rules_file, 0,
			       "supervision.topic \"%s\": unknown placeholder, wildcard (+ #) or empty level",
			       rs->supervision.topic);
		ret = -EINVAL;
	}
	agw_ruleset_free(rs);
	return ret < 0 ? ret : 0;
}
