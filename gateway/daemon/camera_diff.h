/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a reload changes in the camera list: the cameras removed, changed and added between two
 * ledgers, in O(n log n) (two sorts and a merge) so a 200,000-camera ledger diffs in well under a
 * second on the loop (bench/reload). */
#ifndef ALARMGW_CAMERA_DIFF_H
#define ALARMGW_CAMERA_DIFF_H

#include <stddef.h>

#include "alarmgw/adapter.h"

struct agw_camera_diff {
	const struct agw_camera **removed; /* in the old list only */
	const struct agw_camera **changed_old, **changed_new; /* same id, some field differs */
	const struct agw_camera **added;   /* in the new list only */
	size_t n_removed, n_changed, n_added, n_same;
};

/* Pointers into old and neu, which must outlive the diff; ids must be unique within each list
 * (the ledger guarantees it). Returns 0 or -ENOMEM (*ret untouched). */
int agw_camera_diff(const struct agw_camera *old, size_t n_old, const struct agw_camera *neu, size_t n_new,
		    struct agw_camera_diff *ret);
void agw_camera_diff_free(struct agw_camera_diff *diff);

#endif
