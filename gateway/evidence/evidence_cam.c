/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per camera evidence state (evidence_cam.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "evidence_cam.h"

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int grow(struct evidence_cams *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	struct evidence_cam **v = calloc(cap, sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		for (struct evidence_cam *c = t->v[i], *next; c; c = next) {
			next = c->next;
			size_t b = hash(c->id) & (cap - 1);
			c->next = v[b];
			v[b] = c;
		}
	free(t->v);
	t->v = v;
	t->cap = cap;
	return 0;
}

struct evidence_cam *evidence_cam_get(struct evidence_cams *t, const char *id)
{
	if (t->cap) {
		for (struct evidence_cam *c = t->v[hash(id) & (t->cap - 1)]; c; c = c->next)
			if (strcmp(c->id, id) == 0)
				return c;
	}
	if (t->n >= t->cap / 2 && grow(t) < 0)
		return NULL;
	struct evidence_cam *c = calloc(1, sizeof(*c));
	if (!c || !(c->id = strdup(id))) {
		free(c);
		return NULL;
	}
	size_t b = hash(id) & (t->cap - 1);
	c->next = t->v[b];
	t->v[b] = c;
	t->n++;
	return c;
}

void evidence_cam_drop_picture(struct evidence_cams *t, struct evidence_cam *c)
{
	if (!c->pic)
		return;
	t->held_bytes -= c->pic_len;
	free(c->pic);
	free(c->pic_type);
	free(c->pic_source);
	c->pic = NULL;
	c->pic_type = c->pic_source = NULL;
	c->pic_len = 0;
}

static void last_free(struct evidence_last *l)
{
	if (!l)
		return;
	free(l->case_id);
	free(l->path);
	free(l->type);
	free(l->source);
	free(l);
}

int evidence_cam_set_last(struct evidence_cam *c, const struct evidence_last *l)
{
	struct evidence_last *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = *l;
	n->case_id = strdup(l->case_id);
	n->path = strdup(l->path);
	n->type = l->type ? strdup(l->type) : NULL;
	n->source = l->source ? strdup(l->source) : NULL;
	if (!n->case_id || !n->path || (l->type && !n->type) || (l->source && !n->source)) {
		last_free(n);
		return -ENOMEM;
	}
	last_free(c->last);
	c->last = n;
	return 0;
}

void evidence_cams_free(struct evidence_cams *t)
{
	for (size_t i = 0; i < t->cap; i++)
		for (struct evidence_cam *c = t->v[i], *next; c; c = next) {
			next = c->next;
			evidence_cam_drop_picture(t, c);
			last_free(c->last);
			free(c->learned_url);
			free(c->id);
			free(c);
		}
	free(t->v);
	memset(t, 0, sizeof(*t));
}
