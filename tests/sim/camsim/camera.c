/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A camera's lifecycle: listener up and down (reboot), its clock, its misbehaviour settings. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alarmgw/log.h"
#include "camsim.h"
#include "util.h"

int camsim_camera_init(struct camsim *sim, struct camsim_camera *cam, unsigned index)
{
	memset(cam, 0, sizeof(*cam));
	cam->sim = sim;
	cam->index = index;
	cam->port = sim->opt.common.base_port + (int)index;
	snprintf(cam->id, sizeof(cam->id), "cam-%05u", index + 1);
	cam->srv.loop = sim->loop;
	cam->srv.on_request = camsim_onvif_on_request;
	cam->srv.ctx = cam;
	cam->mb = sim->opt.mb;
	if (sim->opt.mixed_dialects)
		cam->mb.dialect = (uint8_t)(index % CAMSIM_DIALECT_COUNT);
	cam->active_kind = -1;
	cam->clock_offset = sim->opt.skew;
	if (sim->opt.clock_reset_year)
		camsim_camera_clock_reset(cam, sim->opt.clock_reset_year);
	/* Per camera stream so runs with the same seed emit the same sequence. */
	cam->rng = (sim->opt.common.seed ^ (0x9e3779b97f4a7c15ULL * (index + 1))) | 1;
	uv_timer_init(sim->loop, &cam->event_timer);
	uv_timer_init(sim->loop, &cam->reboot_timer);
	cam->event_timer.data = cam;
	cam->reboot_timer.data = cam;
	return 0;
}

int camsim_camera_start(struct camsim_camera *cam)
{
	int r = camsim_http_server_start(&cam->srv, cam->sim->opt.common.host, cam->port);
	if (r < 0)
		return r;
	cam->up = true;
	return 0;
}

void camsim_camera_close(struct camsim_camera *cam)
{
	camsim_http_server_stop(&cam->srv);
	camsim_sub_drop_all(cam, "shutdown");
	cam->up = false;
	uv_close((uv_handle_t *)&cam->event_timer, NULL);
	uv_close((uv_handle_t *)&cam->reboot_timer, NULL);
}

void camsim_camera_clock_reset(struct camsim_camera *cam, int year)
{
	struct tm tm = {.tm_year = year - 1900, .tm_mday = 1};
	cam->clock_offset = (double)timegm(&tm) - camsim_wall_now();
}

double camsim_camera_now(const struct camsim_camera *cam)
{
	return camsim_wall_now() + cam->clock_offset;
}

void camsim_camera_base_url(const struct camsim_camera *cam, bool advertised, char *buf, size_t len)
{
	const char *host = advertised && cam->mb.advertise_host[0] ? cam->mb.advertise_host : cam->sim->opt.common.host;
	if (strchr(host, ':'))
		snprintf(buf, len, "http://[%s]:%d", host, cam->port);
	else
		snprintf(buf, len, "http://%s:%d", host, cam->port);
}

static void on_boot(uv_timer_t *t)
{
	struct camsim_camera *cam = t->data;
	int r = camsim_camera_start(cam);
	if (r < 0) {
		/* The port may still be held by someone else: keep trying, a real camera would. */
		agw_log_warn("camsim", cam->id, "cannot listen again on port %d: %s", cam->port, uv_strerror(r));
		uv_timer_start(&cam->reboot_timer, on_boot, 500, 0);
		return;
	}
	if (cam->reset_year_after_boot)
		camsim_camera_clock_reset(cam, cam->reset_year_after_boot);
	cam->reset_year_after_boot = 0;
	agw_log_info("camsim", cam->id, "back up after reboot");
}

void camsim_camera_reboot(struct camsim_camera *cam, double seconds, int reset_year)
{
	if (cam->sim->stopping)
		return;
	/* Connections first, so waiting pulls see a reset rather than an answer. */
	camsim_http_server_stop(&cam->srv);
	camsim_sub_drop_all(cam, "reboot");
	cam->up = false;
	for (int k = 0; k < CAMSIM_KIND_COUNT; k++)
		cam->state[k] = false;
	cam->active_kind = -1;
	cam->reset_year_after_boot = reset_year;
	uint64_t ms = seconds > 0 ? (uint64_t)(seconds * 1000) : 0;
	uv_timer_start(&cam->reboot_timer, on_boot, ms, 0);
	agw_log_info("camsim", cam->id, "rebooting for %.1f s", seconds);
}
