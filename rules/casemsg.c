/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Case titles and the case message (docs/case-message.md). A small JSON writer of its own keeps
 * message building allocation-light: this runs for every open, update and close. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- JSON writer ---- */

struct jw {
	char *p;
	size_t len, cap;
	bool oom;
};

static void jw_reserve(struct jw *w, size_t n)
{
	if (w->oom || w->len + n + 1 <= w->cap)
		return;
	size_t cap = w->cap ? w->cap : 2048; /* a message is about 1.1 KB */
	while (cap < w->len + n + 1)
		cap *= 2;
	char *p = realloc(w->p, cap);
	if (!p) {
		w->oom = true;
		return;
	}
	w->p = p;
	w->cap = cap;
}

static void jw_raw(struct jw *w, const char *s, size_t n)
{
	jw_reserve(w, n);
	if (w->oom)
		return;
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = '\0';
}

#define jw_lit(w, s) jw_raw(w, s, strlen(s)) /* literals: the compiler folds strlen */

/* Length of the valid UTF-8 sequence at p (2..4), or 0 when it is not one (overlong forms,
 * surrogates and code points past U+10FFFF included). */
static int utf8_len(const unsigned char *p)
{
	unsigned c = p[0];
	int n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
	    (c == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

/* Escapes as it copies, reserving room in chunks (no strlen pass first). */
static void jw_str(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (!s) {
		jw_lit(w, "null");
		return;
	}
	const unsigned char *q = (const unsigned char *)s;
	jw_raw(w, "\"", 1);
	while (!w->oom) {
		jw_reserve(w, 64 * 6 + 2);
		if (w->oom)
			return;
		char *o = w->p + w->len;
		int i;
		for (i = 0; i < 64 && *q; i++, q++) {
			unsigned char ch = *q;
			/* Fast path: a run of plain ASCII copies without per-byte branches below. */
			if (ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\') {
				const unsigned char *r = q;
				while (r - q < 64 - i && *r >= 0x20 && *r < 0x80 && *r != '"' && *r != '\\')
					r++;
				size_t n = (size_t)(r - q);
				memcpy(o, q, n);
				o += n;
				i += (int)n - 1;
				q = r - 1;
				continue;
			}
			if (ch == '"' || ch == '\\') {
				*o++ = '\\';
				*o++ = (char)ch;
			} else if (ch < 0x20) {
				*o++ = '\\';
				switch (ch) {
				case '\n':
					*o++ = 'n';
					break;
				case '\r':
					*o++ = 'r';
					break;
				case '\t':
					*o++ = 't';
					break;
				default:
					*o++ = 'u';
					*o++ = '0';
					*o++ = '0';
					*o++ = hex[ch >> 4];
					*o++ = hex[ch & 15];
				}
			} else if (ch < 0x80) {
				*o++ = (char)ch;
			} else {
				/* Camera-supplied text: copy valid UTF-8, replace anything else with U+FFFD so
				 * the message stays valid JSON. */
				int n = utf8_len(q);
				if (n) {
					memcpy(o, q, (size_t)n);
					o += n;
					q += n - 1;
					i += n - 1;
				} else {
					memcpy(o, "\\ufffd", 6);
					o += 6;
				}
			}
		}
		w->len = (size_t)(o - w->p);
		if (!*q)
			break;
	}
	jw_raw(w, "\"", 1);
}

/* Keys are literals without escapes: written as they are, their length known at compile time. */
#define jw_key(w, k) jw_keyn(w, k, sizeof(k) - 1)
static void jw_keyn(struct jw *w, const char *k, size_t n)
{
	jw_reserve(w, n + 4);
	if (w->oom)
		return;
	char *o = w->p + w->len;
	if (w->len && o[-1] != '{' && o[-1] != '[')
		*o++ = ',';
	*o++ = '"';
	memcpy(o, k, n);
	o += n;
	*o++ = '"';
	*o++ = ':';
	*o = '\0';
	w->len = (size_t)(o - w->p);
}

static void jw_int(struct jw *w, int64_t v)
{
	char b[24], *p = b + sizeof(b);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	jw_raw(w, p, (size_t)(b + sizeof(b) - p));
}

static char *put_digits(char *p, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/* RFC 3339 UTC with milliseconds, like agw_time_format_ms but without gmtime_r and printf: the
 * days-to-civil-date conversion on the proleptic Gregorian calendar (runs for every message). */
const char *agw_case_time_format(int64_t ms, char *buf)
{
	int64_t secs = ms / 1000, rem = ms % 1000;
	if (rem < 0) {
		rem += 1000;
		secs--;
	}
	int64_t days = secs / 86400, sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999) {
		strcpy(buf, "invalid");
		return buf;
	}
	char *p = put_digits(buf, (unsigned)y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned)(sod / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(sod / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(sod % 60), 2);
	*p++ = '.';
	p = put_digits(p, (unsigned)rem, 3);
	*p++ = 'Z';
	*p = '\0';
	return buf;
}

/* Degrees with 7 decimals (about 1 cm), as fixed point: no printf on the hot path. */
static void jw_deg(struct jw *w, double v)
{
	if (!isfinite(v) || fabs(v) > 1e6) {
		jw_lit(w, "null");
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
	jw_raw(w, p, (size_t)(b + sizeof(b) - p));
}

static void jw_time(struct jw *w, int64_t ms)
{
	char b[AGW_CASE_TIME_LEN];
	if (ms == AGW_TIME_UNKNOWN) {
		jw_lit(w, "null");
		return;
	}
	jw_str(w, agw_case_time_format(ms, b));
}

static void jw_strs(struct jw *w, char *const *v, size_t n)
{
	jw_lit(w, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			jw_lit(w, ",");
		jw_str(w, v[i]);
	}
	jw_lit(w, "]");
}

int agw_case_message(const struct agw_engine *e, const struct agw_case *c, enum agw_decision_action action,
		     char **ret_json, size_t *ret_len)
{
	static const char *const sources[] = {"located", "owner", "unassigned"};
	const struct agw_engine_cam *cam = c->cam;
	const struct agw_grid *g = agw_engine_grid(e);
	struct jw w = {0};
	jw_lit(&w, "{");
	jw_key(&w, "schema_version");
	jw_int(&w, AGW_CASE_SCHEMA_VERSION);
	jw_key(&w, "case_id");
	jw_str(&w, c->id);
	jw_key(&w, "action");
	jw_str(&w, agw_decision_action_name(action));
	jw_key(&w, "status");
	jw_str(&w, agw_case_status_name(c->status));
	jw_key(&w, "created");
	jw_time(&w, c->created_ms);
	jw_key(&w, "updated");
	jw_time(&w, c->updated_ms);
	jw_key(&w, "gateway");
	jw_str(&w, agw_engine_gateway_id(e));
	jw_key(&w, "rule");
	jw_str(&w, c->rule);
	jw_key(&w, "category");
	jw_str(&w, c->category);
	jw_key(&w, "priority");
	jw_int(&w, c->priority);
	jw_key(&w, "title");
	jw_str(&w, c->title ? c->title : "");
	jw_key(&w, "aggregate");
	jw_lit(&w, c->aggregate ? "true" : "false");
	jw_key(&w, "found_on_resync");
	jw_lit(&w, c->resync ? "true" : "false");

	jw_key(&w, "camera");
	jw_lit(&w, "{");
	jw_key(&w, "id");
	jw_str(&w, cam->id);
	jw_key(&w, "name");
	jw_str(&w, cam->name);
	jw_key(&w, "vendor");
	jw_str(&w, cam->vendor);
	jw_key(&w, "location");
	if (cam->has_location) {
		jw_lit(&w, "{");
		jw_key(&w, "lon");
		jw_deg(&w, cam->lon);
		jw_key(&w, "lat");
		jw_deg(&w, cam->lat);
		jw_key(&w, "crs");
		jw_str(&w, agw_crs_name(cam->crs));
		jw_lit(&w, "}");
	} else {
		jw_lit(&w, "null");
	}
	jw_lit(&w, "}");

	jw_key(&w, "cell");
	jw_lit(&w, "{");
	jw_key(&w, "code");
	jw_str(&w, cam->cell_code);
	jw_key(&w, "name");
	jw_str(&w, cam->cell ? cam->cell->name : NULL);
	jw_key(&w, "path");
	if (cam->cell)
		jw_strs(&w, cam->cell->path, cam->cell->n_path);
	else
		jw_strs(&w, (char *const *)&cam->cell_code, 1);
	jw_key(&w, "source");
	jw_str(&w, sources[cam->cell_source]);
	jw_key(&w, "layer");
	jw_str(&w, g ? agw_grid_layer(g) : NULL);
	jw_key(&w, "layer_version");
	if (g)
		jw_int(&w, agw_grid_version(g));
	else
		jw_lit(&w, "null");
	jw_key(&w, "workers");
	jw_strs(&w, cam->cell ? cam->cell->workers : NULL, cam->cell ? cam->cell->n_workers : 0);
	jw_lit(&w, "}");

	jw_key(&w, "event");
	jw_lit(&w, "{");
	jw_key(&w, "kind");
	jw_str(&w, agw_alert_kind_name(c->kind));
	jw_key(&w, "active");
	jw_lit(&w, !c->has_state ? "null" : c->active ? "true" : "false");
	jw_key(&w, "first_seen");
	jw_time(&w, c->first_seen);
	jw_key(&w, "last_seen");
	jw_time(&w, c->last_seen);
	jw_key(&w, "cleared");
	jw_time(&w, c->cleared_ms ? c->cleared_ms : AGW_TIME_UNKNOWN);
	jw_key(&w, "count");
	jw_int(&w, c->count);
	jw_key(&w, "first_camera_time");
	jw_time(&w, c->first_camera_time);
	jw_key(&w, "camera_time");
	jw_time(&w, c->last_camera_time);
	jw_key(&w, "gateway_time");
	jw_time(&w, c->last_seen);
	jw_key(&w, "raw_topic");
	jw_str(&w, c->topic);
	jw_lit(&w, "}");

	jw_key(&w, "evidence");
	jw_lit(&w, "[");
	/* Oldest first. */
	size_t start = c->n_evidence < AGW_CASE_EVIDENCE_MAX ? 0 : c->evidence_next;
	for (size_t i = 0; i < c->n_evidence; i++) {
		const struct agw_case_evidence *ev = &c->evidence[(start + i) % AGW_CASE_EVIDENCE_MAX];
		if (i)
			jw_lit(&w, ",");
		jw_lit(&w, "{");
		jw_key(&w, "type");
		jw_str(&w, "alert");
		jw_key(&w, "journal_seq");
		jw_int(&w, ev->alert_seq);
		jw_key(&w, "event_id");
		jw_str(&w, ev->event_id);
		jw_lit(&w, "}");
	}
	jw_lit(&w, "]}");
	if (w.oom) {
		free(w.p);
		return -ENOMEM;
	}
	*ret_json = w.p;
	*ret_len = w.len;
	return 0;
}
