/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "alarmgw/log.h"
#include "rtsp_probe.h"

/* 8K (7680x4320) and a little more: larger pictures are refused before any allocation. */
#define AGW_RTSP_MAX_PIXELS (8192 * 4352)

int64_t agw_rtsp_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t clock_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

/* Masks "scheme://user:password@" anywhere in a line of FFmpeg's log. */
static void mask_userinfo(char *s)
{
	char *p = s;
	while ((p = strstr(p, "://")) != NULL) {
		char *auth = p + 3;
		size_t span = strcspn(auth, "/@ \t?#");
		if (auth[span] == '@') {
			memmove(auth + 3, auth + span, strlen(auth + span) + 1);
			memcpy(auth, "***", 3);
		}
		p = auth;
	}
}

static void av_log_cb(void *avcl, int level, const char *fmt, va_list vl)
{
	if (level > AV_LOG_WARNING || agw_log_get_level() < AGW_LOG_DEBUG)
		return;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, vl);
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	mask_userinfo(line);
	agw_log_debug("rtsp", NULL, "libav: %s", line);
}

static pthread_once_t av_once = PTHREAD_ONCE_INIT;

static void av_setup_once(void)
{
	av_log_set_callback(av_log_cb);
	avformat_network_init();
}

void agw_rtsp_av_log_setup(void)
{
	pthread_once(&av_once, av_setup_once);
}

static int irq_cb(void *opaque)
{
	struct agw_rtsp_irq *irq = opaque;
	if ((irq->stop && atomic_load(irq->stop)) || (irq->cancel && atomic_load(irq->cancel))) {
		irq->fired_stop = true;
		return 1;
	}
	if (agw_rtsp_mono_ms() >= irq->deadline_ms) {
		irq->fired_deadline = true;
		return 1;
	}
	return 0;
}

/* The errno for an FFmpeg error, taking the interrupt's cause into account. */
static int av_errno(int averr, const struct agw_rtsp_irq *irq, char *reason, size_t len, const char *what)
{
	if (irq->fired_stop) {
		snprintf(reason, len, "%s: stopped", what);
		return -ECANCELED;
	}
	if (irq->fired_deadline || averr == AVERROR(ETIMEDOUT)) {
		snprintf(reason, len, "%s: timed out", what);
		return -ETIMEDOUT;
	}
	char msg[AV_ERROR_MAX_STRING_SIZE];
	av_strerror(averr, msg, sizeof(msg));
	snprintf(reason, len, "%s: %s", what, msg);
	if (averr == AVERROR_EOF)
		return -ENODATA;
	/* FFmpeg's own codes (FFERRTAG) are not errnos; report them as I/O errors. */
	return averr < 0 && averr > -4096 ? averr : -EIO;
}

int agw_rtsp_open(const char *url, const char *media_types, int64_t io_timeout_ms, struct agw_rtsp_irq *irq,
		  const struct agw_rtsp_tls *tls, struct AVFormatContext **ret_fmt, char *reason, size_t reason_len)
{
	agw_rtsp_av_log_setup();
	int64_t left = irq->deadline_ms - agw_rtsp_mono_ms();
	int t = agw_rtsp_tls_check(url, tls, left < io_timeout_ms ? left : io_timeout_ms, irq->stop, reason, reason_len);
	if (t < 0)
		return t;
	AVFormatContext *fmt = avformat_alloc_context();
	if (!fmt) {
		snprintf(reason, reason_len, "out of memory");
		return -ENOMEM;
	}
	fmt->interrupt_callback.callback = irq_cb;
	fmt->interrupt_callback.opaque = irq;
	AVDictionary *o = NULL;
	char num[32];
	av_dict_set(&o, "rtsp_transport", "tcp", 0);
	av_dict_set(&o, "allowed_media_types", media_types, 0);
	snprintf(num, sizeof(num), "%lld", (long long)io_timeout_ms * 1000);
	av_dict_set(&o, "timeout", num, 0); /* socket I/O inactivity, microseconds */
	av_dict_set(&o, "user_agent", "alarmgw", 0);
	if (tls) {
		/* Ignored by FFmpeg 5.1's RTSP demuxer (see rtsp_tls.h); honoured by one that passes them. */
		av_dict_set(&o, "tls_verify", tls->verify ? "1" : "0", 0);
		if (tls->ca_file && *tls->ca_file)
			av_dict_set(&o, "ca_file", tls->ca_file, 0);
	}
	const AVInputFormat *rtsp = av_find_input_format("rtsp");
	int r = avformat_open_input(&fmt, url, rtsp, &o); /* frees fmt on failure */
	av_dict_free(&o);
	if (r < 0)
		return av_errno(r, irq, reason, reason_len, "open");
	*ret_fmt = fmt;
	return 0;
}

void agw_rtsp_probe_clear(struct agw_rtsp_probe *p)
{
	if (!p)
		return;
	av_frame_free(&p->frame);
}

/* Decodes one packet into frame; drains the decoder when it holds the picture back. */
static int decode_one(AVCodecContext *dec, const AVPacket *pkt, AVFrame *frame)
{
	int r = avcodec_send_packet(dec, pkt);
	if (r < 0)
		return r;
	r = avcodec_receive_frame(dec, frame);
	if (r == AVERROR(EAGAIN)) {
		avcodec_send_packet(dec, NULL);
		r = avcodec_receive_frame(dec, frame);
		avcodec_flush_buffers(dec);
	}
	return r;
}

/* The first video track; every other track is discarded (a data track is noted: metadata). */
static int pick_video(AVFormatContext *fmt, struct agw_rtsp_probe *p)
{
	int vidx = -1;
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		enum AVMediaType type = fmt->streams[i]->codecpar->codec_type;
		if (type == AVMEDIA_TYPE_VIDEO && vidx < 0)
			vidx = (int)i;
		else if (type == AVMEDIA_TYPE_DATA)
			p->has_data_stream = true;
		if (type != AVMEDIA_TYPE_VIDEO)
			fmt->streams[i]->discard = AVDISCARD_ALL;
	}
	return vidx;
}

static int open_decoder(const AVCodecParameters *par, struct agw_rtsp_irq *irq, AVCodecContext **ret,
			struct agw_rtsp_probe *p)
{
	const AVCodec *codec = avcodec_find_decoder(par->codec_id);
	if (!codec) {
		snprintf(p->reason, sizeof(p->reason), "no decoder for %s", avcodec_get_name(par->codec_id));
		return -ENOTSUP;
	}
	AVCodecContext *dec = avcodec_alloc_context3(codec);
	if (!dec) {
		snprintf(p->reason, sizeof(p->reason), "out of memory");
		return -ENOMEM;
	}
	avcodec_parameters_to_context(dec, par);
	dec->thread_count = 1; /* the pool is the parallelism; frame threads would delay the picture */
	dec->max_pixels = AGW_RTSP_MAX_PIXELS; /* the picture size comes from the network */
	int r = avcodec_open2(dec, codec, NULL);
	if (r < 0) {
		avcodec_free_context(&dec);
		return av_errno(r, irq, p->reason, sizeof(p->reason), "decoder");
	}
	*ret = dec;
	return 0;
}

int agw_rtsp_probe_run(const char *url, const struct agw_rtsp_probe_opts *opts, struct agw_rtsp_probe *p)
{
	memset(p, 0, sizeof(*p));
	struct agw_rtsp_irq irq = {.stop = opts->stop, .cancel = opts->cancel, .deadline_ms = agw_rtsp_mono_ms() + opts->timeout_ms};
	AVFormatContext *fmt = NULL;
	AVCodecContext *dec = NULL;
	AVPacket *pkt = NULL;
	AVFrame *frame = NULL;
	int64_t t0 = mono_us();
	int r = agw_rtsp_open(url, opts->media_types ? opts->media_types : "video+data", opts->io_timeout_ms, &irq, opts->tls, &fmt,
			      p->reason, sizeof(p->reason));
	if (r < 0)
		return r;
	p->open_us = mono_us() - t0;
	int vidx = pick_video(fmt, p);
	if (vidx < 0) {
		snprintf(p->reason, sizeof(p->reason), "no video track");
		r = -ENODATA;
		goto out;
	}
	pkt = av_packet_alloc();
	frame = av_frame_alloc();
	if (!pkt || !frame) {
		snprintf(p->reason, sizeof(p->reason), "out of memory");
		r = -ENOMEM;
		goto out;
	}
	if ((r = open_decoder(fmt->streams[vidx]->codecpar, &irq, &dec, p)) < 0)
		goto out;
	int64_t t1 = mono_us();
	bool any_key = false;
	for (;;) {
		if (p->packets >= opts->max_packets) {
			snprintf(p->reason, sizeof(p->reason), "no keyframe in %d packets", p->packets);
			r = -ENODATA;
			goto out;
		}
		r = av_read_frame(fmt, pkt);
		if (r < 0) {
			r = av_errno(r, &irq, p->reason, sizeof(p->reason), "read");
			goto out;
		}
		p->packets++;
		bool key = pkt->flags & AV_PKT_FLAG_KEY;
		any_key |= key;
		/* Normally only the keyframe is decoded. If the demuxer never flags keyframes, decode
		 * everything after half the budget: the decoder outputs nothing before a keyframe. */
		if (pkt->stream_index == vidx && (key || (!any_key && p->packets > opts->max_packets / 2))) {
			int64_t t2 = mono_us(), c2 = clock_us(CLOCK_THREAD_CPUTIME_ID);
			int d = decode_one(dec, pkt, frame);
			if (d >= 0) {
				p->read_us = t2 - t1;
				p->decode_us = mono_us() - t2;
				p->decode_cpu_us = clock_us(CLOCK_THREAD_CPUTIME_ID) - c2;
				p->keyframe_bytes = pkt->size;
				p->frame = frame;
				frame = NULL;
				r = 0;
				goto out;
			}
		}
		av_packet_unref(pkt);
	}
out:
	av_packet_free(&pkt);
	av_frame_free(&frame);
	avcodec_free_context(&dec);
	avformat_close_input(&fmt);
	return r;
}

static bool plane0_is_luma(enum AVPixelFormat f)
{
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f);
	return d && !(d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM |
				  AV_PIX_FMT_FLAG_HWACCEL)) &&
	       d->nb_components >= 1 && d->comp[0].plane == 0 && d->comp[0].step == 1 && d->comp[0].depth == 8 &&
	       d->comp[0].shift == 0 && d->comp[0].offset == 0;
}

/* Converts with swscale into a new buffer of the given format (packed into one allocation). */
static int convert(const AVFrame *f, enum AVPixelFormat to, uint8_t *dst[4], int dst_stride[4], uint8_t **ret_buf)
{
	struct SwsContext *sws = sws_getContext(f->width, f->height, f->format, f->width, f->height, to, SWS_BILINEAR,
						NULL, NULL, NULL);
	if (!sws)
		return -ENOTSUP;
	int size = av_image_alloc(dst, dst_stride, f->width, f->height, to, 32);
	if (size < 0) {
		sws_freeContext(sws);
		return -ENOMEM;
	}
	sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dst_stride);
	sws_freeContext(sws);
	*ret_buf = dst[0];
	return 0;
}

int agw_rtsp_frame_luma(const struct AVFrame *frame, const uint8_t **ret_plane, int *ret_stride, uint8_t **ret_owned)
{
	if (frame->width <= 0 || frame->height <= 0)
		return -EINVAL;
	if (plane0_is_luma(frame->format)) {
		*ret_plane = frame->data[0];
		*ret_stride = frame->linesize[0];
		*ret_owned = NULL;
		return 0;
	}
	uint8_t *dst[4];
	int stride[4];
	uint8_t *buf;
	int r = convert(frame, AV_PIX_FMT_GRAY8, dst, stride, &buf);
	if (r < 0)
		return r;
	*ret_plane = dst[0];
	*ret_stride = stride[0];
	*ret_owned = buf; /* av_image_alloc memory: av_free() */
	return 0;
}

void agw_rtsp_frame_luma_free(uint8_t *owned)
{
	av_free(owned);
}

int agw_rtsp_jpeg_encode(const struct AVFrame *frame, int quality, uint8_t **ret_buf, size_t *ret_len)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	if (!codec)
		return -ENOTSUP;
	AVCodecContext *enc = avcodec_alloc_context3(codec);
	AVFrame *yuv = av_frame_alloc();
	AVPacket *pkt = av_packet_alloc();
	uint8_t *owned = NULL;
	int r = -ENOMEM;
	if (!enc || !yuv || !pkt)
		goto out;
	enc->width = frame->width;
	enc->height = frame->height;
	enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
	enc->time_base = (AVRational){1, 25};
	enc->flags |= AV_CODEC_FLAG_QSCALE;
	enc->global_quality = FF_QP2LAMBDA * quality;
	enc->thread_count = 1;
	r = avcodec_open2(enc, codec, NULL);
	if (r < 0) {
		r = -EIO;
		goto out;
	}
	yuv->width = frame->width;
	yuv->height = frame->height;
	yuv->format = AV_PIX_FMT_YUVJ420P;
	r = convert(frame, AV_PIX_FMT_YUVJ420P, yuv->data, yuv->linesize, &owned);
	if (r < 0)
		goto out;
	yuv->quality = enc->global_quality;
	yuv->pts = 0;
	r = avcodec_send_frame(enc, yuv);
	if (r >= 0)
		r = avcodec_receive_packet(enc, pkt);
	if (r < 0) {
		r = -EIO;
		goto out;
	}
	uint8_t *buf = malloc((size_t)pkt->size);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(buf, pkt->data, (size_t)pkt->size);
	*ret_buf = buf;
	*ret_len = (size_t)pkt->size;
	r = 0;
out:
	av_free(owned);
	av_packet_free(&pkt);
	av_frame_free(&yuv);
	avcodec_free_context(&enc);
	return r;
}
