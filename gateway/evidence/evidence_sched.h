/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The scheduler's state (evidence.c), shared with its pruning (evidence_prune.c). Private to
 * gateway/evidence/. */
#ifndef AGW_EVIDENCE_SCHED_H
#define AGW_EVIDENCE_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "evidence.h"
#include "evidence_cam.h"
#include "evidence_links.h"
#include "store.h"

enum job_state { JOB_STAGED, JOB_QUEUED, JOB_RUNNING, JOB_WORKING, JOB_WRITING };

struct job {
	struct job *prev, *next;
	enum job_state state;
	struct agw_evidence *ev;
	char *case_id, *camera_id, *adapter;
	int64_t n;
	int channel;             /* the alert's source channel, 0: none */
	struct agw_snapshot snap;
	uv_timer_t timer;
	bool timer_open;
	uv_work_t work;
	/* the outcome */
	const char *status;  /* "stored", "failed", "skipped" */
	char reason[200];
	char *type, *source;
	void *jpeg;
	size_t len;
	int64_t camera_time, gateway_time;
	unsigned width, height;
	char sha256[65];
	char path[512];
	char topic[512];
	/* a picture of the camera's earlier case, reused (rate limit): that case, n and file */
	char *reused_case, *reuse_path;
	int64_t reused_n;
	int64_t got_at;          /* monotonic ms when the picture came (a reuse's age counts from it) */
	char *url;
	int64_t url_expires;
};

struct list {
	struct job *head, *tail;
	size_t n;
};

struct agw_evidence {
	uv_loop_t *loop;
	struct agw_store *store;
	struct agw_evidence_settings cfg;
	char *state_dir, *prefix, *gateway, *topic_tmpl;
	int64_t outbox_max_rows;
	struct agw_evidence_hooks hooks;
	struct list staged, queued, running, writing;
	struct evidence_cams cams;
	uv_timer_t retry, prune, drain;
	struct agw_evidence_links *links; /* evidence.url_base, or NULL */
	void (*drained)(void *arg);       /* agw_evidence_drain: called once */
	void *drained_arg;
	int64_t drain_ms;
	int64_t file_bytes;
	bool prune_busy, closing;
	int handles, works;
	void (*closed)(void *arg);
	void *closed_arg;
};

/* The prune timer's callback: one round on the worker pool (evidence_prune.c). */
void evidence_prune_tick(uv_timer_t *t);

#endif
