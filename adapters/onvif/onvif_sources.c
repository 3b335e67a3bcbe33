/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ONVIF NVRs: one device (one subscription) with several video sources, each a channel that the
 * ledger may give a camera row of its own (device and channel columns, docs/onvif.md "NVRs").
 *
 * Events name their source in tt:Source SimpleItems, under names that differ by vendor and topic
 * (real captures in tests/fixtures/onvif/real/): VideoSourceToken, VideoSource or Source carry a
 * video source token; rule engine topics carry VideoSourceConfigurationToken (a configuration,
 * whose SourceToken is the video source); digital inputs carry InputToken. The channel of a token
 * is, in this order: the ledger row whose source_token names it; the place of the video source in
 * GetVideoSources (channel 1 = the first); for a configuration token, the place of its source
 * (GetProfiles). The list is learned once a device with channel rows is subscribed, on requests of
 * its own beside the pull, and kept in the adapter state ("sources"), so that after a restart the
 * events pulled before it is learned again are routed the same way.
 *
 * An event on a channel no row names stays on the device with the channel (or, for a token in no
 * list, the token) in its source: counted in agw_unrouted_channel_alerts_total and stored once per
 * run as adapter state "channel" (device, channel, token, first alarm), which `alarmgw channels
 * --unmatched` and the status page list until a ledger row names it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alarmgw/metrics.h"
#include "alarmgw/vendor_routes.h"
#include "onvif_camera.h"

#define SOURCES_KEY "sources"
#define MAX_SOURCES 4096         /* as the ledger's channels */
#define RETRY_MS 60000           /* after a failed fetch */
#define FETCH_TIMEOUT_MS 10000
#define MAX_UNMATCHED 4096       /* stored per run; beyond, only counted */

struct onvif_sources {
	char **source;  /* video source tokens in the device's order: channel i + 1 */
	char **profile; /* a profile of each source (its pictures), or NULL */
	size_t n;
	char **cfg, **cfg_source; /* video source configuration token -> its source token */
	size_t n_cfg;
};

struct onvif_sources_fetch {
	struct cam *c;
	struct agw_http_get *get;
	struct onvif_media_peer peer;
	enum agw_onvif_op op;
	char **sources; /* GetVideoSources' answer, until GetProfiles' */
	int n_sources;
};

/* the unmatched channels already stored in this run: keys "<device>/<channel or token>" */
struct onvif_unmatched {
	char **keys;
	size_t n;
};

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void sources_free(struct onvif_sources *s)
{
	if (!s)
		return;
	strv_free(s->source, s->n);
	strv_free(s->profile, s->n);
	strv_free(s->cfg, s->n_cfg);
	strv_free(s->cfg_source, s->n_cfg);
	free(s);
}

/* ---- routes: ledger rows that name a device ---- */

int agw_onvif_routes_add(struct onvif_adapter *ad, const struct agw_camera *camera)
{
	if (!ad->routes && agw_vendor_routes_new(&ad->routes) < 0)
		return -ENOMEM;
	return agw_vendor_routes_add(ad->routes, camera);
}

void agw_onvif_routes_remove(struct onvif_adapter *ad, const char *camera_id)
{
	if (ad->routes)
		agw_vendor_routes_remove(ad->routes, camera_id);
}

void agw_onvif_routes_free(struct onvif_adapter *ad)
{
	agw_vendor_routes_free(ad->routes);
	ad->routes = NULL;
	if (ad->unmatched) {
		strv_free(ad->unmatched->keys, ad->unmatched->n);
		free(ad->unmatched);
		ad->unmatched = NULL;
	}
}

static bool is_nvr(const struct cam *c)
{
	return c->ad->routes && agw_vendor_routes_has_channels(c->ad->routes, c->id);
}

/* ---- the channel of an event ---- */

static int index_of(char *const *v, size_t n, const char *token)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && !strcmp(v[i], token))
			return (int)i;
	return -1;
}

/* The video source a token names: itself, or for a configuration token the source it configures
 * (GetProfiles), when known. */
static const char *source_of(const struct cam *c, const char *name, const char *token)
{
	const struct onvif_sources *s = c->sources;
	if (s && !strcmp(name, "VideoSourceConfigurationToken")) {
		int k = index_of(s->cfg, s->n_cfg, token);
		if (k >= 0 && s->cfg_source[k])
			return s->cfg_source[k];
	}
	return token;
}

/* The channel of a video source token by its place in the device's list (0: none). */
static int place_of(const struct cam *c, const char *source)
{
	const struct onvif_sources *s = c->sources;
	return s ? index_of(s->source, s->n, source) + 1 : 0;
}

/* Stores an unmatched channel once per run (adapter state "channel"), keeping the first alarm's
 * time of an earlier run. A synchronous write, but only the first time a channel is seen. */
static void unmatched_store(struct cam *c, int ch, const char *token, int64_t when_ms)
{
	struct onvif_adapter *ad = c->ad;
	struct agw_adapter_ctx *ctx = ad->ctx;
	char key[256];
	if (ch > 0)
		snprintf(key, sizeof(key), "%s/%d", c->id, ch);
	else
		snprintf(key, sizeof(key), "%s/%.120s", c->id, token);
	if (!ctx->state_put || !ctx->state_get)
		return;
	if (!ad->unmatched && !(ad->unmatched = calloc(1, sizeof(*ad->unmatched))))
		return;
	struct onvif_unmatched *u = ad->unmatched;
	if (u->n >= MAX_UNMATCHED || index_of(u->keys, u->n, key) >= 0)
		return;
	char **v = realloc(u->keys, (u->n + 1) * sizeof(*v));
	if (!v)
		return;
	u->keys = v;
	if (!(v[u->n] = strdup(key)))
		return;
	u->n++;
	char *old = NULL;
	if (ctx->state_get(ctx, key, "channel", &old) == 0) {
		free(old); /* stored by an earlier run: its first alarm stays */
		return;
	}
	json_t *o = json_pack("{s:s, s:o, s:s, s:I}", "device", c->id, "channel", ch > 0 ? json_integer(ch) : json_null(),
			      "name", token, "first_unmatched_alarm_ms", (json_int_t)when_ms);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (text && ctx->state_put(ctx, key, "channel", text) == 0)
		agw_log_notice(COMPONENT, c->id, "events on video source %s (channel %d) that no ledger row names: "
			       "kept on the device (alarmgw channels --unmatched)", token, ch);
	free(text);
}

static void unmatched(struct cam *c, int ch, const char *token, const struct agw_alert *a)
{
	char labels[200];
	if (ch > 0)
		snprintf(labels, sizeof(labels), "adapter=\"onvif\",device=\"%s\",channel=\"%d\"", c->id, ch);
	else
		snprintf(labels, sizeof(labels), "adapter=\"onvif\",device=\"%s\",channel=\"other\"", c->id);
	agw_metric_add("agw_unrouted_channel_alerts_total", labels, 1);
	unmatched_store(c, ch, token, a->gateway_time_ms);
}

/* The source items that name a video source, most specific first. */
static const char *const source_items[] = {"VideoSourceToken", "VideoSource", "Source",
					   "VideoSourceConfigurationToken", "InputToken"};

const char *agw_onvif_route(struct cam *c, struct agw_alert *a)
{
	if (!is_nvr(c) || a->source.n == 0)
		return c->id;
	const char *first = NULL;
	for (size_t i = 0; i < sizeof(source_items) / sizeof(source_items[0]); i++) {
		const char *token = agw_items_get(&a->source, source_items[i]);
		if (!token || !*token)
			continue;
		/* an alarm input that names no channel is the device's own, not an unknown channel */
		if (!first && strcmp(source_items[i], "InputToken") != 0)
			first = token;
		/* a ledger row's token names the item's token or the source it configures; else the
		 * source's place in the list */
		const char *src = source_of(c, source_items[i], token);
		int row_ch = 0, ch = place_of(c, src);
		char num[16];
		snprintf(num, sizeof(num), "%d", ch);
		const char *cam = agw_vendor_routes_find_token(c->ad->routes, c->id, token, &row_ch);
		if (!cam && src != token)
			cam = agw_vendor_routes_find_token(c->ad->routes, c->id, src, &row_ch);
		if (!cam && ch > 0)
			cam = agw_vendor_routes_find(c->ad->routes, c->id, num);
		if (!cam && ch <= 0)
			continue;
		/* the device's own number for the source (its place), which the evidence picture is
		 * asked for; the ledger's channel of a token row when the list is not known */
		if (ch <= 0)
			snprintf(num, sizeof(num), "%d", ch = row_ch);
		if (!agw_items_get(&a->source, "channel"))
			agw_items_add(&a->source, "channel", num);
		if (cam)
			return cam;
		unmatched(c, ch, src, a); /* by its video source: what a ledger row would name */
		return c->id;
	}
	if (first)
		unmatched(c, 0, first, a);
	return c->id;
}

/* ---- the source list, stored: lines "s\t<source>\t<profile>" and "c\t<config>\t<source>" ---- */

static bool storable(const char *t)
{
	return t && *t && !strpbrk(t, "\t\n");
}

static void sources_store(struct cam *c)
{
	struct agw_adapter_ctx *ctx = c->ad->ctx;
	const struct onvif_sources *s = c->sources;
	if (!ctx->state_put || !s)
		return;
	size_t cap = 64;
	for (size_t i = 0; i < s->n; i++)
		cap += 8 + (s->source[i] ? strlen(s->source[i]) : 0) + (s->profile[i] ? strlen(s->profile[i]) : 0);
	for (size_t i = 0; i < s->n_cfg; i++)
		cap += 8 + strlen(s->cfg[i]) + (s->cfg_source[i] ? strlen(s->cfg_source[i]) : 0);
	char *text = malloc(cap), *p = text;
	if (!text)
		return;
	for (size_t i = 0; i < s->n; i++)
		p += sprintf(p, "s\t%s\t%s\n", storable(s->source[i]) ? s->source[i] : "",
			     storable(s->profile[i]) ? s->profile[i] : "");
	for (size_t i = 0; i < s->n_cfg; i++)
		if (storable(s->cfg[i]) && storable(s->cfg_source[i]))
			p += sprintf(p, "c\t%s\t%s\n", s->cfg[i], s->cfg_source[i]);
	*p = '\0';
	int rc = ctx->state_put(ctx, c->id, SOURCES_KEY, text);
	if (rc < 0)
		agw_log_warn(COMPONENT, c->id, "cannot store the video sources: %s", strerror(-rc));
	free(text);
}

static int push2(char ***a, char ***b, size_t *n, const char *x, const char *y)
{
	char **na = realloc(*a, (*n + 1) * sizeof(*na));
	if (na)
		*a = na;
	char **nb = na ? realloc(*b, (*n + 1) * sizeof(*nb)) : NULL;
	if (!nb)
		return -ENOMEM;
	*b = nb;
	na[*n] = x && *x ? strdup(x) : NULL;
	nb[*n] = y && *y ? strdup(y) : NULL;
	(*n)++;
	return ((x && *x && !na[*n - 1]) || (y && *y && !nb[*n - 1])) ? -ENOMEM : 0;
}

void agw_onvif_sources_load(struct cam *c)
{
	struct agw_adapter_ctx *ctx = c->ad->ctx;
	char *text = NULL;
	if (!ctx->state_get || ctx->state_get(ctx, c->id, SOURCES_KEY, &text) < 0)
		return;
	struct onvif_sources *s = calloc(1, sizeof(*s));
	int rc = s ? 0 : -ENOMEM;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
		char *x = strchr(line, '\t'), *y = x ? strchr(x + 1, '\t') : NULL;
		if (!x || !y || x != line + 1 || (line[0] != 's' && line[0] != 'c')) {
			rc = -EINVAL;
			break;
		}
		*y = *x = '\0';
		if (line[0] == 's' && s->n < MAX_SOURCES)
			rc = push2(&s->source, &s->profile, &s->n, x + 1, y + 1);
		else if (line[0] == 'c' && s->n_cfg < MAX_SOURCES)
			rc = push2(&s->cfg, &s->cfg_source, &s->n_cfg, x + 1, y + 1);
	}
	free(text);
	if (rc < 0) {
		agw_log_warn(COMPONENT, c->id, "stored video sources unreadable: ignored");
		sources_free(s);
		return;
	}
	sources_free(c->sources);
	c->sources = s;
}

const char *agw_onvif_sources_profile(const struct cam *c, int ch)
{
	return c->sources && ch > 0 && (size_t)ch <= c->sources->n ? c->sources->profile[ch - 1] : NULL;
}

/* ---- learning the list: GetVideoSources, then GetProfiles ---- */

static void fetch_free(struct onvif_sources_fetch *f)
{
	agw_onvif_media_peer_clear(&f->peer);
	strv_free(f->sources, (size_t)f->n_sources);
	free(f);
}

/* The fetch ended (learned or not): a pull that waited for it goes now. */
static void fetch_ended(struct cam *c)
{
	if (!c->sources_wait)
		return;
	c->sources_wait = false;
	if (c->state == CAM_PULLING && !c->busy)
		agw_onvif_cam_pull(c);
}

static void fetch_failed(struct onvif_sources_fetch *f, const char *what)
{
	struct cam *c = f->c;
	c->sources_fetch = NULL;
	c->sources_due_ms = onvif_now_ms(c->ad) + RETRY_MS;
	agw_metric_add("agw_onvif_errors_total", "reason=\"sources\"", 1);
	agw_log_warn(COMPONENT, c->id, "%s: %s (%s)", agw_onvif_op_name(f->op), what,
		     c->sources ? "the list learned before stays in use" : "NVR channels by source_token only until it answers");
	fetch_free(f);
	fetch_ended(c);
}

/* The list from both answers: the sources in GetVideoSources' order (or, when the device does not
 * answer it, in the order the profiles name them), each with its first profile. */
static struct onvif_sources *sources_build(struct onvif_sources_fetch *f, const struct agw_onvif_response *r)
{
	struct onvif_sources *s = calloc(1, sizeof(*s));
	int rc = s ? 0 : -ENOMEM;
	for (int i = 0; rc == 0 && i < f->n_sources && s->n < MAX_SOURCES; i++)
		rc = push2(&s->source, &s->profile, &s->n, f->sources[i], NULL);
	for (int i = 0; rc == 0 && r && i < r->count && s->n_cfg < MAX_SOURCES; i++) {
		const struct agw_onvif_profile *p = &r->profiles[i];
		if (!p->source)
			continue;
		int k = index_of(s->source, s->n, p->source);
		if (k < 0 && f->n_sources == 0 && s->n < MAX_SOURCES) {
			rc = push2(&s->source, &s->profile, &s->n, p->source, NULL);
			k = (int)s->n - 1;
		}
		if (rc == 0 && k >= 0 && !s->profile[k] && p->token && !(s->profile[k] = strdup(p->token)))
			rc = -ENOMEM;
		if (rc == 0 && p->config && index_of(s->cfg, s->n_cfg, p->config) < 0)
			rc = push2(&s->cfg, &s->cfg_source, &s->n_cfg, p->config, p->source);
	}
	if (rc < 0) {
		sources_free(s);
		return NULL;
	}
	return s;
}

static bool sources_same(const struct onvif_sources *a, const struct onvif_sources *b)
{
	if (!a || !b || a->n != b->n || a->n_cfg != b->n_cfg)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if ((a->source[i] == NULL) != (b->source[i] == NULL) || (a->source[i] && strcmp(a->source[i], b->source[i])))
			return false;
	return true;
}

static void fetch_done(struct onvif_sources_fetch *f, const struct agw_onvif_response *profiles)
{
	struct cam *c = f->c;
	struct onvif_sources *s = sources_build(f, profiles);
	c->sources_fetch = NULL;
	fetch_free(f);
	if (!s) {
		c->sources_due_ms = onvif_now_ms(c->ad) + RETRY_MS;
		fetch_ended(c);
		return;
	}
	bool same = sources_same(c->sources, s);
	if (!same)
		agw_log_info(COMPONENT, c->id, "NVR with %zu video sources (channel 1 = %s)", s->n,
			     s->n && s->source[0] ? s->source[0] : "?");
	sources_free(c->sources);
	c->sources = s;
	c->sources_fresh = true;
	if (!same)
		sources_store(c);
	fetch_ended(c);
}

static void on_sources_answer(void *arg, int status, const char *reason, const void *body, size_t len,
			      const char *ctype);

static void fetch_next(struct onvif_sources_fetch *f, enum agw_onvif_op op)
{
	struct cam *c = f->c;
	f->op = op;
	int rc = agw_onvif_media_send(c->ad, onvif_cam_http(c), &f->peer, op, NULL, FETCH_TIMEOUT_MS, on_sources_answer,
				      f, &f->get);
	if (rc < 0)
		fetch_failed(f, strerror(-rc));
}

static void on_sources_answer(void *arg, int status, const char *reason, const void *body, size_t len,
			      const char *ctype)
{
	(void)ctype;
	struct onvif_sources_fetch *f = arg;
	f->get = NULL;
	/* a SOAP Fault comes with 400/500: a device without GetVideoSources says so in one */
	if (status < 0 && !(len > 0 && status == -EPROTO)) {
		fetch_failed(f, reason);
		return;
	}
	struct agw_onvif_response r = {0};
	char err[256];
	int rc = agw_onvif_response_parse(f->c->ad->soap, f->op, body, len, &r, err, sizeof(err));
	if (f->op == AGW_ONVIF_GET_VIDEO_SOURCES) {
		if (rc == 0) {
			f->sources = r.sources;
			f->n_sources = r.count;
			r.sources = NULL;
			r.count = 0;
		} else {
			agw_log_info(COMPONENT, f->c->id, "GetVideoSources: %s: the profiles give the channel order", err);
		}
		agw_onvif_response_clear(&r);
		fetch_next(f, AGW_ONVIF_GET_PROFILES);
		return;
	}
	if (rc < 0 && f->n_sources == 0) {
		fetch_failed(f, err);
		agw_onvif_response_clear(&r);
		return;
	}
	fetch_done(f, rc == 0 ? &r : NULL);
	agw_onvif_response_clear(&r);
}

bool agw_onvif_sources_check(struct cam *c)
{
	if (c->sources_fresh || !is_nvr(c))
		return false;
	if (!c->sources_fetch && onvif_now_ms(c->ad) >= c->sources_due_ms) {
		struct onvif_sources_fetch *f = calloc(1, sizeof(*f));
		if (!f || agw_onvif_media_peer_init(&f->peer, c) < 0) {
			free(f);
			return false;
		}
		f->c = c;
		c->sources_fetch = f;
		fetch_next(f, AGW_ONVIF_GET_VIDEO_SOURCES); /* may fail at once: sources_fetch NULL again */
	}
	/* with a stored list the pull goes on while it is refreshed */
	c->sources_wait = c->sources_fetch && !c->sources;
	return c->sources_wait;
}


void agw_onvif_sources_cancel(struct cam *c)
{
	struct onvif_sources_fetch *f = c->sources_fetch;
	if (!f)
		return;
	agw_http_get_cancel(f->get);
	c->sources_fetch = NULL;
	fetch_free(f);
}

void agw_onvif_sources_free(struct cam *c)
{
	agw_onvif_sources_cancel(c);
	sources_free(c->sources);
	c->sources = NULL;
}
