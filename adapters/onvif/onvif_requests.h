/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ONVIF operations the gateway uses: request documents written by gSOAP to a string, and
 * response documents read back from the buffer libcurl received. No I/O here. */
#ifndef AGW_ONVIF_REQUESTS_H
#define AGW_ONVIF_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onvif_soap.h"

enum agw_onvif_op {
	AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME,
	AGW_ONVIF_GET_SERVICES,
	AGW_ONVIF_GET_CAPABILITIES,
	AGW_ONVIF_GET_DEVICE_INFORMATION,
	AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION,
	AGW_ONVIF_PULL_MESSAGES,
	AGW_ONVIF_RENEW,
	AGW_ONVIF_UNSUBSCRIBE,
	AGW_ONVIF_GET_EVENT_PROPERTIES,
	AGW_ONVIF_GET_PROFILES,
	AGW_ONVIF_GET_STREAM_URI,
	AGW_ONVIF_GET_SNAPSHOT_URI,
	AGW_ONVIF_GET_VIDEO_SOURCES,
	AGW_ONVIF_OP__COUNT,
};

const char *agw_onvif_op_name(enum agw_onvif_op op);
const char *agw_onvif_op_action(enum agw_onvif_op op); /* the SOAP action URI */
int agw_onvif_op_parse(const char *name, enum agw_onvif_op *ret_op);

struct agw_onvif_request {
	enum agw_onvif_op op;
	const char *to;            /* the endpoint; also wsa:To on subscription calls */
	const char *username;      /* NULL: no WS-Security header */
	const char *password;
	int64_t camera_now_ms;     /* for the WS-Security Created time */
	const char *duration;      /* "PT60S": InitialTerminationTime, Renew TerminationTime, pull Timeout */
	int message_limit;         /* PullMessages */
	const char *profile_token; /* GetStreamUri, GetSnapshotUri */
	const char *reference_params; /* XML echoed in the header of subscription calls, or NULL */
	const struct agw_onvif_wsse *wsse; /* these WS-Security fields instead of fresh ones, or NULL */
};

/* Serializes the request; *ret_xml is malloc'd, *ret_action is the SOAP action (static). */
int agw_onvif_request_build(struct soap *soap, const struct agw_onvif_request *req, char **ret_xml,
			    const char **ret_action);

/* What the responses say; strings are malloc'd (free with agw_onvif_response_clear). */
struct agw_onvif_response {
	int64_t camera_time_ms;     /* GetSystemDateAndTime UTC; CurrentTime of subscribe/renew */
	int64_t termination_ms;     /* TerminationTime of subscribe/renew (camera clock) */
	char *events_xaddr;         /* GetServices / GetCapabilities */
	char *media_xaddr;
	char *subscription_address; /* CreatePullPointSubscription */
	char *reference_params;     /* its ReferenceParameters' elements as XML, or NULL */
	char *manufacturer, *model, *firmware, *serial; /* GetDeviceInformation */
	char *uri;                  /* GetStreamUri, GetSnapshotUri */
	char *profile_token;        /* GetProfiles: the first profile */
	/* GetVideoSources: the sources' tokens in the device's order (NULL for a source without one) */
	char **sources;
	/* GetProfiles: per profile its token, its video source configuration's token and that
	 * configuration's SourceToken (each NULL when absent), in the device's order */
	struct agw_onvif_profile {
		char *token, *config, *source;
	} *profiles;
	int count;                  /* profiles, services, topics, sources: how many items were read */
};

void agw_onvif_response_clear(struct agw_onvif_response *r);

/* Parses the response to op (not PullMessages: agw_onvif_normalize_soap reads those). Returns 0,
 * -EPROTO for a SOAP Fault (err "fault: code: reason"), -EINVAL / -EMSGSIZE like the normalizer,
 * -ENOENT when a required part (the time, the subscription address) is missing. */
int agw_onvif_response_parse(struct soap *soap, enum agw_onvif_op op, const char *buf, size_t len,
			     struct agw_onvif_response *ret, char *err, size_t errlen);

/* onvif_wsse.c: WS-Security UsernameToken with PasswordDigest, built in camera time with a fresh
 * nonce. Base64(SHA1(nonce + created + password)) into out (at least 29 bytes): 0 or -EINVAL. */
int agw_onvif_wsse_digest(const unsigned char *nonce, size_t nonce_len, const char *created, const char *password,
			  char *out, size_t outlen);

/* The three fields of a UsernameToken that change with every request: a fresh 16-byte nonce
 * (base64, 24 characters), Created in camera time ("2026-11-22T08:15:01.123Z", 24 characters for
 * years 1000-9999) and the PasswordDigest over both (base64 of a SHA-1, 28 characters). */
struct agw_onvif_wsse {
	char nonce[32], created[40], digest[32];
};

/* Fills ret with a fresh nonce, Created = camera_now_ms and their digest. 0 or negative errno. */
int agw_onvif_wsse_make(const char *password, int64_t camera_now_ms, struct agw_onvif_wsse *ret);

/* Adds a Security header with a UsernameToken of these fields to the next message serialized
 * with soap. The strings live in soap's memory. Returns 0 or negative errno. */
int agw_onvif_wsse_add(struct soap *soap, const char *username, const struct agw_onvif_wsse *f);

/* PullMessages without gSOAP on every poll (onvif_pull_request.c): the document of a subscription
 * is written once by agw_onvif_request_build, and each later poll only rewrites its three
 * WS-Security fields in place (they have the same lengths every time). Where they sit: */
struct agw_onvif_pull_doc {
	uint16_t nonce, created, digest; /* offsets of the values in the document */
	uint8_t created_len;
	bool wsse;                       /* false: the document has no Security header to refresh */
};

/* Builds req (a PULL_MESSAGES) like agw_onvif_request_build and finds its WS-Security fields in
 * it. Returns 0 or negative errno (-EINVAL when the fields cannot be located: do not reuse it). */
int agw_onvif_pull_doc_build(struct soap *soap, const struct agw_onvif_request *req, char **ret_xml,
			     struct agw_onvif_pull_doc *ret_doc);

/* Writes f into a document made by agw_onvif_pull_doc_build; the rest of it stays as it was.
 * -ERANGE (document untouched) when f's Created has another length: build it again. */
int agw_onvif_pull_doc_refresh(char *xml, const struct agw_onvif_pull_doc *doc, const struct agw_onvif_wsse *f);

#endif
