/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ruleset.h"

int agw_strv_add(struct agw_strv *sv, const char *s)
{
	char **v = realloc(sv->v, (sv->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	sv->v = v;
	if (!(v[sv->n] = strdup(s)))
		return -ENOMEM;
	sv->n++;
	return 0;
}

void agw_strv_clear(struct agw_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

int agw_rule_set_text(char **field, const char *text)
{
	char *s = text ? strdup(text) : NULL;
	if (text && !s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

int agw_rule_add_window(struct agw_rule *r, unsigned start_min, unsigned end_min)
{
	if (start_min >= 24 * 60 || end_min > 24 * 60)
		return -EINVAL;
	struct agw_time_window *w = realloc(r->windows, (r->n_windows + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	r->windows = w;
	/* 24:00 as an end is midnight: the same as 00:00 for the wrap test below. */
	w[r->n_windows++] = (struct agw_time_window){(uint16_t)start_min, (uint16_t)(end_min % (24 * 60))};
	return 0;
}

int agw_ruleset_new(struct agw_ruleset **ret)
{
	struct agw_ruleset *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	rs->tz_offset_min = 8 * 60;
	rs->def_dedup_window_ms = 5 * 60 * 1000;
	rs->def_clear_timeout_ms = 10 * 60 * 1000;
	rs->resync_unknown_after_ms = 10 * 60 * 1000;
	rs->def_dedup_by = AGW_DEDUP_CAMERA;
	rs->flood_camera = (struct agw_flood){20, 10 * 60 * 1000};
	rs->flood_cell = (struct agw_flood){100, 10 * 60 * 1000};
	rs->supervision.max_level = 3; /* community, street, district */
	*ret = rs;
	return 0;
}

static void rule_clear(struct agw_rule *r)
{
	free(r->name);
	agw_strv_clear(&r->cameras);
	agw_strv_clear(&r->tags);
	agw_strv_clear(&r->cells);
	free(r->windows);
	free(r->category);
	free(r->title);
	free(r->reason);
}

void agw_ruleset_free(struct agw_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		rule_clear(&rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->n_groups; i++) {
		free(rs->groups[i].name);
		agw_strv_clear(&rs->groups[i].cameras);
	}
	free(rs->groups);
	free(rs->supervision.topic);
	free(rs);
}

int agw_ruleset_add_group(struct agw_ruleset *rs, const char *name, struct agw_camera_group **ret)
{
	struct agw_camera_group *v = realloc(rs->groups, (rs->n_groups + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	rs->groups = v;
	struct agw_camera_group *g = &v[rs->n_groups];
	*g = (struct agw_camera_group){.name = strdup(name)};
	if (!g->name)
		return -ENOMEM;
	rs->n_groups++;
	*ret = g;
	return 0;
}

/* Groups are few and looked up once per camera (the engine keeps the answer). */
const char *agw_ruleset_group_of(const struct agw_ruleset *rs, const char *camera_id)
{
	for (size_t i = 0; i < rs->n_groups; i++)
		for (size_t j = 0; j < rs->groups[i].cameras.n; j++)
			if (strcmp(rs->groups[i].cameras.v[j], camera_id) == 0)
				return rs->groups[i].name;
	return NULL;
}

int agw_ruleset_add(struct agw_ruleset *rs, const char *name, struct agw_rule **ret_rule)
{
	if (rs->n >= AGW_RULES_MAX)
		return -E2BIG;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct agw_rule *v = realloc(rs->rules, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rs->rules = v;
		rs->cap = cap;
	}
	struct agw_rule r = {
		.action = AGW_RULE_OPEN,
		.priority = 3,
		.dedup_window_ms = rs->def_dedup_window_ms,
		.dedup_by = rs->def_dedup_by,
		.clear_timeout_ms = rs->def_clear_timeout_ms,
	};
	if (!(r.name = strdup(name ? name : "")))
		return -ENOMEM;
	rs->rules[rs->n] = r;
	*ret_rule = &rs->rules[rs->n++];
	return 0;
}

const struct agw_rule *agw_ruleset_find(const struct agw_ruleset *rs, const char *name)
{
	for (size_t i = 0; name && i < rs->n; i++)
		if (strcmp(rs->rules[i].name, name) == 0)
			return &rs->rules[i];
	return NULL;
}

int agw_ruleset_default(struct agw_ruleset **ret)
{
	struct agw_ruleset *rs;
	struct agw_rule *r;
	int e = agw_ruleset_new(&rs);
	if (e < 0)
		return e;
	rs->is_default = true;
	if ((e = agw_ruleset_add(rs, "default", &r)) < 0 || (e = agw_rule_set_text(&r->category, "video_alarm")) < 0 ||
	    (e = agw_rule_set_text(&r->title, "{kind} at {camera_name}")) < 0)
		goto fail;
	r->kinds = ((1u << AGW_KIND__COUNT) - 1) & ~(1u << AGW_KIND_OTHER);
	*ret = rs;
	return 0;
fail:
	agw_ruleset_free(rs);
	return e;
}

static int two_digits(const char *p, unsigned *v)
{
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return -EINVAL;
	*v = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
	return 0;
}

/* "HH:MM" at p, exactly 5 characters */
static int hhmm(const char *p, unsigned *ret, bool allow_24)
{
	unsigned h, m;
	if (two_digits(p, &h) < 0 || p[2] != ':' || two_digits(p + 3, &m) < 0 || m > 59)
		return -EINVAL;
	if (h > 23 && !(allow_24 && h == 24 && m == 0))
		return -EINVAL;
	*ret = h * 60 + m;
	return 0;
}

int agw_time_window_parse(const char *text, struct agw_time_window *ret)
{
	unsigned s, e;
	if (!text || strlen(text) != 11 || text[5] != '-' || hhmm(text, &s, false) < 0 || hhmm(text + 6, &e, true) < 0)
		return -EINVAL;
	*ret = (struct agw_time_window){(uint16_t)s, (uint16_t)(e % (24 * 60))};
	return 0;
}

int agw_days_parse(const char *text, uint8_t *ret_mask)
{
	static const char *const names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
	static const char *const long_names[] = {"monday", "tuesday", "wednesday", "thursday",
						 "friday", "saturday", "sunday"};
	if (!text)
		return -EINVAL;
	for (int i = 0; i < 7; i++)
		if (strcasecmp(text, names[i]) == 0 || strcasecmp(text, long_names[i]) == 0) {
			*ret_mask = (uint8_t)(1u << i);
			return 0;
		}
	if (strcasecmp(text, "weekdays") == 0)
		*ret_mask = 0x1f;
	else if (strcasecmp(text, "weekend") == 0)
		*ret_mask = 0x60;
	else if (strcasecmp(text, "all") == 0 || strcasecmp(text, "daily") == 0)
		*ret_mask = AGW_DAYS_ALL;
	else
		return -EINVAL;
	return 0;
}

static bool strv_has(const struct agw_strv *sv, const char *s)
{
	for (size_t i = 0; s && i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

static bool cell_matches(const struct agw_rule *r, const char *const *path, size_t n_path)
{
	if (!n_path)
		return false;
	const char *code = path[n_path - 1];
	for (size_t i = 0; i < r->cells.n; i++) {
		const char *want = r->cells.v[i];
		if (strncmp(code, want, strlen(want)) == 0)
			return true;
		for (size_t p = 0; p + 1 < n_path; p++)
			if (strcmp(path[p], want) == 0)
				return true;
	}
	return false;
}

bool agw_rule_matches_static(const struct agw_rule *r, enum agw_alert_kind kind, const char *camera_id,
			     const struct agw_strv *tags, const char *const *path, size_t n_path)
{
	if (r->kinds && !(r->kinds & (1u << kind)))
		return false;
	return agw_rule_matches_where(r, camera_id, tags, path, n_path);
}

bool agw_rule_matches_where(const struct agw_rule *r, const char *camera_id, const struct agw_strv *tags,
			    const char *const *path, size_t n_path)
{
	if (camera_id && r->cameras.n && !strv_has(&r->cameras, camera_id))
		return false;
	if (r->tags.n) {
		bool any = false;
		for (size_t i = 0; tags && i < tags->n && !any; i++)
			any = strv_has(&r->tags, tags->v[i]);
		if (!any)
			return false;
	}
	if (r->cells.n && !cell_matches(r, path, n_path))
		return false;
	return true;
}

bool agw_rule_schedule_matches(const struct agw_rule *r, int tz_offset_min, int64_t time_ms)
{
	if (!r->days)
		return true;
	int64_t local_min = time_ms / 60000 + tz_offset_min;
	if (time_ms < 0 && time_ms % 60000)
		local_min--; /* floor for times before 1970 */
	int64_t day = local_min / 1440, minute = local_min % 1440;
	if (minute < 0) {
		minute += 1440;
		day--;
	}
	/* 1970-01-01 was a Thursday: index 3 with Monday = 0. */
	int wd = (int)(((day % 7) + 7 + 3) % 7);
	int yesterday = (wd + 6) % 7;
	bool today_on = r->days & (1u << wd), yesterday_on = r->days & (1u << yesterday);
	if (!r->n_windows)
		return today_on;
	for (size_t i = 0; i < r->n_windows; i++) {
		unsigned s = r->windows[i].start_min, e = r->windows[i].end_min;
		if (s < e) {
			if (today_on && minute >= s && minute < e)
				return true;
		} else if (s == e) {
			if (today_on)
				return true;
		} else {
			/* Across midnight: the evening part belongs to today, the morning part to the
			 * window that started yesterday. */
			if ((today_on && minute >= s) || (yesterday_on && minute < e))
				return true;
		}
	}
	return false;
}
