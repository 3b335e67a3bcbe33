/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Camera ledger import. The CSV comes from the platform's device ledger, often through a
 * spreadsheet: so a UTF-8 BOM, CRLF line ends, quoted fields (with commas, quotes and newlines)
 * and columns in any order are accepted; everything else wrong is an error with its line. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/log.h"
#include "ledger.h"

enum column { COL_ID, COL_NAME, COL_VENDOR, COL_PROTOCOL, COL_ADDRESS, COL_USERNAME, COL_PASSWORD,
	      COL_LONGITUDE, COL_LATITUDE, COL_CRS, COL_TAGS, COL_OWNER_CELL, COL_DEVICE, COL_CHANNEL,
	      COL_SOURCE_TOKEN, COL_SNAPSHOT_URL, COL_SNAPSHOT_USERNAME, COL_SNAPSHOT_PASSWORD, COL__COUNT };

static const char *const column_names[COL__COUNT] = {
	"id", "name", "vendor", "protocol", "address", "username", "password",
	"longitude", "latitude", "crs", "tags", "owner_cell", "device", "channel",
	"source_token", "snapshot_url", "snapshot_username", "snapshot_password",
};
/* owner_cell is optional: the grid cell a camera falls back to when it lies outside every cell.
 * device and channel are optional: the NVR (or multi-channel camera) row whose connection carries
 * this camera's events, and the camera's 1-based channel on it; source_token the token the device
 * names that channel by in its events (ONVIF NVRs), when not the channel's place in its list.
 * snapshot_url (with snapshot_username and snapshot_password, else the row's) is optional: an
 * HTTP(S) JPEG of the camera for the evidence of cameras whose adapter has no picture (GB/T 28181). */
static const bool column_required[COL__COUNT] = {true, true, true, true, true, true, true,
						 true, true, true, true, false, false, false, false,
						 false, false, false};

#define MAX_CHANNEL 4096 /* NVRs number IP channels up to a few hundred (older firmware from 33) */

struct row {
	char **fields;
	size_t n;
	int line; /* line the record starts on */
};

struct reader {
	const char *p, *end;
	int line;
};

static void row_clear(struct row *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->fields[i]);
	free(r->fields);
	r->fields = NULL;
	r->n = 0;
}

static int row_push(struct row *r, const char *s, size_t len)
{
	char **f = realloc(r->fields, (r->n + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	r->fields = f;
	f[r->n] = strndup(s, len);
	if (!f[r->n])
		return -ENOMEM;
	r->n++;
	return 0;
}

/* Reads one record. Returns 1 for a record, 0 at the end, -EINVAL for a bad quote (msg set). */
static int read_record(struct reader *rd, struct row *row, const char **msg)
{
	if (rd->p >= rd->end)
		return 0;
	row->line = rd->line;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		bool quoted = false;
		len = 0;
		if (rd->p < rd->end && *rd->p == '"') {
			quoted = true;
			rd->p++;
			for (;;) {
				if (rd->p >= rd->end) {
					free(buf);
					*msg = "a quoted field is not closed";
					return -EINVAL;
				}
				char c = *rd->p++;
				if (c == '"') {
					if (rd->p < rd->end && *rd->p == '"')
						rd->p++; /* "" is a literal quote */
					else
						break;
				}
				if (c == '\n')
					rd->line++;
				if (len + 1 >= cap) {
					cap = cap ? cap * 2 : 64;
					char *nb = realloc(buf, cap);
					if (!nb) {
						free(buf);
						return -ENOMEM;
					}
					buf = nb;
				}
				buf[len++] = c;
			}
		}
		const char *start = rd->p;
		while (rd->p < rd->end && *rd->p != ',' && *rd->p != '\n' && *rd->p != '\r')
			rd->p++;
		if (quoted && rd->p != start) {
			free(buf);
			*msg = "text after a closing quote";
			return -EINVAL;
		}
		int r = quoted ? row_push(row, buf ? buf : "", len) : row_push(row, start, (size_t)(rd->p - start));
		if (r < 0) {
			free(buf);
			return r;
		}
		if (rd->p < rd->end && *rd->p == ',') {
			rd->p++;
			continue;
		}
		if (rd->p < rd->end && *rd->p == '\r')
			rd->p++;
		if (rd->p < rd->end && *rd->p == '\n')
			rd->p++;
		rd->line++;
		free(buf);
		return 1;
	}
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
		if (n < 0 || (n == 1 && *p < 0xC2))
			return false;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xC0) != 0x80)
				return false;
	}
	return true;
}

static bool valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-:", *s))
			return false;
	return true;
}

static int parse_coord(const char *s, double lo, double hi, double *ret)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return -EINVAL;
	*ret = v;
	return 0;
}

static const char *normalize_crs(const char *s)
{
	if (!strcasecmp(s, "wgs84") || !strcasecmp(s, "wgs-84") || !strcasecmp(s, "epsg:4326"))
		return "wgs84";
	if (!strcasecmp(s, "gcj02") || !strcasecmp(s, "gcj-02"))
		return "gcj02";
	if (!strcasecmp(s, "cgcs2000") || !strcasecmp(s, "epsg:4490"))
		return "cgcs2000";
	return NULL;
}

/* Validates the address for the protocol. Credentials in it are refused: they would end up in
 * logs and status pages; they belong in the username and password columns. */
static const char *check_address(const struct agw_adapter *adapter, const char *addr)
{
	if (!*addr)
		return "address is empty";
	for (const char *p = addr; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return "address contains spaces or control characters";
	const char *scheme_end = strstr(addr, "://");
	const char *host = scheme_end ? scheme_end + 3 : addr;
	const char *path = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(path - host)))
		return "address contains credentials; put them in the username and password columns";
	if (path == host)
		return "address has no host";
	return adapter->check_address ? adapter->check_address(addr) : NULL;
}

/* The NVR columns of a row (device, channel, source_token): c->channel set, or the reason. */
static const char *channel_columns(const struct agw_adapter *adapter, char *const f[COL__COUNT], struct agw_camera *c)
{
	const char *dev = f[COL_DEVICE], *tok = f[COL_SOURCE_TOKEN];
	if (*dev && !valid_id(dev))
		return "device must be the id of another ledger row";
	if (*dev && !strcmp(dev, f[COL_ID]))
		return "device names the row itself; leave it empty on the device's own row";
	if ((*dev || *f[COL_CHANNEL]) && !adapter->channels) {
		static char why_channels[160];
		snprintf(why_channels, sizeof(why_channels),
			 "the %s adapter does not route device channels; leave device and channel empty", adapter->name);
		return why_channels;
	}
	if (*f[COL_CHANNEL]) {
		char *end;
		errno = 0;
		long ch = strtol(f[COL_CHANNEL], &end, 10);
		if (errno || end == f[COL_CHANNEL] || *end || ch < 1 || ch > MAX_CHANNEL)
			return "channel must be a whole number in [1, 4096] (the device's channel, from 1)";
		c->channel = (int)ch;
	} else if (*dev) {
		return "a row with a device needs its channel on that device";
	}
	if (*tok && !adapter->source_tokens) {
		static char why_tokens[160];
		snprintf(why_tokens, sizeof(why_tokens), "the %s adapter does not name channels by token; leave source_token empty",
			 adapter->name);
		return why_tokens;
	}
	if (*tok && !c->channel)
		return "a source_token needs the row's channel (the channel it names)";
	if (strlen(tok) > 64 || strpbrk(tok, "\"<>&"))
		return "source_token must be at most 64 characters without quotes, '<', '>' or '&'";
	return NULL;
}

/* snapshot_url: http(s), a host, no credentials, no spaces; its credentials go together. */
static const char *check_snapshot(char *const f[COL__COUNT])
{
	const char *u = f[COL_SNAPSHOT_URL];
	if (!*u)
		return *f[COL_SNAPSHOT_USERNAME] || *f[COL_SNAPSHOT_PASSWORD]
			       ? "snapshot_username and snapshot_password need a snapshot_url" : NULL;
	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
		return "snapshot_url must be an http:// or https:// URL";
	if (strlen(u) > 1024)
		return "snapshot_url is longer than 1024 characters";
	for (const char *p = u; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return "snapshot_url contains spaces or control characters";
	const char *host = strstr(u, "://") + 3, *path = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(path - host)))
		return "snapshot_url contains credentials; put them in snapshot_username and snapshot_password";
	if (path == host)
		return "snapshot_url has no host";
	if (*f[COL_SNAPSHOT_PASSWORD] && !*f[COL_SNAPSHOT_USERNAME])
		return "a snapshot_password without a snapshot_username";
	return NULL;
}

/* Builds a camera from a row, or returns the reason it is invalid. */
static const char *row_to_camera(struct row *row, const int map[COL__COUNT], struct agw_camera *c)
{
	char *f[COL__COUNT] = {0};
	static char empty[] = "";
	for (int i = 0; i < COL__COUNT; i++) {
		f[i] = map[i] >= 0 && (size_t)map[i] < row->n ? trim(row->fields[map[i]]) : empty;
		if (!valid_utf8(f[i]))
			return "a field is not valid UTF-8";
	}
	if (!valid_id(f[COL_ID]))
		return "id must be 1-64 characters of letters, digits, '.', '_', '-', ':'";
	if (!*f[COL_NAME])
		return "name is empty";
	const struct agw_adapter *adapter = agw_adapter_for_protocol(f[COL_PROTOCOL]);
	if (!adapter) {
		static char why_protocol[320]; /* the registry is constant; one message for every row */
		snprintf(why_protocol, sizeof(why_protocol), "protocol must be one of: %s", agw_adapter_protocol_list());
		return why_protocol;
	}
	const char *dev = f[COL_DEVICE], *tok = f[COL_SOURCE_TOKEN];
	const char *why = channel_columns(adapter, f, c);
	if (why)
		return why;
	/* a channel row's events come over its device's connection: its own address is optional */
	why = *dev && !*f[COL_ADDRESS] ? NULL : check_address(adapter, f[COL_ADDRESS]);
	if (why)
		return why;
	if (*f[COL_PASSWORD] && !*f[COL_USERNAME])
		return "a password without a username";
	if ((why = check_snapshot(f)))
		return why;
	c->lon = c->lat = NAN;
	bool has_lon = *f[COL_LONGITUDE], has_lat = *f[COL_LATITUDE];
	if (has_lon != has_lat)
		return "longitude and latitude go together";
	if (has_lon && parse_coord(f[COL_LONGITUDE], -180, 180, &c->lon) < 0)
		return "longitude must be a number in [-180, 180]";
	if (has_lat && parse_coord(f[COL_LATITUDE], -90, 90, &c->lat) < 0)
		return "latitude must be a number in [-90, 90]";
	const char *crs = *f[COL_CRS] ? normalize_crs(f[COL_CRS]) : "wgs84";
	if (!crs)
		return "crs must be wgs84, gcj02 or cgcs2000";
	for (const char *p = f[COL_TAGS]; *p; p++)
		if (*p == '"' || iscntrl((unsigned char)*p))
			return "tags contain a quote or a control character";
	c->id = strdup(f[COL_ID]);
	c->name = strdup(f[COL_NAME]);
	c->vendor = strdup(f[COL_VENDOR]);
	c->protocol = strdup(f[COL_PROTOCOL]);
	c->address = strdup(f[COL_ADDRESS]);
	c->username = *f[COL_USERNAME] ? strdup(f[COL_USERNAME]) : NULL;
	c->password = *f[COL_PASSWORD] ? strdup(f[COL_PASSWORD]) : NULL;
	c->crs = strdup(crs);
	c->tags = strdup(f[COL_TAGS]);
	c->owner_cell = *f[COL_OWNER_CELL] ? strdup(f[COL_OWNER_CELL]) : NULL;
	c->device = *dev ? strdup(dev) : NULL;
	c->source_token = *tok ? strdup(tok) : NULL;
	const char *su = f[COL_SNAPSHOT_URL], *sn = f[COL_SNAPSHOT_USERNAME], *sp = f[COL_SNAPSHOT_PASSWORD];
	c->snapshot_url = *su ? strdup(su) : NULL;
	c->snapshot_username = *sn ? strdup(sn) : NULL;
	c->snapshot_password = *sp ? strdup(sp) : NULL;
	if ((*su && !c->snapshot_url) || (*sn && !c->snapshot_username) || (*sp && !c->snapshot_password))
		return "out of memory";
	if ((*dev && !c->device) || (*tok && !c->source_token) || !c->id || !c->name || !c->vendor || !c->protocol || !c->address || !c->crs || !c->tags)
		return "out of memory";
	return NULL;
}

static char *read_file(const char *path, size_t *ret_len, struct agw_errors *errs)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		agw_errors_add(errs, path, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	/* Grown as read: a ledger of a few cameras must not cost the 64 MiB the limit allows. */
	const size_t limit = (size_t)AGW_LEDGER_MAX_BYTES + 1; /* one more byte tells "too large" */
	size_t cap = 64 * 1024, n = 0;
	char *buf = malloc(cap);
	bool oom = !buf;
	while (!oom && !ferror(f) && !feof(f) && n < limit) {
		if (n == cap) {
			size_t ncap = cap * 2 > limit ? limit : cap * 2;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				oom = true;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		n += fread(buf + n, 1, cap - n, f);
	}
	bool err = ferror(f) || oom;
	fclose(f);
	if (err) {
		agw_errors_add(errs, path, 0, "cannot read");
		free(buf);
		return NULL;
	}
	if (n > AGW_LEDGER_MAX_BYTES) {
		agw_errors_add(errs, path, 0, "larger than %d MiB", AGW_LEDGER_MAX_BYTES >> 20);
		free(buf);
		return NULL;
	}
	if (n == cap) {
		char *nb = realloc(buf, n + 1);
		if (!nb) {
			agw_errors_add(errs, path, 0, "cannot read: out of memory");
			free(buf);
			return NULL;
		}
		buf = nb;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		agw_errors_add(errs, path, 0, "contains a NUL byte: not a text CSV file");
		free(buf);
		return NULL;
	}
	*ret_len = n;
	return buf;
}

static bool blank_row(const struct row *r)
{
	for (size_t i = 0; i < r->n; i++)
		for (const char *p = r->fields[i]; *p; p++)
			if (!isspace((unsigned char)*p))
				return false;
	return true;
}

struct id_line {
	const char *id;
	size_t line;
};

static int id_line_cmp(const void *a, const void *b)
{
	const struct id_line *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Duplicate ids by sorting (O(n log n): 200,000 rows must not take minutes), each reported on the
 * line of its repetition with the line of its first appearance. */
static void check_duplicates(const char *path, const struct agw_camera *cams, const size_t *lines, size_t n,
			     struct agw_errors *errs, size_t before)
{
	if (n < 2)
		return;
	struct id_line *v = malloc(n * sizeof(*v));
	if (!v) {
		agw_errors_add(errs, path, 0, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = (struct id_line){.id = cams[i].id, .line = lines[i]};
	qsort(v, n, sizeof(*v), id_line_cmp);
	size_t first = 0;
	for (size_t i = 1; i < n && errs->n - before < AGW_LEDGER_MAX_ERRORS; i++) {
		if (strcmp(v[i].id, v[first].id) != 0) {
			first = i;
			continue;
		}
		agw_errors_add(errs, path, v[i].line, "camera %s: duplicate camera id (first on line %zu)", v[i].id,
			       v[first].line);
	}
	free(v);
}

/* ---- NVR channels: the rules that span rows ---- */

static const struct agw_camera *sort_base;

static int by_id(const void *a, const void *b)
{
	return strcmp(sort_base[*(const size_t *)a].id, sort_base[*(const size_t *)b].id);
}

/* The device a row's channel belongs to: the row it names, or itself. */
static const char *owner_of(const struct agw_camera *c)
{
	return c->device ? c->device : c->id;
}

static int by_channel(const void *a, const void *b)
{
	const struct agw_camera *x = &sort_base[*(const size_t *)a], *y = &sort_base[*(const size_t *)b];
	int r = strcmp(owner_of(x), owner_of(y));
	if (r)
		return r;
	if (x->channel != y->channel)
		return x->channel < y->channel ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1; /* file order: the later row is the error */
}

static const struct agw_camera *find_row(const struct agw_camera *cams, const size_t *order, size_t n, const char *id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(cams[order[mid]].id, id);
		if (r == 0)
			return &cams[order[mid]];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A channel row names a device row of the same protocol that is not itself a channel row; a
 * device's channels are unique (its own row's channel counts). Sorted, so 200,000 rows stay fast.
 * Runs once the ids are known to be unique. */
static void check_channels(const char *path, const struct agw_camera *cams, const size_t *lines, size_t n,
			   struct agw_errors *errs)
{
	size_t before = errs->n;
	size_t *order = malloc((n ? n : 1) * sizeof(*order));
	if (!order) {
		agw_errors_add(errs, path, 0, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	sort_base = cams;
	qsort(order, n, sizeof(*order), by_id);
	for (size_t i = 0; i < n && errs->n - before < AGW_LEDGER_MAX_ERRORS; i++) {
		const struct agw_camera *c = &cams[i];
		if (!c->device)
			continue;
		const struct agw_camera *d = find_row(cams, order, n, c->device);
		if (!d)
			agw_errors_add(errs, path, lines[i], "camera %s: device %s is not a row of the ledger", c->id,
				       c->device);
		else if (strcmp(d->protocol, c->protocol) != 0)
			agw_errors_add(errs, path, lines[i],
				       "camera %s: device %s is an %s row; a channel's device has its protocol (%s)", c->id,
				       c->device, d->protocol, c->protocol);
		else if (d->device)
			agw_errors_add(errs, path, lines[i],
				       "camera %s: device %s is itself a channel of %s; name the device row %s", c->id,
				       c->device, d->device, d->device);
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (cams[i].channel > 0)
			order[m++] = i;
	qsort(order, m, sizeof(*order), by_channel);
	for (size_t k = 1; k < m && errs->n - before < AGW_LEDGER_MAX_ERRORS; k++) {
		const struct agw_camera *a = &cams[order[k - 1]], *b = &cams[order[k]];
		if (a->channel == b->channel && !strcmp(owner_of(a), owner_of(b)))
			agw_errors_add(errs, path, lines[order[k]],
				       "camera %s: channel %d of device %s is already camera %s (line %zu)", b->id, b->channel,
				       owner_of(b), a->id, lines[order[k - 1]]);
	}
	sort_base = NULL;
	free(order);
}

/* The header: each known column's position in map (-1: absent); unknown, repeated and missing
 * required columns are errors. */
static void map_header(const char *path, struct row *row, int map[COL__COUNT], struct agw_errors *errs)
{
	for (int i = 0; i < COL__COUNT; i++)
		map[i] = -1;
	for (size_t i = 0; i < row->n; i++) {
		char *name = trim(row->fields[i]);
		int col = -1;
		for (int j = 0; j < COL__COUNT; j++)
			if (strcasecmp(name, column_names[j]) == 0)
				col = j;
		if (col < 0)
			agw_errors_add(errs, path, row->line, "unknown column \"%s\" in the header", name);
		else if (map[col] >= 0)
			agw_errors_add(errs, path, row->line, "column \"%s\" appears twice", name);
		else
			map[col] = (int)i;
	}
	for (int j = 0; j < COL__COUNT; j++)
		if (column_required[j] && map[j] < 0)
			agw_errors_add(errs, path, row->line, "missing column \"%s\" in the header", column_names[j]);
}

/* Doubles the camera array and its line numbers together; on failure both stay as they were. */
static int grow_rows(struct agw_camera **cams, size_t **lines, size_t *cap)
{
	size_t want = *cap ? *cap * 2 : 256;
	struct agw_camera *nc = realloc(*cams, want * sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	*cams = nc;
	size_t *nl = realloc(*lines, want * sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	*lines = nl;
	*cap = want;
	return 0;
}

int agw_ledger_parse(const char *path, struct agw_camera **ret_cameras, size_t *ret_n, struct agw_errors *errs)
{
	size_t len, before = errs->n;
	char *text = read_file(path, &len, errs);
	if (!text)
		return -EINVAL;
	struct reader rd = {.p = text, .end = text + len, .line = 1};
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		rd.p += 3;
	struct row row = {0};
	struct agw_camera *cams = NULL;
	size_t *lines = NULL; /* the line of each camera, for the checks that span rows */
	size_t n = 0, cap = 0;
	int map[COL__COUNT];
	const char *msg = NULL;
	int r = read_record(&rd, &row, &msg);
	if (r <= 0) {
		agw_errors_add(errs, path, rd.line, "%s", r < 0 ? msg : "empty file: expected a header line");
		goto out;
	}
	map_header(path, &row, map, errs);
	size_t header_fields = row.n;
	row_clear(&row);
	if (errs->n > before)
		goto out;
	while (errs->n - before < AGW_LEDGER_MAX_ERRORS && (r = read_record(&rd, &row, &msg)) != 0) {
		if (r < 0) {
			agw_errors_add(errs, path, row.line, "%s", r == -ENOMEM ? "out of memory" : msg);
			break;
		}
		if (blank_row(&row)) {
			row_clear(&row);
			continue;
		}
		if (row.n != header_fields) {
			agw_errors_add(errs, path, row.line, "%zu fields, the header has %zu", row.n, header_fields);
			row_clear(&row);
			continue;
		}
		if (n >= AGW_LEDGER_MAX_ROWS) {
			agw_errors_add(errs, path, row.line, "more than %d cameras", AGW_LEDGER_MAX_ROWS);
			row_clear(&row);
			break;
		}
		if (n == cap && grow_rows(&cams, &lines, &cap) < 0) {
			agw_errors_add(errs, path, row.line, "out of memory");
			row_clear(&row);
			break;
		}
		struct agw_camera *c = &cams[n];
		memset(c, 0, sizeof(*c));
		const char *why = row_to_camera(&row, map, c);
		/* Name the camera in the error when its id is usable (it is a file's text, not a secret). */
		const char *raw_id = (size_t)map[COL_ID] < row.n ? trim(row.fields[map[COL_ID]]) : "";
		if (why && valid_id(raw_id)) {
			agw_errors_add(errs, path, row.line, "camera %s: %s", raw_id, why);
			agw_camera_clear(c);
		} else if (why) {
			agw_errors_add(errs, path, row.line, "%s", why);
			agw_camera_clear(c);
		} else {
			lines[n++] = row.line;
		}
		row_clear(&row);
	}
	check_duplicates(path, cams, lines, n, errs, before);
	if (errs->n == before)
		check_channels(path, cams, lines, n, errs);
out:
	row_clear(&row);
	free(text);
	free(lines);
	if (errs->n > before) {
		agw_cameras_free(cams, n);
		return -EINVAL;
	}
	*ret_cameras = cams;
	*ret_n = n;
	return (int)n;
}

int agw_ledger_import(struct agw_store *store, const char *path, struct agw_errors *errs)
{
	struct agw_camera *cams = NULL;
	size_t n = 0;
	int r = agw_ledger_parse(path, &cams, &n, errs);
	if (r < 0)
		return r;
	if ((r = agw_store_begin(store)) < 0 || (r = agw_store_cameras_replace(store, cams, n)) < 0 ||
	    (r = agw_store_commit(store)) < 0) {
		agw_store_rollback(store);
		agw_errors_add(errs, path, 0, "cannot write the ledger to the database");
		agw_cameras_free(cams, n);
		return r;
	}
	agw_cameras_free(cams, n);
	return (int)n;
}
