/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The blocking half of the RTSP adapter (runs on its worker pool, never on the loop): open an
 * RTSP session over TCP with an interrupt callback (a deadline and the pool's stop flag), read to
 * the first video keyframe and decode it. Also the luma plane and JPEG of a decoded frame. */
#ifndef AGW_RTSP_PROBE_H
#define AGW_RTSP_PROBE_H

#include "rtsp_tls.h"
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct AVFormatContext;
struct AVFrame;

/* What the interrupt callback watches. deadline_ms is on the monotonic clock (agw_rtsp_mono_ms);
 * the owner moves it forward (a metadata session does on every packet). */
struct agw_rtsp_irq {
	const atomic_bool *stop;   /* the pool's: the adapter stops */
	const atomic_bool *cancel; /* the job's: its camera was removed (may be NULL) */
	int64_t deadline_ms;
	bool fired_deadline; /* set when the deadline interrupted */
	bool fired_stop;
};

int64_t agw_rtsp_mono_ms(void);

/* Routes FFmpeg's log into agw_log (debug level, URLs' user:password masked). Once per process. */
void agw_rtsp_av_log_setup(void);

/* Opens url (which may carry credentials: it is never logged) with RTSP over TCP. media_types is
 * libavformat's allowed_media_types ("video+data", "data"). On failure writes a reason without
 * the URL and returns a negative errno: -ETIMEDOUT (deadline), -ECANCELED (stop), or the cause.
 * An rtsps:// url is opened only after agw_rtsp_tls_check passed (-EPERM: certificate refused). */
int agw_rtsp_open(const char *url, const char *media_types, int64_t io_timeout_ms, struct agw_rtsp_irq *irq,
		  const struct agw_rtsp_tls *tls, struct AVFormatContext **ret_fmt, char *reason, size_t reason_len);

struct agw_rtsp_probe_opts {
	int64_t timeout_ms;    /* the whole patrol: connect, describe, setup, play, keyframe, decode */
	int64_t io_timeout_ms; /* socket inactivity */
	int max_packets;       /* packets read before giving up on a keyframe */
	const atomic_bool *stop;
	const atomic_bool *cancel;
	const char *media_types; /* allowed_media_types; NULL = "video+data" */
	const struct agw_rtsp_tls *tls; /* rtsps:// certificate checks; NULL: none */
};

struct agw_rtsp_probe {
	struct AVFrame *frame;   /* the decoded keyframe (owned) */
	bool has_data_stream;    /* the session offers a data track (ONVIF metadata) */
	int64_t open_us, read_us, decode_us; /* time to PLAY, to the keyframe, to decode it */
	int64_t decode_cpu_us;   /* CPU time of the decode (this thread) */
	int keyframe_bytes;
	int packets;             /* packets read up to the keyframe */
	char reason[160];        /* why it failed, no URL */
};

/* Returns 0 with p->frame set, or a negative errno with p->reason set: -ENODATA when the session
 * has no video track or no keyframe came in max_packets. */
int agw_rtsp_probe_run(const char *url, const struct agw_rtsp_probe_opts *opts, struct agw_rtsp_probe *p);
void agw_rtsp_probe_clear(struct agw_rtsp_probe *p);

/* An 8-bit luma plane of frame: the frame's own plane 0 when it is one, otherwise a GRAY8 copy in
 * *ret_owned (agw_rtsp_frame_luma_free). Returns 0 or negative errno. */
int agw_rtsp_frame_luma(const struct AVFrame *frame, const uint8_t **ret_plane, int *ret_stride, uint8_t **ret_owned);
void agw_rtsp_frame_luma_free(uint8_t *owned); /* NULL is a no-op */

/* Encodes frame as a JPEG (full-range YUV 4:2:0 through swscale, FFmpeg's mjpeg encoder).
 * *ret_buf is malloc'd. Returns 0 or negative errno. */
int agw_rtsp_jpeg_encode(const struct AVFrame *frame, int quality, uint8_t **ret_buf, size_t *ret_len);

struct agw_rtsp_watch_opts {
	int64_t open_timeout_ms; /* to PLAY */
	int64_t io_timeout_ms;   /* socket inactivity */
	int64_t idle_timeout_ms; /* no metadata packet for this long ends the session */
	size_t max_doc;          /* largest document reassembled */
	const struct agw_rtsp_tls *tls; /* rtsps:// certificate checks; NULL: none */
	const atomic_bool *stop;
	const atomic_bool *cancel;
};

struct agw_rtsp_watch_stats {
	uint64_t packets, docs, dropped;
	char reason[160]; /* why the session ended, no URL */
};

/* A metadata session: sets up the session's data track(s) only and calls fn with each complete
 * document (see rtsp_meta.h) until stopped, cancelled, idle, or an error. Returns -ECANCELED when
 * stopped or cancelled, -ENODATA when the stream has no data track, otherwise the error that
 * ended it (-ETIMEDOUT when idle). */
int agw_rtsp_watch_run(const char *url, const struct agw_rtsp_watch_opts *opts,
		       int (*fn)(void *arg, const char *doc, size_t len), void *arg, struct agw_rtsp_watch_stats *stats);

#endif
