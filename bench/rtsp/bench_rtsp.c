/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench-rtsp: what one patrol costs the gateway at 1080p H.264, against alarmgw-rtspd on loopback.
 *
 *   bench-rtsp [--runs N] [--width W] [--height H] [--rtspd PATH]
 *
 * Starts alarmgw-rtspd (1080p by default), patrols /normal N times the way the adapter does
 * (connect over TCP, read to the first keyframe, decode it, measure the picture, disconnect), and
 * prints medians: wall time of a patrol, CPU time of the gateway process per patrol, decode time
 * per keyframe, measurement time, JPEG evidence encoding time; and from the CPU time the cameras
 * one core can patrol per minute. The server's CPU (it encodes a fresh 1080p stream for each
 * connection) is printed apart: a real camera pays that, not the gateway. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/frame.h>

#include "alarmgw/log.h"
#include "rtsp_diag.h"
#include "rtsp_probe.h"

#ifndef AGW_RTSPD_PATH
#define AGW_RTSPD_PATH "alarmgw-rtspd"
#endif

static double now_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* CPU seconds (user + system) of another process, from /proc. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long utime = 0, stime = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
		return 0;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static pid_t start_server(const char *rtspd, int w, int h, int *ret_port, FILE **ret_out)
{
	int out[2], in[2];
	if (pipe(out) < 0 || pipe(in) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char ws[16], hs[16];
		snprintf(ws, sizeof(ws), "%d", w);
		snprintf(hs, sizeof(hs), "%d", h);
		dup2(out[1], 1);
		dup2(in[0], 0);
		close(out[0]);
		close(in[1]);
		setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
		execl(rtspd, rtspd, "-p", "0", "-W", ws, "-H", hs, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(in[0]);
	/* in[1] stays open: the server quits when it closes (when we exit) */
	FILE *f = fdopen(out[0], "r");
	char line[128];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "READY port=%d", ret_port) == 1) {
			*ret_out = f;
			return pid;
		}
	kill(pid, SIGTERM);
	return -1;
}

int main(int argc, char **argv)
{
	int runs = 15, width = 1920, height = 1080;
	const char *rtspd = AGW_RTSPD_PATH;
	static const struct option opts[] = {
		{"runs", required_argument, NULL, 'n'},  {"width", required_argument, NULL, 'W'},
		{"height", required_argument, NULL, 'H'}, {"rtspd", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "n:W:H:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'n': runs = atoi(optarg); break;
		case 'W': width = atoi(optarg); break;
		case 'H': height = atoi(optarg); break;
		case 's': rtspd = optarg; break;
		default:
			fprintf(stderr, "usage: bench-rtsp [--runs N] [--width W] [--height H] [--rtspd PATH]\n");
			return 2;
		}
	}
	if (runs < 3 || runs > 10000)
		runs = 15;
	agw_log_set_level(AGW_LOG_WARNING);
	int port = 0;
	FILE *srv_out = NULL;
	pid_t srv = start_server(rtspd, width, height, &port, &srv_out);
	if (srv < 0) {
		fprintf(stderr, "bench-rtsp: cannot start %s\n", rtspd);
		return 1;
	}
	char url[128];
	snprintf(url, sizeof(url), "rtsp://127.0.0.1:%d/normal", port);
	atomic_bool stop;
	atomic_init(&stop, false);
	struct agw_rtsp_probe_opts po = {.timeout_ms = 20000, .io_timeout_ms = 10000, .max_packets = 5000, .stop = &stop};
	double *wall = calloc((size_t)runs, sizeof(double)), *cpu = calloc((size_t)runs, sizeof(double));
	double *dec = calloc((size_t)runs, sizeof(double)), *meas = calloc((size_t)runs, sizeof(double));
	double *jpg = calloc((size_t)runs, sizeof(double)), *srv_cpu = calloc((size_t)runs, sizeof(double));
	double *open = calloc((size_t)runs, sizeof(double)), *dec_cpu = calloc((size_t)runs, sizeof(double));
	double *kf = calloc((size_t)runs, sizeof(double));
	int ok = 0, fw = 0, fh = 0;
	/* one warm-up patrol: first-use costs (codec tables, DNS-free loopback connect) are not a patrol's */
	struct agw_rtsp_probe p;
	agw_rtsp_probe_run(url, &po, &p);
	agw_rtsp_probe_clear(&p);
	for (int i = 0; i < runs; i++) {
		double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID), s0 = proc_cpu_s(srv);
		int r = agw_rtsp_probe_run(url, &po, &p);
		if (r < 0) {
			fprintf(stderr, "bench-rtsp: patrol %d failed: %s\n", i, p.reason);
			agw_rtsp_probe_clear(&p);
			continue;
		}
		double m0 = now_s(CLOCK_MONOTONIC);
		const uint8_t *plane;
		int stride;
		uint8_t *owned = NULL;
		struct agw_rtsp_picture pic;
		int step = p.frame->width >= 640 ? p.frame->width / 320 : 1;
		if (agw_rtsp_frame_luma(p.frame, &plane, &stride, &owned) == 0)
			agw_rtsp_picture_measure(plane, stride, p.frame->width, p.frame->height, step, &pic);
		agw_rtsp_frame_luma_free(owned);
		double m1 = now_s(CLOCK_MONOTONIC);
		double c1 = now_s(CLOCK_PROCESS_CPUTIME_ID), w1 = now_s(CLOCK_MONOTONIC);
		uint8_t *jpeg = NULL;
		size_t len = 0;
		double j0 = now_s(CLOCK_MONOTONIC);
		agw_rtsp_jpeg_encode(p.frame, 5, &jpeg, &len);
		double j1 = now_s(CLOCK_MONOTONIC);
		free(jpeg);
		fw = p.frame->width;
		fh = p.frame->height;
		wall[ok] = (w1 - w0) * 1e3;
		cpu[ok] = (c1 - c0) * 1e3;
		dec[ok] = (double)p.decode_us / 1e3;
		dec_cpu[ok] = (double)p.decode_cpu_us / 1e3;
		kf[ok] = (double)p.keyframe_bytes;
		open[ok] = (double)p.open_us / 1e3;
		meas[ok] = (m1 - m0) * 1e3;
		jpg[ok] = (j1 - j0) * 1e3;
		srv_cpu[ok] = (proc_cpu_s(srv) - s0) * 1e3;
		ok++;
		agw_rtsp_probe_clear(&p);
	}
	kill(srv, SIGTERM);
	waitpid(srv, NULL, 0);
	if (srv_out)
		fclose(srv_out);
	if (ok < 3) {
		fprintf(stderr, "bench-rtsp: only %d patrols succeeded\n", ok);
		return 1;
	}
#if defined(__SANITIZE_ADDRESS__)
	printf("NOTE: built with AddressSanitizer: figures are pessimistic; use a build without AGW_SANITIZE\n");
#endif
	double cpu_med = median(cpu, ok);
	printf("bench-rtsp: %d patrols of %s-like stream %dx%d H.264 (alarmgw-rtspd, x264 ultrafast), medians:\n", ok,
	       "/normal", fw, fh);
	printf("  patrol wall time           %8.1f ms (connect..keyframe decoded and measured)\n", median(wall, ok));
	printf("    of which RTSP open       %8.1f ms (DESCRIBE/SETUP/PLAY)\n", median(open, ok));
	printf("  gateway CPU per patrol     %8.2f ms\n", cpu_med);
	printf("  decode per keyframe        %8.2f ms wall, %.2f ms CPU (keyframe %.0f bytes)\n", median(dec, ok),
	       median(dec_cpu, ok), median(kf, ok));
	printf("  picture measurement        %8.2f ms\n", median(meas, ok));
	printf("  JPEG evidence encoding     %8.2f ms (only on a transition)\n", median(jpg, ok));
	printf("  server CPU per patrol      %8.1f ms (the test server encoding; a camera's cost)\n", median(srv_cpu, ok));
	printf("  cameras patrolled per minute per core: %.0f (60 s / gateway CPU per patrol)\n", 60000.0 / cpu_med);
	free(wall);
	free(cpu);
	free(dec);
	free(meas);
	free(jpg);
	free(srv_cpu);
	free(open);
	free(dec_cpu);
	free(kf);
	return 0;
}
