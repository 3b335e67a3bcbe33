/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The camera diff of a reload: both lists sorted by id (pointer arrays), then one merge. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "camera_diff.h"
#include "store.h"

static int by_id(const void *a, const void *b)
{
	const struct agw_camera *x = *(const struct agw_camera *const *)a, *y = *(const struct agw_camera *const *)b;
	return strcmp(x->id, y->id);
}

static const struct agw_camera **sorted(const struct agw_camera *v, size_t n)
{
	const struct agw_camera **s = malloc((n ? n : 1) * sizeof(*s));
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		s[i] = &v[i];
	/* ledgers come from the store ordered by id already: qsort is then cheap, and correct if not */
	qsort(s, n, sizeof(*s), by_id);
	return s;
}

void agw_camera_diff_free(struct agw_camera_diff *d)
{
	if (!d)
		return;
	free(d->removed);
	free(d->changed_old);
	free(d->changed_new);
	free(d->added);
	memset(d, 0, sizeof(*d));
}

int agw_camera_diff(const struct agw_camera *old, size_t n_old, const struct agw_camera *neu, size_t n_new,
		    struct agw_camera_diff *ret)
{
	struct agw_camera_diff d = {0};
	const struct agw_camera **a = sorted(old, n_old), **b = sorted(neu, n_new);
	size_t cap_old = n_old ? n_old : 1, cap_new = n_new ? n_new : 1;
	d.removed = malloc(cap_old * sizeof(*d.removed));
	d.changed_old = malloc((cap_old < cap_new ? cap_old : cap_new) * sizeof(*d.changed_old));
	d.changed_new = malloc((cap_old < cap_new ? cap_old : cap_new) * sizeof(*d.changed_new));
	d.added = malloc(cap_new * sizeof(*d.added));
	if (!a || !b || !d.removed || !d.changed_old || !d.changed_new || !d.added) {
		free(a);
		free(b);
		agw_camera_diff_free(&d);
		return -ENOMEM;
	}
	size_t i = 0, j = 0;
	while (i < n_old || j < n_new) {
		int c = i == n_old ? 1 : j == n_new ? -1 : strcmp(a[i]->id, b[j]->id);
		if (c < 0) {
			d.removed[d.n_removed++] = a[i++];
		} else if (c > 0) {
			d.added[d.n_added++] = b[j++];
		} else {
			if (agw_camera_equal(a[i], b[j])) {
				d.n_same++;
			} else {
				d.changed_old[d.n_changed] = a[i];
				d.changed_new[d.n_changed++] = b[j];
			}
			i++;
			j++;
		}
	}
	free(a);
	free(b);
	*ret = d;
	return 0;
}
