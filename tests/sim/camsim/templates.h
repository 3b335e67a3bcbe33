/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SOAP 1.2 answers of a simulated camera, written as text. relates_to is the request's wsa:MessageID
 * (echoed as wsa:RelatesTo) or "" ; times are camera-clock seconds. */
#ifndef CAMSIM_TEMPLATES_H
#define CAMSIM_TEMPLATES_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

#define CAMSIM_MAX_SOURCES 64

struct camsim_event {
	uint64_t seq;
	uint16_t source; /* the NVR video source it happened on (1-based); 0: a camera's only one */
	int64_t time; /* camera clock */
	uint8_t kind;
	bool active;
	bool initialized; /* current state sent right after subscribing */
};

/* How a camera writes what the standard leaves open, as seen in real captures (ONVIF-NOTES.md). */
enum camsim_time_style {
	CAMSIM_TIME_Z,        /* 2026-11-22T16:00:00Z */
	CAMSIM_TIME_MICROS,   /* 2026-11-22T16:00:00.000000Z */
	CAMSIM_TIME_NO_ZONE,  /* 2026-11-22T16:00:00 (meant as UTC) */
};

struct camsim_dialect {
	const char *name;
	const char *prefix;   /* of the SOAP envelope elements */
	const char *yes, *no; /* boolean spelling in state items */
	enum camsim_time_style time;
	bool padded_topic;    /* topic text wrapped in a newline and spaces */
};

#define CAMSIM_DIALECT_COUNT 4
extern const struct camsim_dialect camsim_dialects[CAMSIM_DIALECT_COUNT];
/* Index of a dialect by name, or -ENOENT. */
int camsim_dialect_find(const char *name);
/* Rewrites the envelope prefix "env" of a rendered answer to d's prefix. */
void camsim_tpl_restyle(struct camsim_buf *b, const struct camsim_dialect *d);

/* The EventId data item: "<camera id>-<seq>" (camera ids are "cam-%05u"). */
void camsim_event_id(const char *camera_id, uint64_t seq, char *buf, size_t len);

/* A whole fault envelope; code is "env:Sender" or "env:Receiver"; subcode a qualified name or NULL;
 * detail_xml literal XML or NULL. */
void camsim_tpl_fault(struct camsim_buf *b, const char *relates_to, const char *code, const char *subcode,
		      const char *reason, const char *detail_xml);

void camsim_tpl_system_date_time(struct camsim_buf *b, const char *relates_to, int64_t camera_now, bool ntp);
void camsim_tpl_device_information(struct camsim_buf *b, const char *relates_to, const char *camera_id);
void camsim_tpl_capabilities(struct camsim_buf *b, const char *relates_to, const char *base_url);
void camsim_tpl_services(struct camsim_buf *b, const char *relates_to, const char *base_url);
/* sources > 1: an NVR's answers (a main and a sub stream profile per video source). */
void camsim_tpl_profiles(struct camsim_buf *b, const char *relates_to, unsigned sources);
void camsim_tpl_video_sources(struct camsim_buf *b, const char *relates_to, unsigned sources);
/* url: the answer as is, or "" for rtsp://host:554/camsim/<camera_id> */
void camsim_tpl_stream_uri(struct camsim_buf *b, const char *relates_to, const char *host, const char *camera_id,
			   const char *url);
void camsim_tpl_snapshot_uri(struct camsim_buf *b, const char *relates_to, const char *base_url);
void camsim_tpl_event_properties(struct camsim_buf *b, const char *relates_to);
void camsim_tpl_subscription_created(struct camsim_buf *b, const char *relates_to, const char *sub_address,
				     int64_t now, int64_t termination);
void camsim_tpl_renewed(struct camsim_buf *b, const char *relates_to, int64_t now, int64_t termination);
void camsim_tpl_unsubscribed(struct camsim_buf *b, const char *relates_to);
/* PullMessagesResponse: begin, one call per message, end. */
void camsim_tpl_pull_begin(struct camsim_buf *b, const char *relates_to, int64_t now, int64_t termination);
void camsim_tpl_notification(struct camsim_buf *b, const char *sub_address, const char *camera_id,
			     const struct camsim_event *ev, const struct camsim_dialect *d);
void camsim_tpl_pull_end(struct camsim_buf *b);

#endif
