/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A GeoJSON grid layer (gateway/store/grid_import.c) into the in-memory cell index, then one
 * lookup so the built index is exercised too. The first byte picks the CRS. */
#include <stdint.h>

#include "fuzz_util.h"
#include "grid_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const enum agw_crs crs[] = {AGW_CRS_WGS84, AGW_CRS_GCJ02, AGW_CRS_CGCS2000};
	struct agw_grid *g = NULL;
	char err[256];
	if (agw_grid_from_geojson((const char *)data + 1, size - 1, "fuzz", crs[data[0] % 3], 1, &g, err,
				  sizeof(err)) == 0) {
		/* the fixtures' grids lie in Beijing; a point inside and one far outside */
		agw_grid_locate(g, 116.45, 39.91);
		agw_grid_locate(g, 0, 0);
		agw_grid_free(g);
	}
	return 0;
}
