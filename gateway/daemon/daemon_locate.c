/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Positions adapters report for ledger cameras without one (agw_adapter_ctx.locate: a GB/T 28181
 * catalog's Longitude/Latitude). The ledger stays the authority: a camera whose row has a position
 * keeps it. A reported one is given to the rules engine (which locates the camera in the grid)
 * and remembered here, so that a reload's new decider gets it again; a restart forgets it until
 * the adapter reports it again. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "daemon_internal.h"
#include "decider.h"

struct daemon_position {
	char *camera_id;
	double lon, lat;
	enum agw_crs crs;
};

static const struct agw_camera *ledger_camera(const struct agw_daemon *d, const char *id)
{
	for (size_t i = 0; i < d->n_cameras; i++) /* rare: a catalog that changed */
		if (!strcmp(d->cameras[i].id, id))
			return &d->cameras[i];
	return NULL;
}

static int remember(struct agw_daemon *d, const char *id, double lon, double lat, enum agw_crs crs)
{
	for (size_t i = 0; i < d->n_positions; i++)
		if (!strcmp(d->positions[i].camera_id, id)) {
			d->positions[i] = (struct daemon_position){d->positions[i].camera_id, lon, lat, crs};
			return 0;
		}
	struct daemon_position *v = realloc(d->positions, (d->n_positions + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	d->positions = v;
	char *copy = strdup(id);
	if (!copy)
		return -ENOMEM;
	v[d->n_positions++] = (struct daemon_position){copy, lon, lat, crs};
	return 0;
}

int daemon_locate(struct agw_daemon *d, const char *camera_id, double lon, double lat, const char *crs_name)
{
	enum agw_crs crs = AGW_CRS_WGS84;
	if ((crs_name && agw_crs_parse(crs_name, &crs) < 0) || !isfinite(lon) || !isfinite(lat))
		return -EINVAL;
	const struct agw_camera *c = ledger_camera(d, camera_id);
	if (!c || !d->decider)
		return -ENOENT;
	if (!isnan(c->lon) && !isnan(c->lat))
		return -EEXIST; /* the ledger's position wins */
	int r = agw_decider_locate(d->decider, c, lon, lat, crs);
	if (r == 0)
		r = remember(d, camera_id, lon, lat, crs);
	if (r == 0)
		agw_log_info("core", camera_id, "position %.6f,%.6f (%s) from its adapter: the ledger has none", lon, lat,
			     crs_name ? crs_name : "wgs84");
	return r;
}

void daemon_locate_reapply(struct agw_daemon *d)
{
	for (size_t i = 0; i < d->n_positions; i++) {
		const struct daemon_position *p = &d->positions[i];
		const struct agw_camera *c = ledger_camera(d, p->camera_id);
		if (c && isnan(c->lon) && d->decider) /* gone, or the ledger has one now: the ledger's */
			agw_decider_locate(d->decider, c, p->lon, p->lat, p->crs);
	}
}

void daemon_locate_free(struct agw_daemon *d)
{
	for (size_t i = 0; i < d->n_positions; i++)
		free(d->positions[i].camera_id);
	free(d->positions);
	d->positions = NULL;
	d->n_positions = 0;
}
