/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Coordinate systems of camera locations and grid layers, and the WGS-84 <-> GCJ-02 conversion.
 *
 * GCJ-02 is the obfuscated datum Chinese maps use: a published closed-form offset from WGS-84
 * (Krasovsky-ellipsoid based, 100-700 m inside China, none outside its rough bounding box). The
 * inverse has no closed form; agw_gcj02_to_wgs84 iterates the forward formula until the residual
 * is below 1e-9 degrees (~0.1 mm), so the round trip error is far under 1 m.
 * CGCS2000 differs from WGS-84 by a few centimetres: treated as WGS-84 (grid cells are drawn to
 * metre precision at best). */
#ifndef AGW_RULES_CRS_H
#define AGW_RULES_CRS_H

#include <stdbool.h>

enum agw_crs {
	AGW_CRS_WGS84 = 0,
	AGW_CRS_GCJ02,
	AGW_CRS_CGCS2000,
};

/* "wgs84", "gcj02", "cgcs2000" (case-insensitive; "wgs-84", "gcj-02", "epsg:4326", "epsg:4490"
 * accepted too). Returns 0 or -EINVAL. */
int agw_crs_parse(const char *name, enum agw_crs *ret_crs);
const char *agw_crs_name(enum agw_crs crs);

/* True outside the box where GCJ-02 applies an offset. */
bool agw_gcj02_out_of_china(double lon, double lat);
void agw_wgs84_to_gcj02(double lon, double lat, double *ret_lon, double *ret_lat);
void agw_gcj02_to_wgs84(double lon, double lat, double *ret_lon, double *ret_lat);

/* Converts a point from one system to another (CGCS2000 = WGS-84). */
void agw_crs_convert(enum agw_crs from, enum agw_crs to, double lon, double lat, double *ret_lon, double *ret_lat);

/* Great-circle distance in metres (haversine, mean Earth radius), for tests and diagnostics. */
double agw_distance_m(double lon1, double lat1, double lon2, double lat2);

#endif
