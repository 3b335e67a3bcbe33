/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pictures of cameras whose adapter has none (GB/T 28181 devices, for one): a GET of the ledger
 * row's snapshot_url with Digest (snapshot_username and snapshot_password, else the row's
 * credentials), on a curl multi of its own driven by the loop, within the capture's deadline and
 * size limit. The daemon's evidence hook falls back to it (daemon_evidence.c). */
#ifndef AGW_EVIDENCE_LEDGER_H
#define AGW_EVIDENCE_LEDGER_H

#include <uv.h>

#include "alarmgw/adapter.h"

struct agw_ledger_snaps;

int agw_ledger_snaps_new(uv_loop_t *loop, struct agw_ledger_snaps **ret);
/* Starts the capture s: a GET of url (the ledger's snapshot_url, or one the adapter learned) with
 * Digest as user (NULL: none): 0 (s->done is called later, on the loop) or a negative errno. The
 * strings are copied: a reload may free the camera meanwhile. */
int agw_ledger_snaps_start(struct agw_ledger_snaps *l, const char *url, const char *user, const char *pass,
			   struct agw_snapshot *s);
/* Aborts a capture started here (done is not called). */
void agw_ledger_snaps_cancel(struct agw_ledger_snaps *l, struct agw_snapshot *s);
/* Cancels what runs and closes the curl loop; frees l once its handles are closed. */
void agw_ledger_snaps_close(struct agw_ledger_snaps *l);

#endif
