/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reassembles the ONVIF metadata track (RTP application/vnd.onvif.metadata) into XML documents.
 * A camera splits one tt:MetadataStream document over several RTP packets that share one RTP
 * timestamp, the marker bit on the last. libavformat hands each packet over as one AVPacket of a
 * data stream without the marker bit, so a document ends where its closing MetadataStream tag is
 * (any prefix), and a change of timestamp with an unfinished document means packets were lost:
 * that document is dropped. Documents are bounded by max_doc bytes; an oversized one is dropped
 * up to the next timestamp or the next document start. Pure code, unit-tested. */
#ifndef AGW_RTSP_META_H
#define AGW_RTSP_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGW_RTSP_META_NO_PTS INT64_MIN

struct agw_rtsp_meta {
	char *buf;
	size_t len, cap, max_doc;
	size_t scanned;    /* bytes of buf already searched for the closing tag */
	int64_t pts;       /* timestamp of the packets in buf */
	bool skipping;     /* an oversized document is being skipped */
	uint64_t docs;     /* complete documents handed out */
	uint64_t dropped;  /* incomplete or oversized documents dropped */
};

/* Called for each complete document: doc is NUL-terminated, len excludes the NUL. A negative
 * return stops the push and is returned by it. */
typedef int (*agw_rtsp_meta_doc_fn)(void *arg, const char *doc, size_t len);

void agw_rtsp_meta_init(struct agw_rtsp_meta *m, size_t max_doc);
void agw_rtsp_meta_free(struct agw_rtsp_meta *m);
/* Feeds one packet's payload with its timestamp (AGW_RTSP_META_NO_PTS when unknown). Returns the
 * number of documents completed, -ENOMEM, or fn's negative return. */
int agw_rtsp_meta_push(struct agw_rtsp_meta *m, const void *data, size_t len, int64_t pts, agw_rtsp_meta_doc_fn fn,
		       void *arg);

#endif
