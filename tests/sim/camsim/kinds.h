/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kinds of events a simulated camera emits, as data: topic, source items, state item. */
#ifndef CAMSIM_KINDS_H
#define CAMSIM_KINDS_H

#include <stdbool.h>

enum camsim_source_style {
	CAMSIM_SOURCE_RULE,   /* VideoSourceConfigurationToken, VideoAnalyticsConfigurationToken, Rule */
	CAMSIM_SOURCE_VIDEO,  /* Source = video source token */
	CAMSIM_SOURCE_INPUT,  /* InputToken */
};

struct camsim_kind {
	const char *name;       /* --mix key */
	const char *topic;      /* as written in wsnt:Topic */
	const char *rule;       /* the Rule source item (CAMSIM_SOURCE_RULE) */
	const char *state_item; /* boolean Data item, NULL for instantaneous events */
	const char *extra_item; /* another Data item with a fixed value, or NULL */
	const char *extra_value;
	enum camsim_source_style source;
};

#define CAMSIM_KIND_COUNT 8
extern const struct camsim_kind camsim_kinds[CAMSIM_KIND_COUNT];

/* Index of a kind by name, or -ENOENT. */
int camsim_kind_find(const char *name);
/* Parses "motion=5,tamper=1" into weights (kinds not named get 0); -EINVAL on an unknown kind,
 * a bad number, or all weights zero. */
int camsim_mix_parse(const char *s, double weights[CAMSIM_KIND_COUNT]);

#endif
