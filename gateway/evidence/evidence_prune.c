/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pruning of the picture files by age, bytes and free space (evidence.h): the rows are marked in
 * one transaction on the loop, the files deleted on the worker pool. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "alarmgw/alert.h"
#include "alarmgw/metrics.h"
#include "evidence_internal.h"
#include "evidence_sched.h"

struct prune_job {
	uv_work_t work;
	struct agw_evidence *ev;
	struct evidence_prune_row *rows;
	size_t n;
	int64_t freed;
};

static void prune_run(uv_work_t *w)
{
	struct prune_job *p = w->data;
	char full[1100];
	for (size_t i = 0; i < p->n; i++) {
		snprintf(full, sizeof(full), "%s/%s", p->ev->state_dir, p->rows[i].path);
		if (unlink(full) == 0 || errno == ENOENT)
			p->freed += p->rows[i].bytes;
	}
}

static void prune_after(uv_work_t *w, int status)
{
	(void)status;
	struct prune_job *p = w->data;
	struct agw_evidence *ev = p->ev;
	ev->works--;
	ev->prune_busy = false;
	agw_metric_add("agw_evidence_pruned_total", NULL, (int64_t)p->n);
	for (size_t i = 0; i < p->n; i++)
		free(p->rows[i].path);
	free(p->rows);
	free(p);
	agw_metric_set("agw_evidence_file_bytes", NULL, ev->file_bytes);
	if (ev->closing && ev->works == 0 && ev->handles == 0 && ev->closed)
		ev->closed(ev->closed_arg);
}

void evidence_prune_tick(uv_timer_t *t)
{
	struct agw_evidence *ev = t->data;
	if (ev->prune_busy || ev->closing)
		return;
	int64_t keep = ev->cfg.max_total_bytes > 0 ? ev->cfg.max_total_bytes : -1;
	struct statvfs vfs;
	if (statvfs(ev->state_dir, &vfs) == 0) {
		/* short of free space: give back what the pictures hold beyond the shortfall */
		int64_t avail = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
		if (avail < ev->cfg.min_free_bytes) {
			int64_t want = ev->file_bytes - (ev->cfg.min_free_bytes - avail);
			keep = keep < 0 || want < keep ? (want > 0 ? want : 0) : keep;
		}
	}
	int64_t older = ev->cfg.max_age_ms > 0 ? agw_now_ms() - ev->cfg.max_age_ms : INT64_MIN;
	struct prune_job *p = calloc(1, sizeof(*p));
	if (!p)
		return;
	p->ev = ev;
	if (evidence_db_prune(ev->store, older, ev->file_bytes, keep, 1000, &p->rows, &p->n) < 0 || p->n == 0) {
		free(p->rows);
		free(p);
		return;
	}
	for (size_t i = 0; i < p->n; i++)
		ev->file_bytes -= p->rows[i].bytes;
	p->work.data = p;
	ev->prune_busy = true;
	ev->works++;
	if (uv_queue_work(ev->loop, &p->work, prune_run, prune_after) < 0) {
		ev->works--;
		ev->prune_busy = false;
		for (size_t i = 0; i < p->n; i++)
			free(p->rows[i].path);
		free(p->rows);
		free(p);
		return;
	}
	/* more to do: come back soon rather than after a whole interval */
	if (p->n == 1000)
		uv_timer_start(&ev->prune, evidence_prune_tick, 100, (uint64_t)ev->cfg.prune_interval_ms);
}
