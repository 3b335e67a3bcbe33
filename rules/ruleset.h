/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rules: what an alert must look like (static conditions: kind, camera, tags, grid cell; dynamic
 * ones: schedule, minimum active duration, repeat count) and what to do with it (open a case or
 * drop it with a named reason). The first rule that matches decides. A ruleset is built by
 * gateway/rules_file.c from the rules file, by agw_ruleset_default, or by tests. */
#ifndef AGW_RULES_RULESET_H
#define AGW_RULES_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarmgw/alert.h"

enum agw_rule_action {
	AGW_RULE_OPEN = 0,
	AGW_RULE_DROP,
};

enum agw_dedup_by {
	AGW_DEDUP_CAMERA = 0, /* same camera and kind */
	AGW_DEDUP_CELL,       /* same grid cell and kind */
	AGW_DEDUP_GROUP,      /* same camera group (agw_ruleset.groups) and kind; a camera in no group: camera */
};

#define AGW_DAYS_ALL 0x7f /* bit 0 Monday ... bit 6 Sunday */
#define AGW_REPEAT_MAX 64
#define AGW_RULES_MAX 65535

/* Minutes of the local day, [start, end). end < start: across midnight (the days bit names the
 * day the window starts). start == end: the whole day. */
struct agw_time_window {
	uint16_t start_min, end_min;
};

struct agw_strv {
	char **v;
	size_t n;
};

struct agw_rule {
	char *name;
	int line;                  /* line in the rules file, 0 when built in */
	uint32_t kinds;            /* bit per agw_alert_kind; 0: any kind */
	struct agw_strv cameras;   /* camera ids; empty: any */
	struct agw_strv tags;      /* any of these tags; empty: any */
	struct agw_strv cells;     /* cell code prefixes (or codes of a level in the cell's path); empty: any */
	uint8_t days;              /* 0: no schedule (always) */
	struct agw_time_window *windows;
	size_t n_windows;          /* days set and no windows: whole days */
	int64_t min_duration_ms;   /* active alerts only; 0: none */
	uint32_t repeat_count;     /* <= 1: none */
	int64_t repeat_window_ms;
	enum agw_rule_action action;
	char *category;            /* open */
	int priority;              /* open: 1 (highest) .. 4 */
	char *title;               /* open: template, see agw_case_title */
	char *reason;              /* drop */
	int64_t dedup_window_ms;
	enum agw_dedup_by dedup_by;
	int64_t clear_timeout_ms;  /* 0: never */
	bool dedup_any_kind;       /* the incident key leaves the kind out: any kind folds into one case */
	bool end_on_clear;         /* the case ends when its alarm ends (inactive edge or clear timeout) */
	int64_t expire_after_ms;   /* the case ends this long after it opened unless ended before; 0: never */
};

/* Cameras that watch the same spot (dedup_by = "group"): one camera over two protocols is two
 * ledger rows in one group. */
struct agw_camera_group {
	char *name;
	struct agw_strv cameras;
};

/* Supervision of open cases, by priority (index 1..4; 0 unused): not accepted within accept_ms,
 * or accepted and not resolved within resolve_ms, the case escalates one level (community,
 * street, district), and again after the same time, up to max_level. 0: no timer. */
struct agw_supervision {
	int64_t accept_ms[5], resolve_ms[5];
	int max_level;
	char *topic; /* escalation topic template; NULL: "{prefix}/escalations/{level}/{code}" */
};

struct agw_flood {
	uint32_t max_cases;        /* cases opened per window before aggregating; 0: no limit */
	int64_t window_ms;
};

struct agw_ruleset {
	struct agw_rule *rules;
	size_t n, cap;
	int tz_offset_min;         /* local time for schedules = UTC + this (China: +480) */
	struct agw_flood flood_camera, flood_cell;
	bool is_default;           /* built by agw_ruleset_default (no rules file) */
	/* defaults applied by agw_ruleset_add */
	int64_t def_dedup_window_ms, def_clear_timeout_ms;
	enum agw_dedup_by def_dedup_by;
	/* An Initialized active state with no last known state opens a case "found on
	 * resynchronisation" when the engine has heard from the camera for at least this long
	 * (0: never). A last known inactive state always does. */
	int64_t resync_unknown_after_ms;
	struct agw_camera_group *groups;
	size_t n_groups;
	struct agw_supervision supervision;
};

int agw_ruleset_new(struct agw_ruleset **ret);
void agw_ruleset_free(struct agw_ruleset *rs);
/* Appends a rule with the ruleset's defaults (open, priority 3) and a copy of name. */
int agw_ruleset_add(struct agw_ruleset *rs, const char *name, struct agw_rule **ret_rule);
const struct agw_rule *agw_ruleset_find(const struct agw_ruleset *rs, const char *name);

/* The policy without a rules file: every alert of any kind but "other" opens a case, priority 3,
 * category "video_alarm", deduplicated by camera and kind for 5 minutes, cleared after 10 minutes
 * without an inactive edge; flood control at 20 cases per camera and 100 per cell in 10 minutes. */
int agw_ruleset_default(struct agw_ruleset **ret);

/* The first group listing the camera, or NULL. */
const char *agw_ruleset_group_of(const struct agw_ruleset *rs, const char *camera_id);
int agw_ruleset_add_group(struct agw_ruleset *rs, const char *name, struct agw_camera_group **ret);

int agw_strv_add(struct agw_strv *sv, const char *s);
void agw_strv_clear(struct agw_strv *sv);
int agw_rule_add_window(struct agw_rule *r, unsigned start_min, unsigned end_min);
int agw_rule_set_text(char **field, const char *text);

/* Parses "HH:MM-HH:MM" (24:00 allowed as an end). */
int agw_time_window_parse(const char *text, struct agw_time_window *ret);
/* Parses a day name ("mon".."sun", "monday".., "weekdays", "weekend", "all") into a mask. */
int agw_days_parse(const char *text, uint8_t *ret_mask);

/* Static conditions against one camera (tags as a vector) and its cell path (codes top-down, the
 * cell's own code last; n_path 0 when the camera has no cell). */
bool agw_rule_matches_static(const struct agw_rule *r, enum agw_alert_kind kind, const char *camera_id,
			     const struct agw_strv *tags, const char *const *path, size_t n_path);
/* The same without the kind: camera ids, tags and cells only. camera_id NULL: the camera list is
 * not checked (the caller has an index of it). */
bool agw_rule_matches_where(const struct agw_rule *r, const char *camera_id, const struct agw_strv *tags,
			    const char *const *path, size_t n_path);
/* Schedule at time_ms (UTC) with the ruleset's offset. */
bool agw_rule_schedule_matches(const struct agw_rule *r, int tz_offset_min, int64_t time_ms);

#endif
