/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per camera evidence state: whether a capture runs, when the last one started (rate limit), the
 * latest picture an event brought, the latest picture stored (reused by the next case within
 * min_interval). A chained hash table keyed by camera id. */
#ifndef AGW_EVIDENCE_CAM_H
#define AGW_EVIDENCE_CAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evidence_cam {
	struct evidence_cam *next;
	char *id;
	bool busy;
	int64_t last_start;      /* monotonic ms, 0: never */
	/* the held picture */
	void *pic;
	size_t pic_len;
	int64_t pic_at;          /* monotonic ms */
	int64_t pic_wall;        /* wall clock ms, to match the alert's gateway time */
	int64_t pic_camera_time;
	char *pic_type, *pic_source;
	/* pictures being checked and written on the worker pool: the next case waits for them, so
	 * it can reuse what they store */
	int storing;
	struct evidence_last *last; /* the latest picture stored, NULL: none */
	char *learned_url;          /* adapter.h snapshot_learned, NULL: none */
};

/* A stored picture, as a later case of the camera reuses it. */
struct evidence_last {
	char *case_id;
	int64_t n;
	char *path;              /* relative to the state directory */
	char *type, *source;
	int64_t at;              /* monotonic ms when the gateway received it */
	int64_t gateway_time, camera_time;
};

struct evidence_cams {
	struct evidence_cam **v;
	size_t n, cap;
	size_t held_bytes;
};

/* The camera's entry, created when missing; NULL on ENOMEM. */
struct evidence_cam *evidence_cam_get(struct evidence_cams *t, const char *id);
void evidence_cam_drop_picture(struct evidence_cams *t, struct evidence_cam *c);
void evidence_cams_free(struct evidence_cams *t);
/* Replaces the camera's latest stored picture with a copy of *l (kept as it was on ENOMEM). */
int evidence_cam_set_last(struct evidence_cam *c, const struct evidence_last *l);

#endif
