/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store: one sqlite database (WAL) under the state directory holding the camera ledger, the
 * alert journal, decisions, cases, the MQTT outbox and grid layers. Used from the loop thread only.
 * The schema is versioned (PRAGMA user_version) and migrated forward on open; see store_schema.c. */
#ifndef ALARMGW_STORE_H
#define ALARMGW_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarmgw/adapter.h"
#include "alarmgw/alert.h"

struct agw_store;

/* Opens (creating if needed) and migrates the database. On failure writes a reason into err. */
int agw_store_open(const char *path, struct agw_store **ret_store, char *err, size_t errlen);
void agw_store_close(struct agw_store *store); /* NULL is a no-op */
sqlite3 *agw_store_db(struct agw_store *store);
int agw_store_schema_version(struct agw_store *store);
int agw_store_latest_schema_version(void);
/* Migrates an open raw connection up to version `target` (tests use it to build old schemas). */
int agw_store_migrate(sqlite3 *db, int target, char *err, size_t errlen);

/* How long a statement waits for another connection's write lock (sqlite busy_timeout) before it
 * fails with -EIO. The store opens with 5 s (CLI commands beside the daemon); the daemon's loop
 * sets 20 ms and the pipeline retries from a timer instead, so a lock held by another process
 * never freezes the loop. */
int agw_store_set_busy_timeout(struct agw_store *store, int ms);

/* Transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK; return 0 or -EIO. */
int agw_store_begin(struct agw_store *store);
int agw_store_commit(struct agw_store *store);
int agw_store_rollback(struct agw_store *store);

/* A prepared statement cache keyed by the SQL text's address (pass string literals). The statement
 * is reset and its bindings cleared before it is returned. */
sqlite3_stmt *agw_store_stmt(struct agw_store *store, const char *sql);

/* Camera ledger. replace: inside the caller's transaction, deletes all cameras then inserts these. */
int agw_store_cameras_replace(struct agw_store *store, const struct agw_camera *cameras, size_t n);
/* Inside the caller's transaction: deletes the cameras of gone (by id), then inserts put; what a
 * reload writes when only some rows of a large ledger changed (gateway/daemon/camera_diff.h). */
int agw_store_cameras_change(struct agw_store *store, const struct agw_camera *const *gone, size_t n_gone,
			     const struct agw_camera *const *put, size_t n_put);
/* Loads all cameras ordered by id; *ret_cameras is an array freed with agw_cameras_free. */
int agw_store_cameras_load(struct agw_store *store, struct agw_camera **ret_cameras, size_t *ret_n);
void agw_camera_clear(struct agw_camera *camera);
void agw_cameras_free(struct agw_camera *cameras, size_t n);
int agw_camera_copy(struct agw_camera *dst, const struct agw_camera *src);
bool agw_camera_equal(const struct agw_camera *a, const struct agw_camera *b);

/* Alert journal (inside the caller's transaction). *ret_seq gets the journal row id. */
int agw_store_journal_alert(struct agw_store *store, const struct agw_alert *alert, int64_t *ret_seq);
int64_t agw_store_journal_count(struct agw_store *store);

/* Decisions (inside the caller's transaction). action: "open", "update", "close", "drop". */
int agw_store_decision_add(struct agw_store *store, int64_t alert_seq, const char *action, const char *rule,
			   const char *reason, const char *case_id, int64_t at_ms);

/* The outbox: gateway/store/outbox.h */
#include "outbox.h"

/* Adapter state (adapter.h state_put/state_get): one text value per adapter, camera and key, in
 * its own autocommit statement (or the caller's transaction). value NULL deletes. get: *ret_value
 * malloc'd, -ENOENT when there is none. -EIO when the store fails, -EMSGSIZE over 64 KiB. */
#define AGW_STORE_STATE_MAX 65536
int agw_store_adapter_state_put(struct agw_store *store, const char *adapter, const char *camera_id, const char *key,
				const char *value, int64_t now_ms);
int agw_store_adapter_state_get(struct agw_store *store, const char *adapter, const char *camera_id, const char *key,
				char **ret_value);

/* Camera channels (adapter.h subscribed): the first time the camera was given to an adapter that
 * reports subscriptions (kept), and each time its channel opened. 0 or -EIO. */
int agw_store_channel_tried(struct agw_store *store, const char *camera_id, int64_t now_ms);
int agw_store_channel_subscribed(struct agw_store *store, const char *camera_id, int64_t now_ms);

#endif
