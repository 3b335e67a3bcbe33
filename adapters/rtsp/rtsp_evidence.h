/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Evidence pictures: the diagnosed keyframe as a JPEG under <state_dir>/evidence/<camera>/, and
 * pruning by age and total size. Blocking file I/O: called on the RTSP worker pool. */
#ifndef AGW_RTSP_EVIDENCE_H
#define AGW_RTSP_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

/* Writes jpeg as <state_dir>/evidence/<camera>/<UTC time>-<tag>.jpg (the camera id encoded into a
 * safe, collision-free directory name: "cam:1" is cam%3A1, "cam_1" is cam_1; written to a temporary
 * name then renamed). *ret_rel gets the path relative to state_dir
 * (malloc'd), which is what alerts carry. Returns 0 or negative errno. */
int agw_rtsp_evidence_write(const char *state_dir, const char *camera_id, const char *tag, int64_t when_ms,
			    const void *jpeg, size_t len, char **ret_rel);

struct agw_rtsp_prune_stats {
	size_t files, removed;
	uint64_t bytes, removed_bytes;
};

/* Removes evidence files older than max_age_ms (0: no age limit), then the oldest ones until the
 * total is at most max_bytes (0: no size limit), however many files there are. max_files bounds
 * the memory: a round holds the max_files oldest; more to remove takes more rounds (walks). */
int agw_rtsp_evidence_prune(const char *state_dir, int64_t now_ms, int64_t max_age_ms, uint64_t max_bytes,
			    size_t max_files, struct agw_rtsp_prune_stats *ret_stats);

#endif
