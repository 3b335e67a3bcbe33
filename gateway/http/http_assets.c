/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The page's files. Its own (web/) are compiled in, so page and server always match. Leaflet is
 * Debian's libjs-leaflet, read once at start from its directory: the package gets its security
 * updates without a rebuild, and no copy of a library lives in this tree. Without it the gateway
 * says so at start and the page says so where the map would be; everything else works. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "http_internal.h"

#ifndef AGW_LEAFLET_DIR
#define AGW_LEAFLET_DIR "/usr/share/javascript/leaflet"
#endif
#define ASSET_MAX (4 << 20) /* bytes: leaflet.js is 140 KB */

extern const char agw_web_index_html[], agw_web_app_js[], agw_web_app_css[];
extern const size_t agw_web_index_html_size, agw_web_app_js_size, agw_web_app_css_size;

static int file_read(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	char *buf = malloc(ASSET_MAX);
	size_t n = buf ? fread(buf, 1, ASSET_MAX, f) : 0;
	int e = ferror(f) ? -EIO : n == ASSET_MAX ? -EFBIG : 0;
	fclose(f);
	if (!buf)
		return -ENOMEM;
	if (e < 0) {
		free(buf);
		return e;
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}

int agw_http_assets_load(struct agw_http *h, const char *leaflet_dir)
{
	static const struct agw_http_asset table[] = {
		{"/static/app.js", "text/javascript; charset=utf-8", NULL, 0, NULL},
		{"/static/app.css", "text/css; charset=utf-8", NULL, 0, NULL},
		{"/static/leaflet.js", "text/javascript; charset=utf-8", NULL, 0, NULL},
		{"/static/leaflet.css", "text/css; charset=utf-8", NULL, 0, NULL},
	};
	const char *dir = leaflet_dir && *leaflet_dir ? leaflet_dir : AGW_LEAFLET_DIR;
	h->n_assets = sizeof(table) / sizeof(table[0]);
	h->assets = calloc(h->n_assets, sizeof(*h->assets));
	if (!h->assets)
		return -ENOMEM;
	memcpy(h->assets, table, sizeof(table));
	h->assets[0].data = agw_web_app_js;
	h->assets[0].len = agw_web_app_js_size;
	h->assets[1].data = agw_web_app_css;
	h->assets[1].len = agw_web_app_css_size;
	for (size_t i = 2; i < h->n_assets; i++) {
		struct agw_http_asset *a = &h->assets[i];
		char path[200];
		/* The minified build Debian ships next to leaflet.js: a third of the size. */
		snprintf(path, sizeof(path), "%s/%s", dir, i == 2 ? "leaflet.min.js" : "leaflet.css");
		int r = file_read(path, &a->owned, &a->len);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			snprintf(h->leaflet_error, sizeof(h->leaflet_error),
				 "the map needs Leaflet: %.160s: %.40s (install Debian's libjs-leaflet)", path, strerror(-r));
			agw_log_warn(AGW_HTTP_COMPONENT, NULL, "%s; the page works without its map", h->leaflet_error);
			continue;
		}
		a->data = a->owned;
	}
	return 0;
}

void agw_http_assets_free(struct agw_http *h)
{
	for (size_t i = 0; h->assets && i < h->n_assets; i++)
		free(h->assets[i].owned);
	free(h->assets);
	h->assets = NULL;
}

int agw_http_asset_find(const struct agw_http *h, const char *path, size_t len)
{
	for (size_t i = 0; i < h->n_assets; i++)
		if (strlen(h->assets[i].path) == len && memcmp(h->assets[i].path, path, len) == 0)
			return (int)i;
	return -1;
}

/* The page with its language: the one "%LANG%" of web/index.html replaced. */
int agw_http_page_html(const struct agw_http *h, const char *lang, char **ret_text, size_t *ret_len)
{
	(void)h;
	const char *mark = strstr(agw_web_index_html, "%LANG%");
	size_t before = mark ? (size_t)(mark - agw_web_index_html) : agw_web_index_html_size;
	size_t after = mark ? agw_web_index_html_size - before - 6 : 0;
	size_t len = before + (mark ? strlen(lang) : 0) + after;
	char *out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	memcpy(out, agw_web_index_html, before);
	if (mark) {
		memcpy(out + before, lang, strlen(lang));
		memcpy(out + before + strlen(lang), mark + 6, after);
	}
	out[len] = '\0';
	*ret_text = out;
	*ret_len = len;
	return 0;
}
