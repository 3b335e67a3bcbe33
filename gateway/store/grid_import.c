/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GeoJSON grid cells -> store -> in-memory grid. Every feature is validated before the single
 * replacing transaction, so an import either fully happens or leaves the old layer untouched. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "grid_import.h"

/* The rings of one feature, flattened (shells and holes of every part). */
struct rings {
	struct agw_ring *v;
	double **bufs;
	size_t n, cap, points;
};

static void rings_clear(struct rings *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->bufs[i]);
	free(r->v);
	free(r->bufs);
	memset(r, 0, sizeof(*r));
}

static int ring_read(json_t *arr, struct rings *out, char *err, size_t errlen, const char *where)
{
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "%s: a ring must be an array of positions", where);
		return -EINVAL;
	}
	size_t n = json_array_size(arr);
	if (out->points + n > AGW_GRID_MAX_POINTS) {
		snprintf(err, errlen, "%s: more than %d positions", where, AGW_GRID_MAX_POINTS);
		return -E2BIG;
	}
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 4;
		struct agw_ring *v = realloc(out->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		out->v = v;
		double **b = realloc(out->bufs, cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		out->bufs = b;
		out->cap = cap;
	}
	double *xy = malloc((n ? n : 1) * 2 * sizeof(double));
	if (!xy)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *pos = json_array_get(arr, i);
		json_t *x = json_array_get(pos, 0), *y = json_array_get(pos, 1);
		if (!json_is_array(pos) || !json_is_number(x) || !json_is_number(y)) {
			snprintf(err, errlen, "%s: position %zu must be [longitude, latitude]", where, i);
			free(xy);
			return -EINVAL;
		}
		xy[2 * i] = json_number_value(x);
		xy[2 * i + 1] = json_number_value(y);
	}
	out->bufs[out->n] = xy;
	out->v[out->n] = (struct agw_ring){xy, n};
	out->n++;
	out->points += n;
	return 0;
}

/* One Polygon's coordinates: reads and validates its rings. */
static int polygon_read(json_t *coords, struct rings *out, char *err, size_t errlen, const char *where)
{
	if (!json_is_array(coords) || json_array_size(coords) == 0) {
		snprintf(err, errlen, "%s: polygon coordinates must be a non-empty array of rings", where);
		return -EINVAL;
	}
	size_t first = out->n;
	for (size_t i = 0; i < json_array_size(coords); i++) {
		int r = ring_read(json_array_get(coords, i), out, err, errlen, where);
		if (r < 0)
			return r;
	}
	char why[200];
	if (agw_polygon_check(out->v + first, out->n - first, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", where, why);
		return -EINVAL;
	}
	return 0;
}

static int geometry_read(json_t *geom, struct rings *out, char *err, size_t errlen, const char *where)
{
	const char *type = json_string_value(json_object_get(geom, "type"));
	json_t *coords = json_object_get(geom, "coordinates");
	if (!json_is_object(geom) || !type) {
		snprintf(err, errlen, "%s: missing geometry", where);
		return -EINVAL;
	}
	if (strcmp(type, "Polygon") == 0)
		return polygon_read(coords, out, err, errlen, where);
	if (strcmp(type, "MultiPolygon") == 0) {
		if (!json_is_array(coords) || json_array_size(coords) == 0) {
			snprintf(err, errlen, "%s: MultiPolygon coordinates must be a non-empty array", where);
			return -EINVAL;
		}
		for (size_t i = 0; i < json_array_size(coords); i++) {
			char w[256];
			snprintf(w, sizeof(w), "%.200s polygon %zu", where, i);
			int r = polygon_read(json_array_get(coords, i), out, err, errlen, w);
			if (r < 0)
				return r;
		}
		return 0;
	}
	snprintf(err, errlen, "%s: geometry type \"%s\" is not Polygon or MultiPolygon", where, type);
	return -EINVAL;
}

/* A feature's properties, normalized. */
struct cell_props {
	char code[128];
	const char *name;
	json_t *parents; /* new reference: array of strings */
	json_t *workers; /* new reference: array of strings */
};

static int code_of(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < len) {
		snprintf(buf, len, "%s", json_string_value(v));
		return strpbrk(buf, "/+#") ? -EINVAL : 0;
	}
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	}
	return -EINVAL;
}

static int props_read(json_t *props, struct cell_props *p, char *err, size_t errlen, const char *where)
{
	memset(p, 0, sizeof(*p));
	if (!json_is_object(props) || code_of(json_object_get(props, "code"), p->code, sizeof(p->code)) < 0) {
		snprintf(err, errlen, "%s: properties.code (a string without '/', '+', '#', or a number) is missing", where);
		return -EINVAL;
	}
	json_t *name = json_object_get(props, "name");
	if (name && !json_is_null(name) && !json_is_string(name)) {
		snprintf(err, errlen, "%s: properties.name must be a string", where);
		return -EINVAL;
	}
	p->name = json_string_value(name);
	p->parents = json_array();
	p->workers = json_array();
	if (!p->parents || !p->workers)
		return -ENOMEM;
	json_t *parents = json_object_get(props, "parents");
	if (parents && json_is_array(parents)) {
		size_t i;
		json_t *v;
		json_array_foreach(parents, i, v) {
			char c[128];
			if (code_of(v, c, sizeof(c)) < 0 || i >= AGW_CELL_MAX_DEPTH) {
				snprintf(err, errlen, "%s: properties.parents[%zu] must be a code (at most %d levels)", where,
					 i, AGW_CELL_MAX_DEPTH);
				return -EINVAL;
			}
			json_array_append_new(p->parents, json_string(c));
		}
	} else if (parents && !json_is_null(parents)) {
		snprintf(err, errlen, "%s: properties.parents must be an array of codes, top-down", where);
		return -EINVAL;
	} else {
		/* Or one property per level. */
		static const char *const levels[] = {"district", "street", "community"};
		for (size_t i = 0; i < 3; i++) {
			json_t *v = json_object_get(props, levels[i]);
			char c[128];
			if (!v || json_is_null(v))
				continue;
			if (code_of(v, c, sizeof(c)) < 0) {
				snprintf(err, errlen, "%s: properties.%s must be a code", where, levels[i]);
				return -EINVAL;
			}
			json_array_append_new(p->parents, json_string(c));
		}
	}
	json_t *workers = json_object_get(props, "workers");
	if (json_is_array(workers)) {
		size_t i;
		json_t *v;
		json_array_foreach(workers, i, v) {
			if (!json_is_string(v)) {
				snprintf(err, errlen, "%s: properties.workers[%zu] must be a string", where, i);
				return -EINVAL;
			}
			json_array_append(p->workers, v);
		}
	} else if (workers && !json_is_null(workers)) {
		snprintf(err, errlen, "%s: properties.workers must be an array of strings", where);
		return -EINVAL;
	}
	return 0;
}

static void props_clear(struct cell_props *p)
{
	json_decref(p->parents);
	json_decref(p->workers);
	p->parents = p->workers = NULL;
}

static int strings_of(json_t *arr, const char **v, size_t max, size_t *ret_n)
{
	size_t n = json_array_size(arr);
	if (n > max)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(arr, i));
	*ret_n = n;
	return 0;
}

static int grid_add(struct agw_grid *g, const struct cell_props *p, const struct rings *r)
{
	const char *parents[AGW_CELL_MAX_DEPTH];
	size_t n_parents, n_workers = json_array_size(p->workers);
	const char **workers = calloc(n_workers ? n_workers : 1, sizeof(*workers));
	if (!workers)
		return -ENOMEM;
	int ret = strings_of(p->parents, parents, AGW_CELL_MAX_DEPTH, &n_parents);
	if (ret == 0)
		ret = strings_of(p->workers, workers, n_workers, &n_workers);
	if (ret == 0)
		ret = agw_grid_add_cell(g, p->code, p->name, parents, n_parents, workers, n_workers, r->v, r->n);
	free(workers);
	return ret;
}

/* Walks the collection: validates each feature and adds it to g (a scratch grid that also finds
 * duplicate codes). */
static int collection_read(json_t *root, struct agw_grid *g, char *err, size_t errlen)
{
	json_t *features = json_object_get(root, "features");
	if (!json_is_object(root) || !json_is_string(json_object_get(root, "type")) ||
	    strcmp(json_string_value(json_object_get(root, "type")), "FeatureCollection") != 0 ||
	    !json_is_array(features)) {
		snprintf(err, errlen, "not a GeoJSON FeatureCollection with a \"features\" array");
		return -EINVAL;
	}
	if (json_array_size(features) > AGW_GRID_MAX_FEATURES) {
		snprintf(err, errlen, "more than %d features", AGW_GRID_MAX_FEATURES);
		return -E2BIG;
	}
	size_t i;
	json_t *f;
	json_array_foreach(features, i, f) {
		char where[128];
		struct cell_props p;
		struct rings r = {0};
		snprintf(where, sizeof(where), "feature %zu", i);
		int ret = props_read(json_object_get(f, "properties"), &p, err, errlen, where);
		if (ret == 0) {
			snprintf(where, sizeof(where), "feature %zu (code %.60s)", i, p.code);
			ret = geometry_read(json_object_get(f, "geometry"), &r, err, errlen, where);
		}
		if (ret == 0 && (ret = grid_add(g, &p, &r)) < 0)
			snprintf(err, errlen, "%s: %s", where, strerror(-ret));
		props_clear(&p);
		rings_clear(&r);
		if (ret < 0)
			return ret;
	}
	const char *dup = NULL;
	int ret = agw_grid_build(g, &dup);
	if (ret == -EEXIST) {
		/* Name the second feature with that code, and the first. */
		size_t first = SIZE_MAX, second = SIZE_MAX;
		json_array_foreach(features, i, f) {
			char c[128];
			if (code_of(json_object_get(json_object_get(f, "properties"), "code"), c, sizeof(c)) == 0 &&
			    strcmp(c, dup) == 0) {
				if (first == SIZE_MAX) {
					first = i;
				} else {
					second = i;
					break;
				}
			}
		}
		snprintf(err, errlen, "feature %zu: code %s is already used by feature %zu", second, dup, first);
	} else if (ret < 0) {
		snprintf(err, errlen, "building the index: %s", strerror(-ret));
	}
	return ret;
}

int agw_grid_from_geojson(const char *text, size_t len, const char *layer, enum agw_crs crs, int64_t version,
			  struct agw_grid **ret_grid, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr);
	if (!root) {
		snprintf(err, errlen, "invalid JSON at line %d: %s", jerr.line, jerr.text);
		return -EINVAL;
	}
	struct agw_grid *g;
	int ret = agw_grid_new(layer, crs, version, &g);
	if (ret == 0 && (ret = collection_read(root, g, err, errlen)) < 0)
		agw_grid_free(g);
	json_decref(root);
	if (ret == 0)
		*ret_grid = g;
	return ret;
}

static int sql_fail(struct agw_store *store, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(agw_store_db(store)));
	return -EIO;
}

/* The collection's coordinate system: --crs wins over an old-style "crs" member. */
static int collection_crs(json_t *root, const char *crs_name, enum agw_crs *ret, char *err, size_t errlen)
{
	enum agw_crs crs = AGW_CRS_WGS84;
	json_t *jcrs = json_object_get(root, "crs");
	const char *declared = json_string_value(json_object_get(json_object_get(jcrs, "properties"), "name"));
	if (!declared)
		declared = json_string_value(jcrs);
	if (crs_name) {
		if (agw_crs_parse(crs_name, &crs) < 0) {
			snprintf(err, errlen, "unknown coordinate system \"%s\" (wgs84, gcj02, cgcs2000)", crs_name);
			return -EINVAL;
		}
	} else if (declared) {
		const char *tail = strrchr(declared, ':');
		/* "urn:ogc:def:crs:EPSG::4490" -> "epsg:4490"; "gcj02" as is. */
		char name[64];
		if (tail && strstr(declared, "EPSG"))
			snprintf(name, sizeof(name), "epsg:%s", tail + 1);
		else
			snprintf(name, sizeof(name), "%s", declared);
		if (agw_crs_parse(name, &crs) < 0 && strstr(declared, "CRS84") == NULL) {
			snprintf(err, errlen, "the collection declares coordinate system \"%s\"; pass --crs", declared);
			return -EINVAL;
		}
	}
	*ret = crs;
	return 0;
}

/* Inside the import's transaction: the layer's next version, and its old cells gone. */
static int layer_clear(struct agw_store *store, const char *layer, int64_t *ret_version, char *err, size_t errlen)
{
	int64_t version = 1;
	sqlite3_stmt *st = agw_store_stmt(store, "SELECT version FROM grid_layers WHERE name = ?");
	if (!st)
		return sql_fail(store, err, errlen, "reading the layer");
	sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int64(st, 0) + 1;
	sqlite3_reset(st);
	st = agw_store_stmt(store, "DELETE FROM grid_cells WHERE layer = ?");
	if (!st)
		return sql_fail(store, err, errlen, "replacing the layer");
	sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sql_fail(store, err, errlen, "replacing the layer");
	*ret_version = version;
	return 0;
}

/* Inside the import's transaction: one feature (already validated by collection_read) as a row. */
static int cell_insert(struct agw_store *store, const char *layer, json_t *f, size_t i, char *err, size_t errlen)
{
	struct cell_props p;
	char where[32];
	snprintf(where, sizeof(where), "feature %zu", i);
	int r = props_read(json_object_get(f, "properties"), &p, err, errlen, where);
	if (r < 0) {
		props_clear(&p);
		return r;
	}
	char *parents = json_dumps(p.parents, JSON_COMPACT);
	char *workers = json_dumps(p.workers, JSON_COMPACT);
	char *geom = json_dumps(json_object_get(f, "geometry"), JSON_COMPACT | JSON_REAL_PRECISION(15));
	sqlite3_stmt *st = agw_store_stmt(store, "INSERT INTO grid_cells(layer, code, name, parents, workers, geometry) "
						 "VALUES(?, ?, ?, ?, ?, ?)");
	if (!parents || !workers || !geom)
		r = -ENOMEM;
	else if (!st)
		r = -EIO;
	else {
		sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, p.code, -1, SQLITE_STATIC);
		if (p.name)
			sqlite3_bind_text(st, 3, p.name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, parents, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, workers, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, geom, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = -EIO;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	free(parents);
	free(workers);
	free(geom);
	props_clear(&p);
	if (r == -EIO)
		sql_fail(store, err, errlen, where);
	else if (r < 0)
		snprintf(err, errlen, "%s: out of memory", where);
	return r;
}

/* Inside the import's transaction: the layer's own row. */
static int layer_write(struct agw_store *store, const char *layer, enum agw_crs crs, int64_t version,
		       const char *path, size_t cells, char *err, size_t errlen)
{
	sqlite3_stmt *st = agw_store_stmt(store, "INSERT OR REPLACE INTO grid_layers(name, crs, version, imported_at, "
						 "source, cells) VALUES(?, ?, ?, ?, ?, ?)");
	if (!st)
		return sql_fail(store, err, errlen, "writing the layer");
	sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, agw_crs_name(crs), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, version);
	sqlite3_bind_int64(st, 4, agw_now_ms());
	sqlite3_bind_text(st, 5, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (int64_t)cells);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sql_fail(store, err, errlen, "writing the layer");
}

int agw_grid_import_file(struct agw_store *store, const char *layer, const char *crs_name, const char *path,
			 struct agw_grid_import_result *ret, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	if (!root) {
		snprintf(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
		return -EINVAL;
	}
	enum agw_crs crs = AGW_CRS_WGS84;
	struct agw_grid *g = NULL;
	int r = collection_crs(root, crs_name, &crs, err, errlen);
	if (r == 0)
		r = agw_grid_new(layer, crs, 0, &g);
	if (r == 0)
		r = collection_read(root, g, err, errlen);
	if (r < 0)
		goto out;
	/* Every feature is valid: replace the layer in one transaction. */
	if ((r = agw_store_begin(store)) < 0) {
		sql_fail(store, err, errlen, "begin");
		goto out;
	}
	int64_t version = 0;
	json_t *features = json_object_get(root, "features"), *f;
	size_t i;
	if ((r = layer_clear(store, layer, &version, err, errlen)) < 0)
		goto rollback;
	json_array_foreach(features, i, f)
		if ((r = cell_insert(store, layer, f, i, err, errlen)) < 0)
			goto rollback;
	if ((r = layer_write(store, layer, crs, version, path, agw_grid_count(g), err, errlen)) < 0)
		goto rollback;
	if ((r = agw_store_commit(store)) < 0) {
		sql_fail(store, err, errlen, "commit");
		goto rollback;
	}
	ret->version = version;
	ret->cells = agw_grid_count(g);
	r = 0;
	goto out;
rollback:
	agw_store_rollback(store);
	if (r >= 0)
		r = -EIO;
out:
	agw_grid_free(g);
	json_decref(root);
	return r;
}

int agw_grid_load(struct agw_store *store, const char *layer, struct agw_grid **ret_grid, char *err, size_t errlen)
{
	sqlite3_stmt *st = agw_store_stmt(store, "SELECT crs, version FROM grid_layers WHERE name = ?");
	if (!st)
		return sql_fail(store, err, errlen, "reading grid layers");
	sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		snprintf(err, errlen, "grid layer \"%s\" was never imported (alarmgw grid import)", layer);
		return -ENOENT;
	}
	enum agw_crs crs = AGW_CRS_WGS84;
	agw_crs_parse((const char *)sqlite3_column_text(st, 0), &crs);
	int64_t version = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	struct agw_grid *g;
	int r = agw_grid_new(layer, crs, version, &g);
	if (r < 0)
		return r;
	st = agw_store_stmt(store, "SELECT code, name, parents, workers, geometry FROM grid_cells WHERE layer = ?");
	if (!st) {
		agw_grid_free(g);
		return sql_fail(store, err, errlen, "reading grid cells");
	}
	sqlite3_bind_text(st, 1, layer, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *code = (const char *)sqlite3_column_text(st, 0);
		char where[160];
		snprintf(where, sizeof(where), "cell %.100s", code ? code : "?");
		struct cell_props p = {0};
		struct rings rg = {0};
		json_t *parents = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
		json_t *workers = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
		json_t *geom = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
		snprintf(p.code, sizeof(p.code), "%s", code ? code : "");
		p.name = (const char *)sqlite3_column_text(st, 1);
		p.parents = json_is_array(parents) ? json_incref(parents) : json_array();
		p.workers = json_is_array(workers) ? json_incref(workers) : json_array();
		r = geometry_read(geom, &rg, err, errlen, where);
		if (r == 0 && (r = grid_add(g, &p, &rg)) < 0)
			snprintf(err, errlen, "%s: %s", where, strerror(-r));
		props_clear(&p);
		rings_clear(&rg);
		json_decref(parents);
		json_decref(workers);
		json_decref(geom);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sql_fail(store, err, errlen, "reading grid cells");
	sqlite3_reset(st);
	const char *dup = NULL;
	if (r == 0 && (r = agw_grid_build(g, &dup)) < 0)
		snprintf(err, errlen, "building the index: %s", dup ? dup : strerror(-r));
	if (r < 0) {
		agw_grid_free(g);
		return r;
	}
	*ret_grid = g;
	return 0;
}
