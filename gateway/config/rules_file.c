/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rules file reader. Collects every error with its line, then refuses the whole file: a
 * half-understood policy must never run. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules_file.h"
#include "libconfig_text.h"

struct ctx {
	const char *path;
	struct agw_errors *errs;
	int n_errors;
};

static int line_of(const config_setting_t *s)
{
	return s ? config_setting_source_line(s) : 0;
}

static void err(struct ctx *c, const config_setting_t *s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void err(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	agw_errors_add(c->errs, c->path, line_of(s), "%s", msg);
	c->n_errors++;
}

/* A duration: "500ms", "10s", "5m", "1h" or a number of seconds. */
static bool get_duration(struct ctx *c, const config_setting_t *s, int64_t *ret)
{
	int type = config_setting_type(s);
	if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
		long long v = config_setting_get_int64(s);
		if (v < 0 || v > 365LL * 86400) {
			err(c, s, "%s: duration out of range", config_setting_name(s));
			return false;
		}
		*ret = v * 1000;
		return true;
	}
	if (type == CONFIG_TYPE_STRING && agw_duration_parse(config_setting_get_string(s), ret) == 0 && *ret >= 0)
		return true;
	err(c, s, "%s: expected a duration such as \"500ms\", \"30s\", \"5m\" or \"1h\"", config_setting_name(s));
	return false;
}

/* A string or a list/array of strings. */
static bool get_strings(struct ctx *c, const config_setting_t *s, struct agw_strv *out)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return agw_strv_add(out, config_setting_get_string(s)) == 0;
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s)) {
		err(c, s, "%s: expected a string or a list of strings", config_setting_name(s));
		return false;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		if (!v || !*v) {
			err(c, e, "%s: element %d must be a non-empty string", config_setting_name(s), i + 1);
			return false;
		}
		if (agw_strv_add(out, v) < 0)
			return false;
	}
	return true;
}

static const char *get_text(struct ctx *c, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	if (!v)
		err(c, s, "%s: expected a string", config_setting_name(s));
	return v;
}

static bool get_int(struct ctx *c, const config_setting_t *s, long long min, long long max, long long *ret)
{
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		err(c, s, "%s: expected an integer", config_setting_name(s));
		return false;
	}
	long long v = config_setting_get_int64(s);
	if (v < min || v > max) {
		err(c, s, "%s: %lld is out of range [%lld, %lld]", config_setting_name(s), v, min, max);
		return false;
	}
	*ret = v;
	return true;
}

static bool get_dedup_by(struct ctx *c, const config_setting_t *s, enum agw_dedup_by *ret)
{
	const char *v = get_text(c, s);
	if (!v)
		return false;
	if (strcmp(v, "camera") == 0)
		*ret = AGW_DEDUP_CAMERA;
	else if (strcmp(v, "cell") == 0)
		*ret = AGW_DEDUP_CELL;
	else if (strcmp(v, "group") == 0)
		*ret = AGW_DEDUP_GROUP;
	else {
		err(c, s, "dedup_by: \"%s\" must be \"camera\", \"cell\" or \"group\"", v);
		return false;
	}
	return true;
}

/* "+08:00", "-05:30", "UTC+8", "+8" */
static bool get_tz(struct ctx *c, const config_setting_t *s, int *ret)
{
	const char *v = get_text(c, s);
	if (!v)
		return false;
	const char *p = strncmp(v, "UTC", 3) == 0 ? v + 3 : v;
	int sign = 0, h = 0, m = 0, n = 0;
	if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (sscanf(p, "%2d:%2d%n", &h, &m, &n) == 2 && !p[n]) {
		} else if (sscanf(p, "%2d%n", &h, &n) == 1 && !p[n]) {
			m = 0;
		} else {
			sign = 0;
		}
	}
	if (!sign || h > 14 || m > 59) {
		err(c, s, "timezone: \"%s\" must be an offset such as \"+08:00\"", v);
		return false;
	}
	*ret = sign * (h * 60 + m);
	return true;
}

static void parse_flood(struct ctx *c, const config_setting_t *g, struct agw_flood *f)
{
	if (!config_setting_is_group(g)) {
		err(c, g, "flood.%s: expected a group { max_cases = N; window = \"10m\"; }", config_setting_name(g));
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(s);
		long long v;
		if (strcmp(k, "max_cases") == 0) {
			if (get_int(c, s, 0, 1000000, &v))
				f->max_cases = (uint32_t)v;
		} else if (strcmp(k, "window") == 0) {
			get_duration(c, s, &f->window_ms);
		} else {
			err(c, s, "flood: unknown key \"%s\" (max_cases, window)", k);
		}
	}
	if (f->max_cases && f->window_ms <= 0)
		err(c, g, "flood.%s: window must be positive", config_setting_name(g));
}

static void parse_kinds(struct ctx *c, const config_setting_t *s, struct agw_rule *r)
{
	struct agw_strv v = {0};
	if (get_strings(c, s, &v))
		for (size_t i = 0; i < v.n; i++) {
			enum agw_alert_kind k;
			if (strcmp(v.v[i], "any") == 0)
				r->kinds = 0;
			else if (agw_alert_kind_parse(v.v[i], &k) < 0)
				err(c, s, "kinds: unknown alert kind \"%s\"", v.v[i]);
			else
				r->kinds |= 1u << k;
		}
	agw_strv_clear(&v);
}

static void parse_days(struct ctx *c, const config_setting_t *s, struct agw_rule *r)
{
	struct agw_strv v = {0};
	if (get_strings(c, s, &v))
		for (size_t i = 0; i < v.n; i++) {
			uint8_t m;
			if (agw_days_parse(v.v[i], &m) < 0)
				err(c, s, "days: \"%s\" is not mon..sun, weekdays, weekend or all", v.v[i]);
			else
				r->days |= m;
		}
	agw_strv_clear(&v);
}

static void parse_times(struct ctx *c, const config_setting_t *s, struct agw_rule *r)
{
	struct agw_strv v = {0};
	if (get_strings(c, s, &v))
		for (size_t i = 0; i < v.n; i++) {
			struct agw_time_window w;
			if (agw_time_window_parse(v.v[i], &w) < 0)
				err(c, s, "times: \"%s\" must be \"HH:MM-HH:MM\" (24:00 allowed as end)", v.v[i]);
			else if (agw_rule_add_window(r, w.start_min, w.end_min) < 0)
				err(c, s, "times: out of memory");
		}
	agw_strv_clear(&v);
}

static void parse_repeat(struct ctx *c, const config_setting_t *g, struct agw_rule *r)
{
	if (!config_setting_is_group(g)) {
		err(c, g, "repeat: expected a group { count = N; window = \"1m\"; }");
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(s);
		long long v;
		if (strcmp(k, "count") == 0) {
			if (get_int(c, s, 1, AGW_REPEAT_MAX, &v))
				r->repeat_count = (uint32_t)v;
		} else if (strcmp(k, "window") == 0) {
			get_duration(c, s, &r->repeat_window_ms);
		} else {
			err(c, s, "repeat: unknown key \"%s\" (count, window)", k);
		}
	}
	if (r->repeat_count > 1 && r->repeat_window_ms <= 0)
		err(c, g, "repeat: a count above 1 needs a positive window");
}

/* The rule's action, once all its keys are read: a drop rule needs its reason. */
static void set_action(struct ctx *c, const config_setting_t *g, struct agw_rule *r, const config_setting_t *action,
		       const config_setting_t *reason)
{
	const char *n = r->name;
	const char *a = action ? config_setting_get_string(action) : NULL;
	if (!a) {
		err(c, action ? action : g, "rule \"%s\": \"action\" must be \"open\" or \"drop\"", n);
	} else if (strcmp(a, "open") == 0) {
		r->action = AGW_RULE_OPEN;
		if (!r->category)
			agw_rule_set_text(&r->category, "video_alarm");
	} else if (strcmp(a, "drop") == 0) {
		r->action = AGW_RULE_DROP;
		if (!reason || !r->reason || !*r->reason)
			err(c, g, "rule \"%s\": a drop rule needs a \"reason\" (it is journaled with every drop)", n);
	} else {
		err(c, action, "rule \"%s\": action \"%s\" must be \"open\" or \"drop\"", n, a);
	}
}

static bool parse_rule_life(struct ctx *c, const config_setting_t *s, const char *k, const char *n, struct agw_rule *r);

static void parse_rule(struct ctx *c, struct agw_ruleset *rs, const config_setting_t *g, int index)
{
	if (!config_setting_is_group(g)) {
		err(c, g, "rules: element %d must be a group { name = ...; ... }", index + 1);
		return;
	}
	const config_setting_t *name = config_setting_get_member(g, "name");
	const char *n = name ? config_setting_get_string(name) : NULL;
	if (!n || !*n) {
		err(c, g, "rule %d: \"name\" (a non-empty string) is required", index + 1);
		return;
	}
	if (agw_ruleset_find(rs, n)) {
		err(c, name, "rule \"%s\": the name is used by an earlier rule", n);
		return;
	}
	struct agw_rule *r;
	if (agw_ruleset_add(rs, n, &r) < 0) {
		err(c, g, "rule \"%s\": too many rules or out of memory", n);
		return;
	}
	r->line = line_of(g);
	const config_setting_t *action = NULL, *reason = NULL;
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(s);
		long long v;
		const char *t;
		if (strcmp(k, "name") == 0)
			continue;
		if (strcmp(k, "kinds") == 0 || strcmp(k, "kind") == 0)
			parse_kinds(c, s, r);
		else if (strcmp(k, "cameras") == 0)
			get_strings(c, s, &r->cameras);
		else if (strcmp(k, "tags") == 0)
			get_strings(c, s, &r->tags);
		else if (strcmp(k, "cells") == 0)
			get_strings(c, s, &r->cells);
		else if (strcmp(k, "days") == 0)
			parse_days(c, s, r);
		else if (strcmp(k, "times") == 0)
			parse_times(c, s, r);
		else if (strcmp(k, "min_duration") == 0)
			get_duration(c, s, &r->min_duration_ms);
		else if (strcmp(k, "repeat") == 0)
			parse_repeat(c, s, r);
		else if (strcmp(k, "action") == 0)
			action = s;
		else if (strcmp(k, "category") == 0) {
			if ((t = get_text(c, s)))
				agw_rule_set_text(&r->category, t);
		} else if (strcmp(k, "priority") == 0) {
			if (get_int(c, s, 1, 4, &v))
				r->priority = (int)v;
		} else if (strcmp(k, "title") == 0) {
			if ((t = get_text(c, s)))
				agw_rule_set_text(&r->title, t);
		} else if (strcmp(k, "reason") == 0) {
			reason = s;
			if ((t = get_text(c, s)))
				agw_rule_set_text(&r->reason, t);
		} else if (strcmp(k, "dedup_window") == 0)
			get_duration(c, s, &r->dedup_window_ms);
		else if (strcmp(k, "dedup_by") == 0)
			get_dedup_by(c, s, &r->dedup_by);
		else if (strcmp(k, "clear_timeout") == 0)
			get_duration(c, s, &r->clear_timeout_ms);
		else if (!parse_rule_life(c, s, k, n, r))
			err(c, s, "rule \"%s\": unknown key \"%s\"", n, k);
	}
	set_action(c, g, r, action, reason);
	if (r->n_windows && !r->days)
		r->days = AGW_DAYS_ALL;
}

/* The keys of a rule about correlation and the case's end; false: not one of them. */
static bool parse_rule_life(struct ctx *c, const config_setting_t *s, const char *k, const char *n, struct agw_rule *r)
{
	const char *t;
	if (strcmp(k, "dedup_kinds") == 0) {
		if ((t = get_text(c, s)) && strcmp(t, "any") && strcmp(t, "same"))
			err(c, s, "rule \"%s\": dedup_kinds \"%s\" must be \"same\" or \"any\"", n, t);
		r->dedup_any_kind = t && strcmp(t, "any") == 0;
	} else if (strcmp(k, "end_on_clear") == 0) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			err(c, s, "rule \"%s\": end_on_clear must be true or false", n);
		r->end_on_clear = config_setting_get_bool(s);
	} else if (strcmp(k, "expire_after") == 0) {
		get_duration(c, s, &r->expire_after_ms);
	} else {
		return false;
	}
	return true;
}

/* groups = { lobby = ["cam-1", "cam-1-rtsp"]; ... }; */
static void parse_groups(struct ctx *c, const config_setting_t *g, struct agw_ruleset *rs)
{
	if (!config_setting_is_group(g)) {
		err(c, g, "groups: expected a group { name = [\"camera\", ...]; ... }");
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		struct agw_camera_group *cg;
		if (agw_ruleset_add_group(rs, config_setting_name(s), &cg) < 0 || !get_strings(c, s, &cg->cameras)) {
			err(c, s, "groups.%s: expected a camera id or a list of them", config_setting_name(s));
			continue;
		}
		for (size_t j = 0; j < cg->cameras.n; j++) {
			const char *other = agw_ruleset_group_of(rs, cg->cameras.v[j]);
			if (other && strcmp(other, cg->name) != 0)
				err(c, s, "groups.%s: camera %s is already in group %s", cg->name, cg->cameras.v[j], other);
		}
	}
}

/* accept = { p1 = "5m"; p2 = "30m"; ... } */
static void parse_deadlines(struct ctx *c, const config_setting_t *g, int64_t *ms)
{
	if (!config_setting_is_group(g)) {
		err(c, g, "supervision.%s: expected a group { p1 = \"5m\"; p2 = \"30m\"; ... }", config_setting_name(g));
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(s);
		if (k[0] == 'p' && k[1] >= '1' && k[1] <= '4' && !k[2])
			get_duration(c, s, &ms[k[1] - '0']);
		else
			err(c, s, "supervision.%s: unknown key \"%s\" (p1, p2, p3, p4: the priorities)", config_setting_name(g), k);
	}
}

static void parse_supervision(struct ctx *c, const config_setting_t *g, struct agw_supervision *sv)
{
	if (!config_setting_is_group(g)) {
		err(c, g, "supervision: expected a group { accept = {...}; resolve = {...}; levels = 3; }");
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(s), *t;
		long long v;
		if (strcmp(k, "accept") == 0)
			parse_deadlines(c, s, sv->accept_ms);
		else if (strcmp(k, "resolve") == 0)
			parse_deadlines(c, s, sv->resolve_ms);
		else if (strcmp(k, "levels") == 0) {
			if (get_int(c, s, 1, 16, &v))
				sv->max_level = (int)v;
		} else if (strcmp(k, "topic") == 0) {
			if ((t = get_text(c, s)))
				agw_rule_set_text(&sv->topic, t);
		} else
			err(c, s, "supervision: unknown key \"%s\" (accept, resolve, levels, topic)", k);
	}
}

static void parse_defaults(struct ctx *c, const config_setting_t *g, struct agw_ruleset *rs)
{
	if (!config_setting_is_group(g)) {
		err(c, g, "defaults: expected a group");
		return;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(s);
		if (strcmp(k, "dedup_window") == 0)
			get_duration(c, s, &rs->def_dedup_window_ms);
		else if (strcmp(k, "dedup_by") == 0)
			get_dedup_by(c, s, &rs->def_dedup_by);
		else if (strcmp(k, "clear_timeout") == 0)
			get_duration(c, s, &rs->def_clear_timeout_ms);
		else
			err(c, s, "defaults: unknown key \"%s\" (dedup_window, dedup_by, clear_timeout)", k);
	}
}

/* The top-level keys but defaults and flood (read first); returns the rules list, NULL if none. */
static const config_setting_t *parse_top(struct ctx *c, const config_setting_t *root, struct agw_ruleset *rs)
{
	const config_setting_t *rules = NULL;
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *k = config_setting_name(s);
		long long v;
		if (strcmp(k, "version") == 0) {
			get_int(c, s, 1, 1, &v);
		} else if (strcmp(k, "timezone") == 0) {
			get_tz(c, s, &rs->tz_offset_min);
		} else if (strcmp(k, "resync_unknown_after") == 0) {
			get_duration(c, s, &rs->resync_unknown_after_ms);
		} else if (strcmp(k, "rules") == 0) {
			rules = s;
		} else if (strcmp(k, "groups") == 0) {
			parse_groups(c, s, rs);
		} else if (strcmp(k, "supervision") == 0) {
			parse_supervision(c, s, &rs->supervision);
		} else if (strcmp(k, "defaults") != 0 && strcmp(k, "flood") != 0) {
			err(c, s,
			    "unknown key \"%s\" (version, timezone, resync_unknown_after, defaults, flood, groups, supervision,"
			    " rules)",
			    k);
		}
	}
	return rules;
}

int agw_rules_file_load(const char *path, struct agw_ruleset **ret_rules, struct agw_errors *errs)
{
	struct ctx c = {.path = path, .errs = errs};
	struct agw_ruleset *rs = NULL;
	config_t cf;
	int ret;
	if (access(path, R_OK) < 0) {
		ret = -errno;
		agw_errors_add(errs, path, 0, "cannot read the rules file: %s", strerror(errno));
		return ret;
	}
	config_init(&cf);
	char *text = NULL, why[160];
	int line = 0;
	if (agw_libconfig_text_read(path, &text, &line, why, sizeof(why)) < 0) {
		agw_errors_add(errs, path, line, "%s", why);
		ret = -EINVAL;
		goto out;
	}
	int read_ok = config_read_string(&cf, text);
	free(text);
	if (!read_ok) {
		agw_errors_add(errs, config_error_file(&cf) ? config_error_file(&cf) : path, config_error_line(&cf),
			       "%s", config_error_text(&cf));
		ret = -EINVAL;
		goto out;
	}
	if ((ret = agw_ruleset_new(&rs)) < 0)
		goto out;
	const config_setting_t *root = config_root_setting(&cf);
	/* Defaults and flood first: rules take the defaults when they are added. */
	const config_setting_t *s;
	if ((s = config_setting_get_member(root, "defaults")))
		parse_defaults(&c, s, rs);
	if ((s = config_setting_get_member(root, "flood"))) {
		if (!config_setting_is_group(s))
			err(&c, s, "flood: expected a group { camera = {...}; cell = {...}; }");
		else
			for (int i = 0; i < config_setting_length(s); i++) {
				const config_setting_t *f = config_setting_get_elem(s, (unsigned)i);
				const char *k = config_setting_name(f);
				if (strcmp(k, "camera") == 0)
					parse_flood(&c, f, &rs->flood_camera);
				else if (strcmp(k, "cell") == 0)
					parse_flood(&c, f, &rs->flood_cell);
				else
					err(&c, f, "flood: unknown key \"%s\" (camera, cell)", k);
			}
	}
	const config_setting_t *rules = parse_top(&c, root, rs);
	if (!rules) {
		err(&c, root, "\"rules\" is missing: a list of rules ( { name = ...; action = ...; }, ... )");
	} else if (!config_setting_is_list(rules)) {
		err(&c, rules, "rules: expected a list ( {...}, {...} )");
	} else {
		for (int i = 0; i < config_setting_length(rules); i++)
			parse_rule(&c, rs, config_setting_get_elem(rules, (unsigned)i), i);
	}
	if (c.n_errors) {
		ret = -EINVAL;
		goto out;
	}
	*ret_rules = rs;
	rs = NULL;
	ret = 0;
out:
	agw_ruleset_free(rs);
	config_destroy(&cf);
	return ret;
}
