/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The grid layer of the status snapshots: its cells as GeoJSON for the page's map and as an index
 * to place the cameras, read again only when the layer's version changes (an import), so a
 * snapshot every second costs one keyed look-up here. Snapshots share it by reference: the
 * collector runs on a worker thread while the loop frees older snapshots. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "grid_import.h"
#include "status.h"

struct grid_box {
	struct agw_status_grid g;
	int refs; /* __atomic: the tracker and the snapshots */
};

struct agw_status_grid *agw_status_grid_ref(struct agw_status_grid *g)
{
	if (g)
		__atomic_add_fetch(&((struct grid_box *)g)->refs, 1, __ATOMIC_RELAXED);
	return g;
}

void agw_status_grid_unref(struct agw_status_grid *g)
{
	if (!g || __atomic_sub_fetch(&((struct grid_box *)g)->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(g->layer);
	free(g->crs);
	free(g->geojson);
	agw_grid_free(g->grid);
	free(g);
}

/* A stored JSON text column as a value; NULL or unreadable text gives an empty array. */
static json_t *column_json(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	json_t *v = t ? json_loads(t, 0, NULL) : NULL;
	return v ? v : json_array();
}

/* The layer's cells as a FeatureCollection with the properties of an import (code, name,
 * parents, workers), so the same parser builds the index. */
static int cells_read(sqlite3 *db, const char *layer, json_t *features, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT code, name, parents, workers, geometry FROM grid_cells WHERE layer = ?1 "
					"ORDER BY code", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(st, 1);
			json_t *f = json_pack("{s:s,s:{s:s?,s:s?,s:o,s:o},s:o}", "type", "Feature", "properties", "code",
					      (const char *)sqlite3_column_text(st, 0), "name", name, "parents",
					      column_json(st, 2), "workers", column_json(st, 3), "geometry",
					      column_json(st, 4));
			if (!f || json_array_append_new(features, f) < 0) {
				sqlite3_finalize(st);
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
		}
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "reading grid layer %s: %s", layer, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -EIO;
	}
	sqlite3_finalize(st);
	return 0;
}

static int grid_make(sqlite3 *db, const char *layer, const char *crs_text, int64_t version,
		     struct agw_status_grid **ret_grid, char *err, size_t errlen)
{
	enum agw_crs crs = AGW_CRS_WGS84;
	agw_crs_parse(crs_text, &crs);
	struct grid_box *box = calloc(1, sizeof(*box));
	json_t *features = json_array();
	json_t *root = features ? json_pack("{s:s,s:s,s:I,s:s,s:o}", "type", "FeatureCollection", "layer", layer,
					    "version", (json_int_t)version, "crs", agw_crs_name(crs), "features",
					    json_incref(features))
				: NULL;
	int ret = -ENOMEM;
	if (!box || !root)
		goto out;
	box->refs = 1;
	ret = cells_read(db, layer, features, err, errlen);
	if (ret < 0)
		goto out;
	struct agw_status_grid *g = &box->g;
	g->version = version;
	g->layer = strdup(layer);
	g->crs = strdup(agw_crs_name(crs));
	g->geojson = json_dumps(root, JSON_COMPACT);
	ret = -ENOMEM;
	if (!g->layer || !g->crs || !g->geojson)
		goto out;
	g->geojson_len = strlen(g->geojson);
	ret = agw_grid_from_geojson(g->geojson, g->geojson_len, layer, crs, version, &g->grid, err, errlen);
	if (ret < 0)
		goto out;
	*ret_grid = g;
	box = NULL;
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (box)
		agw_status_grid_unref(&box->g);
	json_decref(features);
	json_decref(root);
	return ret;
}

int agw_status_grid_refresh(sqlite3 *db, const char *layer, struct agw_status_grid **ret, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (!layer || !*layer) {
		agw_status_grid_unref(*ret);
		*ret = NULL;
		return 0;
	}
	if (sqlite3_prepare_v2(db, "SELECT crs, version FROM grid_layers WHERE name = ?1", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "reading grid layers: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), ret_code = 0;
	if (rc == SQLITE_ROW) {
		int64_t version = sqlite3_column_int64(st, 1);
		struct agw_status_grid *g = NULL;
		if (*ret && (*ret)->version == version)
			goto out;
		ret_code = grid_make(db, layer, (const char *)sqlite3_column_text(st, 0), version, &g, err, errlen);
		if (ret_code == 0) {
			agw_status_grid_unref(*ret);
			*ret = g;
		}
	} else if (rc == SQLITE_DONE) {
		agw_status_grid_unref(*ret);
		*ret = NULL;
	} else {
		snprintf(err, errlen, "reading grid layers: %s", sqlite3_errmsg(db));
		ret_code = -EIO;
	}
out:
	sqlite3_finalize(st);
	return ret_code;
}
