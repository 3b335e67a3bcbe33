/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The events log (JSONL, for reconciling what the gateway received) and the camera ledger (CSV in the
 * gateway's import format). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alarmgw/log.h"
#include "camsim.h"

int camsim_evlog_open(struct camsim *sim, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	sim->events_log = f;
	return 0;
}

void camsim_evlog_queued(struct camsim *sim, const struct camsim_camera *cam, const struct camsim_event *ev)
{
	if (!sim->events_log)
		return;
	char ts[40], id[64];
	camsim_event_id(cam->id, ev->seq, id, sizeof(id));
	/* queued_ms: the real clock in ms when queued, for end-to-end latency (time is the camera's clock
	 * at one-second resolution). */
	fprintf(sim->events_log,
		"{\"camera\":\"%s\",\"topic\":\"%s\",\"time\":\"%s\",\"id\":\"%s\",\"queued_ms\":%.0f",
		cam->id, camsim_kinds[ev->kind].topic, camsim_time_format(ev->time, ts, sizeof(ts)), id,
		floor(camsim_wall_now() * 1000.0));
	if (ev->source) /* an NVR's video source */
		fprintf(sim->events_log, ",\"source\":%u", ev->source);
	fputs("}\n", sim->events_log);
	sim->events_log_dirty = true;
}

void camsim_evlog_dropped(struct camsim *sim, const struct camsim_camera *cam, uint64_t seq, const char *reason)
{
	if (!sim->events_log)
		return;
	char id[64];
	camsim_event_id(cam->id, seq, id, sizeof(id));
	fprintf(sim->events_log, "{\"id\":\"%s\",\"dropped\":\"%s\"}\n", id, reason);
	sim->events_log_dirty = true;
}

void camsim_evlog_sent(struct camsim *sim, const struct camsim_camera *cam, uint64_t seq, uint64_t answer,
		       enum camsim_answer shape, bool written)
{
	if (!sim->events_log)
		return;
	char id[64];
	camsim_event_id(cam->id, seq, id, sizeof(id));
	fprintf(sim->events_log, "{\"id\":\"%s\",\"sent\":\"%s\",\"answer\":%" PRIu64 ",\"written\":%s,\"sent_ms\":%.0f}\n",
		id, camsim_answer_names[shape], answer, written ? "true" : "false", floor(camsim_wall_now() * 1000.0));
	sim->events_log_dirty = true;
}

void camsim_evlog_flush(struct camsim *sim)
{
	if (sim->events_log && sim->events_log_dirty) {
		fflush(sim->events_log);
		sim->events_log_dirty = false;
	}
}

void camsim_evlog_close(struct camsim *sim)
{
	if (!sim->events_log)
		return;
	if (fclose(sim->events_log) != 0)
		agw_log_err("camsim", NULL, "writing the events log failed: %s", strerror(errno));
	sim->events_log = NULL;
}

/* A CSV field, quoted when it holds a separator, a quote or a line break. */
static void csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

int camsim_ledger_write(const struct camsim *sim, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n", f);
	/* A square grid about 2 km wide around lon 108.94 lat 34.26 (Xi'an), row by row. */
	unsigned side = (unsigned)ceil(sqrt((double)sim->ncams));
	double step = side > 1 ? 0.02 / (side - 1) : 0;
	for (unsigned i = 0; i < sim->ncams; i++) {
		const struct camsim_camera *cam = &sim->cams[i];
		char name[32], addr[160], base[128], lon[32], lat[32];
		snprintf(name, sizeof(name), "Simulated camera %u", i + 1);
		camsim_camera_base_url(cam, false, base, sizeof(base));
		snprintf(addr, sizeof(addr), "%s/onvif/device_service", base);
		snprintf(lon, sizeof(lon), "%.6f", 108.93 + (i % side) * step);
		snprintf(lat, sizeof(lat), "%.6f", 34.25 + (i / side) * step);
		csv_field(f, cam->id, false);
		csv_field(f, name, false);
		csv_field(f, "CamSim", false);
		csv_field(f, "onvif", false);
		csv_field(f, addr, false);
		csv_field(f, sim->opt.auth == CAMSIM_AUTH_NONE ? "" : sim->opt.common.user, false);
		csv_field(f, sim->opt.auth == CAMSIM_AUTH_NONE ? "" : sim->opt.common.password, false);
		csv_field(f, lon, false);
		csv_field(f, lat, false);
		csv_field(f, "wgs84", false);
		csv_field(f, "camsim", true);
	}
	if (fclose(f) != 0)
		return -EIO;
	return 0;
}
