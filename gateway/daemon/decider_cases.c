/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A cases row back into the case engine: at start (restore_cases in decider.c), and detached when
 * feedback names a case the engine no longer holds (decider_life.c) or the expiry ends one
 * (decider_expiry.c). The row's columns give what is queried
 * (status, times, deadlines); its last message (json) gives the rest of what the engine keeps. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "decider_internal.h"

static void read_history(json_t *life, struct agw_case_restore *r)
{
	json_t *hist = json_object_get(life, "history");
	for (int s = 0; s < AGW_CASE__STATUS_COUNT; s++) {
		const char *t = json_string_value(json_object_get(hist, agw_case_status_name((enum agw_case_status)s)));
		int64_t ms;
		if (t && agw_time_parse_ms(t, &ms) == 0)
			r->status_ms[s] = ms;
	}
	r->n_feedback = json_integer_value(json_object_get(life, "feedback_count"));
	/* the strings stay in the parsed message, which outlives the restore */
	json_t *fb = json_object_get(life, "last_feedback");
	enum agw_case_status s;
	if (json_is_object(fb) && agw_case_status_parse(json_string_value(json_object_get(fb, "status")), &s) == 0) {
		r->fb_status = s;
		agw_time_parse_ms(json_string_value(json_object_get(fb, "at")), &r->fb_ms);
		r->fb_by = json_string_value(json_object_get(fb, "by"));
		r->fb_note = json_string_value(json_object_get(fb, "note"));
	}
}

/* sources: [{camera, adapter, count, first_seen, last_seen}] into the arrays r points to. */
static void read_sources(json_t *arr, struct agw_case_restore *r, struct agw_case_source *src, const char **cams)
{
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		if (r->n_sources == AGW_CASE_SOURCES_MAX)
			break;
		const char *cam = json_string_value(json_object_get(o, "camera"));
		if (!cam)
			continue;
		struct agw_case_source *s = &src[r->n_sources];
		memset(s, 0, sizeof(*s));
		const char *adapter = json_string_value(json_object_get(o, "adapter"));
		snprintf(s->adapter, sizeof(s->adapter), "%s", adapter ? adapter : "");
		s->count = json_integer_value(json_object_get(o, "count"));
		agw_time_parse_ms(json_string_value(json_object_get(o, "first_seen")), &s->first_seen);
		agw_time_parse_ms(json_string_value(json_object_get(o, "last_seen")), &s->last_seen);
		cams[r->n_sources++] = cam;
	}
	r->sources = src;
	r->source_cams = cams;
}

int decider_case_restore(struct agw_decider *d, sqlite3_stmt *st, bool detached)
{
	const char *text = (const char *)sqlite3_column_text(st, 12);
	json_t *j = text ? json_loads(text, 0, NULL) : NULL; /* a case without a message restores too */
	json_t *ev = json_object_get(j, "event"), *life = json_object_get(j, "lifecycle");
	struct agw_case_source src[AGW_CASE_SOURCES_MAX];
	const char *cams[AGW_CASE_SOURCES_MAX];
	struct agw_case_restore r = {
		.id = (const char *)sqlite3_column_text(st, 0),
		.key = (const char *)sqlite3_column_text(st, 1),
		.camera_id = (const char *)sqlite3_column_text(st, 2),
		.category = (const char *)sqlite3_column_text(st, 5),
		.priority = sqlite3_column_int(st, 6),
		.first_seen = sqlite3_column_int64(st, 7),
		.last_seen = sqlite3_column_int64(st, 8),
		.count = sqlite3_column_int64(st, 9),
		.created_ms = sqlite3_column_int64(st, 10),
		.updated_ms = sqlite3_column_int64(st, 11),
		.esc_level = sqlite3_column_int(st, 13),
		.sup_due = sqlite3_column_int64(st, 14),
		.expire_at = sqlite3_column_int64(st, 15),
		.rule = json_string_value(json_object_get(j, "rule")),
		.title = json_string_value(json_object_get(j, "title")),
		.topic = json_string_value(json_object_get(ev, "raw_topic")),
		.aggregate = json_is_true(json_object_get(j, "aggregate")),
		.resync = json_is_true(json_object_get(j, "found_on_resync")),
		.active = json_is_true(json_object_get(ev, "active")),
		.has_state = json_is_boolean(json_object_get(ev, "active")),
		.first_camera_time = AGW_TIME_UNKNOWN,
		.last_camera_time = AGW_TIME_UNKNOWN,
		.wall_minus_mono = d->wall_minus_mono,
	};
	agw_time_parse_ms(json_string_value(json_object_get(ev, "first_camera_time")), &r.first_camera_time);
	agw_time_parse_ms(json_string_value(json_object_get(ev, "camera_time")), &r.last_camera_time);
	agw_time_parse_ms(json_string_value(json_object_get(ev, "cleared")), &r.cleared_ms);
	read_history(life, &r);
	read_sources(json_object_get(j, "sources"), &r, src, cams);
	if (agw_alert_kind_parse((const char *)sqlite3_column_text(st, 3), &r.kind) < 0)
		r.kind = AGW_KIND_OTHER;
	if (agw_case_status_parse((const char *)sqlite3_column_text(st, 4), &r.status) < 0)
		r.status = AGW_CASE_OPEN;
	r.ended = agw_case_status_final(r.status);
	int e = detached ? agw_engine_restore_detached(d->engine, &r) : agw_engine_restore(d->engine, &r);
	json_decref(j);
	return e;
}

int decider_case_load(struct agw_decider *d, struct agw_store *store, const char *case_id)
{
	sqlite3_stmt *st = agw_store_stmt(store, "SELECT " DECIDER_CASE_COLUMNS " FROM cases WHERE id = ?");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), r = -ENOENT;
	if (rc == SQLITE_ROW)
		r = decider_case_restore(d, st, true);
	else if (rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_reset(st);
	return r == -EEXIST || r == -EINVAL ? -ENOENT : r;
}
