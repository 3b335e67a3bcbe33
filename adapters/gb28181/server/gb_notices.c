/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device liveness notices, aggregated. A big estate registers its 10,000 devices at start-up, and a
 * network outage takes as many offline at once: a line per device then buries everything else in
 * the journal. The first NOTICES_NAMED changes of a window are logged by device; the rest are
 * counted and summed up in one line when the window ends (or the server stops). Metrics count
 * every change, named or not. */
#include <inttypes.h>

#include "alarmgw/log.h"
#include "alarmgw/metrics.h"
#include "gb_server_internal.h"

#define NOTICES_WINDOW_MS 10000
#define NOTICES_NAMED 10

static const char *const what[GB_NOTICE__COUNT] = {"online", "offline", "registration expired"};
static const char *const labels[GB_NOTICE__COUNT] = {"to=\"online\"", "to=\"offline\"", "to=\"expired\""};

/* The summary of the window that ended: one line, only when some change went unnamed. */
static void notices_summary(struct gb_notices *n)
{
	uint64_t *m = n->more;
	if (m[GB_NOTICE_ONLINE] || m[GB_NOTICE_OFFLINE] || m[GB_NOTICE_EXPIRED])
		agw_log_notice(COMPONENT, NULL,
			       "%" PRIu64 " more devices online, %" PRIu64 " more offline, %" PRIu64
			       " more registrations expired in %d s (the first %d named above; "
			       "agw_gb28181_device_changes_total counts each)",
			       m[GB_NOTICE_ONLINE], m[GB_NOTICE_OFFLINE], m[GB_NOTICE_EXPIRED], NOTICES_WINDOW_MS / 1000,
			       NOTICES_NAMED);
	*n = (struct gb_notices){0};
}

void gb_notice(struct agw_gb_server *s, const char *device, enum gb_notice_kind kind, int64_t now)
{
	struct gb_notices *n = &s->notices;
	agw_metric_add("agw_gb28181_device_changes_total", labels[kind], 1);
	if (n->named && now - n->window_start >= NOTICES_WINDOW_MS)
		notices_summary(n);
	if (!n->named)
		n->window_start = now;
	if (n->named < NOTICES_NAMED) {
		n->named++;
		agw_log_notice(COMPONENT, device, "device %s", what[kind]);
		return;
	}
	n->more[kind]++;
}

void gb_notices_sweep(struct agw_gb_server *s, int64_t now)
{
	if (s->notices.named && now - s->notices.window_start >= NOTICES_WINDOW_MS)
		notices_summary(&s->notices);
}

void gb_notices_flush(struct agw_gb_server *s)
{
	notices_summary(&s->notices);
}
