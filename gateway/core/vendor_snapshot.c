/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Evidence snapshots of HTTP devices (alarmgw/vendor_snapshot.h). The cameras are a list: a
 * capture is rare (the core rate-limits them per camera), so a walk costs less than it saves. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/http_get.h"
#include "alarmgw/str.h"
#include "alarmgw/vendor_pull.h"
#include "alarmgw/vendor_snapshot.h"

struct vcam {
	struct vcam *next;
	char *id, *address, *username, *password, *device;
	int channel;
};

struct vsnap {
	struct vsnap *prev, *next;
	struct agw_vendor_snapshots *v;
	struct agw_snapshot *s;
	struct agw_http_get *get;
	char *url;
};

struct agw_vendor_snapshots {
	char *path_pre, *path_post, *ca_file;
	int chan_mul, chan_add;
	bool tls_verify;
	struct vcam *cams;
	struct vsnap *running;
};

static void vcam_free(struct vcam *c)
{
	free(c->id);
	free(c->address);
	free(c->username);
	free(c->password);
	free(c->device);
	free(c);
}

int agw_vendor_snapshots_new(const char *path_pre, const char *path_post, int chan_mul, int chan_add, bool tls_verify,
			     const char *ca_file, struct agw_vendor_snapshots **ret)
{
	struct agw_vendor_snapshots *v = calloc(1, sizeof(*v));
	if (!v || agw_strdup_to(&v->path_pre, path_pre) < 0 || agw_strdup_to(&v->path_post, path_post) < 0 ||
	    agw_strdup_to(&v->ca_file, ca_file) < 0) {
		if (v) {
			free(v->path_pre);
			free(v->path_post);
		}
		free(v);
		return -ENOMEM;
	}
	v->chan_mul = chan_mul;
	v->chan_add = chan_add;
	v->tls_verify = tls_verify;
	*ret = v;
	return 0;
}

static void vsnap_end(struct vsnap *n)
{
	struct agw_vendor_snapshots *v = n->v;
	if (n->prev)
		n->prev->next = n->next;
	else
		v->running = n->next;
	if (n->next)
		n->next->prev = n->prev;
	n->s->adapter = NULL;
	free(n->url);
	free(n);
}

void agw_vendor_snapshots_cancel_all(struct agw_vendor_snapshots *v)
{
	while (v && v->running) {
		agw_http_get_cancel(v->running->get);
		vsnap_end(v->running);
	}
}

void agw_vendor_snapshots_free(struct agw_vendor_snapshots *v)
{
	if (!v)
		return;
	agw_vendor_snapshots_cancel_all(v);
	for (struct vcam *c = v->cams, *next; c; c = next) {
		next = c->next;
		vcam_free(c);
	}
	free(v->path_pre);
	free(v->path_post);
	free(v->ca_file);
	free(v);
}

static struct vcam *find(struct agw_vendor_snapshots *v, const char *id)
{
	for (struct vcam *c = v->cams; c && id; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

int agw_vendor_snapshots_add(struct agw_vendor_snapshots *v, const struct agw_camera *camera)
{
	struct vcam *c = calloc(1, sizeof(*c));
	if (!c || agw_strdup_to(&c->id, camera->id) < 0 || agw_strdup_to(&c->address, camera->address) < 0 ||
	    agw_strdup_to(&c->username, camera->username) < 0 || agw_strdup_to(&c->password, camera->password) < 0 ||
	    agw_strdup_to(&c->device, camera->device) < 0) {
		if (c)
			vcam_free(c);
		return -ENOMEM;
	}
	c->channel = camera->channel > 0 ? camera->channel : 1;
	c->next = v->cams;
	v->cams = c;
	return 0;
}

void agw_vendor_snapshots_remove(struct agw_vendor_snapshots *v, const char *camera_id)
{
	for (struct vcam **pp = &v->cams; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->id, camera_id) == 0) {
			struct vcam *c = *pp;
			*pp = c->next;
			vcam_free(c);
			return;
		}
}

static void on_get(void *arg, int status, const char *reason, const void *body, size_t len, const char *ctype)
{
	struct vsnap *n = arg;
	struct agw_snapshot *s = n->s;
	struct agw_picture pic = {.status = status, .type = "snapshot", .source = n->url, .data = body, .len = len,
				  .camera_time_ms = AGW_TIME_UNKNOWN};
	char why[256];
	if (status < 0) {
		snprintf(why, sizeof(why), "snapshot %s: %s", n->url, reason);
		pic.reason = why;
	} else if (ctype && strncmp(ctype, "image/", 6) != 0) {
		snprintf(why, sizeof(why), "snapshot %s: content type %.60s, not a picture", n->url, ctype);
		pic.status = -EPROTO;
		pic.reason = why;
	}
	n->get = NULL;
	s->done(s, &pic); /* pic.source points into n: end it after */
	vsnap_end(n);
}

int agw_vendor_snapshots_start(struct agw_vendor_snapshots *v, struct agw_curl_loop *http, struct agw_snapshot *s)
{
	struct vcam *c = find(v, s->camera_id);
	struct vcam *dev = c && c->device ? find(v, c->device) : c;
	if (!c || !dev || !http)
		return -ENOTSUP;
	char path[256];
	/* the alert's channel: a device row also carries the channels no ledger row names */
	int channel = s->channel > 0 ? s->channel : c->channel;
	snprintf(path, sizeof(path), "%s%d%s", v->path_pre, channel * v->chan_mul + v->chan_add, v->path_post);
	struct vsnap *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->v = v;
	n->s = s;
	n->url = agw_vendor_pull_url(dev->address, path);
	int rc = n->url ? 0 : -ENOMEM;
	struct agw_http_get_opts o = {.url = n->url, .username = dev->username && *dev->username ? dev->username : NULL,
				      .password = dev->password, .max_bytes = s->max_bytes, .timeout_ms = s->timeout_ms,
				      .tls_verify = v->tls_verify, .ca_file = v->ca_file};
	if (rc == 0)
		rc = agw_http_get_start(http, &o, on_get, n, &n->get);
	if (rc < 0) {
		free(n->url);
		free(n);
		return rc;
	}
	n->next = v->running;
	if (v->running)
		v->running->prev = n;
	v->running = n;
	s->adapter = n;
	return 0;
}

void agw_vendor_snapshots_cancel(struct agw_vendor_snapshots *v, struct agw_snapshot *s)
{
	(void)v;
	struct vsnap *n = s->adapter;
	if (!n)
		return;
	agw_http_get_cancel(n->get);
	vsnap_end(n);
}
