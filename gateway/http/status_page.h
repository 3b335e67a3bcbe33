/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control-room page's API (status_page.c, status_levels.c): JSON renderings of a snapshot for
 * /api/summary, /api/cameras, /api/cases and /api/points. Each returns a malloc'd text in
 * *ret_text and its length in *ret_len, or -ENOMEM. */
#ifndef ALARMGW_STATUS_PAGE_H
#define ALARMGW_STATUS_PAGE_H

#include <jansson.h>

#include "status.h"

#define AGW_PAGE_LIMIT_DEFAULT 50
#define AGW_PAGE_LIMIT_MAX 500    /* rows per page at most */
#define AGW_PAGE_PROBLEM_SHOWN 10 /* cameras named per problem in the summary */

/* What the summary says beyond the snapshot: the serving process's own state. */
struct agw_page_context {
	const char *time_zone;  /* IANA zone times are shown in */
	const char *tile_url;   /* a tile URL template, or NULL: the grid is the background */
	const char *lang;       /* "zh" or "en", from Accept-Language */
	bool map;               /* Leaflet is there to draw the map */
	bool broker;            /* a publisher is configured */
	bool broker_connected;
	int64_t broker_down_ms; /* since when it is not connected, or AGW_TIME_UNKNOWN */
};

int agw_page_summary(const struct agw_status *s, const struct agw_page_context *ctx, char **ret_text, size_t *ret_len);
int agw_page_cameras(const struct agw_status *s, const struct agw_status_filter *f, size_t offset, size_t limit,
		     char **ret_text, size_t *ret_len);
int agw_page_cases(const struct agw_status *s, const char *cell, const char *camera, size_t offset, size_t limit,
		   char **ret_text, size_t *ret_len);
/* Every located camera as [lon, lat, state, id] (state: an index into "offline", "channel_lost",
 * "online", "unknown"), the least a map of 10,000 points needs. */
int agw_page_points(const struct agw_status *s, char **ret_text, size_t *ret_len);

/* Shared by the renderings. */
json_t *agw_page_time(int64_t ms);
json_t *agw_page_camera(const struct agw_status_camera *c);
int agw_page_dump(json_t *root, char **ret_text, size_t *ret_len); /* takes root */
/* Counts per district, street and community, and per cell (status_levels.c). */
json_t *agw_page_levels(const struct agw_status *s, json_t **ret_cells);

#endif
