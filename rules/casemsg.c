/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Case titles and the case message (docs/case-message.md). A small JSON writer of its own keeps
 * message building allocation-light: this runs for every open, update and close. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/evidence.h"
#include "alarmgw/json_writer.h"
#include "case_engine_internal.h" /* reads the whole case */

static const char *path_level(const struct agw_case *c, size_t level)
{
	const struct agw_engine_cam *cam = c->cam;
	if (!cam->cell || cam->cell->n_path < 2 || level + 1 >= cam->cell->n_path)
		return "";
	return cam->cell->path[level];
}

static const char *var(const struct agw_case *c, const char *name, size_t n, char *num, size_t numlen)
{
	const struct agw_engine_cam *cam = c->cam;
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
	if (IS("kind"))
		return agw_alert_kind_name(c->kind);
	if (IS("camera"))
		return cam->id;
	if (IS("camera_name"))
		return cam->name ? cam->name : cam->id;
	if (IS("cell"))
		return cam->cell_code;
	if (IS("cell_name"))
		return cam->cell && cam->cell->name ? cam->cell->name : cam->cell_code;
	if (IS("district"))
		return path_level(c, 0);
	if (IS("street"))
		return path_level(c, 1);
	if (IS("community"))
		return path_level(c, 2);
	if (IS("rule"))
		return c->rule ? c->rule : "";
	if (IS("count")) {
		snprintf(num, numlen, "%" PRId64, c->count);
		return num;
	}
#undef IS
	return NULL;
}

void agw_case_title(const char *tmpl, const struct agw_case *c, char *buf, size_t len)
{
	size_t o = 0;
	char num[32];
	if (!len)
		return;
	for (const char *p = tmpl; *p && o + 1 < len;) {
		const char *end = *p == '{' ? strchr(p, '}') : NULL;
		const char *v = end ? var(c, p + 1, (size_t)(end - p - 1), num, sizeof(num)) : NULL;
		if (v) {
			size_t n = strlen(v);
			if (n > len - 1 - o)
				n = len - 1 - o;
			memcpy(buf + o, v, n);
			o += n;
			p = end + 1;
		} else {
			buf[o++] = *p++;
		}
	}
	buf[o] = '\0';
}

/* Degrees with 7 decimals (about 1 cm), as fixed point: no printf on the hot path. */
static void jw_deg(struct agw_jw *w, double v)
{
	if (!isfinite(v) || fabs(v) > 1e6) {
		agw_jw_lit(w, "null");
		return;
	}
	int64_t f = llround(fabs(v) * 1e7);
	char b[32], *p = b + sizeof(b);
	for (int i = 0; i < 7; i++) {
		*--p = (char)('0' + f % 10);
		f /= 10;
	}
	*--p = '.';
	do {
		*--p = (char)('0' + f % 10);
		f /= 10;
	} while (f);
	if (v < 0)
		*--p = '-';
	agw_jw_raw(w, p, (size_t)(b + sizeof(b) - p));
}

static void write_camera(struct agw_jw *w, const struct agw_engine_cam *cam)
{
	agw_jw_key(w, "camera");
	agw_jw_lit(w, "{");
	agw_jw_key(w, "id");
	agw_jw_str(w, cam->id);
	agw_jw_key(w, "name");
	agw_jw_str(w, cam->name);
	agw_jw_key(w, "vendor");
	agw_jw_str(w, cam->vendor);
	agw_jw_key(w, "location");
	if (cam->has_location) {
		agw_jw_lit(w, "{");
		agw_jw_key(w, "lon");
		jw_deg(w, cam->lon);
		agw_jw_key(w, "lat");
		jw_deg(w, cam->lat);
		agw_jw_key(w, "crs");
		agw_jw_str(w, agw_crs_name(cam->crs));
		agw_jw_lit(w, "}");
	} else {
		agw_jw_lit(w, "null");
	}
	agw_jw_lit(w, "}");
}

static void write_cell(struct agw_jw *w, const struct agw_engine *e, const struct agw_engine_cam *cam)
{
	static const char *const sources[] = {"located", "owner", "unassigned"};
	const struct agw_grid *g = agw_engine_grid(e);
	agw_jw_key(w, "cell");
	agw_jw_lit(w, "{");
	agw_jw_key(w, "code");
	agw_jw_str(w, cam->cell_code);
	agw_jw_key(w, "name");
	agw_jw_str(w, cam->cell ? cam->cell->name : NULL);
	agw_jw_key(w, "path");
	if (cam->cell)
		agw_jw_strs(w, cam->cell->path, cam->cell->n_path);
	else
		agw_jw_strs(w, (char *const *)&cam->cell_code, 1);
	agw_jw_key(w, "source");
	agw_jw_str(w, sources[cam->cell_source]);
	agw_jw_key(w, "layer");
	agw_jw_str(w, g ? agw_grid_layer(g) : NULL);
	agw_jw_key(w, "layer_version");
	if (g)
		agw_jw_int(w, agw_grid_version(g));
	else
		agw_jw_lit(w, "null");
	agw_jw_key(w, "workers");
	agw_jw_strs(w, cam->cell ? cam->cell->workers : NULL, cam->cell ? cam->cell->n_workers : 0);
	agw_jw_lit(w, "}");
}

static void write_event(struct agw_jw *w, const struct agw_case *c)
{
	agw_jw_key(w, "event");
	agw_jw_lit(w, "{");
	agw_jw_key(w, "kind");
	agw_jw_str(w, agw_alert_kind_name(c->kind));
	agw_jw_key(w, "active");
	if (c->has_state)
		agw_jw_bool(w, c->active);
	else
		agw_jw_lit(w, "null");
	agw_jw_key(w, "first_seen");
	agw_jw_time(w, c->first_seen);
	agw_jw_key(w, "last_seen");
	agw_jw_time(w, c->last_seen);
	agw_jw_key(w, "cleared");
	agw_jw_time(w, c->cleared_ms ? c->cleared_ms : AGW_TIME_UNKNOWN);
	agw_jw_key(w, "count");
	agw_jw_int(w, c->count);
	agw_jw_key(w, "first_camera_time");
	agw_jw_time(w, c->first_camera_time);
	agw_jw_key(w, "camera_time");
	agw_jw_time(w, c->last_camera_time);
	agw_jw_key(w, "gateway_time");
	agw_jw_time(w, c->last_seen);
	agw_jw_key(w, "raw_topic");
	agw_jw_str(w, c->topic);
	agw_jw_lit(w, "}");
}

static void write_sources(struct agw_jw *w, const struct agw_case *c)
{
	agw_jw_key(w, "sources");
	agw_jw_lit(w, "[");
	for (size_t i = 0; i < c->n_sources; i++) {
		const struct agw_case_source *s = &c->sources[i];
		agw_jw_sep(w);
		agw_jw_lit(w, "{");
		agw_jw_key(w, "camera");
		agw_jw_str(w, s->cam->id);
		agw_jw_key(w, "adapter");
		agw_jw_str(w, s->adapter[0] ? s->adapter : NULL);
		agw_jw_key(w, "count");
		agw_jw_int(w, s->count);
		agw_jw_key(w, "first_seen");
		agw_jw_time(w, s->first_seen);
		agw_jw_key(w, "last_seen");
		agw_jw_time(w, s->last_seen);
		agw_jw_lit(w, "}");
	}
	agw_jw_lit(w, "]");
}

static void write_lifecycle(struct agw_jw *w, const struct agw_case *c)
{
	const char *level = NULL, *code = NULL;
	agw_jw_key(w, "lifecycle");
	agw_jw_lit(w, "{");
	agw_jw_key(w, "history");
	agw_jw_lit(w, "{");
	for (int s = 0; s < AGW_CASE__STATUS_COUNT; s++) {
		if (!c->status_ms[s])
			continue;
		const char *name = agw_case_status_name((enum agw_case_status)s);
		agw_jw_keyn(w, name, strlen(name));
		agw_jw_time(w, c->status_ms[s]);
	}
	agw_jw_lit(w, "}");
	agw_jw_key(w, "feedback_count");
	agw_jw_int(w, c->n_feedback);
	agw_jw_key(w, "last_feedback");
	if (c->n_feedback > 0) {
		agw_jw_lit(w, "{");
		agw_jw_key(w, "status");
		agw_jw_str(w, agw_case_status_name(c->fb_status));
		agw_jw_key(w, "at");
		agw_jw_time(w, c->fb_ms);
		agw_jw_key(w, "by");
		agw_jw_str(w, c->fb_by);
		agw_jw_key(w, "note");
		agw_jw_str(w, c->fb_note);
		agw_jw_lit(w, "}");
	} else {
		agw_jw_lit(w, "null");
	}
	agw_jw_key(w, "escalation");
	agw_jw_lit(w, "{");
	agw_jw_key(w, "level");
	agw_jw_int(w, c->esc_level);
	if (c->esc_level) /* reads the cell's path: a cache miss per message otherwise */
		agw_case_escalation_target(c, c->esc_level, &level, &code);
	agw_jw_key(w, "target_level");
	agw_jw_str(w, level);
	agw_jw_key(w, "target_code");
	agw_jw_str(w, code);
	agw_jw_lit(w, "}");
	agw_jw_key(w, "supervision_due");
	agw_jw_time(w, c->sup_due_ms ? c->sup_due_ms : AGW_TIME_UNKNOWN);
	agw_jw_key(w, "expires");
	agw_jw_time(w, c->expire_ms ? c->expire_ms : AGW_TIME_UNKNOWN);
	agw_jw_key(w, "ended");
	if (c->end != AGW_END_NONE) {
		agw_jw_lit(w, "{");
		agw_jw_key(w, "by");
		agw_jw_str(w, agw_case_end_name(c->end));
		agw_jw_key(w, "at");
		agw_jw_time(w, c->ended_ms);
		agw_jw_lit(w, "}");
	} else {
		agw_jw_lit(w, "null");
	}
	agw_jw_lit(w, "}");
}

/* The journal's alerts of the case (the latest AGW_CASE_EVIDENCE_MAX), oldest first. */
static void write_alerts(struct agw_jw *w, const struct agw_case *c)
{
	agw_jw_key(w, "alerts");
	agw_jw_lit(w, "[");
	size_t start = c->n_evidence < AGW_CASE_EVIDENCE_MAX ? 0 : c->evidence_next;
	for (size_t i = 0; i < c->n_evidence; i++) {
		const struct agw_case_evidence *ev = &c->evidence[(start + i) % AGW_CASE_EVIDENCE_MAX];
		agw_jw_sep(w);
		agw_jw_lit(w, "{");
		agw_jw_key(w, "journal_seq");
		agw_jw_int(w, ev->alert_seq);
		agw_jw_key(w, "event_id");
		agw_jw_str(w, ev->event_id);
		agw_jw_lit(w, "}");
	}
	agw_jw_lit(w, "]");
}

static void write_evidence(struct agw_jw *w, const struct agw_evidence_entry *ev, size_t n)
{
	agw_jw_key(w, "evidence");
	agw_jw_lit(w, "[");
	for (size_t i = 0; i < n; i++) {
		agw_jw_sep(w);
		agw_jw_lit(w, "{");
		agw_jw_key(w, "n");
		agw_jw_int(w, ev[i].n);
		agw_jw_key(w, "type");
		agw_jw_str(w, ev[i].type);
		agw_jw_key(w, "status");
		agw_jw_str(w, ev[i].status);
		agw_jw_key(w, "reason");
		agw_jw_str(w, ev[i].reason);
		agw_jw_key(w, "captured_at");
		agw_jw_time(w, ev[i].captured_at);
		agw_jw_key(w, "camera_time");
		agw_jw_time(w, ev[i].camera_time);
		agw_jw_key(w, "bytes");
		if (ev[i].bytes >= 0)
			agw_jw_int(w, ev[i].bytes);
		else
			agw_jw_lit(w, "null");
		agw_jw_key(w, "sha256");
		agw_jw_str(w, ev[i].sha256);
		agw_jw_key(w, "width");
		agw_jw_int(w, ev[i].width);
		agw_jw_key(w, "height");
		agw_jw_int(w, ev[i].height);
		agw_jw_key(w, "topic");
		agw_jw_str(w, ev[i].topic);
		agw_jw_key(w, "reused_from");
		if (ev[i].reused_case) {
			agw_jw_lit(w, "{");
			agw_jw_key(w, "case_id");
			agw_jw_str(w, ev[i].reused_case);
			agw_jw_key(w, "n");
			agw_jw_int(w, ev[i].reused_n);
			agw_jw_lit(w, "}");
		} else {
			agw_jw_lit(w, "null");
		}
		agw_jw_key(w, "url");
		agw_jw_str(w, ev[i].url);
		agw_jw_key(w, "url_expires");
		agw_jw_time(w, ev[i].url ? ev[i].url_expires : AGW_TIME_UNKNOWN);
		agw_jw_lit(w, "}");
	}
	agw_jw_lit(w, "]");
}

/* The members from "gateway" to "aggregate": fixed when the case is made. */
static void write_case_fixed(struct agw_jw *w, const struct agw_engine *e, const struct agw_case *c)
{
	agw_jw_key(w, "gateway");
	agw_jw_str(w, agw_engine_gateway_id(e));
	agw_jw_key(w, "rule");
	agw_jw_str(w, c->rule);
	agw_jw_key(w, "category");
	agw_jw_str(w, c->category);
	agw_jw_key(w, "priority");
	agw_jw_int(w, c->priority);
	agw_jw_key(w, "title");
	agw_jw_str(w, c->title ? c->title : "");
	agw_jw_key(w, "aggregate");
	agw_jw_bool(w, c->aggregate);
}

static void write_cam_fixed(struct agw_jw *w, const struct agw_engine *e, const struct agw_case *c)
{
	write_camera(w, c->cam);
	write_cell(w, e, c->cam);
}

/* Appends a part rendered once and kept in *part (the same bytes write would append here), or
 * renders it in place when it cannot be kept (out of memory: the message is still whole). The
 * part is rendered on its own, so its first key has no comma: the separator comes from here. */
static void jw_part(struct agw_jw *w, char **part, size_t *part_len, const struct agw_engine *e,
		    const struct agw_case *c, void (*write)(struct agw_jw *, const struct agw_engine *, const struct agw_case *))
{
	if (!*part) {
		struct agw_jw pw = {0};
		write(&pw, e, c);
		if (agw_jw_finish(&pw, part, part_len) < 0) {
			write(w, e, c);
			return;
		}
		/* kept for the case's or the camera's life: its size, not the writer's 2 KB */
		char *fit = realloc(*part, *part_len + 1);
		if (fit)
			*part = fit;
	}
	agw_jw_sep(w);
	agw_jw_raw(w, *part, *part_len);
}

/* The parts kept on the case and its camera are caches: filling them changes no byte of any
 * message, so the case and camera count as unchanged (hence the casts). */
int agw_case_message(const struct agw_engine *e, const struct agw_case *c, enum agw_decision_action action,
		     const struct agw_evidence_entry *ev, size_t n_ev, char **ret_json, size_t *ret_len)
{
	struct agw_case *mc = (struct agw_case *)c;
	struct agw_jw w = {0};
	agw_jw_lit(&w, "{");
	agw_jw_key(&w, "schema_version");
	agw_jw_int(&w, AGW_CASE_SCHEMA_VERSION);
	agw_jw_key(&w, "case_id");
	agw_jw_str(&w, c->id);
	agw_jw_key(&w, "action");
	agw_jw_str(&w, agw_decision_action_name(action));
	agw_jw_key(&w, "status");
	agw_jw_str(&w, agw_case_status_name(c->status));
	agw_jw_key(&w, "escalation_level");
	agw_jw_int(&w, c->esc_level);
	agw_jw_key(&w, "created");
	agw_jw_time(&w, c->created_ms);
	agw_jw_key(&w, "updated");
	agw_jw_time(&w, c->updated_ms);
	jw_part(&w, &mc->msg_part, &mc->msg_part_len, e, c, write_case_fixed);
	agw_jw_key(&w, "found_on_resync");
	agw_jw_bool(&w, c->resync);
	jw_part(&w, &c->cam->msg_part, &c->cam->msg_part_len, e, c, write_cam_fixed);
	write_event(&w, c);
	write_sources(&w, c);
	write_lifecycle(&w, c);
	write_alerts(&w, c);
	write_evidence(&w, ev, n_ev);
	agw_jw_lit(&w, "}");
	return agw_jw_finish(&w, ret_json, ret_len);
}
