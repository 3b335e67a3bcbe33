/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `alarmgw grid import|locate`: grid layers in the store. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "grid_import.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: alarmgw grid import (-c FILE | --db PATH) [--layer NAME] [--crs wgs84|gcj02|cgcs2000] CELLS.geojson\n"
		"       alarmgw grid locate (-c FILE | --db PATH) [--layer NAME] [--crs wgs84|gcj02|cgcs2000] LON LAT\n\n"
		"import replaces the layer (default: the configured grid_layer) with the FeatureCollection's\n"
		"Polygon/MultiPolygon cells, all or nothing, and bumps its version. Feature properties: code\n"
		"(required), name, parents (codes top-down) or district/street/community, workers.\n"
		"--crs declares the coordinate system of the file (default: its \"crs\" member, else wgs84).\n"
		"locate prints the cell containing the point as {\"code\", \"name\", \"path\"} or {\"code\": null};\n"
		"--crs is the point's system (default wgs84), converted to the layer's. See docs/rules.md.\n");
}

static int parse_coord(const char *s, double min, double max, double *ret)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int locate(struct agw_store *store, const char *layer, const char *crs_name, const char *slon,
		  const char *slat)
{
	double lon, lat;
	enum agw_crs crs = AGW_CRS_WGS84;
	if (parse_coord(slon, -180, 180, &lon) < 0 || parse_coord(slat, -90, 90, &lat) < 0) {
		fprintf(stderr, "alarmgw: LON LAT must be decimal degrees (-180..180, -90..90)\n");
		return 2;
	}
	if (crs_name && agw_crs_parse(crs_name, &crs) < 0) {
		fprintf(stderr, "alarmgw: unknown coordinate system \"%s\" (wgs84, gcj02, cgcs2000)\n", crs_name);
		return 2;
	}
	struct agw_grid *g;
	char err[512];
	int r = agw_grid_load(store, layer, &g, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "alarmgw: %s\n", err);
		return 1;
	}
	double x, y;
	agw_crs_convert(crs, agw_grid_crs(g), lon, lat, &x, &y);
	const struct agw_cell *c = agw_grid_locate(g, x, y);
	json_t *o = json_object();
	if (c) {
		json_t *path = json_array();
		for (size_t i = 0; i < c->n_path; i++)
			json_array_append_new(path, json_string(c->path[i]));
		json_object_set_new(o, "code", json_string(c->code));
		json_object_set_new(o, "name", c->name ? json_string(c->name) : json_null());
		json_object_set_new(o, "path", path);
	} else {
		json_object_set_new(o, "code", json_null());
	}
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	printf("%s\n", s ? s : "{\"code\":null}");
	free(s);
	json_decref(o);
	agw_grid_free(g);
	return 0;
}

static bool takes_value(const char *a)
{
	static const char *const opts[] = {"-c", "--config", "--db", "--layer", "--crs"};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strcmp(a, opts[i]) == 0)
			return true;
	return false;
}

/* Western longitudes are negative ("-73.9"): move the operands behind "--" so that getopt reads
 * them as operands, keeping their order. out has room for 2 * argc + 1 entries; the operands are
 * staged in its upper half. */
static int split_operands(int argc, char **argv, char **out)
{
	int n = 0, np = 0;
	char **ops = out + argc + 1;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool negative = a[0] == '-' && (a[1] == '.' || (a[1] >= '0' && a[1] <= '9'));
		if (i == 0 || (a[0] == '-' && !negative)) {
			out[n++] = argv[i];
			if (i > 0 && takes_value(a) && i + 1 < argc)
				out[n++] = argv[++i];
		} else {
			ops[np++] = argv[i];
		}
	}
	out[n++] = (char *)"--";
	for (int i = 0; i < np; i++)
		out[n++] = ops[i];
	return n;
}

int agw_cmd_grid(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, 'd'},
		{"layer", required_argument, NULL, 'l'},  {"crs", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *action = argv[1];
	const char *config_path = NULL, *db_path = NULL, *layer = NULL, *crs = NULL;
	int c;
	char **args = calloc(2 * (size_t)argc + 1, sizeof(*args));
	if (!args)
		return 1;
	argc = split_operands(argc - 1, argv + 1, args);
	argv = args;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'd': db_path = optarg; break;
		case 'l': layer = optarg; break;
		case 'r': crs = optarg; break;
		case 'h': usage(stdout); free(args); return 0;
		default: usage(stderr); free(args); return 2;
		}
	}
	bool is_import = strcmp(action, "import") == 0, is_locate = strcmp(action, "locate") == 0;
	if ((!is_import && !is_locate) || (is_import && argc - optind != 1) || (is_locate && argc - optind != 2)) {
		usage(stderr);
		free(args);
		return 2;
	}
	struct agw_config cfg;
	struct agw_store *store = NULL;
	int rc = agw_cli_open(config_path, db_path, &cfg, &store);
	if (rc) {
		free(args);
		return rc;
	}
	if (!layer)
		layer = cfg.grid_layer && *cfg.grid_layer ? cfg.grid_layer : "default";
	if (is_import) {
		struct agw_grid_import_result res;
		char err[1024];
		int r = agw_grid_import_file(store, layer, crs, argv[optind], &res, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "alarmgw: %s: %s\n", argv[optind], err);
			fprintf(stderr, "alarmgw: import aborted, layer \"%s\" is unchanged\n", layer);
			rc = 1;
		} else {
			printf("imported %zu cells into layer \"%s\" (version %lld)\n", res.cells, layer,
			       (long long)res.version);
		}
	} else {
		rc = locate(store, layer, crs, argv[optind], argv[optind + 1]);
	}
	agw_cli_close(&cfg, store);
	free(args);
	return rc;
}
