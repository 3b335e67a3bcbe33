/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the daemon's files share: its state and the adapter/camera operations the start, stop and
 * reload sequences are made of. Private to gateway/daemon*.c. */
#ifndef ALARMGW_DAEMON_INTERNAL_H
#define ALARMGW_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "alarmgw/adapter.h"
#include "config.h"
#include "pipeline.h"
#include "store.h"

struct agw_daemon;
struct agw_cluster;

struct instance {
	const struct agw_adapter *adapter;
	void *priv;
	struct agw_adapter_ctx ctx;
	struct agw_daemon *d;
	bool initialized; /* init() succeeded and uninit() has not run: uninit exactly once */
	bool started;
	bool stopping;
	bool retiring; /* being replaced or removed by a reload: free it once stopped */
	bool refused;  /* an emit got -EAGAIN: resume() it when the pipeline has room */
};

struct agw_daemon {
	uv_loop_t loop;
	struct agw_config *cfg; /* heap: the decider keeps pointers into it */
	struct agw_store *store;
	struct agw_pipeline *pipeline;
	struct instance **instances;
	size_t n_instances;
	struct agw_camera *cameras;
	size_t n_cameras;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t watchdog, deadline, retention;
	uint64_t watchdog_interval_ms;
	int stops_pending;
	bool stopping;
	bool publisher_stop_begun; /* a stop reached the publisher (after the adapters, or their deadline) */
	bool finished;
	int exit_code;
	uint64_t refused_logged; /* uv_now of the last "holding adapters back" line */
	long long journaled; /* alerts written this run, kept when the pipeline is gone */
	/* wiring points: modules owned elsewhere */
	struct agw_http *http; /* metrics, health, status page; NULL when http_listen is unset */
	struct agw_decider *decider;
	struct agw_publisher *publisher;
	struct agw_evidence *evidence; /* NULL when evidence.enabled is false */
	struct agw_ledger_snaps *ledger_snaps; /* ledger snapshot_url captures, made at the first one */
	struct agw_cluster *cluster; /* NULL without cluster.etcd: every camera runs here */
	uv_timer_t cluster_wait;     /* a graceful stop leaves the cluster once the adapters stopped */
	struct agw_publisher *publisher_next; /* a reload's rebuilt publisher, waiting for the old one to stop */
	uint64_t fb_window_ms; /* feedback for unknown cases: log window start (uv_now) and count in it */
	int fb_unknown;
	int fb_refused; /* refused transitions logged in the same window */
	struct daemon_position *positions; /* daemon_locate.c */
	size_t n_positions;
};

/* daemon_locate.c: positions adapters report for ledger cameras without one (ctx->locate) */
int daemon_locate(struct agw_daemon *d, const char *camera_id, double lon, double lat, const char *crs);
/* After a reload built a new decider (and camera list): the remembered positions again. */
void daemon_locate_reapply(struct agw_daemon *d);
void daemon_locate_free(struct agw_daemon *d);

/* daemon_adapters.c: adapter instances and the cameras they serve */
/* in's camera_add, and the camera's first try recorded when the adapter reports subscriptions. */
int daemon_camera_add(struct instance *in, const struct agw_camera *c);
int daemon_instance_new(struct agw_daemon *d, const struct agw_config *cfg, const char *name, struct agw_errors *errs,
			struct instance **ret);
int daemon_instance_start(struct agw_daemon *d, struct instance *in);
void daemon_instance_stop(struct agw_daemon *d, struct instance *in);
void daemon_instance_free(struct instance *in);
/* Imports the configured ledger (if any), then reads the cameras from the store. */
int daemon_load_cameras(struct agw_daemon *d, const struct agw_config *cfg, struct agw_camera **ret, size_t *ret_n);
/* agw_room_fn: calls resume() of the instances whose emit was refused. */
void daemon_resume_refused(void *daemon);
/* Takes ownership of cams; touches only cameras added, removed or changed. */
void daemon_apply_cameras(struct agw_daemon *d, struct agw_camera *cams, size_t n);

/* daemon_cluster.c: cluster mode */
int daemon_cluster_start(struct agw_daemon *d);
/* True when this instance runs the camera (always, without a cluster). */
bool daemon_camera_owned(const struct agw_daemon *d, const struct agw_camera *c);
/* After a reload built a new decider: which cameras were taken over from another instance. */
void daemon_cluster_reapply(struct agw_daemon *d);
void daemon_cluster_stop(struct agw_daemon *d);
void daemon_cluster_free(struct agw_daemon *d);

/* daemon.c */
void daemon_maybe_finish_stop(struct agw_daemon *d);
/* During a stop: once no adapter instance runs, stops the publisher (which drains first). */
void daemon_adapters_stopped_check(struct agw_daemon *d);

/* daemon_evidence.c: the evidence scheduler's hooks into the adapter instances */
int daemon_evidence_start(struct agw_daemon *d);
/* After agw_evidence_close: the ledger snapshot captures' curl loop. */
void daemon_evidence_close(struct agw_daemon *d);
int daemon_evidence_picture(struct agw_adapter_ctx *ctx, const char *camera_id, const struct agw_picture *p);
void daemon_evidence_learned(struct agw_adapter_ctx *ctx, const char *camera_id, const char *url);
/* After a reload swapped d->cfg: the new [evidence] limits apply to the running scheduler. */
void daemon_evidence_reload(struct agw_daemon *d, const struct agw_config *old);

/* daemon_reload.c: SIGHUP */
void daemon_reload(struct agw_daemon *d);
/* daemon_feedback.c: the publisher's feedback callback; the summary of unlogged unknown cases. */
int daemon_case_feedback(void *d, const char *case_id, const char *status, const char *by, const char *note);
void daemon_case_feedback_done(void *d, bool committed);
void daemon_feedback_summary(struct agw_daemon *d);
/* daemon_decide.c: the pipeline's decide step (the current decider, then health messages). */
int daemon_decide(void *d, struct agw_store *store, int64_t alert_seq, const struct agw_alert *alert,
		  int64_t mono_ms);
/* agw_txn_fn for the current decider: its engine follows the batch's commit or rollback. */
int daemon_decide_txn(void *d, struct agw_store *store, enum agw_txn_phase phase);
/* The pipeline's committed hook: kicks whichever publisher is current (reload rebuilds it). */
void daemon_kick_publisher(void *d);

#endif
