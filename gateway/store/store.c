/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sqlite store: open + migrate, statement cache, ledger, journal, decisions, outbox. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alarmgw/log.h"
#include "alarmgw/str.h"
#include "alarmgw/metrics.h"
#include "store.h"

#define STMT_CACHE 64

struct agw_store {
	sqlite3 *db;
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[STMT_CACHE];
	size_t n_cache;
};

int agw_store_open(const char *path, struct agw_store **ret_store, char *err, size_t errlen)
{
	struct agw_store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int r = -EIO;
	/* The ledger holds camera passwords: a new database is readable by its owner only (sqlite gives
	 * its -wal and -shm files the same mode). An existing file keeps the mode the operator set. */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	/* WAL + NORMAL survives a process crash (the outbox's promise); busy_timeout lets CLI commands
	 * run beside the daemon. */
	char *msg = NULL;
	if (sqlite3_exec(s->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
			 "PRAGMA busy_timeout=5000;",
			 NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot configure database %s: %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		goto fail;
	}
	r = agw_store_migrate(s->db, agw_store_latest_schema_version(), err, errlen);
	if (r < 0)
		goto fail;
	*ret_store = s;
	return 0;
fail:
	agw_store_close(s);
	return r;
}

void agw_store_close(struct agw_store *store)
{
	if (!store)
		return;
	for (size_t i = 0; i < store->n_cache; i++)
		sqlite3_finalize(store->cache[i].stmt);
	sqlite3_close(store->db);
	free(store);
}

sqlite3 *agw_store_db(struct agw_store *store)
{
	return store->db;
}

int agw_store_schema_version(struct agw_store *store)
{
	sqlite3_stmt *st = agw_store_stmt(store, "PRAGMA user_version");
	int v = (st && sqlite3_step(st) == SQLITE_ROW) ? sqlite3_column_int(st, 0) : -EIO;
	if (st)
		sqlite3_reset(st);
	return v;
}

sqlite3_stmt *agw_store_stmt(struct agw_store *store, const char *sql)
{
	for (size_t i = 0; i < store->n_cache; i++)
		if (store->cache[i].sql == sql) {
			sqlite3_reset(store->cache[i].stmt);
			sqlite3_clear_bindings(store->cache[i].stmt);
			return store->cache[i].stmt;
		}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		agw_log_err("store", NULL, "cannot prepare statement: %s", sqlite3_errmsg(store->db));
		return NULL;
	}
	if (store->n_cache < STMT_CACHE) {
		store->cache[store->n_cache].sql = sql;
		store->cache[store->n_cache].stmt = st;
		store->n_cache++;
	} else {
		/* More distinct statements than the cache holds is a programming error; keep working. */
		agw_log_warn("store", NULL, "statement cache full; statement leaked until close");
	}
	return st;
}

static int exec_simple(struct agw_store *store, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(store->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		agw_log_err("store", NULL, "%s failed: %s", sql, msg ? msg : "?");
		sqlite3_free(msg);
		agw_metric_add("agw_store_errors_total", NULL, 1);
		return -EIO;
	}
	return 0;
}

int agw_store_set_busy_timeout(struct agw_store *store, int ms)
{
	return sqlite3_busy_timeout(store->db, ms) == SQLITE_OK ? 0 : -EIO;
}

/* BEGIN and COMMIT run once per batch: prepared once (sqlite3_exec would parse them every time). */
static int exec_cached(struct agw_store *store, const char *sql)
{
	sqlite3_stmt *st = agw_store_stmt(store, sql);
	if (!st)
		return exec_simple(store, sql);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		agw_log_err("store", NULL, "%s failed: %s", sql, sqlite3_errmsg(store->db));
		agw_metric_add("agw_store_errors_total", NULL, 1);
		return -EIO;
	}
	return 0;
}

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";

int agw_store_begin(struct agw_store *store)
{
	return exec_cached(store, SQL_BEGIN);
}

int agw_store_commit(struct agw_store *store)
{
	return exec_cached(store, SQL_COMMIT);
}

int agw_store_rollback(struct agw_store *store)
{
	if (sqlite3_get_autocommit(store->db))
		return 0;
	return exec_simple(store, "ROLLBACK");
}

/* Runs a prepared write statement to completion. */
static int step_done(struct agw_store *store, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		agw_log_err("store", NULL, "write failed: %s", sqlite3_errmsg(store->db));
		agw_metric_add("agw_store_errors_total", NULL, 1);
		return -EIO;
	}
	return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_time(sqlite3_stmt *st, int i, int64_t ms)
{
	if (ms == AGW_TIME_UNKNOWN)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, ms);
}

/* ---- cameras ---- */

void agw_camera_clear(struct agw_camera *c)
{
	free(c->id);
	free(c->name);
	free(c->vendor);
	free(c->protocol);
	free(c->address);
	free(c->username);
	free(c->password);
	free(c->crs);
	free(c->tags);
	free(c->owner_cell);
	free(c->device);
	free(c->source_token);
	free(c->snapshot_url);
	free(c->snapshot_username);
	free(c->snapshot_password);
	memset(c, 0, sizeof(*c));
	c->lon = c->lat = NAN;
}

void agw_cameras_free(struct agw_camera *cameras, size_t n)
{
	for (size_t i = 0; cameras && i < n; i++)
		agw_camera_clear(&cameras[i]);
	free(cameras);
}

int agw_camera_copy(struct agw_camera *dst, const struct agw_camera *src)
{
	struct agw_camera c = {.lon = src->lon, .lat = src->lat, .channel = src->channel};
	if (agw_strdup_to(&c.id, src->id) < 0 || agw_strdup_to(&c.name, src->name) < 0 ||
	    agw_strdup_to(&c.vendor, src->vendor) < 0 || agw_strdup_to(&c.protocol, src->protocol) < 0 ||
	    agw_strdup_to(&c.address, src->address) < 0 || agw_strdup_to(&c.username, src->username) < 0 ||
	    agw_strdup_to(&c.password, src->password) < 0 || agw_strdup_to(&c.crs, src->crs) < 0 ||
	    agw_strdup_to(&c.tags, src->tags) < 0 || agw_strdup_to(&c.owner_cell, src->owner_cell) < 0 ||
	    agw_strdup_to(&c.device, src->device) < 0 || agw_strdup_to(&c.source_token, src->source_token) < 0 ||
	    agw_strdup_to(&c.snapshot_url, src->snapshot_url) < 0 ||
	    agw_strdup_to(&c.snapshot_username, src->snapshot_username) < 0 ||
	    agw_strdup_to(&c.snapshot_password, src->snapshot_password) < 0) {
		agw_camera_clear(&c);
		return -ENOMEM;
	}
	*dst = c;
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool num_eq(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

bool agw_camera_equal(const struct agw_camera *a, const struct agw_camera *b)
{
	return str_eq(a->id, b->id) && str_eq(a->name, b->name) && str_eq(a->vendor, b->vendor) &&
	       str_eq(a->protocol, b->protocol) && str_eq(a->address, b->address) &&
	       str_eq(a->username, b->username) && str_eq(a->password, b->password) && num_eq(a->lon, b->lon) &&
	       num_eq(a->lat, b->lat) && str_eq(a->crs, b->crs) && str_eq(a->tags, b->tags) &&
	       str_eq(a->owner_cell, b->owner_cell) && str_eq(a->device, b->device) && a->channel == b->channel &&
	       str_eq(a->source_token, b->source_token) && str_eq(a->snapshot_url, b->snapshot_url) &&
	       str_eq(a->snapshot_username, b->snapshot_username) && str_eq(a->snapshot_password, b->snapshot_password);
}

static const char SQL_CAMERAS_DELETE[] = "DELETE FROM cameras";
static const char SQL_CAMERA_INSERT[] =
	"INSERT INTO cameras(id,name,vendor,protocol,address,username,password,lon,lat,crs,tags,owner_cell,updated_at,"
	"device,channel,source_token,snapshot_url,snapshot_username,snapshot_password)"
	" VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

static int camera_insert(struct agw_store *store, const struct agw_camera *c, int64_t now)
{
	sqlite3_stmt *st = agw_store_stmt(store, SQL_CAMERA_INSERT);
	if (!st)
		return -EIO;
	bind_text(st, 1, c->id);
	bind_text(st, 2, c->name);
	bind_text(st, 3, c->vendor);
	bind_text(st, 4, c->protocol);
	bind_text(st, 5, c->address);
	bind_text(st, 6, c->username);
	bind_text(st, 7, c->password);
	if (isnan(c->lon) || isnan(c->lat)) {
		sqlite3_bind_null(st, 8);
		sqlite3_bind_null(st, 9);
	} else {
		sqlite3_bind_double(st, 8, c->lon);
		sqlite3_bind_double(st, 9, c->lat);
	}
	bind_text(st, 10, c->crs);
	bind_text(st, 11, c->tags);
	bind_text(st, 12, c->owner_cell);
	sqlite3_bind_int64(st, 13, now);
	bind_text(st, 14, c->device);
	if (c->channel > 0)
		sqlite3_bind_int(st, 15, c->channel);
	else
		sqlite3_bind_null(st, 15);
	bind_text(st, 16, c->source_token);
	bind_text(st, 17, c->snapshot_url);
	bind_text(st, 18, c->snapshot_username);
	bind_text(st, 19, c->snapshot_password);
	return step_done(store, st);
}

int agw_store_cameras_replace(struct agw_store *store, const struct agw_camera *cameras, size_t n)
{
	sqlite3_stmt *del = agw_store_stmt(store, SQL_CAMERAS_DELETE);
	if (!del || step_done(store, del) < 0)
		return -EIO;
	int64_t now = agw_now_ms();
	for (size_t i = 0; i < n; i++)
		if (camera_insert(store, &cameras[i], now) < 0)
			return -EIO;
	return 0;
}

static const char SQL_CAMERA_DELETE_ID[] = "DELETE FROM cameras WHERE id = ?";

int agw_store_cameras_change(struct agw_store *store, const struct agw_camera *const *gone, size_t n_gone,
			     const struct agw_camera *const *put, size_t n_put)
{
	for (size_t i = 0; i < n_gone; i++) {
		sqlite3_stmt *st = agw_store_stmt(store, SQL_CAMERA_DELETE_ID);
		if (!st)
			return -EIO;
		bind_text(st, 1, gone[i]->id);
		if (step_done(store, st) < 0)
			return -EIO;
	}
	int64_t now = agw_now_ms();
	for (size_t i = 0; i < n_put; i++)
		if (camera_insert(store, put[i], now) < 0)
			return -EIO;
	return 0;
}

static const char SQL_CAMERAS_LOAD[] =
	"SELECT id,name,vendor,protocol,address,username,password,lon,lat,crs,tags,owner_cell,device,channel,"
	"source_token,snapshot_url,snapshot_username,snapshot_password FROM cameras"
	" ORDER BY id";

static int column_dup(sqlite3_stmt *st, int i, char **dst)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	*dst = t ? strdup((const char *)t) : NULL;
	return (!t || *dst) ? 0 : -ENOMEM;
}

int agw_store_cameras_load(struct agw_store *store, struct agw_camera **ret_cameras, size_t *ret_n)
{
	sqlite3_stmt *st = agw_store_stmt(store, SQL_CAMERAS_LOAD);
	if (!st)
		return -EIO;
	struct agw_camera *v = NULL;
	size_t n = 0, cap = 0;
	int rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct agw_camera *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
		}
		struct agw_camera *c = &v[n++];
		memset(c, 0, sizeof(*c));
		c->lon = sqlite3_column_type(st, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 7);
		c->lat = sqlite3_column_type(st, 8) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 8);
		c->channel = sqlite3_column_int(st, 13); /* NULL reads as 0: none */
		if (column_dup(st, 0, &c->id) < 0 || column_dup(st, 1, &c->name) < 0 ||
		    column_dup(st, 2, &c->vendor) < 0 || column_dup(st, 3, &c->protocol) < 0 ||
		    column_dup(st, 4, &c->address) < 0 || column_dup(st, 5, &c->username) < 0 ||
		    column_dup(st, 6, &c->password) < 0 || column_dup(st, 9, &c->crs) < 0 ||
		    column_dup(st, 10, &c->tags) < 0 || column_dup(st, 11, &c->owner_cell) < 0 ||
		    column_dup(st, 12, &c->device) < 0 || column_dup(st, 14, &c->source_token) < 0 ||
		    column_dup(st, 15, &c->snapshot_url) < 0 || column_dup(st, 16, &c->snapshot_username) < 0 ||
		    column_dup(st, 17, &c->snapshot_password) < 0) {
			r = -ENOMEM;
			break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_reset(st);
	if (r < 0) {
		agw_cameras_free(v, n);
		return r;
	}
	*ret_cameras = v;
	*ret_n = n;
	return (int)n;
}

/* ---- journal ---- */

static const char SQL_JOURNAL[] =
	"INSERT INTO alerts(camera_id,adapter,kind,active,operation,camera_time,gateway_time,clock_offset,topic,"
	"event_id,json) VALUES(?,?,?,?,?,?,?,?,?,?,?)";

int agw_store_journal_alert(struct agw_store *store, const struct agw_alert *a, int64_t *ret_seq)
{
	char *json = NULL;
	int r = agw_alert_to_json(a, &json);
	if (r < 0)
		return r;
	sqlite3_stmt *st = agw_store_stmt(store, SQL_JOURNAL);
	if (!st) {
		free(json);
		return -EIO;
	}
	bind_text(st, 1, a->camera_id);
	bind_text(st, 2, a->adapter);
	bind_text(st, 3, agw_alert_kind_name(a->kind));
	if (a->active == AGW_ACTIVE_NONE)
		sqlite3_bind_null(st, 4);
	else
		sqlite3_bind_int(st, 4, a->active == AGW_ACTIVE_TRUE);
	bind_text(st, 5, agw_operation_name(a->operation));
	bind_time(st, 6, a->camera_time_ms);
	sqlite3_bind_int64(st, 7, a->gateway_time_ms);
	sqlite3_bind_int64(st, 8, a->clock_offset_ms);
	bind_text(st, 9, a->topic);
	bind_text(st, 10, a->event_id);
	sqlite3_bind_text(st, 11, json, -1, free);
	r = step_done(store, st);
	if (r < 0)
		return r;
	if (ret_seq)
		*ret_seq = sqlite3_last_insert_rowid(store->db);
	return 0;
}

static int64_t count_rows(struct agw_store *store, const char *sql)
{
	sqlite3_stmt *st = agw_store_stmt(store, sql);
	if (!st)
		return -EIO;
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -EIO;
	sqlite3_reset(st);
	return n;
}

static const char SQL_JOURNAL_COUNT[] = "SELECT count(*) FROM alerts";

int64_t agw_store_journal_count(struct agw_store *store)
{
	return count_rows(store, SQL_JOURNAL_COUNT);
}

/* ---- decisions ---- */

static const char SQL_DECISION[] = "INSERT INTO decisions(alert_seq,action,rule,reason,case_id,at) VALUES(?,?,?,?,?,?)";

int agw_store_decision_add(struct agw_store *store, int64_t alert_seq, const char *action, const char *rule,
			   const char *reason, const char *case_id, int64_t at_ms)
{
	sqlite3_stmt *st = agw_store_stmt(store, SQL_DECISION);
	if (!st)
		return -EIO;
	if (alert_seq > 0)
		sqlite3_bind_int64(st, 1, alert_seq);
	else
		sqlite3_bind_null(st, 1);
	bind_text(st, 2, action);
	bind_text(st, 3, rule);
	bind_text(st, 4, reason);
	bind_text(st, 5, case_id);
	sqlite3_bind_int64(st, 6, at_ms);
	return step_done(store, st);
}

/* The outbox: gateway/store/outbox.c */

/* ---- adapter state ---- */

static const char SQL_STATE_PUT[] =
	"INSERT INTO adapter_state(adapter,camera_id,key,value,updated_at) VALUES(?,?,?,?,?) "
	"ON CONFLICT(adapter,camera_id,key) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at";
static const char SQL_STATE_DEL[] = "DELETE FROM adapter_state WHERE adapter=? AND camera_id=? AND key=?";
static const char SQL_STATE_GET[] = "SELECT value FROM adapter_state WHERE adapter=? AND camera_id=? AND key=?";

int agw_store_adapter_state_put(struct agw_store *store, const char *adapter, const char *camera_id, const char *key,
				const char *value, int64_t now_ms)
{
	if (value && strlen(value) > AGW_STORE_STATE_MAX)
		return -EMSGSIZE;
	sqlite3_stmt *st = agw_store_stmt(store, value ? SQL_STATE_PUT : SQL_STATE_DEL);
	if (!st)
		return -EIO;
	bind_text(st, 1, adapter);
	bind_text(st, 2, camera_id);
	bind_text(st, 3, key);
	if (value) {
		bind_text(st, 4, value);
		sqlite3_bind_int64(st, 5, now_ms);
	}
	return step_done(store, st);
}

int agw_store_adapter_state_get(struct agw_store *store, const char *adapter, const char *camera_id, const char *key,
				char **ret_value)
{
	sqlite3_stmt *st = agw_store_stmt(store, SQL_STATE_GET);
	if (!st)
		return -EIO;
	bind_text(st, 1, adapter);
	bind_text(st, 2, camera_id);
	bind_text(st, 3, key);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return -EIO;
	}
	const unsigned char *v = sqlite3_column_text(st, 0);
	char *copy = strdup(v ? (const char *)v : "");
	sqlite3_reset(st);
	if (!copy)
		return -ENOMEM;
	*ret_value = copy;
	return 0;
}

/* ---- camera channels ---- */

int agw_store_channel_tried(struct agw_store *store, const char *camera_id, int64_t now_ms)
{
	sqlite3_stmt *st = agw_store_stmt(store, "INSERT INTO camera_channels(camera_id, tried_at) VALUES(?, ?)"
						 " ON CONFLICT(camera_id) DO NOTHING");
	if (!st)
		return -EIO;
	bind_text(st, 1, camera_id);
	sqlite3_bind_int64(st, 2, now_ms);
	return step_done(store, st);
}

int agw_store_channel_subscribed(struct agw_store *store, const char *camera_id, int64_t now_ms)
{
	sqlite3_stmt *st = agw_store_stmt(store, "INSERT INTO camera_channels(camera_id, tried_at, first_subscribed_at,"
						 " subscribed_at) VALUES(?1, ?2, ?2, ?2) ON CONFLICT(camera_id) DO UPDATE"
						 " SET first_subscribed_at = coalesce(first_subscribed_at, ?2),"
						 " subscribed_at = ?2");
	if (!st)
		return -EIO;
	bind_text(st, 1, camera_id);
	sqlite3_bind_int64(st, 2, now_ms);
	return step_done(store, st);
}
