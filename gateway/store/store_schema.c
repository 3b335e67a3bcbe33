/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The schema, as a list of forward migrations. Never edit a released step: append a new one.
 * PRAGMA user_version holds the number of steps applied. */
#include <errno.h>
#include <stdio.h>

#include "store.h"

static const char *const migrations[] = {
	/* 1: the camera ledger and the alert journal */
	"CREATE TABLE cameras("
	"  id TEXT PRIMARY KEY, name TEXT NOT NULL, vendor TEXT, protocol TEXT NOT NULL,"
	"  address TEXT NOT NULL, username TEXT, password TEXT, lon REAL, lat REAL, crs TEXT,"
	"  tags TEXT, owner_cell TEXT, updated_at INTEGER NOT NULL);"
	"CREATE TABLE alerts("
	"  seq INTEGER PRIMARY KEY, camera_id TEXT NOT NULL, adapter TEXT, kind TEXT NOT NULL,"
	"  active INTEGER, operation TEXT, camera_time INTEGER, gateway_time INTEGER NOT NULL,"
	"  clock_offset INTEGER, topic TEXT, event_id TEXT, json TEXT NOT NULL);",

	/* 2: decisions, cases and the MQTT outbox */
	"CREATE TABLE decisions("
	"  seq INTEGER PRIMARY KEY, alert_seq INTEGER, action TEXT NOT NULL, rule TEXT, reason TEXT,"
	"  case_id TEXT, at INTEGER NOT NULL);"
	"CREATE TABLE cases("
	"  id TEXT PRIMARY KEY, incident_key TEXT NOT NULL, camera_id TEXT, kind TEXT, cell_code TEXT,"
	"  status TEXT NOT NULL, category TEXT, priority INTEGER, first_seen INTEGER, last_seen INTEGER,"
	"  count INTEGER NOT NULL DEFAULT 1, opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	"  closed_at INTEGER, json TEXT);"
	"CREATE INDEX cases_incident ON cases(incident_key, status);"
	"CREATE TABLE outbox("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload BLOB NOT NULL,"
	"  qos INTEGER NOT NULL DEFAULT 1, retained INTEGER NOT NULL DEFAULT 0, case_id TEXT,"
	"  created_at INTEGER NOT NULL);",

	/* 3: grid layers and their cells; journal look-ups by camera and time */
	"CREATE TABLE grid_layers("
	"  name TEXT PRIMARY KEY, crs TEXT NOT NULL, version INTEGER NOT NULL, imported_at INTEGER NOT NULL,"
	"  source TEXT, cells INTEGER NOT NULL);"
	"CREATE TABLE grid_cells("
	"  layer TEXT NOT NULL, code TEXT NOT NULL, name TEXT, parents TEXT, workers TEXT,"
	"  geometry TEXT NOT NULL, PRIMARY KEY(layer, code));"
	"CREATE INDEX alerts_camera_time ON alerts(camera_id, gateway_time);",

	/* 4: closed cases found by age (journal retention) */
	"CREATE INDEX cases_closed ON cases(status, closed_at);",

	/* 5: what adapters keep across restarts, per camera (ONVIF: the subscription to resume) */
	"CREATE TABLE adapter_state("
	"  adapter TEXT NOT NULL, camera_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL, PRIMARY KEY(adapter, camera_id, key));",

	/* 6: outbox row states. A row is pending until the broker acknowledges it, or parked with the
	 * reason when the broker refused it (or it can never be sent): a parked row waits for the
	 * operator (`alarmgw outbox retry`) and blocks nothing. outbox_rows counts the rows of each
	 * state, kept exact by triggers, so the limit and the depth are row counts read in O(1). */
	"ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending' CHECK(state IN ('pending','parked'));"
	"ALTER TABLE outbox ADD COLUMN reason TEXT;"
	"ALTER TABLE outbox ADD COLUMN parked_at INTEGER;"
	"CREATE INDEX outbox_parked ON outbox(seq) WHERE state = 'parked';"
	"CREATE TABLE outbox_rows(state TEXT PRIMARY KEY, n INTEGER NOT NULL);"
	"INSERT INTO outbox_rows SELECT 'pending', count(*) FROM outbox;"
	"INSERT INTO outbox_rows VALUES('parked', 0);"
	"CREATE TRIGGER outbox_rows_insert AFTER INSERT ON outbox BEGIN"
	"  UPDATE outbox_rows SET n = n + 1 WHERE state = NEW.state; END;"
	"CREATE TRIGGER outbox_rows_delete AFTER DELETE ON outbox BEGIN"
	"  UPDATE outbox_rows SET n = n - 1 WHERE state = OLD.state; END;"
	"CREATE TRIGGER outbox_rows_update AFTER UPDATE OF state ON outbox WHEN OLD.state <> NEW.state BEGIN"
	"  UPDATE outbox_rows SET n = n - 1 WHERE state = OLD.state;"
	"  UPDATE outbox_rows SET n = n + 1 WHERE state = NEW.state; END;"
	/* Case status feedback as received, written by the MQTT client's thread before it takes the
	 * message off paho's hands; the loop applies each row to its case and deletes it in one
	 * transaction (a crash in between applies it again at the next start). */
	"CREATE TABLE feedback_inbox(seq INTEGER PRIMARY KEY, case_id TEXT NOT NULL, status TEXT NOT NULL,"
	"  received_at INTEGER NOT NULL);",

	/* 7: NVR channels: the ledger row of the device that carries a camera's events, and its channel */
	"ALTER TABLE cameras ADD COLUMN device TEXT;"
	"ALTER TABLE cameras ADD COLUMN channel INTEGER;",

	/* 8: the rule engine's state per camera and kind that must survive a restart (last known
	 * state, pending minimum-duration start, repeat counter), written with the decisions.
	 * Times are wall clock (ms since the epoch). rep: the repeat times, newest first, comma
	 * separated. watch_since: when the camera was first heard. */
	"CREATE TABLE kind_states("
	"  camera_id TEXT NOT NULL, kind TEXT NOT NULL, last_state INTEGER, last_state_at INTEGER,"
	"  pending_rule TEXT, pending_since INTEGER, pending_seq INTEGER, pending_camera_time INTEGER,"
	"  pending_topic TEXT, pending_event_id TEXT, rep_rule TEXT, rep TEXT, watch_since INTEGER,"
	"  PRIMARY KEY(camera_id, kind));",

	/* evidence: the pictures of cases (gateway/evidence/, docs/case-message.md "Evidence"). A row
	 * is written pending with the decision that asks for it, then stored (a file under
	 * <state_dir>/evidence-cases/, its outbox row in the same transaction), failed or skipped with
	 * the reason, and pruned (file deleted, metadata kept). Times are wall clock ms; requested_at
	 * is the gateway time of the alert, stored_at when the row was stored. outbox.props: MQTT 5
	 * properties of a row as JSON ({"content_type": ..., "user": {name: value}}), or NULL. */
	"CREATE TABLE evidence("
	"  case_id TEXT NOT NULL, n INTEGER NOT NULL, camera_id TEXT NOT NULL, alert_seq INTEGER,"
	"  type TEXT, source TEXT, captured_camera_time INTEGER, captured_gateway_time INTEGER,"
	"  bytes INTEGER, sha256 TEXT, width INTEGER, height INTEGER, topic TEXT,"
	"  status TEXT NOT NULL CHECK(status IN ('pending','stored','failed','skipped','pruned')),"
	"  reason TEXT, path TEXT, requested_at INTEGER NOT NULL, stored_at INTEGER,"
	"  PRIMARY KEY(case_id, n));"
	"CREATE INDEX evidence_files ON evidence(stored_at) WHERE path IS NOT NULL;"
	"CREATE INDEX evidence_pending ON evidence(status) WHERE status = 'pending';"
	"ALTER TABLE outbox ADD COLUMN props TEXT;",

	/* 10 (case lifecycle): the escalation level, and the supervision deadline and expiry as wall-clock
	 * times (NULL: none) that a restart turns back into monotonic deadlines; cases with one are
	 * restored whatever their age. The decisions of a case (its history: alerts, feedback,
	 * escalations, ends) found by case id for `alarmgw cases show`; those of no alert are kept as
	 * long as their case (retention prunes the others with their alerts). */
	"ALTER TABLE cases ADD COLUMN esc_level INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE cases ADD COLUMN sup_due INTEGER;"
	"ALTER TABLE cases ADD COLUMN expire_at INTEGER;"
	"CREATE INDEX cases_sup_due ON cases(sup_due) WHERE sup_due IS NOT NULL;"
	"CREATE INDEX cases_expire_at ON cases(expire_at) WHERE expire_at IS NOT NULL;"
	"CREATE INDEX decisions_case ON decisions(case_id) WHERE case_id IS NOT NULL;"
	"CREATE TRIGGER cases_decisions_delete AFTER DELETE ON cases BEGIN"
	"  DELETE FROM decisions WHERE case_id = OLD.id AND alert_seq IS NULL; END;",

	/* 11: who gave a feedback (operator or grid worker id) and their note, kept with it in the
	 * inbox until the loop applies it (NULL: not given) */
	"ALTER TABLE feedback_inbox ADD COLUMN by_whom TEXT;"
	"ALTER TABLE feedback_inbox ADD COLUMN note TEXT;",

	/* 12: the cases not ended, by their last activity (updated_at: an alert, feedback or an
	 * escalation), for the expiry of cases nobody answers (gateway/daemon/decider_expiry.c). */
	"CREATE INDEX cases_idle ON cases(updated_at) WHERE status NOT IN ('closed', 'rejected');",
	/* 13: each camera's event channel, for adapters that report it (adapter.h subscribed): when
	 * the gateway first gave it to its adapter, and when the channel first and last opened (NULL:
	 * never). The page's "never subscribed" and "never heard from since subscribed". */
	"CREATE TABLE camera_channels(camera_id TEXT PRIMARY KEY, tried_at INTEGER NOT NULL,"
	"  first_subscribed_at INTEGER, subscribed_at INTEGER);",
	/* 14: the token an NVR names a channel by in its events (ONVIF video sources), per ledger row;
	 * the channels adapters store are matched to ledger rows by address (GB/T 28181 IDs) or by
	 * device (NVRs) on every status snapshot: indexed, 200,000 catalog channels stay fast */
	"ALTER TABLE cameras ADD COLUMN source_token TEXT;"
	"CREATE INDEX cameras_address ON cameras(address) WHERE address IS NOT NULL;"
	"CREATE INDEX cameras_device ON cameras(device) WHERE device IS NOT NULL;",
	/* 15: evidence reused from the camera's previous case (a flood within evidence.min_interval):
	 * that case and n; and a snapshot URL per ledger camera, for cameras whose adapter has no
	 * picture of its own (GB/T 28181 devices that serve an HTTP JPEG) */
	"ALTER TABLE evidence ADD COLUMN reused_case TEXT;"
	"ALTER TABLE evidence ADD COLUMN reused_n INTEGER;"
	"ALTER TABLE cameras ADD COLUMN snapshot_url TEXT;"
	"ALTER TABLE cameras ADD COLUMN snapshot_username TEXT;"
	"ALTER TABLE cameras ADD COLUMN snapshot_password TEXT;",
};

int agw_store_latest_schema_version(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int v = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int agw_store_migrate(sqlite3 *db, int target, char *err, size_t errlen)
{
	int latest = agw_store_latest_schema_version();
	int v = user_version(db);
	if (v < 0) {
		snprintf(err, errlen, "cannot read schema version: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	if (v > latest) {
		snprintf(err, errlen, "database schema version %d is newer than this alarmgw (%d); upgrade alarmgw", v,
			 latest);
		return -EPROTO;
	}
	if (target > latest)
		target = latest;
	/* Each step and its version bump commit together, so a crash leaves a consistent version. */
	for (; v < target; v++) {
		char *msg = NULL;
		char bump[64];
		snprintf(bump, sizeof(bump), "PRAGMA user_version=%d;", v + 1);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, bump, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errlen, "migration to schema %d failed: %s", v + 1, msg ? msg : "?");
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -EIO;
		}
	}
	return 0;
}
