/* SPDX-License-Identifier: GPL-2.0-or-later */
/* WGS-84 <-> GCJ-02. The forward formula is the published one; the inverse is a fixed-point
 * iteration on it (the offset varies slowly, so it converges in a few steps). */
#include <errno.h>
#include <math.h>
#include <strings.h>

#include "crs.h"

static const double KRASOVSKY_A = 6378245.0;
static const double KRASOVSKY_EE = 0.00669342162296594323;

int agw_crs_parse(const char *name, enum agw_crs *ret_crs)
{
	static const struct {
		const char *name;
		enum agw_crs crs;
	} names[] = {
		{"wgs84", AGW_CRS_WGS84},       {"wgs-84", AGW_CRS_WGS84},       {"epsg:4326", AGW_CRS_WGS84},
		{"gcj02", AGW_CRS_GCJ02},       {"gcj-02", AGW_CRS_GCJ02},       {"cgcs2000", AGW_CRS_CGCS2000},
		{"epsg:4490", AGW_CRS_CGCS2000},
	};
	for (unsigned i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0) {
			*ret_crs = names[i].crs;
			return 0;
		}
	return -EINVAL;
}

const char *agw_crs_name(enum agw_crs crs)
{
	switch (crs) {
	case AGW_CRS_GCJ02:
		return "gcj02";
	case AGW_CRS_CGCS2000:
		return "cgcs2000";
	case AGW_CRS_WGS84:
	default:
		return "wgs84";
	}
}

bool agw_gcj02_out_of_china(double lon, double lat)
{
	return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

static double offset_lat(double x, double y)
{
	double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(fabs(x));
	r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
	r += (20.0 * sin(y * M_PI) + 40.0 * sin(y / 3.0 * M_PI)) * 2.0 / 3.0;
	r += (160.0 * sin(y / 12.0 * M_PI) + 320.0 * sin(y * M_PI / 30.0)) * 2.0 / 3.0;
	return r;
}

static double offset_lon(double x, double y)
{
	double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(fabs(x));
	r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
	r += (20.0 * sin(x * M_PI) + 40.0 * sin(x / 3.0 * M_PI)) * 2.0 / 3.0;
	r += (150.0 * sin(x / 12.0 * M_PI) + 300.0 * sin(x / 30.0 * M_PI)) * 2.0 / 3.0;
	return r;
}

void agw_wgs84_to_gcj02(double lon, double lat, double *ret_lon, double *ret_lat)
{
	if (agw_gcj02_out_of_china(lon, lat)) {
		*ret_lon = lon;
		*ret_lat = lat;
		return;
	}
	double dlat = offset_lat(lon - 105.0, lat - 35.0);
	double dlon = offset_lon(lon - 105.0, lat - 35.0);
	double rad = lat / 180.0 * M_PI;
	double magic = sin(rad);
	magic = 1 - KRASOVSKY_EE * magic * magic;
	double sq = sqrt(magic);
	dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sq) * M_PI);
	dlon = (dlon * 180.0) / (KRASOVSKY_A / sq * cos(rad) * M_PI);
	*ret_lon = lon + dlon;
	*ret_lat = lat + dlat;
}

void agw_gcj02_to_wgs84(double lon, double lat, double *ret_lon, double *ret_lat)
{
	/* Find w with forward(w) = g: start at g and move by the residual. */
	double wx = lon, wy = lat;
	for (int i = 0; i < 30; i++) {
		double gx, gy;
		agw_wgs84_to_gcj02(wx, wy, &gx, &gy);
		double dx = gx - lon, dy = gy - lat;
		wx -= dx;
		wy -= dy;
		if (fabs(dx) < 1e-10 && fabs(dy) < 1e-10)
			break;
	}
	*ret_lon = wx;
	*ret_lat = wy;
}

void agw_crs_convert(enum agw_crs from, enum agw_crs to, double lon, double lat, double *ret_lon, double *ret_lat)
{
	bool from_gcj = from == AGW_CRS_GCJ02, to_gcj = to == AGW_CRS_GCJ02;
	if (from_gcj == to_gcj) {
		*ret_lon = lon;
		*ret_lat = lat;
	} else if (to_gcj) {
		agw_wgs84_to_gcj02(lon, lat, ret_lon, ret_lat);
	} else {
		agw_gcj02_to_wgs84(lon, lat, ret_lon, ret_lat);
	}
}

double agw_distance_m(double lon1, double lat1, double lon2, double lat2)
{
	double p1 = lat1 * M_PI / 180, p2 = lat2 * M_PI / 180;
	double dp = p2 - p1, dl = (lon2 - lon1) * M_PI / 180;
	double h = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
	return 2 * 6371008.8 * asin(fmin(1.0, sqrt(h)));
}
