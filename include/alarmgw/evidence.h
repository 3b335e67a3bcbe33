/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One piece of evidence of a case (a picture the gateway captured or received), as the case
 * message lists it (docs/case-message.md, "evidence"). Filled by the store
 * (gateway/store/evidence_list.h) from the evidence table; the case message only reads it. */
#ifndef ALARMGW_EVIDENCE_H
#define ALARMGW_EVIDENCE_H

#include <stdint.h>

struct agw_evidence_entry {
	int64_t n;              /* 1, 2, ... per case: the n of <prefix>/evidence/<case_id>/<n> */
	const char *type;       /* "snapshot", "keyframe", "picture", ... */
	int64_t captured_at;    /* gateway clock, ms since the epoch; AGW_TIME_UNKNOWN */
	int64_t camera_time;    /* camera clock; AGW_TIME_UNKNOWN */
	int64_t bytes;          /* -1: unknown */
	const char *sha256;     /* lowercase hex; NULL */
	int64_t width, height;  /* 0: unknown */
	const char *topic;      /* the MQTT topic it is published on; NULL */
	const char *status;     /* "stored", "failed", ...; NULL */
	const char *reason;     /* why it failed; NULL */
	/* a picture of the camera's earlier case reused (evidence.min_interval): that case and n */
	const char *reused_case; /* NULL: taken for this case */
	int64_t reused_n;
	/* a signed link to fetch it from the gateway (evidence.url_base), valid until url_expires
	 * (wall ms); NULL when links are off or the entry has no picture to come */
	const char *url;
	int64_t url_expires;
};

#endif
