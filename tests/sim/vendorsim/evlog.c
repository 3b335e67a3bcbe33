/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The events log (JSONL: every edge, the fate of every part of it on every stream, the streams'
 * lives) and the gateway's ledger for the simulated devices. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alarmgw/log.h"
#include "vendorsim.h"

void vsim_event_id(const struct vsim_device *dev, uint64_t seq, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%" PRIu64, dev->id, seq);
}

int vsim_evlog_open(struct vsim *sim, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	sim->events_log = f;
	return 0;
}

void vsim_evlog_edge(struct vsim *sim, const struct vsim_device *dev, const struct vsim_edge *e)
{
	if (!sim->events_log)
		return;
	char id[48], ts[40];
	vsim_event_id(dev, e->seq, id, sizeof(id));
	const char *state = e->state == 1 ? "active" : e->state == 0 ? "inactive" : "pulse";
	fprintf(sim->events_log,
		"{\"device\":\"%s\",\"id\":\"%s\",\"type\":\"%s\",\"channel\":%u,\"state\":\"%s\",\"picture\":%s,"
		"\"time\":\"%s\",\"gen_ms\":%.0f}\n",
		dev->id, id, e->type->name, e->channel, state, e->picture ? "true" : "false",
		camsim_time_format((int64_t)e->time, ts, sizeof(ts)), floor(camsim_wall_now() * 1000.0));
	sim->events_log_dirty = true;
}

void vsim_evlog_part(struct vsim *sim, const struct vsim_device *dev, unsigned answer, uint64_t seq, unsigned post,
		     const char *fate, const char *reason)
{
	if (!sim->events_log)
		return;
	char id[48];
	vsim_event_id(dev, seq, id, sizeof(id));
	fprintf(sim->events_log, "{\"id\":\"%s\",\"answer\":%u,\"post\":%u,\"fate\":\"%s\"", id, answer, post, fate);
	if (reason)
		fprintf(sim->events_log, ",\"reason\":\"%s\"", reason);
	fputs("}\n", sim->events_log);
	sim->events_log_dirty = true;
}

void vsim_evlog_stream(struct vsim *sim, const struct vsim_device *dev, unsigned answer, const char *what,
		       const char *detail)
{
	if (!sim->events_log)
		return;
	fprintf(sim->events_log, "{\"device\":\"%s\",\"answer\":%u,\"stream\":\"%s\"", dev->id, answer, what);
	if (detail)
		fprintf(sim->events_log, ",\"detail\":\"%s\"", detail);
	fprintf(sim->events_log, ",\"at_ms\":%.0f}\n", floor(camsim_wall_now() * 1000.0));
	sim->events_log_dirty = true;
}

void vsim_evlog_flush(struct vsim *sim)
{
	if (sim->events_log && sim->events_log_dirty) {
		fflush(sim->events_log);
		sim->events_log_dirty = false;
	}
}

void vsim_evlog_close(struct vsim *sim)
{
	if (!sim->events_log)
		return;
	if (fclose(sim->events_log) != 0)
		agw_log_err("vendorsim", NULL, "writing the events log failed: %s", strerror(errno));
	sim->events_log = NULL;
}

int vsim_ledger_write(const struct vsim *sim, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	bool isapi = sim->opt.protocol == VSIM_ISAPI;
	bool creds = sim->opt.auth != VSIM_AUTH_NONE;
	fputs("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n", f);
	/* A square grid about 2 km wide from lon 108.93 lat 34.25 (Xi'an), row by row, as camsim. */
	unsigned side = (unsigned)ceil(sqrt((double)sim->ndevs));
	double step = side > 1 ? 0.02 / (side - 1) : 0;
	for (unsigned i = 0; i < sim->ndevs; i++) {
		const struct vsim_device *dev = &sim->devs[i];
		fprintf(f, "%s,Simulated %s %u,%s,%s,%s:%d,%s,%s,%.6f,%.6f,wgs84,vendorsim\n", dev->id,
			sim->opt.channels > 1 ? "NVR" : "camera", i + 1, isapi ? "Hikvision" : "Dahua",
			isapi ? "isapi" : "dahua", sim->opt.common.host, dev->port, creds ? sim->opt.common.user : "",
			creds ? sim->opt.common.password : "", 108.93 + (i % side) * step, 34.25 + (i / side) * step);
	}
	if (fclose(f) != 0)
		return -EIO;
	return 0;
}
