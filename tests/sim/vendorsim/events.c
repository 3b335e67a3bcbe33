/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Event generation. Events arrive at random (exponential gaps at the device's rate) on a random
 * channel and type. A stateful type starts a run: the active edge, re-posted every second on ISAPI
 * with a growing activePostCount (the same id: it is the same event), then the inactive edge (its
 * own id) after run_seconds, or nothing when the device does not send inactives. A pulse (Dahua
 * action=Pulse) is one edge. Every edge is written to every live stream at once: a device keeps no
 * queue for a stream that is not there. */
#include <errno.h>
#include <math.h>

#include "vendorsim.h"

static double uniform(struct vsim_device *dev)
{
	return (double)(vsim_rand(dev) >> 11) * (1.0 / 9007199254740992.0);
}

static void emit(struct vsim_device *dev, const struct vsim_edge *e)
{
	if (e->post <= 1) {
		dev->edges++;
		vsim_evlog_edge(dev->sim, dev, e);
	}
	vsim_stream_edge(dev, e);
}

static void run_end(struct vsim_device *dev, struct vsim_run *r, double now)
{
	size_t n;
	const struct vsim_type *types = vsim_types(dev->sim->opt.protocol, &n);
	r->live = false;
	/* The same type and channel starts again only after a quiet time: a gateway coalesces repeats
	 * by type and channel, and a new event too close to one that ended silently, or whose inactive
	 * was lost with a stream, would be taken for a repeat. Tests reconcile exactly; real devices
	 * do not wait like this. */
	r->quiet_until = now + dev->sim->opt.quiet;
	if (dev->mb.no_inactive)
		return;
	struct vsim_edge e = {.type = &types[r->type], .channel = r->channel, .seq = ++dev->seq, .post = 1,
			      .state = 0, .time = now};
	emit(dev, &e);
}

static struct vsim_run *run_find(struct vsim_device *dev, int type, unsigned channel, double now, bool *ret_quiet)
{
	*ret_quiet = false;
	for (int i = 0; i < VSIM_MAX_RUNS; i++) {
		struct vsim_run *r = &dev->runs[i];
		if (r->type != type || r->channel != channel)
			continue;
		if (r->live)
			return r;
		if (r->quiet_until > now)
			*ret_quiet = true;
	}
	return NULL;
}

int vsim_events_emit(struct vsim_device *dev, int type, unsigned channel, int state)
{
	size_t n;
	const struct vsim_type *types = vsim_types(dev->sim->opt.protocol, &n);
	double now = camsim_wall_now();
	if (type < 0 || (size_t)type >= n || channel < 1 || channel > dev->sim->opt.channels)
		return -EINVAL;
	const struct vsim_type *t = &types[type];
	if (!t->stateful) {
		if (state == 0)
			return -EINVAL;
		struct vsim_edge e = {.type = t, .channel = channel, .seq = ++dev->seq, .post = 1, .state = -1, .time = now};
		emit(dev, &e);
		return 0;
	}
	bool quiet;
	struct vsim_run *r = run_find(dev, type, channel, now, &quiet);
	if (state == 0) {
		if (!r)
			return -EBUSY;
		run_end(dev, r, now);
		return 0;
	}
	if (r || quiet)
		return -EBUSY;
	for (int i = 0; i < VSIM_MAX_RUNS; i++) {
		r = &dev->runs[i];
		if (r->live || r->quiet_until > now)
			continue;
		bool isapi = dev->sim->opt.protocol == VSIM_ISAPI;
		*r = (struct vsim_run){.live = true, .type = type, .channel = channel, .seq = ++dev->seq, .posts = 1,
				       .start = now, .end = now + dev->sim->opt.run_seconds};
		r->picture = isapi && t->smart && uniform(dev) < dev->sim->opt.pictures;
		struct vsim_edge e = {.type = t, .channel = channel, .seq = r->seq, .post = 1, .state = 1, .time = now,
				      .picture = r->picture};
		emit(dev, &e);
		return 0;
	}
	return -ENOSPC;
}

/* Once a second: repeats of the live runs (ISAPI), and the runs that are over. */
static void on_tick(uv_timer_t *t)
{
	struct vsim_device *dev = t->data;
	size_t n;
	const struct vsim_type *types = vsim_types(dev->sim->opt.protocol, &n);
	double now = camsim_wall_now();
	for (int i = 0; i < VSIM_MAX_RUNS; i++) {
		struct vsim_run *r = &dev->runs[i];
		if (!r->live)
			continue;
		if (now >= r->end) {
			run_end(dev, r, now);
			continue;
		}
		if (dev->sim->opt.protocol != VSIM_ISAPI)
			continue;
		struct vsim_edge e = {.type = &types[r->type], .channel = r->channel, .seq = r->seq, .post = ++r->posts,
				      .state = 1, .time = now};
		emit(dev, &e);
	}
}

static void schedule(struct vsim_device *dev);

static void on_event(uv_timer_t *t)
{
	struct vsim_device *dev = t->data;
	size_t n;
	const struct vsim_type *types = vsim_types(dev->sim->opt.protocol, &n);
	unsigned total = 0;
	for (size_t i = 0; i < n; i++)
		total += types[i].weight;
	unsigned pick = (unsigned)(vsim_rand(dev) % total);
	int type = 0;
	while (pick >= types[type].weight) {
		pick -= types[type].weight;
		type++;
	}
	unsigned channel = 1 + (unsigned)(vsim_rand(dev) % dev->sim->opt.channels);
	/* busy (that run is live or quiet) or no room: this event simply does not happen */
	(void)vsim_events_emit(dev, type, channel, 1);
	schedule(dev);
}

static void schedule(struct vsim_device *dev)
{
	if (dev->rate <= 0) {
		uv_timer_stop(&dev->event_timer);
		return;
	}
	double gap = -log(1.0 - uniform(dev)) / dev->rate;
	uv_timer_start(&dev->event_timer, on_event, (uint64_t)(gap * 1000) + 1, 0);
}

void vsim_events_set_rate(struct vsim_device *dev, double rate)
{
	dev->rate = rate;
	schedule(dev);
}

void vsim_events_start(struct vsim_device *dev)
{
	/* ticks of different devices spread over the second */
	uv_timer_start(&dev->tick_timer, on_tick, 1 + vsim_rand(dev) % 1000, 1000);
	schedule(dev);
}
