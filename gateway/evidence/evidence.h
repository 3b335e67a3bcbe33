/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Evidence pictures of cases. When a decision opens or updates a case, the decider's transaction
 * also writes a pending `evidence` row (case_id, n); once that commits, the scheduler captures a
 * picture of the alert's camera: the picture the event brought (held for a short while, see
 * agw_adapter_ctx.picture), else the adapter's snapshot() (ONVIF GetSnapshotUri, Dahua snapshot
 * CGI). Every capture is bounded: at most max_concurrent at once, one per camera at a time, one
 * per camera per min_interval (floods), a queue of queue_max, max_bytes, a deadline. The picture
 * is checked (JPEG size from its frame header), hashed (SHA-256) and written to a file on the
 * libuv worker pool, then its row and its outbox row (topic evidence/<case>/<n>, the JPEG as
 * payload, MQTT 5 properties with the metadata) are written in one transaction, after the case
 * message that row follows. A capture that fails gives the row status "failed" and the reason.
 * Nothing here blocks the loop. Table and topics: docs/case-message.md "Evidence". */
#ifndef AGW_EVIDENCE_H
#define AGW_EVIDENCE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "alarmgw/adapter.h"
#include "config.h"
#include "store.h"

struct agw_evidence;

/* How the scheduler reaches the adapter of a camera (the daemon's instances). */
struct agw_evidence_hooks {
	/* Calls the snapshot() of the running adapter named `adapter`, setting s->core_target to
	 * that instance: its return; or takes the picture without an adapter (the ledger's
	 * snapshot_url), leaving s->core_target NULL; or -ENOTSUP when there is no way. */
	int (*start)(void *arg, const char *adapter, struct agw_snapshot *s);
	void (*cancel)(void *arg, const char *adapter, struct agw_snapshot *s);
	/* After a completion is committed: the publisher sends the new outbox row. */
	void (*committed)(void *arg);
	void *arg;
};

/* cfg is copied. Marks rows left pending by a previous run as failed ("gateway restarted"). */
int agw_evidence_new(uv_loop_t *loop, struct agw_store *store, const struct agw_config *cfg,
		     const struct agw_evidence_hooks *hooks, struct agw_evidence **ret);
/* A reload (SIGHUP): the limits, the topic template and the pruning of cfg apply from now on (the
 * signed links, evidence.url_base and the key, stay as they started, like the status server's key).
 * Nothing queued or running is dropped: a queue longer than the new queue_max drains, running
 * captures keep the deadline and size limit they started with, more slots start waiting
 * captures at once. evidence.enabled takes effect at the next start. Returns 0 or -ENOMEM
 * (the old settings stay). */
int agw_evidence_reconfigure(struct agw_evidence *ev, const struct agw_config *cfg);
/* A planned stop: the captures queued and running finish (their pictures are stored and their
 * outbox rows written, so the publisher's drain sends them) for at most max_ms; new ones still
 * start meanwhile. The daemon drains before the adapters stop (AGW_EVIDENCE_DRAIN_MS: the captures
 * under way at the signal), and again before the publisher's drain (AGW_EVIDENCE_DRAIN_LAST_MS: the
 * pictures of cases the adapters' last pulls opened). Returns 0 when nothing is under way (drained
 * is not called), 1 when drained(arg) will be called once, on the loop. */
#define AGW_EVIDENCE_DRAIN_MS 2000
#define AGW_EVIDENCE_DRAIN_LAST_MS 2000
int agw_evidence_drain(struct agw_evidence *ev, int64_t max_ms, void (*drained)(void *arg), void *arg);
/* Cancels what runs (rows stay pending: the next start marks them failed); closed(arg) runs once
 * its handles are closed and the worker jobs returned; then agw_evidence_free. */
void agw_evidence_close(struct agw_evidence *ev, void (*closed)(void *arg), void *arg);
void agw_evidence_free(struct agw_evidence *ev);

/* Inside the decider's transaction, for a decision that opened or updated a case from this
 * alert: writes the pending row (unless the case has max_per_case rows) and stages the capture.
 * Returns 0 or -EIO (the batch rolls back). */
int agw_evidence_stage(struct agw_evidence *ev, struct agw_store *store, const char *case_id, int64_t alert_seq,
		       const struct agw_alert *alert);
/* The batch's outcome: committed starts the staged captures, rolled back forgets them. */
void agw_evidence_txn(struct agw_evidence *ev, bool committed);

/* agw_adapter_ctx.picture: keeps the latest picture of the camera for hold_ms. */
int agw_evidence_offer(struct agw_evidence *ev, const char *camera_id, const struct agw_picture *p);
/* agw_adapter_ctx.snapshot_learned: keeps the camera's URL (NULL forgets it). 0 or -ENOMEM. */
int agw_evidence_learn(struct agw_evidence *ev, const char *camera_id, const char *url);
/* The URL learned for the camera, or NULL: valid until the next agw_evidence_learn of it. */
const char *agw_evidence_learned(struct agw_evidence *ev, const char *camera_id);
/* Before an adapter instance stops: cancels its running captures (they fail "adapter stopped"). */
void agw_evidence_adapter_stopping(struct agw_evidence *ev, const char *adapter);

#endif
