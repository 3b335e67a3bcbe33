/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Grid layers in the store: GeoJSON import (atomic replace, version bump) and loading a layer into
 * the in-memory index of rules/cellgrid.h. */
#ifndef AGW_GRID_IMPORT_H
#define AGW_GRID_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cellgrid.h"
#include "store.h"

#define AGW_GRID_MAX_FEATURES 1000000
#define AGW_GRID_MAX_POINTS 100000 /* per feature */

struct agw_grid_import_result {
	int64_t version; /* the layer's new version */
	size_t cells;
};

/* Parses a GeoJSON FeatureCollection of Polygon/MultiPolygon features and replaces the layer in one
 * transaction (the layer's version goes up by one). Validation happens before anything is written;
 * on failure nothing changes and err names the feature index ("feature 12: ..."). crs_name may be
 * NULL: the collection's "crs" member when it names one we know, else WGS-84 (RFC 7946). */
int agw_grid_import_file(struct agw_store *store, const char *layer, const char *crs_name, const char *path,
			 struct agw_grid_import_result *ret, char *err, size_t errlen);

/* Parses a GeoJSON text into a built grid without the store (tests, `rules test`). */
int agw_grid_from_geojson(const char *text, size_t len, const char *layer, enum agw_crs crs, int64_t version,
			  struct agw_grid **ret_grid, char *err, size_t errlen);

/* Loads a layer from the store into a built grid. -ENOENT when the layer was never imported. */
int agw_grid_load(struct agw_store *store, const char *layer, struct agw_grid **ret_grid, char *err, size_t errlen);

#endif
