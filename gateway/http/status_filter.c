/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Server-side search and paging over a snapshot, so the page never ships 10,000 rows: a scan of
 * the snapshot's arrays (microseconds per thousand cameras), no store access. */
#include <string.h>
#include <strings.h>

#include "alarmgw/alert.h"
#include "status.h"

static bool empty(const char *s)
{
	return !s || !*s;
}

static bool contains(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle);
}

static bool same(const char *a, const char *b)
{
	return a && strcasecmp(a, b) == 0;
}

bool agw_status_cell_matches(const struct agw_status_grid *g, const char *code, const char *want)
{
	if (empty(want))
		return true;
	if (!code)
		return false;
	/* Codes are hierarchical: a district's code begins every code below it. */
	if (strncmp(code, want, strlen(want)) == 0)
		return true;
	const struct agw_cell *cell = g ? agw_grid_find(g->grid, code) : NULL;
	if (!cell)
		return false;
	for (size_t i = 0; i < cell->n_path; i++)
		if (strcmp(cell->path[i], want) == 0)
			return true;
	return contains(cell->name, want);
}

static bool state_matches(const struct agw_status_camera *c, const char *want, int64_t now_ms)
{
	if (strcmp(want, "problem") == 0)
		return c->state != AGW_CAMERA_ONLINE;
	if (strcmp(want, "events_lost") == 0)
		return c->events_lost_ms != AGW_TIME_UNKNOWN && now_ms - c->events_lost_ms < AGW_STATUS_EVENTS_LOST_RECENT_MS;
	return strcmp(agw_camera_state_name(c->state), want) == 0;
}

bool agw_status_camera_matches(const struct agw_status_camera *c, const struct agw_status_filter *f, int64_t now_ms)
{
	if (!f)
		return true;
	if (!empty(f->q) && !contains(c->id, f->q) && !contains(c->name, f->q))
		return false;
	if (!empty(f->state) && !state_matches(c, f->state, now_ms))
		return false;
	if (!empty(f->vendor) && !same(c->vendor, f->vendor))
		return false;
	if (!empty(f->protocol) && !same(c->protocol, f->protocol))
		return false;
	/* The camera's cell is in the snapshot already: no look-up unless a name is asked for. */
	if (!empty(f->cell) && !(c->cell_code && strncmp(c->cell_code, f->cell, strlen(f->cell)) == 0)) {
		const struct agw_cell *cell = c->cell;
		bool hit = cell && contains(cell->name, f->cell);
		for (size_t i = 0; cell && !hit && i < cell->n_path; i++)
			hit = strcmp(cell->path[i], f->cell) == 0;
		if (!hit)
			return false;
	}
	return true;
}

size_t agw_status_cameras_page(const struct agw_status *s, const struct agw_status_filter *f, size_t offset,
			       size_t limit, void (*fn)(const struct agw_status_camera *c, void *arg), void *arg)
{
	size_t total = 0;
	for (size_t i = 0; i < s->n_cameras; i++) {
		if (!agw_status_camera_matches(&s->cameras[i], f, s->generated_ms))
			continue;
		if (total >= offset && total - offset < limit)
			fn(&s->cameras[i], arg);
		total++;
	}
	return total;
}

size_t agw_status_open_page(const struct agw_status *s, const char *cell, const char *camera, size_t offset,
			    size_t limit, void (*fn)(const struct agw_status_case *c, void *arg), void *arg)
{
	size_t total = 0;
	for (size_t i = 0; i < s->n_open; i++) {
		const struct agw_status_case *c = &s->open[i];
		if (!empty(camera) && !(c->camera_id && strcmp(c->camera_id, camera) == 0))
			continue;
		if (!agw_status_cell_matches(s->grid, c->cell_code, cell))
			continue;
		if (total >= offset && total - offset < limit)
			fn(c, arg);
		total++;
	}
	return total;
}
