/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The status snapshot as JSON, as the HTML status page, as Prometheus text and for the terminal.
 * Every string from the store (camera names come from an operator's CSV, topics from cameras) is
 * escaped for the format it goes into. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/alert.h"
#include "alarmgw/metrics.h"
#include "status.h"

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void buf_reserve(struct buf *b, size_t more)
{
	if (b->oom || b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void buf_add(struct buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	buf_reserve(b, (size_t)n);
	if (b->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static int buf_finish(struct buf *b, char **ret_text, size_t *ret_len)
{
	buf_reserve(b, 0);
	if (b->oom) {
		free(b->p);
		return -ENOMEM;
	}
	*ret_text = b->p;
	*ret_len = b->len;
	return 0;
}

/* ---- HTML ---- */

static void html_escape(struct buf *b, const char *s)
{
	if (!s)
		return;
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_add(b, s, 1);
		}
	}
}

static const char *time_text(int64_t ms, char *tb, size_t len)
{
	return ms == AGW_TIME_UNKNOWN ? "-" : agw_time_format_ms(ms, tb, len);
}

static const char *active_text(int active)
{
	return active < 0 ? "-" : active ? "active" : "inactive";
}

static void html_cell(struct buf *b, const char *text)
{
	buf_puts(b, "<td>");
	html_escape(b, text && *text ? text : "-");
	buf_puts(b, "</td>");
}

static const char PAGE_HEAD[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";

/* Inline styles only: the control room network may have no route anywhere else. */
static const char PAGE_STYLE[] =
	"<style>\n"
	"body{font-family:sans-serif;margin:1em 2em;background:#f4f5f7;color:#1d2330}\n"
	"h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}\n"
	"table{border-collapse:collapse;background:#fff;width:100%;font-size:.9em}\n"
	"th,td{border:1px solid #c9ced6;padding:.25em .5em;text-align:left}\n"
	"th{background:#dfe3ea}\n"
	".summary span{display:inline-block;margin:0 .6em .4em 0;padding:.3em .7em;border-radius:4px;"
	"background:#fff;border:1px solid #c9ced6}\n"
	".offline{background:#f8d0d0}.channel_lost{background:#fbe7b5}.online{background:#d6f0d6}"
	".unknown{background:#e6e6e6}\n"
	".muted{color:#5c6475;font-size:.85em}\n"
	"</style>\n";

/* NVR channels that no ledger row names: their alerts stay on the device camera and are counted
 * by the adapters (agw_unrouted_channel_alerts_total{adapter,device,channel}); listed here so
 * that an integrator sees which ledger rows are missing. */
static void unrouted_row(const char *name, const char *labels, int64_t value, void *arg)
{
	struct buf *b = arg;
	if (strcmp(name, "agw_unrouted_channel_alerts_total") != 0 || !labels)
		return;
	static const char *const keys[] = {"adapter=\"", "device=\"", "channel=\""};
	buf_puts(b, "<tr>");
	for (size_t i = 0; i < 3; i++) {
		const char *v = strstr(labels, keys[i]);
		char text[80] = "";
		if (v) {
			v += strlen(keys[i]);
			snprintf(text, sizeof(text), "%.*s", (int)strcspn(v, "\""), v);
		}
		html_cell(b, text);
	}
	char n[24];
	snprintf(n, sizeof(n), "%" PRId64, value);
	html_cell(b, n);
	buf_puts(b, "</tr>\n");
}

static void unrouted_any(const char *name, const char *labels, int64_t value, void *arg)
{
	(void)labels;
	(void)value;
	if (!strcmp(name, "agw_unrouted_channel_alerts_total"))
		*(bool *)arg = true;
}

static void html_summary(struct buf *b, const struct agw_status *s, unsigned refresh_s)
{
	char tb[40];
	buf_printf(b, "<p class=\"muted\" id=\"generated\">Generated %s (gateway time, UTC)",
		   time_text(s->generated_ms, tb, sizeof(tb)));
	if (refresh_s)
		buf_printf(b, "; refreshes every %u s", refresh_s);
	buf_puts(b, ".</p>\n<div class=\"summary\" id=\"summary\">");
	buf_printf(b, "<span>cameras: <b>%zu</b></span>", s->n_cameras);
	for (int st = 0; st < AGW_CAMERA_STATE__COUNT; st++)
		buf_printf(b, "<span class=\"%s\">%s: <b id=\"cameras-%s\">%zu</b></span>", agw_camera_state_name(st),
			   agw_camera_state_name(st), agw_camera_state_name(st), s->cameras_by_state[st]);
	/* The store's health is the serving process's own (its metrics), not in the database. */
	if (agw_metric_get("agw_store_failing", NULL) > 0)
		buf_printf(b, "<span class=\"offline\">journal writes: <b id=\"store\">failing for %" PRId64
			       " s</b> (alerts wait at the cameras)</span>",
			   agw_metric_get("agw_store_failing_seconds", NULL));
	else
		buf_puts(b, "<span>journal writes: <b id=\"store\">ok</b></span>");
	buf_printf(b, "<span>outbox depth: <b id=\"outbox-depth\">%" PRId64 "</b></span>", s->outbox_depth);
	buf_printf(b, "<span>outbox age: <b id=\"outbox-age\">%.1f s</b></span>",
		   (double)agw_status_outbox_age_ms(s) / 1000.0);
	buf_printf(b, "<span%s>outbox parked: <b id=\"outbox-parked\">%" PRId64 "</b></span>",
		   s->outbox_parked ? " class=\"offline\"" : "", s->outbox_parked);
	for (size_t i = 0; i < s->n_cases_by_status; i++) {
		buf_puts(b, "<span>cases ");
		html_escape(b, s->cases_by_status[i].name);
		buf_printf(b, ": <b>%" PRId64 "</b></span>", s->cases_by_status[i].n);
	}
	buf_puts(b, "</div>\n");
}

static void html_parked(struct buf *b, const struct agw_status *s)
{
	char tb[40];
	if (s->outbox_parked) {
		/* Refused by the broker: nothing retries them until the operator has fixed the cause. */
		buf_printf(b, "<h2>Parked outbox rows (%" PRId64 ")</h2>\n<p class=\"muted\">Refused by the broker; "
			       "fix the cause, then <code>alarmgw outbox retry ID|--all</code>.</p>\n"
			       "<table id=\"parked\"><thead><tr><th>id</th><th>case</th><th>topic</th><th>reason</th>"
			       "<th>parked</th></tr></thead><tbody>\n",
			   s->outbox_parked);
		for (size_t i = 0; i < s->n_parked; i++) {
			const struct agw_status_parked *p = &s->parked[i];
			char id[32];
			snprintf(id, sizeof(id), "%" PRId64, p->seq);
			buf_puts(b, "<tr>");
			html_cell(b, id);
			html_cell(b, p->case_id);
			html_cell(b, p->topic);
			html_cell(b, p->reason);
			html_cell(b, time_text(p->parked_at_ms, tb, sizeof(tb)));
			buf_puts(b, "</tr>\n");
		}
		buf_puts(b, "</tbody></table>\n");
	}
}

static void html_cameras(struct buf *b, const struct agw_status *s, size_t max_cameras)
{
	char tb[40];
	buf_puts(b, "<h2>Cameras</h2>\n<table id=\"cameras\"><thead><tr><th>id</th><th>name</th><th>protocol</th>"
		     "<th>state</th><th>last event</th><th>last event time</th></tr></thead><tbody>\n");
	size_t shown = s->n_cameras < max_cameras ? s->n_cameras : max_cameras;
	for (size_t i = 0; i < shown; i++) {
		const struct agw_status_camera *c = &s->cameras[i];
		buf_printf(b, "<tr class=\"%s\">", agw_camera_state_name(c->state));
		html_cell(b, c->id);
		html_cell(b, c->name);
		html_cell(b, c->protocol);
		html_cell(b, agw_camera_state_name(c->state));
		html_cell(b, c->last_kind);
		html_cell(b, time_text(c->last_event_ms, tb, sizeof(tb)));
		buf_puts(b, "</tr>\n");
	}
	buf_puts(b, "</tbody></table>\n");
	if (shown < s->n_cameras)
		buf_printf(b, "<p class=\"muted\">%zu more cameras not shown (all are in /api/status).</p>\n",
			   s->n_cameras - shown);
}

static void html_unrouted(struct buf *b)
{
	bool unrouted = false;
	agw_metrics_foreach(unrouted_any, &unrouted);
	if (unrouted) {
		buf_puts(b, "<h2>Channels not in the ledger</h2>\n<p class=\"muted\">Alerts of these NVR channels are "
			     "kept on the device camera; add a ledger row (device, channel) to give them their own."
			     "</p>\n<table id=\"unrouted\"><thead><tr><th>adapter</th><th>device</th><th>channel</th>"
			     "<th>alerts</th></tr></thead><tbody>\n");
		agw_metrics_foreach(unrouted_row, b);
		buf_puts(b, "</tbody></table>\n");
	}
}

static void html_cases(struct buf *b, const struct agw_status *s)
{
	char tb[40];
	buf_puts(b, "<h2>Recent cases</h2>\n<table id=\"cases\"><thead><tr><th>case</th><th>status</th><th>kind</th>"
		     "<th>camera</th><th>cell</th><th>priority</th><th>count</th><th>opened</th><th>updated</th>"
		     "</tr></thead><tbody>\n");
	for (size_t i = 0; i < s->n_cases; i++) {
		const struct agw_status_case *c = &s->cases[i];
		char pr[24], cnt[24];
		snprintf(pr, sizeof(pr), "%" PRId64, c->priority);
		snprintf(cnt, sizeof(cnt), "%" PRId64, c->count);
		buf_puts(b, "<tr>");
		html_cell(b, c->id);
		html_cell(b, c->status);
		html_cell(b, c->kind);
		html_cell(b, c->camera_id);
		html_cell(b, c->cell_code);
		html_cell(b, pr);
		html_cell(b, cnt);
		html_cell(b, time_text(c->opened_at_ms, tb, sizeof(tb)));
		html_cell(b, time_text(c->updated_at_ms, tb, sizeof(tb)));
		buf_puts(b, "</tr>\n");
	}
	buf_puts(b, "</tbody></table>\n");
}

static void html_alerts(struct buf *b, const struct agw_status *s)
{
	char tb[40];
	buf_puts(b, "<h2>Recent alerts</h2>\n<table id=\"alerts\"><thead><tr><th>seq</th><th>time</th><th>camera</th>"
		     "<th>kind</th><th>state</th><th>topic</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < s->n_alerts; i++) {
		const struct agw_status_alert *a = &s->alerts[i];
		char seq[24];
		snprintf(seq, sizeof(seq), "%" PRId64, a->seq);
		buf_puts(b, "<tr>");
		html_cell(b, seq);
		html_cell(b, time_text(a->gateway_time_ms, tb, sizeof(tb)));
		html_cell(b, a->camera_id);
		html_cell(b, a->kind);
		html_cell(b, active_text(a->active));
		html_cell(b, a->topic);
		buf_puts(b, "</tr>\n");
	}
	buf_puts(b, "</tbody></table>\n");
}

int agw_status_to_html(const struct agw_status *s, unsigned refresh_s, size_t max_cameras, char **ret_text,
		       size_t *ret_len)
{
	struct buf b = {0};
	buf_puts(&b, PAGE_HEAD);
	if (refresh_s)
		buf_printf(&b, "<meta http-equiv=\"refresh\" content=\"%u\">\n", refresh_s);
	buf_puts(&b, "<title>alarmgw status</title>\n");
	buf_puts(&b, PAGE_STYLE);
	buf_puts(&b, "</head><body>\n<h1>alarmgw status</h1>\n");
	html_summary(&b, s, refresh_s);
	html_parked(&b, s);
	html_cameras(&b, s, max_cameras);
	html_unrouted(&b);
	html_cases(&b, s);
	html_alerts(&b, s);
	buf_printf(&b, "<p class=\"muted\">Journal sequence %" PRId64 ", schema %d. Read only; "
		       "machine-readable: <a href=\"/api/status\">/api/status</a>, <a href=\"/metrics\">/metrics</a>.</p>\n",
		   s->journal_last_seq, s->schema_version);
	buf_puts(&b, "</body></html>\n");
	return buf_finish(&b, ret_text, ret_len);
}

/* ---- JSON ---- */

static json_t *json_time(int64_t ms)
{
	char tb[40];
	return ms == AGW_TIME_UNKNOWN ? json_null() : json_string(agw_time_format_ms(ms, tb, sizeof(tb)));
}

static json_t *json_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void unrouted_json(const char *name, const char *labels, int64_t value, void *arg)
{
	json_t *arr = arg;
	if (strcmp(name, "agw_unrouted_channel_alerts_total") != 0 || !labels)
		return;
	static const char *const keys[] = {"adapter", "device", "channel"};
	json_t *o = json_object();
	if (!o)
		return;
	for (size_t i = 0; i < 3; i++) {
		char key[16], text[80] = "";
		snprintf(key, sizeof(key), "%s=\"", keys[i]);
		const char *v = strstr(labels, key);
		if (v) {
			v += strlen(key);
			snprintf(text, sizeof(text), "%.*s", (int)strcspn(v, "\""), v);
		}
		json_object_set_new(o, keys[i], json_string(text));
	}
	json_object_set_new(o, "alerts", json_integer(value));
	json_array_append_new(arr, o);
}

/* "outbox": depth, age and the parked rows; JSON null when out of memory. */
static json_t *outbox_json(const struct agw_status *s)
{
	json_t *outbox = json_object();
	if (!outbox)
		return json_null();
	json_object_set_new(outbox, "depth", json_integer(s->outbox_depth));
	json_object_set_new(outbox, "oldest", json_time(s->outbox_oldest_ms));
	json_object_set_new(outbox, "age_seconds", json_real((double)agw_status_outbox_age_ms(s) / 1000.0));
	json_object_set_new(outbox, "parked", json_integer(s->outbox_parked));
	json_t *rows = json_array();
	for (size_t i = 0; rows && i < s->n_parked; i++) {
		const struct agw_status_parked *p = &s->parked[i];
		json_array_append_new(rows, json_pack("{s:I,s:o,s:o,s:o,s:o}", "id", (json_int_t)p->seq, "topic",
						      json_str(p->topic), "case_id", json_str(p->case_id), "reason",
						      json_str(p->reason), "parked", json_time(p->parked_at_ms)));
	}
	json_object_set_new(outbox, "parked_rows", rows ? rows : json_null());
	return outbox;
}

/* "unmatched_channels": adapters' channels in no ledger row (status.h). */
static json_t *unmatched_json(const struct agw_status *s)
{
	json_t *chans = json_object(), *rows = json_array();
	for (size_t i = 0; rows && i < s->n_unmatched; i++) {
		const struct agw_status_channel *c = &s->unmatched[i];
		json_array_append_new(rows, json_pack("{s:o,s:o,s:o,s:o,s:o}", "adapter", json_str(c->adapter), "id",
						      json_str(c->id), "device", json_str(c->device), "name",
						      json_str(c->name), "first_alarm", json_time(c->first_alarm_ms)));
	}
	if (!chans) {
		json_decref(rows);
		return json_null();
	}
	json_object_set_new(chans, "count", json_integer(s->unmatched_channels));
	json_object_set_new(chans, "channels", rows ? rows : json_null());
	return chans;
}

int agw_status_to_json(const struct agw_status *s, char **ret_text, size_t *ret_len)
{
	return agw_status_to_json_page(s, NULL, 0, SIZE_MAX, ret_text, ret_len);
}

static void json_camera(const struct agw_status_camera *c, void *arg)
{
	json_array_append_new(arg, json_pack("{s:o,s:o,s:o,s:o,s:s,s:o,s:o}", "id", json_str(c->id), "name",
					     json_str(c->name), "protocol", json_str(c->protocol), "vendor",
					     json_str(c->vendor), "state", agw_camera_state_name(c->state), "last_kind",
					     json_str(c->last_kind), "last_event", json_time(c->last_event_ms)));
}

/* The store's health is the serving process's own (its metrics), not in the database. */
static json_t *store_json(void)
{
	bool failing = agw_metric_get("agw_store_failing", NULL) > 0;
	return json_pack("{s:s,s:I,s:I}", "journal_writes", failing ? "failing" : "ok", "failing_seconds",
			 (json_int_t)(failing ? agw_metric_get("agw_store_failing_seconds", NULL) : 0), "queued_alerts",
			 (json_int_t)agw_metric_get("agw_queue_alerts", NULL));
}

int agw_status_to_json_page(const struct agw_status *s, const struct agw_status_filter *f, size_t offset, size_t limit,
			    char **ret_text, size_t *ret_len)
{
	json_t *root = json_object(), *cams = json_array(), *alerts = json_array(), *cases = json_array();
	json_t *by_state = json_object(), *by_status = json_object();
	int ret = -ENOMEM;
	if (!root || !cams || !alerts || !cases || !by_state || !by_status) {
		json_decref(cams);
		json_decref(alerts);
		json_decref(cases);
		json_decref(by_state);
		json_decref(by_status);
		goto out;
	}
	json_object_set_new(root, "generated", json_time(s->generated_ms));
	json_object_set_new(root, "schema_version", json_integer(s->schema_version));
	json_object_set_new(root, "journal_last_seq", json_integer(s->journal_last_seq));
	json_object_set_new(root, "store", store_json());
	for (int st = 0; st < AGW_CAMERA_STATE__COUNT; st++)
		json_object_set_new(by_state, agw_camera_state_name(st), json_integer((json_int_t)s->cameras_by_state[st]));
	json_object_set_new(root, "cameras_by_state", by_state);
	for (size_t i = 0; i < s->n_cases_by_status; i++)
		json_object_set_new(by_status, s->cases_by_status[i].name, json_integer(s->cases_by_status[i].n));
	json_object_set_new(root, "cases_by_status", by_status);
	json_object_set_new(root, "outbox", outbox_json(s));
	json_object_set_new(root, "unmatched_channels", unmatched_json(s));
	size_t matched = agw_status_cameras_page(s, f, offset, limit, json_camera, cams);
	json_object_set_new(root, "cameras_matched", json_integer((json_int_t)matched));
	json_object_set_new(root, "cameras", cams);
	for (size_t i = 0; i < s->n_alerts; i++) {
		const struct agw_status_alert *a = &s->alerts[i];
		json_array_append_new(alerts, json_pack("{s:I,s:o,s:o,s:o,s:o,s:o}", "seq", (json_int_t)a->seq, "camera",
							json_str(a->camera_id), "kind", json_str(a->kind), "active",
							a->active < 0 ? json_null() : json_boolean(a->active),
							"time", json_time(a->gateway_time_ms), "topic", json_str(a->topic)));
	}
	json_object_set_new(root, "recent_alerts", alerts);
	for (size_t i = 0; i < s->n_cases; i++) {
		const struct agw_status_case *c = &s->cases[i];
		json_array_append_new(cases, json_pack("{s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:o,s:o}", "id", json_str(c->id),
						       "status", json_str(c->status), "kind", json_str(c->kind), "camera",
						       json_str(c->camera_id), "cell", json_str(c->cell_code), "priority",
						       (json_int_t)c->priority, "count", (json_int_t)c->count, "opened",
						       json_time(c->opened_at_ms), "updated", json_time(c->updated_at_ms)));
	}
	json_object_set_new(root, "recent_cases", cases);
	json_t *unrouted = json_array();
	if (unrouted)
		agw_metrics_foreach(unrouted_json, unrouted);
	json_object_set_new(root, "unrouted_channels", unrouted ? unrouted : json_null());
	char *text = json_dumps(root, JSON_COMPACT);
	if (!text)
		goto out;
	*ret_text = text;
	*ret_len = strlen(text);
	ret = 0;
out:
	json_decref(root);
	return ret;
}

/* ---- Prometheus ---- */

struct prom {
	struct buf *b;
	bool have_store;
	char last[128];
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* Counters are named *_total (and *_sum / *_count pairs) by convention; everything else is a gauge. */
static bool is_counter(const char *name)
{
	return ends_with(name, "_total") || ends_with(name, "_sum") || ends_with(name, "_count");
}

/* Families computed from the store below. A module may also keep its own copy in the counters
 * (the daemon counts cameras, the publisher its outbox); the store's is served so that no family
 * appears twice, and the module's only when the store could not be read. */
static const char *const store_families[] = {
	"agw_cameras", "agw_cases", "agw_outbox_depth", "agw_outbox_oldest_age_seconds", "agw_journal_last_seq",
	"agw_outbox_parked",
};

static bool is_store_family(const char *name)
{
	for (size_t i = 0; i < sizeof(store_families) / sizeof(store_families[0]); i++)
		if (strcmp(name, store_families[i]) == 0)
			return true;
	return false;
}

static void prom_metric(const char *name, const char *labels, int64_t value, void *arg)
{
	struct prom *p = arg;
	if (p->have_store && is_store_family(name))
		return;
	/* One TYPE line per family; metrics arrive sorted by name. */
	if (strcmp(p->last, name) != 0) {
		buf_printf(p->b, "# TYPE %s %s\n", name, is_counter(name) ? "counter" : "gauge");
		snprintf(p->last, sizeof(p->last), "%s", name);
	}
	if (labels && *labels)
		buf_printf(p->b, "%s{%s} %" PRId64 "\n", name, labels, value);
	else
		buf_printf(p->b, "%s %" PRId64 "\n", name, value);
}

/* Label values from the store (case statuses) are escaped as the text format wants. */
static void prom_label_value(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_add(b, s, 1);
	}
}

int agw_status_to_prometheus(const struct agw_status *s, char **ret_text, size_t *ret_len)
{
	struct buf b = {0};
	struct prom p = {.b = &b, .have_store = s != NULL};
	agw_metrics_foreach(prom_metric, &p);
	if (s) {
		buf_puts(&b, "# HELP agw_cameras Cameras in the ledger by state (from their latest health alerts).\n"
			     "# TYPE agw_cameras gauge\n");
		for (int st = 0; st < AGW_CAMERA_STATE__COUNT; st++)
			buf_printf(&b, "agw_cameras{state=\"%s\"} %zu\n", agw_camera_state_name(st), s->cameras_by_state[st]);
		buf_puts(&b, "# HELP agw_cases Cases in the store by status.\n# TYPE agw_cases gauge\n");
		for (size_t i = 0; i < s->n_cases_by_status; i++) {
			buf_puts(&b, "agw_cases{status=\"");
			prom_label_value(&b, s->cases_by_status[i].name);
			buf_printf(&b, "\"} %" PRId64 "\n", s->cases_by_status[i].n);
		}
		buf_printf(&b,
			   "# HELP agw_outbox_depth Messages in the outbox waiting for the broker's acknowledgement.\n"
			   "# TYPE agw_outbox_depth gauge\nagw_outbox_depth %" PRId64 "\n"
			   "# HELP agw_outbox_parked Outbox rows the broker refused, waiting for `alarmgw outbox retry`.\n"
			   "# TYPE agw_outbox_parked gauge\nagw_outbox_parked %" PRId64 "\n"
			   "# HELP agw_outbox_oldest_age_seconds Age of the oldest message in the outbox (0 when empty).\n"
			   "# TYPE agw_outbox_oldest_age_seconds gauge\nagw_outbox_oldest_age_seconds %.3f\n"
			   "# HELP agw_journal_last_seq Sequence number of the newest journaled alert.\n"
			   "# TYPE agw_journal_last_seq gauge\nagw_journal_last_seq %" PRId64 "\n",
			   s->outbox_depth, s->outbox_parked, (double)agw_status_outbox_age_ms(s) / 1000.0,
			   s->journal_last_seq);
	}
	return buf_finish(&b, ret_text, ret_len);
}

/* ---- terminal ---- */

/* Names and topics come from CSV files and cameras: control characters must not reach a terminal. */
static const char *term(const char *s, char *tb, size_t len)
{
	if (!s || !*s)
		return "-";
	size_t i = 0;
	for (; s[i] && i + 1 < len; i++)
		tb[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	tb[i] = '\0';
	return tb;
}

int agw_status_print(const struct agw_status *s, FILE *out)
{
	char tb[40], t1[128], t2[128], t3[128], t4[128], t5[128], t6[256];
	fprintf(out, "alarmgw status at %s (schema %d, journal seq %" PRId64 ")\n\n",
		time_text(s->generated_ms, tb, sizeof(tb)), s->schema_version, s->journal_last_seq);
	fprintf(out, "cameras: %zu", s->n_cameras);
	for (int st = 0; st < AGW_CAMERA_STATE__COUNT; st++)
		fprintf(out, "  %s %zu", agw_camera_state_name(st), s->cameras_by_state[st]);
	fprintf(out, "\noutbox: depth %" PRId64 ", oldest %.1f s, parked %" PRId64 "%s\n", s->outbox_depth,
		(double)agw_status_outbox_age_ms(s) / 1000.0, s->outbox_parked,
		s->outbox_parked ? " (refused by the broker: alarmgw outbox list --parked)" : "");
	fprintf(out, "cases:");
	if (!s->n_cases_by_status)
		fprintf(out, " none");
	for (size_t i = 0; i < s->n_cases_by_status; i++)
		fprintf(out, "  %s %" PRId64, term(s->cases_by_status[i].name, t1, sizeof(t1)), s->cases_by_status[i].n);
	fprintf(out, "\n\nCAMERAS\n%-22s %-13s %-18s %-25s %s\n", "ID", "STATE", "LAST EVENT", "LAST EVENT TIME", "NAME");
	for (size_t i = 0; i < s->n_cameras; i++) {
		const struct agw_status_camera *c = &s->cameras[i];
		fprintf(out, "%-22s %-13s %-18s %-25s %s\n", term(c->id, t1, sizeof(t1)), agw_camera_state_name(c->state),
			term(c->last_kind, t2, sizeof(t2)), time_text(c->last_event_ms, tb, sizeof(tb)),
			term(c->name, t3, sizeof(t3)));
	}
	fprintf(out, "\nRECENT CASES\n%-32s %-10s %-16s %-22s %-16s %3s %5s %s\n", "CASE", "STATUS", "KIND", "CAMERA",
		"CELL", "PRI", "COUNT", "UPDATED");
	for (size_t i = 0; i < s->n_cases; i++) {
		const struct agw_status_case *c = &s->cases[i];
		fprintf(out, "%-32s %-10s %-16s %-22s %-16s %3" PRId64 " %5" PRId64 " %s\n", term(c->id, t1, sizeof(t1)),
			term(c->status, t2, sizeof(t2)), term(c->kind, t3, sizeof(t3)), term(c->camera_id, t4, sizeof(t4)),
			term(c->cell_code, t5, sizeof(t5)), c->priority, c->count,
			time_text(c->updated_at_ms, tb, sizeof(tb)));
	}
	fprintf(out, "\nRECENT ALERTS\n%-10s %-25s %-22s %-18s %-9s %s\n", "SEQ", "TIME", "CAMERA", "KIND", "STATE",
		"TOPIC");
	for (size_t i = 0; i < s->n_alerts; i++) {
		const struct agw_status_alert *a = &s->alerts[i];
		fprintf(out, "%-10" PRId64 " %-25s %-22s %-18s %-9s %s\n", a->seq,
			time_text(a->gateway_time_ms, tb, sizeof(tb)), term(a->camera_id, t1, sizeof(t1)),
			term(a->kind, t2, sizeof(t2)), active_text(a->active), term(a->topic, t6, sizeof(t6)));
	}
	fflush(out);
	return ferror(out) ? -EIO : 0;
}
