/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reads the status snapshot from the store. Every query is a keyed look-up or a bounded scan
 * except the case counts (cases is small next to the journal): a scrape must stay cheap with
 * 10,000 cameras and millions of journaled alerts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/alert.h"
#include "status.h"

static const char *const state_names[AGW_CAMERA_STATE__COUNT] = {
	[AGW_CAMERA_OFFLINE] = "offline",
	[AGW_CAMERA_CHANNEL_LOST] = "channel_lost",
	[AGW_CAMERA_NEVER_SUBSCRIBED] = "never_subscribed",
	[AGW_CAMERA_ONLINE] = "online",
	[AGW_CAMERA_UNKNOWN] = "unknown",
};

const char *agw_camera_state_name(enum agw_camera_state state)
{
	return (unsigned)state < AGW_CAMERA_STATE__COUNT ? state_names[state] : "unknown";
}

/* NULL stays NULL; an allocation failure sets *oom. */
static char *column_dup(sqlite3_stmt *st, int col, bool *oom)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	if (!t)
		return NULL;
	char *s = strdup((const char *)t);
	if (!s)
		*oom = true;
	return s;
}

static int64_t column_time(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? AGW_TIME_UNKNOWN : sqlite3_column_int64(st, col);
}

static void camera_clear(struct agw_status_camera *c)
{
	free(c->id);
	free(c->name);
	free(c->protocol);
	free(c->vendor);
	free(c->last_kind);
	free(c->cell_code);
}

static void case_clear(struct agw_status_case *c)
{
	free(c->id);
	free(c->camera_id);
	free(c->kind);
	free(c->cell_code);
	free(c->status);
	for (size_t i = 0; i < c->n_pictures; i++) {
		free(c->pictures[i].status);
		free(c->pictures[i].reason);
	}
	free(c->pictures);
}

void agw_status_free(struct agw_status *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_cameras; i++)
		camera_clear(&s->cameras[i]);
	free(s->cameras);
	for (size_t i = 0; i < s->n_alerts; i++) {
		free(s->alerts[i].camera_id);
		free(s->alerts[i].kind);
		free(s->alerts[i].topic);
	}
	free(s->alerts);
	for (size_t i = 0; i < s->n_cases; i++)
		case_clear(&s->cases[i]);
	free(s->cases);
	for (size_t i = 0; i < s->n_cases_by_status; i++)
		free(s->cases_by_status[i].name);
	free(s->cases_by_status);
	for (size_t i = 0; i < s->n_parked; i++) {
		free(s->parked[i].topic);
		free(s->parked[i].case_id);
		free(s->parked[i].reason);
	}
	free(s->parked);
	for (size_t i = 0; i < s->n_unmatched; i++) {
		free(s->unmatched[i].adapter);
		free(s->unmatched[i].id);
		free(s->unmatched[i].device);
		free(s->unmatched[i].name);
	}
	free(s->unmatched);
	for (size_t i = 0; i < s->n_open; i++)
		case_clear(&s->open[i]);
	free(s->open);
	agw_status_grid_unref(s->grid);
	free(s);
}

int64_t agw_status_outbox_age_ms(const struct agw_status *s)
{
	if (!s || s->outbox_depth <= 0 || s->outbox_oldest_ms == AGW_TIME_UNKNOWN)
		return 0;
	int64_t age = s->generated_ms - s->outbox_oldest_ms;
	return age > 0 ? age : 0;
}

/* A small collector so each query reads like the SQL it runs. */
struct reader {
	sqlite3 *db;
	char *err;
	size_t errlen;
};

static int prepare(struct reader *r, const char *sql, sqlite3_stmt **ret)
{
	if (sqlite3_prepare_v2(r->db, sql, -1, ret, NULL) != SQLITE_OK) {
		snprintf(r->err, r->errlen, "status query failed: %s", sqlite3_errmsg(r->db));
		return -EIO;
	}
	return 0;
}

static int step_error(struct reader *r, int rc)
{
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	snprintf(r->err, r->errlen, "status query failed: %s", sqlite3_errmsg(r->db));
	return -EIO;
}

/* Where a query ends, also on failure: an allocation failure gets its message (the others set
 * theirs), and the statement is finalized. Returns ret. */
static int query_end(struct reader *r, sqlite3_stmt *st, int ret)
{
	if (ret == -ENOMEM)
		snprintf(r->err, r->errlen, "out of memory");
	sqlite3_finalize(st);
	return ret;
}

static int grow(void **v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 64;
	void *nv = realloc(*v, c * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

/* ---- camera health ----
 * The journal has no index on kind, so "the latest camera_offline alert of each camera" would read
 * the whole journal. The tracker reads it once, then only the alerts journaled since (a rowid
 * range), and keeps each camera's state. */

struct health_entry {
	char *camera;
	bool offline;
	bool lost;
	int64_t offline_since, lost_since; /* gateway time of the alert that set each */
	int64_t events_lost_ms;            /* the latest events_lost alert */
};

struct agw_health_tracker {
	int64_t last_seq;
	struct health_entry *v;
	size_t n, cap;
	char *layer;                 /* the grid layer to read, or NULL */
	struct agw_status_grid *grid; /* its cells at the version last read */
};

int agw_health_tracker_new(struct agw_health_tracker **ret)
{
	struct agw_health_tracker *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*ret = t;
	return 0;
}

static void tracker_reset(struct agw_health_tracker *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].camera);
	t->n = 0;
	t->last_seq = 0;
}

int agw_health_tracker_set_layer(struct agw_health_tracker *t, const char *layer)
{
	char *copy = layer && *layer ? strdup(layer) : NULL;
	if (layer && *layer && !copy)
		return -ENOMEM;
	free(t->layer);
	t->layer = copy;
	agw_status_grid_unref(t->grid);
	t->grid = NULL;
	return 0;
}

void agw_health_tracker_free(struct agw_health_tracker *t)
{
	if (!t)
		return;
	free(t->layer);
	agw_status_grid_unref(t->grid);
	tracker_reset(t);
	free(t->v);
	free(t);
}

/* Binary search; *ret_pos is where camera is or would be inserted. */
static struct health_entry *tracker_find(const struct agw_health_tracker *t, const char *camera, size_t *ret_pos)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(camera, t->v[mid].camera);
		if (c == 0) {
			if (ret_pos)
				*ret_pos = mid;
			return &t->v[mid];
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (ret_pos)
		*ret_pos = lo;
	return NULL;
}

static struct health_entry *tracker_get(struct agw_health_tracker *t, const char *camera)
{
	size_t pos;
	struct health_entry *e = tracker_find(t, camera, &pos);
	if (e)
		return e;
	if (grow((void **)&t->v, t->n, &t->cap, sizeof(*t->v)) < 0)
		return NULL;
	char *copy = strdup(camera);
	if (!copy)
		return NULL;
	memmove(&t->v[pos + 1], &t->v[pos], (t->n - pos) * sizeof(*t->v));
	t->v[pos] = (struct health_entry){.camera = copy, .offline_since = AGW_TIME_UNKNOWN,
					  .lost_since = AGW_TIME_UNKNOWN, .events_lost_ms = AGW_TIME_UNKNOWN};
	t->n++;
	return &t->v[pos];
}

/* A repeated active alert keeps the first time: "since" is when the trouble began. */
static void health_set(bool *flag, int64_t *since, bool active, int64_t at)
{
	if (active && !*flag)
		*since = at;
	else if (!active)
		*since = AGW_TIME_UNKNOWN;
	*flag = active;
}

/* Applies the health alerts journaled after the tracker's last look, in journal order. */
static int tracker_update(struct reader *r, struct agw_health_tracker *t, int64_t last_seq)
{
	sqlite3_stmt *st = NULL;
	/* A journal that went backwards (restored from a backup) is read again from the start. */
	if (last_seq < t->last_seq)
		tracker_reset(t);
	int ret = prepare(r,
			  "SELECT seq, camera_id, kind, active, gateway_time FROM alerts WHERE seq > ?1 AND seq <= ?2 "
			  "AND kind IN (?3, ?4, ?5) ORDER BY seq",
			  &st);
	if (ret < 0)
		return ret;
	sqlite3_bind_int64(st, 1, t->last_seq);
	sqlite3_bind_int64(st, 2, last_seq);
	const char *offline = agw_alert_kind_name(AGW_KIND_CAMERA_OFFLINE);
	sqlite3_bind_text(st, 3, offline, -1, SQLITE_STATIC);
	const char *lost = agw_alert_kind_name(AGW_KIND_EVENT_CHANNEL_LOST);
	sqlite3_bind_text(st, 4, lost, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, agw_alert_kind_name(AGW_KIND_EVENTS_LOST), -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *camera = (const char *)sqlite3_column_text(st, 1);
		const char *kind = (const char *)sqlite3_column_text(st, 2);
		if (!camera || !kind)
			continue;
		struct health_entry *e = tracker_get(t, camera);
		if (!e) {
			snprintf(r->err, r->errlen, "out of memory");
			ret = -ENOMEM;
			goto out;
		}
		/* A pulse (no state) counts as active: the camera said something is wrong. */
		bool active = sqlite3_column_type(st, 3) == SQLITE_NULL || sqlite3_column_int(st, 3) != 0;
		int64_t at = column_time(st, 4);
		if (strcmp(kind, offline) == 0)
			health_set(&e->offline, &e->offline_since, active, at);
		else if (strcmp(kind, lost) == 0)
			health_set(&e->lost, &e->lost_since, active, at);
		else
			e->events_lost_ms = at;
	}
	ret = step_error(r, rc);
	if (ret == 0)
		t->last_seq = last_seq;
out:
	sqlite3_finalize(st);
	return ret;
}

static int camera_cmp(const void *a, const void *b)
{
	const struct agw_status_camera *x = a, *y = b;
	if (x->state != y->state)
		return (int)x->state - (int)y->state;
	return strcmp(x->id, y->id);
}

/* Where the camera is: the rules engine's way (rules/case_cameras.c), so the page places a camera
 * in the cell its cases name: its location in the layer, else its owner cell. */
static void camera_place(struct agw_status_camera *c, sqlite3_stmt *cams, const struct agw_status_grid *g, bool *oom)
{
	const char *owner = (const char *)sqlite3_column_text(cams, 7);
	c->located = sqlite3_column_type(cams, 4) != SQLITE_NULL && sqlite3_column_type(cams, 5) != SQLITE_NULL;
	if (c->located) {
		c->lon = sqlite3_column_double(cams, 4);
		c->lat = sqlite3_column_double(cams, 5);
	}
	if (g && c->located) {
		enum agw_crs crs = AGW_CRS_WGS84;
		agw_crs_parse((const char *)sqlite3_column_text(cams, 6), &crs);
		agw_crs_convert(crs, agw_grid_crs(g->grid), c->lon, c->lat, &c->lon, &c->lat);
		c->cell = agw_grid_locate(g->grid, c->lon, c->lat);
	}
	if (!c->cell && owner && *owner && g)
		c->cell = agw_grid_find(g->grid, owner);
	const char *code = c->cell ? c->cell->code : owner && *owner ? owner : NULL;
	if (code && !(c->cell_code = strdup(code)))
		*oom = true;
}

static void camera_health(struct agw_status_camera *c, const struct agw_health_tracker *t)
{
	const struct health_entry *h = tracker_find(t, c->id, NULL);
	bool offline = h && h->offline, lost = h && h->lost;
	c->state = offline ? AGW_CAMERA_OFFLINE : lost ? AGW_CAMERA_CHANNEL_LOST : AGW_CAMERA_ONLINE;
	c->since_ms = offline ? h->offline_since : lost ? h->lost_since : AGW_TIME_UNKNOWN;
	c->events_lost_ms = h ? h->events_lost_ms : AGW_TIME_UNKNOWN;
}

/* Never subscribed outranks the health alerts: a camera whose channel never opened here (an
 * address, a password, a protocol) is a commissioning problem, whatever else it says. One that
 * subscribed and said nothing since is "never heard from" since then. */
static void camera_channel(struct agw_status_camera *c)
{
	if (c->tried_ms != AGW_TIME_UNKNOWN && c->subscribed_ms == AGW_TIME_UNKNOWN && c->state != AGW_CAMERA_ONLINE) {
		c->state = AGW_CAMERA_NEVER_SUBSCRIBED;
		c->since_ms = c->tried_ms;
	} else if (c->state == AGW_CAMERA_UNKNOWN) {
		c->since_ms = c->subscribed_ms;
	}
}

static int read_cameras(struct reader *r, struct agw_status *s, const struct agw_health_tracker *t)
{
	sqlite3_stmt *cams = NULL, *last = NULL;
	size_t cap = 0;
	bool oom = false;
	/* A channel row's events come on its device's channel (adapter.h subscribed). */
	int ret = prepare(r, "SELECT c.id, c.name, c.protocol, c.vendor, c.lon, c.lat, c.crs, c.owner_cell, own.tried_at,"
			     " coalesce(own.first_subscribed_at, dev.first_subscribed_at) FROM cameras c"
			     " LEFT JOIN camera_channels own ON own.camera_id = c.id"
			     " LEFT JOIN camera_channels dev ON dev.camera_id = c.device ORDER BY c.id",
			  &cams);
	if (ret < 0)
		goto out;
	/* The journal's (camera_id, gateway_time) index: one seek per camera. */
	ret = prepare(r, "SELECT kind, gateway_time FROM alerts WHERE camera_id = ?1 ORDER BY gateway_time DESC LIMIT 1",
		      &last);
	if (ret < 0)
		goto out;
	int rc;
	while ((rc = sqlite3_step(cams)) == SQLITE_ROW) {
		ret = grow((void **)&s->cameras, s->n_cameras, &cap, sizeof(*s->cameras));
		if (ret < 0)
			goto out;
		struct agw_status_camera *c = &s->cameras[s->n_cameras++];
		memset(c, 0, sizeof(*c));
		c->id = column_dup(cams, 0, &oom);
		c->name = column_dup(cams, 1, &oom);
		c->protocol = column_dup(cams, 2, &oom);
		c->vendor = column_dup(cams, 3, &oom);
		c->last_event_ms = c->since_ms = c->events_lost_ms = AGW_TIME_UNKNOWN;
		c->tried_ms = column_time(cams, 8);
		c->subscribed_ms = column_time(cams, 9);
		c->state = AGW_CAMERA_UNKNOWN;
		if (!oom && c->id)
			camera_place(c, cams, s->grid, &oom);
		if (oom || !c->id) {
			ret = -ENOMEM;
			goto out;
		}
		sqlite3_reset(last);
		sqlite3_bind_text(last, 1, c->id, -1, SQLITE_STATIC);
		rc = sqlite3_step(last);
		ret = step_error(r, rc);
		if (ret < 0)
			goto out;
		if (rc == SQLITE_ROW) {
			c->last_kind = column_dup(last, 0, &oom);
			c->last_event_ms = column_time(last, 1);
			camera_health(c, t);
		}
		if (oom) {
			ret = -ENOMEM;
			goto out;
		}
		camera_channel(c);
	}
	ret = step_error(r, rc);
	if (ret < 0)
		goto out;
	for (size_t i = 0; i < s->n_cameras; i++)
		s->cameras_by_state[s->cameras[i].state]++;
	if (s->n_cameras)
		qsort(s->cameras, s->n_cameras, sizeof(*s->cameras), camera_cmp);
out:
	sqlite3_finalize(last);
	return query_end(r, cams, ret);
}

/* Reads up to recent rows of a "... LIMIT ?1" query into a new array of elements of size bytes,
 * one fill() a row (fill sets *oom when a copy failed). The array and the count are the
 * snapshot's, so agw_status_free() frees what a failure leaves behind. */
static int read_recent(struct reader *r, const char *sql, size_t recent, size_t size, void **rows, size_t *n,
		       void (*fill)(sqlite3_stmt *st, void *row, bool *oom))
{
	sqlite3_stmt *st = NULL;
	bool oom = false;
	int ret = prepare(r, sql, &st);
	if (ret < 0)
		return ret;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)recent);
	char *v = calloc(recent ? recent : 1, size);
	if (!v) {
		ret = -ENOMEM;
		goto out;
	}
	*rows = v;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < recent) {
		fill(st, v + (*n)++ * size, &oom);
		if (oom) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = step_error(r, rc);
out:
	return query_end(r, st, ret);
}

static void alert_fill(sqlite3_stmt *st, void *row, bool *oom)
{
	struct agw_status_alert *a = row;
	a->seq = sqlite3_column_int64(st, 0);
	a->camera_id = column_dup(st, 1, oom);
	a->kind = column_dup(st, 2, oom);
	a->active = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 3) != 0;
	a->gateway_time_ms = column_time(st, 4);
	a->topic = column_dup(st, 5, oom);
}

static int read_alerts(struct reader *r, struct agw_status *s, size_t recent)
{
	return read_recent(r, "SELECT seq, camera_id, kind, active, gateway_time, topic FROM alerts "
			      "ORDER BY seq DESC LIMIT ?1",
			   recent, sizeof(*s->alerts), (void **)&s->alerts, &s->n_alerts, alert_fill);
}

static void case_fill(sqlite3_stmt *st, void *row, bool *oom)
{
	struct agw_status_case *c = row;
	c->id = column_dup(st, 0, oom);
	c->camera_id = column_dup(st, 1, oom);
	c->kind = column_dup(st, 2, oom);
	c->cell_code = column_dup(st, 3, oom);
	c->status = column_dup(st, 4, oom);
	c->priority = sqlite3_column_int64(st, 5);
	c->count = sqlite3_column_int64(st, 6);
	c->opened_at_ms = column_time(st, 7);
	c->updated_at_ms = column_time(st, 8);
}

static int read_cases(struct reader *r, struct agw_status *s, size_t recent)
{
	int ret = read_recent(r,
			      "SELECT id, camera_id, kind, cell_code, status, priority, count, opened_at, updated_at "
			      "FROM cases ORDER BY updated_at DESC, id LIMIT ?1",
			      recent, sizeof(*s->cases), (void **)&s->cases, &s->n_cases, case_fill);
	if (ret < 0)
		return ret;
	sqlite3_stmt *st = NULL;
	bool oom = false;
	size_t cap = 0;
	int rc;
	ret = prepare(r, "SELECT status, count(*) FROM cases GROUP BY status ORDER BY status", &st);
	if (ret < 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = grow((void **)&s->cases_by_status, s->n_cases_by_status, &cap, sizeof(*s->cases_by_status));
		if (ret < 0)
			goto out;
		struct agw_status_count *n = &s->cases_by_status[s->n_cases_by_status];
		n->name = column_dup(st, 0, &oom);
		n->n = sqlite3_column_int64(st, 1);
		if (oom || !n->name) {
			free(n->name);
			ret = -ENOMEM;
			goto out;
		}
		s->n_cases_by_status++;
	}
	ret = step_error(r, rc);
out:
	return query_end(r, st, ret);
}

static int by_id(const void *a, const void *b)
{
	return strcmp((*(struct agw_status_camera *const *)a)->id, (*(struct agw_status_camera *const *)b)->id);
}

/* Open cases, most urgent first (priority 1 before 4, then the oldest), and each camera's count
 * of them. The count is over every open case, also those beyond AGW_STATUS_OPEN_MAX. */
static int read_open(struct reader *r, struct agw_status *s)
{
	int ret = read_recent(r,
			      "SELECT id, camera_id, kind, cell_code, status, priority, count, opened_at, updated_at "
			      "FROM cases WHERE closed_at IS NULL AND status <> 'closed' ORDER BY coalesce(priority, 3), opened_at, id "
			      "LIMIT ?1",
			      AGW_STATUS_OPEN_MAX, sizeof(*s->open), (void **)&s->open, &s->n_open, case_fill);
	if (ret < 0)
		return ret;
	struct agw_status_camera **idx = calloc(s->n_cameras ? s->n_cameras : 1, sizeof(*idx));
	sqlite3_stmt *st = NULL;
	if (!idx)
		return query_end(r, NULL, -ENOMEM);
	for (size_t i = 0; i < s->n_cameras; i++)
		idx[i] = &s->cameras[i];
	qsort(idx, s->n_cameras, sizeof(*idx), by_id);
	ret = prepare(r, "SELECT camera_id, count(*) FROM cases WHERE closed_at IS NULL AND status <> 'closed' GROUP BY camera_id", &st);
	int rc = SQLITE_DONE;
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct agw_status_camera key = {.id = (char *)sqlite3_column_text(st, 0)}, *kp = &key;
		int64_t n = sqlite3_column_int64(st, 1);
		s->open_total += n;
		struct agw_status_camera **hit =
			key.id ? bsearch(&kp, idx, s->n_cameras, sizeof(*idx), by_id) : NULL;
		if (hit)
			(*hit)->open_cases = n;
	}
	if (ret == 0)
		ret = step_error(r, rc);
	free(idx);
	return query_end(r, st, ret);
}

static int read_totals(struct reader *r, struct agw_status *s)
{
	sqlite3_stmt *st = NULL;
	/* Row counts by state are kept by triggers (outbox_rows); the oldest pending row is the first
	 * in seq order, found from the primary key. */
	int ret = prepare(r, "SELECT (SELECT coalesce(max(seq), 0) FROM alerts),"
			     " (SELECT coalesce(sum(n), 0) FROM outbox_rows WHERE state = 'pending'),"
			     " (SELECT created_at FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1),"
			     " (SELECT user_version FROM pragma_user_version),"
			     " (SELECT coalesce(sum(n), 0) FROM outbox_rows WHERE state = 'parked'),"
			     " (SELECT count(*) FROM adapter_state s WHERE s.key = 'channel'"
			     "  AND " AGW_CHANNEL_CAMERA_SQL " IS NULL)",
			  &st);
	if (ret < 0)
		return ret;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s->journal_last_seq = sqlite3_column_int64(st, 0);
		s->outbox_depth = sqlite3_column_int64(st, 1);
		s->outbox_oldest_ms = column_time(st, 2);
		s->schema_version = sqlite3_column_int(st, 3);
		s->outbox_parked = sqlite3_column_int64(st, 4);
		s->unmatched_channels = sqlite3_column_int64(st, 5);
	}
	ret = step_error(r, rc);
	sqlite3_finalize(st);
	return ret;
}

static void parked_fill(sqlite3_stmt *st, void *row, bool *oom)
{
	struct agw_status_parked *p = row;
	p->seq = sqlite3_column_int64(st, 0);
	p->topic = column_dup(st, 1, oom);
	p->case_id = column_dup(st, 2, oom);
	p->reason = column_dup(st, 3, oom);
	p->parked_at_ms = column_time(st, 4);
}

static int read_parked(struct reader *r, struct agw_status *s)
{
	if (!s->outbox_parked)
		return 0;
	return read_recent(r, "SELECT seq, topic, case_id, reason, parked_at FROM outbox WHERE state = 'parked' "
			      "ORDER BY seq LIMIT ?1",
			   AGW_STATUS_PARKED_SHOWN, sizeof(*s->parked), (void **)&s->parked, &s->n_parked, parked_fill);
}

static void channel_fill(sqlite3_stmt *st, void *row, bool *oom)
{
	struct agw_status_channel *c = row;
	c->adapter = column_dup(st, 0, oom);
	c->id = column_dup(st, 1, oom);
	c->device = column_dup(st, 2, oom);
	c->name = column_dup(st, 3, oom);
	c->first_alarm_ms = column_time(st, 4);
}

/* Adapters store the channels they find as adapter state under the key "channel", with a JSON
 * value (device, name, first_unmatched_alarm_ms): see adapters/gb28181/gb_catalog.h. */
static int read_unmatched(struct reader *r, struct agw_status *s)
{
	if (!s->unmatched_channels)
		return 0;
	return read_recent(r, "SELECT s.adapter, s.camera_id, json_extract(s.value, '$.device'),"
			      " json_extract(s.value, '$.name'), json_extract(s.value, '$.first_unmatched_alarm_ms') AS a"
			      " FROM adapter_state s WHERE s.key = 'channel' AND " AGW_CHANNEL_CAMERA_SQL " IS NULL"
			      " ORDER BY a IS NULL, a, s.camera_id LIMIT ?1",
			   AGW_STATUS_PARKED_SHOWN, sizeof(*s->unmatched), (void **)&s->unmatched, &s->n_unmatched,
			   channel_fill);
}

int agw_status_collect(sqlite3 *db, struct agw_health_tracker *tracker, size_t recent, int64_t now_ms,
		       struct agw_status **ret_status, char *err, size_t errlen)
{
	struct reader r = {.db = db, .err = err, .errlen = errlen};
	struct agw_health_tracker *own = NULL;
	if (recent > AGW_STATUS_RECENT_MAX)
		recent = AGW_STATUS_RECENT_MAX;
	struct agw_status *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->generated_ms = now_ms;
	s->outbox_oldest_ms = AGW_TIME_UNKNOWN;
	/* One read transaction: the page never shows a case without the alert that made it. When the
	 * caller is already inside a transaction (the daemon's own connection), its view is used. */
	bool own_txn = sqlite3_get_autocommit(db);
	int ret = 0;
	if (own_txn && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot begin a read: %s", sqlite3_errmsg(db));
		ret = -EIO;
		goto out;
	}
	if (!tracker) {
		ret = agw_health_tracker_new(&own);
		if (ret < 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		tracker = own;
	}
	ret = read_totals(&r, s);
	if (ret >= 0)
		ret = tracker_update(&r, tracker, s->journal_last_seq);
	if (ret >= 0)
		ret = agw_status_grid_refresh(db, tracker->layer, &tracker->grid, err, errlen);
	s->grid = agw_status_grid_ref(tracker->grid);
	if (ret >= 0)
		ret = read_cameras(&r, s, tracker);
	if (ret >= 0)
		ret = read_alerts(&r, s, recent);
	if (ret >= 0)
		ret = read_cases(&r, s, recent);
	if (ret >= 0)
		ret = read_parked(&r, s);
	if (ret >= 0)
		ret = read_unmatched(&r, s);
	if (ret >= 0)
		ret = read_open(&r, s);
	if (ret >= 0)
		ret = agw_status_read_pictures(db, s, err, errlen);
	if (own_txn)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
out:
	agw_health_tracker_free(own);
	if (ret < 0) {
		agw_status_free(s);
		return ret;
	}
	*ret_status = s;
	return 0;
}
