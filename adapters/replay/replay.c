/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The replay adapter: feeds alerts from a JSONL file (one alert per line, the JSON form of
 * agw_alert_to_json). For demos, tests, and re-running a recorded incident through new rules.
 * A bad line is logged with its line number, counted, and skipped; it stops nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/adapter.h"
#include "alarmgw/log.h"
#include "alarmgw/metrics.h"

#define REPLAY_MAX_LINE (1024 * 1024)
#define REPLAY_BURST 1000 /* alerts per timer turn at full speed: keeps the loop responsive */

struct replay {
	char *file;
	double rate;      /* alerts per second; 0 = as fast as the core takes them */
	bool loop;        /* start again at the end */
	struct agw_adapter_ctx *ctx;
	FILE *f;
	char *line;
	size_t line_cap;
	long line_no;
	bool have_pending; /* an alert the core refused (back-pressure), to emit first */
	bool held;         /* refused: waiting for replay_resume */
	struct agw_alert pending;
	uv_timer_t timer;
	int64_t sent, bad;
	bool stopping;
};

#define OPT(field) offsetof(struct replay, field)
static const struct agw_option replay_options[] = {
	{"file", AGW_OPT_PATH, OPT(file), NULL, 0, 0, true, "JSONL file of alerts"},
	{"rate", AGW_OPT_DOUBLE, OPT(rate), "0", 0, 1e7, false, "alerts per second (0: as fast as possible)"},
	{"loop", AGW_OPT_BOOL, OPT(loop), "false", 0, 0, false, "start again at the end of the file"},
	{NULL, 0, 0, NULL, 0, 0, false, NULL},
};
#undef OPT

static int replay_init(void *priv, struct agw_adapter_ctx *ctx)
{
	struct replay *r = priv;
	r->ctx = ctx;
	agw_alert_init(&r->pending);
	r->f = fopen(r->file, "r");
	if (!r->f) {
		int e = errno;
		agw_log_err("replay", NULL, "cannot open %s: %s", r->file, strerror(e));
		return -e;
	}
	uv_timer_init(ctx->loop, &r->timer);
	r->timer.data = r;
	return 0;
}

/* Reads the next valid alert into r->pending. Returns 1, 0 at the end of the file. */
static int next_alert(struct replay *r)
{
	for (;;) {
		ssize_t n = getline(&r->line, &r->line_cap, r->f);
		if (n < 0) {
			if (!r->loop)
				return 0;
			rewind(r->f);
			r->line_no = 0;
			n = getline(&r->line, &r->line_cap, r->f);
			if (n < 0)
				return 0; /* empty file */
		}
		r->line_no++;
		while (n > 0 && (r->line[n - 1] == '\n' || r->line[n - 1] == '\r'))
			r->line[--n] = '\0';
		if (n == 0 || r->line[0] == '#')
			continue;
		char err[256];
		if (n > REPLAY_MAX_LINE) {
			snprintf(err, sizeof(err), "line longer than %d bytes", REPLAY_MAX_LINE);
		} else if (agw_alert_from_json(r->line, (size_t)n, &r->pending, err, sizeof(err)) == 0) {
			if (!r->pending.adapter)
				r->pending.adapter = strdup("replay");
			return 1;
		}
		r->bad++;
		agw_metric_add("agw_parse_errors_total", "adapter=\"replay\"", 1);
		agw_log_warn("replay", NULL, "%s:%ld: %s; line skipped", r->file, r->line_no, err);
	}
}

static void on_timer(uv_timer_t *t)
{
	struct replay *r = t->data;
	int burst = r->rate > 0 ? 1 : REPLAY_BURST;
	for (int i = 0; i < burst && !r->stopping; i++) {
		if (!r->have_pending) {
			if (next_alert(r) <= 0) {
				agw_log_notice("replay", NULL, "%s: end of file, %lld alerts sent, %lld bad lines", r->file,
					       (long long)r->sent, (long long)r->bad);
				uv_timer_stop(&r->timer);
				return;
			}
			r->have_pending = true;
		}
		r->pending.gateway_time_ms = agw_now_ms();
		int e = r->ctx->emit(r->ctx, &r->pending);
		if (e == -EAGAIN) {
			/* Back-pressure: keep this alert; the core calls replay_resume when it has room. */
			r->held = true;
			return;
		}
		if (e < 0) {
			agw_log_warn("replay", NULL, "%s:%ld: alert not taken: %s", r->file, r->line_no, strerror(-e));
			if (e == -ESHUTDOWN)
				return;
		}
		agw_alert_clear(&r->pending);
		r->have_pending = false;
		r->sent += e == 0;
	}
	uint64_t delay = r->rate > 0 ? (uint64_t)(1000.0 / r->rate) : 0;
	uv_timer_start(&r->timer, on_timer, delay, 0);
}

static void replay_resume(void *priv)
{
	struct replay *r = priv;
	if (!r->held || r->stopping)
		return;
	r->held = false;
	uv_timer_start(&r->timer, on_timer, 0, 0);
}

static int replay_start(void *priv)
{
	struct replay *r = priv;
	agw_log_info("replay", NULL, "replaying %s at %s", r->file, r->rate > 0 ? "the configured rate" : "full speed");
	uv_timer_start(&r->timer, on_timer, 0, 0);
	return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct replay *r = h->data;
	r->ctx->stopped(r->ctx);
}

static void replay_stop(void *priv)
{
	struct replay *r = priv;
	r->stopping = true;
	if (r->f)
		uv_close((uv_handle_t *)&r->timer, on_timer_closed);
	else
		r->ctx->stopped(r->ctx);
}

static void replay_uninit(void *priv)
{
	struct replay *r = priv;
	if (r->f)
		fclose(r->f);
	free(r->line);
	agw_alert_clear(&r->pending);
}

const struct agw_adapter agw_adapter_replay = {
	.name = "replay",
	.description = "alerts from a JSONL file (demos, tests, recorded incidents)",
	.protocol = NULL,
	.priv_size = sizeof(struct replay),
	.options = replay_options,
	.init = replay_init,
	.start = replay_start,
	.stop = replay_stop,
	.uninit = replay_uninit,
	.resume = replay_resume,
};
