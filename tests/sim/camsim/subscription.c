/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PullPoint subscriptions: bounded event queues, long-polled PullMessages, expiry; and the event
 * generator that feeds them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/log.h"
#include "camsim.h"
#include "util.h"

#define INITIAL_QUEUE 16

static void sub_closed(uv_handle_t *h)
{
	struct camsim_sub *sub = h->data;
	free(sub->queue);
	free(sub);
}

static void waiter_closed(struct camsim_http_conn *c)
{
	struct camsim_sub *sub = c->waiter;
	sub->waiting = NULL;
	uv_timer_stop(&sub->timer);
}

static void stop_waiting(struct camsim_sub *sub)
{
	struct camsim_http_conn *c = sub->waiting;
	if (!c)
		return;
	c->waiter = NULL;
	c->on_close = NULL;
	sub->waiting = NULL;
	uv_timer_stop(&sub->timer);
}

void camsim_sub_address(const struct camsim_sub *sub, char *buf, size_t len)
{
	char base[128];
	camsim_camera_base_url(sub->cam, true, base, sizeof(base));
	snprintf(buf, len, "%s/onvif/subscription?Idx=%u", base, sub->idx);
}

/* Puts ev at the tail; a full queue loses its oldest entry (logged as dropped). */
static void enqueue(struct camsim_sub *sub, const struct camsim_event *ev)
{
	struct camsim_camera *cam = sub->cam;
	unsigned limit = cam->sim->opt.queue_limit;
	if (sub->qlen == sub->qcap && sub->qcap < limit) {
		unsigned cap = sub->qcap ? sub->qcap * 2 : INITIAL_QUEUE;
		if (cap > limit)
			cap = limit;
		struct camsim_event *q = malloc(cap * sizeof(*q));
		if (q) {
			for (unsigned i = 0; i < sub->qlen; i++)
				q[i] = sub->queue[(sub->qhead + i) % sub->qcap];
			free(sub->queue);
			sub->queue = q;
			sub->qcap = cap;
			sub->qhead = 0;
		}
	}
	if (sub->qcap == 0) { /* out of memory: the event is lost, and the log says so */
		if (!ev->initialized) {
			camsim_evlog_dropped(cam->sim, cam, ev->seq, "overflow");
			cam->dropped++;
		}
		return;
	}
	if (sub->qlen == sub->qcap) {
		struct camsim_event *old = &sub->queue[sub->qhead];
		if (!old->initialized) {
			camsim_evlog_dropped(cam->sim, cam, old->seq, "overflow");
			cam->dropped++;
		}
		agw_log_debug("camsim", cam->id, "subscription %u queue full, oldest event dropped", sub->idx);
		sub->qhead = (sub->qhead + 1) % sub->qcap;
		sub->qlen--;
	}
	sub->queue[(sub->qhead + sub->qlen) % sub->qcap] = *ev;
	sub->qlen++;
}

/* The events of one PullMessages answer, kept until the answer is written or given up. */
struct answer {
	struct camsim_camera *cam;
	uint64_t no;
	enum camsim_answer shape;
	unsigned n;
	uint64_t seq[];
};

static void answer_written(void *arg, int status)
{
	struct answer *a = arg;
	struct camsim_camera *cam = a->cam;
	bool ok = status == 0 && a->shape == CAMSIM_ANSWER_OK;
	for (unsigned i = 0; i < a->n; i++)
		camsim_evlog_sent(cam->sim, cam, a->seq[i], a->no, a->shape, status == 0);
	if (ok)
		cam->delivered += a->n;
	else
		cam->bad_answer_events += a->n;
	if (status < 0 && a->n)
		agw_log_debug("camsim", cam->id, "answer %llu with %u events not written: %s", (unsigned long long)a->no,
			      a->n, uv_strerror(status));
	free(a);
}

/* Answers a PullMessages with up to limit queued messages, held delay_ms. Like real firmware at its
 * worst, the events leave the queue as the answer is composed, whatever the answer becomes (a
 * fault, cut short, padded) and whether or not the client is still there to read it: the events
 * log says which events went out in which answer, so a test sees what the client could lose. */
static void answer_pull(struct camsim_sub *sub, struct camsim_http_conn *c, unsigned limit, const char *msgid,
			unsigned delay_ms)
{
	struct camsim_camera *cam = sub->cam;
	char addr[192];
	struct camsim_buf b = {0};
	int64_t now = (int64_t)camsim_camera_now(cam);
	camsim_sub_address(sub, addr, sizeof(addr));
	camsim_tpl_pull_begin(&b, msgid, now, (int64_t)(sub->termination + cam->clock_offset));
	unsigned n = sub->qlen < limit ? sub->qlen : limit;
	struct answer *a = malloc(sizeof(*a) + n * sizeof(a->seq[0]));
	if (!a) {
		camsim_buf_free(&b);
		camsim_http_respond_text(c, 500, "out of memory\n");
		return;
	}
	a->cam = cam;
	a->no = ++cam->sim->answers;
	a->n = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct camsim_event *ev = &sub->queue[sub->qhead];
		camsim_tpl_notification(&b, addr, cam->id, ev, &camsim_dialects[cam->mb.dialect]);
		if (!ev->initialized) /* the current state is not an event of the log */
			a->seq[a->n++] = ev->seq;
		sub->qhead = (sub->qhead + 1) % sub->qcap;
		sub->qlen--;
	}
	camsim_tpl_pull_end(&b);
	int status = 200;
	a->shape = camsim_onvif_shape(cam, &b, msgid, &status);
	/* The log must hold an event before any client can have seen it. */
	camsim_evlog_flush(cam->sim);
	camsim_onvif_send_tracked(cam, c, status, &b, delay_ms, answer_written, a);
}

static void wait_on(struct camsim_sub *sub, struct camsim_http_conn *c, unsigned limit, const char *msgid)
{
	sub->waiting = c;
	sub->wait_limit = limit;
	snprintf(sub->wait_msgid, sizeof(sub->wait_msgid), "%s", msgid);
	c->waiter = sub;
	c->on_close = waiter_closed;
}

/* Takes the waiting pull off the subscription and answers it now. */
static void answer_waiting(struct camsim_sub *sub)
{
	struct camsim_http_conn *c = sub->waiting;
	if (!c)
		return;
	char msgid[sizeof(sub->wait_msgid)];
	strcpy(msgid, sub->wait_msgid);
	unsigned limit = sub->wait_limit;
	stop_waiting(sub);
	answer_pull(sub, c, limit, msgid, sub->cam->mb.slow_ms);
}

static void on_pull_timer(uv_timer_t *t)
{
	answer_waiting(t->data);
}

/* A slow camera takes the events off the queue, then holds the answer: a client that gives up
 * meanwhile, or a reboot meanwhile, loses them (logged as sent in an answer never written). */
static void respond_pull(struct camsim_sub *sub, struct camsim_http_conn *c, unsigned limit, const char *msgid)
{
	answer_pull(sub, c, limit, msgid, sub->cam->mb.slow_ms);
}

void camsim_sub_pull(struct camsim_sub *sub, struct camsim_http_conn *c, double timeout, unsigned limit,
		     const char *msgid)
{
	/* A newer pull on the same subscription takes over; the older one gets what there is. */
	answer_waiting(sub);
	if (sub->qlen > 0 || timeout <= 0) {
		respond_pull(sub, c, limit, msgid);
		return;
	}
	wait_on(sub, c, limit, msgid);
	uv_timer_start(&sub->timer, on_pull_timer, (uint64_t)(timeout * 1000), 0);
}

struct camsim_sub *camsim_sub_create(struct camsim_camera *cam, double lifetime)
{
	struct camsim_sub *sub = calloc(1, sizeof(*sub));
	if (!sub)
		return NULL;
	sub->cam = cam;
	sub->idx = ++cam->next_sub_idx;
	sub->termination = camsim_wall_now() + lifetime;
	uv_timer_init(cam->sim->loop, &sub->timer);
	sub->timer.data = sub;
	sub->next = cam->subs;
	cam->subs = sub;
	cam->subscriptions++;
	/* Current state first, as cameras do right after subscribing: state, not new events. */
	int64_t now = (int64_t)camsim_camera_now(cam);
	unsigned n = cam->sim->opt.sources > 1 ? cam->sim->opt.sources : 0; /* an NVR: per source */
	for (unsigned s = n ? 1 : 0; s <= n; s++) {
		for (int k = 0; k < CAMSIM_KIND_COUNT; k++) {
			if (cam->sim->opt.mix[k] <= 0 || !camsim_kinds[k].state_item)
				continue;
			struct camsim_event ev = {.seq = ++cam->seq, .time = now, .kind = (uint8_t)k, .source = (uint16_t)s,
						  .active = cam->state[k] && cam->active_source == s, .initialized = true};
			enqueue(sub, &ev);
		}
	}
	return sub;
}

struct camsim_sub *camsim_sub_find(struct camsim_camera *cam, unsigned idx)
{
	for (struct camsim_sub *s = cam->subs; s; s = s->next)
		if (s->idx == idx)
			return s;
	return NULL;
}

unsigned camsim_sub_count(const struct camsim_camera *cam)
{
	unsigned n = 0;
	for (const struct camsim_sub *s = cam->subs; s; s = s->next)
		n++;
	return n;
}

/* A pull waiting on a subscription that vanished gets what a client would get asking now. */
static void answer_vanished(struct camsim_camera *cam, struct camsim_http_conn *c, const char *msgid)
{
	if (cam->mb.unknown_sub_404) {
		camsim_http_respond_text(c, 404, "subscription not found\n");
		return;
	}
	struct camsim_buf b = {0};
	camsim_tpl_fault(&b, msgid, "env:Sender", "wsrf-r:ResourceUnknownFault", "Subscription not found",
			 "<wsrf-r:ResourceUnknownFault><wsrf-bf:Description>Subscription not found"
			 "</wsrf-bf:Description></wsrf-r:ResourceUnknownFault>");
	camsim_onvif_send(cam, c, 400, &b, msgid, cam->mb.slow_ms);
}

void camsim_sub_drop(struct camsim_sub *sub, const char *reason)
{
	struct camsim_camera *cam = sub->cam;
	if (sub->dead)
		return;
	sub->dead = true;
	for (struct camsim_sub **pp = &cam->subs; *pp; pp = &(*pp)->next)
		if (*pp == sub) {
			*pp = sub->next;
			break;
		}
	for (unsigned i = 0; i < sub->qlen; i++) {
		const struct camsim_event *ev = &sub->queue[(sub->qhead + i) % sub->qcap];
		if (ev->initialized)
			continue;
		camsim_evlog_dropped(cam->sim, cam, ev->seq, reason);
		cam->dropped++;
	}
	sub->qlen = 0;
	struct camsim_http_conn *c = sub->waiting;
	if (c) {
		char msgid[sizeof(sub->wait_msgid)];
		strcpy(msgid, sub->wait_msgid);
		stop_waiting(sub);
		answer_vanished(cam, c, msgid);
	}
	agw_log_debug("camsim", cam->id, "subscription %u gone: %s", sub->idx, reason);
	uv_close((uv_handle_t *)&sub->timer, sub_closed);
}

void camsim_sub_drop_all(struct camsim_camera *cam, const char *reason)
{
	while (cam->subs)
		camsim_sub_drop(cam->subs, reason);
}

void camsim_subs_sweep(struct camsim *sim)
{
	double now = camsim_wall_now();
	for (unsigned i = 0; i < sim->ncams; i++) {
		struct camsim_sub *s = sim->cams[i].subs;
		while (s) {
			struct camsim_sub *next = s->next;
			if (now >= s->termination)
				camsim_sub_drop(s, "expired");
			s = next;
		}
	}
}

void camsim_camera_emit(struct camsim_camera *cam, int kind, bool active, unsigned source)
{
	if (camsim_kinds[kind].state_item)
		cam->state[kind] = active;
	int64_t now = (int64_t)floor(camsim_camera_now(cam));
	/* Answering a pull may run the next pipelined request, which may drop subscriptions: dropped
	 * ones stay readable until the loop turns, and are skipped. */
	for (struct camsim_sub *s = cam->subs; s; s = s->next) {
		if (s->dead)
			continue;
		struct camsim_event ev = {.seq = ++cam->seq, .time = now, .kind = (uint8_t)kind, .active = active,
					  .source = (uint16_t)source};
		cam->queued++;
		camsim_evlog_queued(cam->sim, cam, &ev);
		enqueue(s, &ev);
		if (s->waiting) {
			struct camsim_http_conn *c = s->waiting;
			char msgid[sizeof(s->wait_msgid)];
			strcpy(msgid, s->wait_msgid);
			unsigned limit = s->wait_limit;
			stop_waiting(s);
			respond_pull(s, c, limit, msgid);
		}
	}
}

static double rng_uniform(struct camsim_camera *cam)
{
	/* xorshift64*: enough for picking kinds and phases */
	uint64_t x = cam->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	cam->rng = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static int pick_kind(struct camsim_camera *cam)
{
	const double *mix = cam->sim->opt.mix;
	double sum = 0;
	for (int k = 0; k < CAMSIM_KIND_COUNT; k++)
		sum += mix[k];
	double r = rng_uniform(cam) * sum;
	for (int k = 0; k < CAMSIM_KIND_COUNT; k++) {
		if (r < mix[k])
			return k;
		r -= mix[k];
	}
	return 0;
}

/* Every tick is half an alarm: the active edge, then the inactive edge one tick later. */
static void on_event_tick(uv_timer_t *t)
{
	struct camsim_camera *cam = t->data;
	if (!cam->up)
		return;
	if (cam->active_kind >= 0) {
		if (cam->mb.no_inactive)
			cam->state[cam->active_kind] = false; /* ends without telling anyone */
		else
			camsim_camera_emit(cam, cam->active_kind, false, cam->active_source);
		cam->active_kind = -1;
		return;
	}
	if (cam->active_kind == -2) { /* the quiet half of an instantaneous event */
		cam->active_kind = -1;
		return;
	}
	int k = pick_kind(cam);
	unsigned n = cam->sim->opt.sources;
	cam->active_source = n > 1 ? 1 + (unsigned)(rng_uniform(cam) * n) % n : 0;
	camsim_camera_emit(cam, k, true, cam->active_source);
	cam->active_kind = camsim_kinds[k].state_item ? k : -2;
}

void camsim_camera_events_start(struct camsim_camera *cam)
{
	double rate = cam->sim->opt.common.rate;
	if (!(rate > 0))
		return;
	double period = 1000.0 / (2 * rate);
	uint64_t ms = period < 1 ? 1 : (uint64_t)period;
	uint64_t first = 1 + (uint64_t)(rng_uniform(cam) * (double)ms);
	uv_timer_start(&cam->event_timer, on_event_tick, first, ms);
}
