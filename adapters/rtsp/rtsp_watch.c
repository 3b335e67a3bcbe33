/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The metadata session (blocking, on the worker pool): RTSP with only the data track set up,
 * packets reassembled into tt:MetadataStream documents. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libavformat/avformat.h>

#include "rtsp_meta.h"
#include "rtsp_probe.h"

int agw_rtsp_watch_run(const char *url, const struct agw_rtsp_watch_opts *opts,
		       int (*fn)(void *arg, const char *doc, size_t len), void *arg, struct agw_rtsp_watch_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	struct agw_rtsp_irq irq = {
		.stop = opts->stop, .cancel = opts->cancel, .deadline_ms = agw_rtsp_mono_ms() + opts->open_timeout_ms};
	AVFormatContext *fmt = NULL;
	int r = agw_rtsp_open(url, "data", opts->io_timeout_ms, &irq, opts->tls, &fmt, stats->reason, sizeof(stats->reason));
	if (r < 0)
		return r;
	struct agw_rtsp_meta meta;
	agw_rtsp_meta_init(&meta, opts->max_doc);
	AVPacket *pkt = av_packet_alloc();
	int didx = -1;
	for (unsigned i = 0; i < fmt->nb_streams; i++)
		if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_DATA && didx < 0)
			didx = (int)i;
		else
			fmt->streams[i]->discard = AVDISCARD_ALL;
	if (didx < 0) {
		snprintf(stats->reason, sizeof(stats->reason), "no metadata track");
		r = -ENODATA;
		goto out;
	}
	if (!pkt) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		irq.deadline_ms = agw_rtsp_mono_ms() + opts->idle_timeout_ms;
		r = av_read_frame(fmt, pkt);
		if (r < 0) {
			if (irq.fired_stop) {
				snprintf(stats->reason, sizeof(stats->reason), "stopped");
				r = -ECANCELED;
			} else if (irq.fired_deadline) {
				snprintf(stats->reason, sizeof(stats->reason), "no metadata for %lld ms",
					 (long long)opts->idle_timeout_ms);
				r = -ETIMEDOUT;
			} else {
				char msg[AV_ERROR_MAX_STRING_SIZE];
				av_strerror(r, msg, sizeof(msg));
				snprintf(stats->reason, sizeof(stats->reason), "read: %s", msg);
				r = r == AVERROR_EOF ? -ENODATA : -EIO;
			}
			goto out;
		}
		if (pkt->stream_index == didx) {
			stats->packets++;
			int64_t pts = pkt->pts == AV_NOPTS_VALUE ? AGW_RTSP_META_NO_PTS : pkt->pts;
			int d = agw_rtsp_meta_push(&meta, pkt->data, (size_t)pkt->size, pts, fn, arg);
			if (d < 0) {
				snprintf(stats->reason, sizeof(stats->reason), "document handler: %s", strerror(-d));
				av_packet_unref(pkt);
				r = d;
				goto out;
			}
		}
		av_packet_unref(pkt);
	}
out:
	stats->docs = meta.docs;
	stats->dropped = meta.dropped;
	agw_rtsp_meta_free(&meta);
	av_packet_free(&pkt);
	avformat_close_input(&fmt);
	return r;
}
