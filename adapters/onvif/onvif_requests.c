/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Request serialization and response parsing for the ONVIF operations (see onvif_requests.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alarmgw/alert.h"
#include "alarmgw/metrics.h"
#include "onvif_requests.h"
#include "onvif_normalize.h"
#include "wsaapi.h"

#define NS_EVENTS "http://www.onvif.org/ver10/events/wsdl"
#define NS_MEDIA "http://www.onvif.org/ver10/media/wsdl"

static const struct {
	const char *name;
	const char *action;
} ops[AGW_ONVIF_OP__COUNT] = {
	[AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME] = {"GetSystemDateAndTime",
						"http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime"},
	[AGW_ONVIF_GET_SERVICES] = {"GetServices", "http://www.onvif.org/ver10/device/wsdl/GetServices"},
	[AGW_ONVIF_GET_CAPABILITIES] = {"GetCapabilities", "http://www.onvif.org/ver10/device/wsdl/GetCapabilities"},
	[AGW_ONVIF_GET_DEVICE_INFORMATION] = {"GetDeviceInformation",
					      "http://www.onvif.org/ver10/device/wsdl/GetDeviceInformation"},
	[AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION] =
		{"CreatePullPointSubscription",
		 "http://www.onvif.org/ver10/events/wsdl/EventPortType/CreatePullPointSubscriptionRequest"},
	[AGW_ONVIF_PULL_MESSAGES] = {"PullMessages",
				     "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest"},
	[AGW_ONVIF_RENEW] = {"Renew", "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest"},
	[AGW_ONVIF_UNSUBSCRIBE] = {"Unsubscribe",
				   "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest"},
	[AGW_ONVIF_GET_EVENT_PROPERTIES] = {"GetEventProperties",
					    "http://www.onvif.org/ver10/events/wsdl/EventPortType/GetEventPropertiesRequest"},
	[AGW_ONVIF_GET_PROFILES] = {"GetProfiles", "http://www.onvif.org/ver10/media/wsdl/GetProfiles"},
	[AGW_ONVIF_GET_STREAM_URI] = {"GetStreamUri", "http://www.onvif.org/ver10/media/wsdl/GetStreamUri"},
	[AGW_ONVIF_GET_SNAPSHOT_URI] = {"GetSnapshotUri", "http://www.onvif.org/ver10/media/wsdl/GetSnapshotUri"},
	[AGW_ONVIF_GET_VIDEO_SOURCES] = {"GetVideoSources", "http://www.onvif.org/ver10/media/wsdl/GetVideoSources"},
};

const char *agw_onvif_op_name(enum agw_onvif_op op)
{
	return op < AGW_ONVIF_OP__COUNT ? ops[op].name : "?";
}

const char *agw_onvif_op_action(enum agw_onvif_op op)
{
	return op < AGW_ONVIF_OP__COUNT ? ops[op].action : "";
}

int agw_onvif_op_parse(const char *name, enum agw_onvif_op *ret_op)
{
	for (int i = 0; i < AGW_ONVIF_OP__COUNT; i++) {
		if (!strcasecmp(name, ops[i].name)) {
			*ret_op = (enum agw_onvif_op)i;
			return 0;
		}
	}
	return -EINVAL;
}

enum op_service { SERVICE_NONE, SERVICE_DEVICE, SERVICE_EVENT, SERVICE_MEDIA };

/* The service an operation belongs to: send_op and read_op go by it. */
static enum op_service op_service(enum agw_onvif_op op)
{
	switch (op) {
	case AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME:
	case AGW_ONVIF_GET_SERVICES:
	case AGW_ONVIF_GET_CAPABILITIES:
	case AGW_ONVIF_GET_DEVICE_INFORMATION:
		return SERVICE_DEVICE;
	case AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION:
	case AGW_ONVIF_PULL_MESSAGES:
	case AGW_ONVIF_RENEW:
	case AGW_ONVIF_UNSUBSCRIBE:
	case AGW_ONVIF_GET_EVENT_PROPERTIES:
		return SERVICE_EVENT;
	case AGW_ONVIF_GET_PROFILES:
	case AGW_ONVIF_GET_STREAM_URI:
	case AGW_ONVIF_GET_SNAPSHOT_URI:
	case AGW_ONVIF_GET_VIDEO_SOURCES:
		return SERVICE_MEDIA;
	case AGW_ONVIF_OP__COUNT:
		break;
	}
	return SERVICE_NONE;
}

/* What the generated soap_send_<op> does, minus its connect: gSOAP never touches the network
 * here, the document goes to soap->os and libcurl carries it. */
#define WRITE(soap, T, tag, req)                                                                                       \
	(soap_serializeheader(soap), soap_serialize_##T(soap, req),                                                     \
	 (soap_begin_send(soap) || soap_envelope_begin_out(soap) || soap_putheader(soap) || soap_body_begin_out(soap) || \
	  soap_put_##T(soap, req, tag, "") || soap_body_end_out(soap) || soap_envelope_end_out(soap) ||                 \
	  soap_end_send(soap))                                                                                          \
		 ? soap->error                                                                                         \
		 : SOAP_OK)

/* The device service (tds). The document of the request. */
static int send_device_op(struct soap *soap, const struct agw_onvif_request *r)
{
	switch (r->op) {
	case AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME: {
		struct _tds__GetSystemDateAndTime req;
		soap_default__tds__GetSystemDateAndTime(soap, &req);
		return WRITE(soap, _tds__GetSystemDateAndTime, "tds:GetSystemDateAndTime", &req);
	}
	case AGW_ONVIF_GET_SERVICES: {
		struct _tds__GetServices req;
		soap_default__tds__GetServices(soap, &req);
		req.IncludeCapability = (char *)"false";
		return WRITE(soap, _tds__GetServices, "tds:GetServices", &req);
	}
	case AGW_ONVIF_GET_CAPABILITIES: {
		struct _tds__GetCapabilities req;
		char *all = (char *)"All";
		soap_default__tds__GetCapabilities(soap, &req);
		req.__sizeCategory = 1;
		req.Category = &all;
		return WRITE(soap, _tds__GetCapabilities, "tds:GetCapabilities", &req);
	}
	case AGW_ONVIF_GET_DEVICE_INFORMATION: {
		struct _tds__GetDeviceInformation req;
		soap_default__tds__GetDeviceInformation(soap, &req);
		return WRITE(soap, _tds__GetDeviceInformation, "tds:GetDeviceInformation", &req);
	}
	default:
		break;
	}
	return SOAP_ERR;
}

/* The event service (tev) and its subscriptions (wsnt). The document of the request. */
static int send_event_op(struct soap *soap, const struct agw_onvif_request *r)
{
	switch (r->op) {
	case AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION: {
		struct _tev__CreatePullPointSubscription req;
		soap_default__tev__CreatePullPointSubscription(soap, &req);
		req.InitialTerminationTime = (char *)r->duration;
		return WRITE(soap, _tev__CreatePullPointSubscription, "tev:CreatePullPointSubscription", &req);
	}
	case AGW_ONVIF_PULL_MESSAGES: {
		struct _tev__PullMessages req;
		soap_default__tev__PullMessages(soap, &req);
		req.Timeout = (char *)(r->duration ? r->duration : "PT10S");
		req.MessageLimit = r->message_limit > 0 ? r->message_limit : 100;
		return WRITE(soap, _tev__PullMessages, "tev:PullMessages", &req);
	}
	case AGW_ONVIF_RENEW: {
		struct _wsnt__Renew req;
		soap_default__wsnt__Renew(soap, &req);
		req.TerminationTime = (char *)r->duration;
		return WRITE(soap, _wsnt__Renew, "wsnt:Renew", &req);
	}
	case AGW_ONVIF_UNSUBSCRIBE: {
		struct _wsnt__Unsubscribe req;
		soap_default__wsnt__Unsubscribe(soap, &req);
		return WRITE(soap, _wsnt__Unsubscribe, "wsnt:Unsubscribe", &req);
	}
	case AGW_ONVIF_GET_EVENT_PROPERTIES: {
		struct _tev__GetEventProperties req;
		soap_default__tev__GetEventProperties(soap, &req);
		return WRITE(soap, _tev__GetEventProperties, "tev:GetEventProperties", &req);
	}
	default:
		break;
	}
	return SOAP_ERR;
}

/* The media service (trt). The document of the request. */
static int send_media_op(struct soap *soap, const struct agw_onvif_request *r)
{
	switch (r->op) {
	case AGW_ONVIF_GET_PROFILES: {
		struct _trt__GetProfiles req;
		soap_default__trt__GetProfiles(soap, &req);
		return WRITE(soap, _trt__GetProfiles, "trt:GetProfiles", &req);
	}
	case AGW_ONVIF_GET_VIDEO_SOURCES: {
		struct _trt__GetVideoSources req;
		soap_default__trt__GetVideoSources(soap, &req);
		return WRITE(soap, _trt__GetVideoSources, "trt:GetVideoSources", &req);
	}
	case AGW_ONVIF_GET_STREAM_URI: {
		struct _trt__GetStreamUri req;
		struct tt__StreamSetup setup;
		struct tt__Transport transport;
		soap_default__trt__GetStreamUri(soap, &req);
		soap_default_tt__StreamSetup(soap, &setup);
		soap_default_tt__Transport(soap, &transport);
		transport.Protocol = (char *)"RTSP";
		setup.Stream = (char *)"RTP-Unicast";
		setup.Transport = &transport;
		req.StreamSetup = &setup;
		req.ProfileToken = (char *)r->profile_token;
		return WRITE(soap, _trt__GetStreamUri, "trt:GetStreamUri", &req);
	}
	case AGW_ONVIF_GET_SNAPSHOT_URI: {
		struct _trt__GetSnapshotUri req;
		soap_default__trt__GetSnapshotUri(soap, &req);
		req.ProfileToken = (char *)r->profile_token;
		return WRITE(soap, _trt__GetSnapshotUri, "trt:GetSnapshotUri", &req);
	}
	default:
		break;
	}
	return SOAP_ERR;
}

static int send_op(struct soap *soap, const struct agw_onvif_request *r)
{
	soap->encodingStyle = NULL; /* document/literal */
	switch (op_service(r->op)) {
	case SERVICE_DEVICE:
		return send_device_op(soap, r);
	case SERVICE_EVENT:
		return send_event_op(soap, r);
	case SERVICE_MEDIA:
		return send_media_op(soap, r);
	case SERVICE_NONE:
		break;
	}
	return SOAP_ERR;
}

int agw_onvif_request_build(struct soap *soap, const struct agw_onvif_request *req, char **ret_xml,
			    const char **ret_action)
{
	const char *out = NULL;
	if (req->op >= AGW_ONVIF_OP__COUNT || !req->to)
		return -EINVAL;
	agw_onvif_write_begin(soap, &out);
	/* subscription calls go to the subscription's own address: WS-Addressing says which */
	if (req->op == AGW_ONVIF_PULL_MESSAGES || req->op == AGW_ONVIF_RENEW || req->op == AGW_ONVIF_UNSUBSCRIBE ||
	    req->op == AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION) {
		if (soap_wsa_request(soap, NULL, req->to, ops[req->op].action) != SOAP_OK)
			return -ENOMEM;
	}
	if (req->reference_params && *req->reference_params &&
	    (req->op == AGW_ONVIF_PULL_MESSAGES || req->op == AGW_ONVIF_RENEW || req->op == AGW_ONVIF_UNSUBSCRIBE)) {
		char **any = soap_malloc(soap, sizeof(*any));
		if (!soap->header || !any || !(*any = soap_strdup(soap, req->reference_params)))
			return -ENOMEM;
		soap->header->__size_ref = 1;
		soap->header->__any = any;
	}
	if (req->username && *req->username) {
		struct agw_onvif_wsse fresh;
		int rc = req->wsse ? 0 : agw_onvif_wsse_make(req->password, req->camera_now_ms, &fresh);
		if (rc < 0 || (rc = agw_onvif_wsse_add(soap, req->username, req->wsse ? req->wsse : &fresh)) < 0)
			return rc;
	}
	int rc = agw_onvif_write_end(soap, send_op(soap, req), &out, ret_xml);
	if (rc == 0)
		*ret_action = ops[req->op].action;
	return rc;
}

void agw_onvif_response_clear(struct agw_onvif_response *r)
{
	free(r->events_xaddr);
	free(r->media_xaddr);
	free(r->subscription_address);
	free(r->reference_params);
	free(r->manufacturer);
	free(r->model);
	free(r->firmware);
	free(r->serial);
	free(r->uri);
	free(r->profile_token);
	for (int i = 0; r->sources && i < r->count; i++)
		free(r->sources[i]);
	free(r->sources);
	for (int i = 0; r->profiles && i < r->count; i++) {
		free(r->profiles[i].token);
		free(r->profiles[i].config);
		free(r->profiles[i].source);
	}
	free(r->profiles);
	memset(r, 0, sizeof(*r));
	r->camera_time_ms = AGW_TIME_UNKNOWN;
	r->termination_ms = AGW_TIME_UNKNOWN;
}

static int dup_trim(char **dst, const char *s)
{
	if (!s)
		return 0;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	free(*dst);
	*dst = strndup(s, n);
	return *dst ? 0 : -ENOMEM;
}

static int int_of(const char *s, int *ret)
{
	char *end;
	if (!s)
		return -EINVAL;
	long v = strtol(s, &end, 10);
	while (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')
		end++;
	if (end == s || *end || v < 0 || v > 100000)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

/* tt:DateTime as ms since the epoch; a clock reset to 1970/2000 is still a time (the offset). */
static int datetime_ms(const struct tt__DateTime *dt, int64_t *ret)
{
	int y, mo, d, h, mi, s;
	if (!dt || !dt->Date || !dt->Time || int_of(dt->Date->Year, &y) || int_of(dt->Date->Month, &mo) ||
	    int_of(dt->Date->Day, &d) || int_of(dt->Time->Hour, &h) || int_of(dt->Time->Minute, &mi) ||
	    int_of(dt->Time->Second, &s))
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -EINVAL;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
			.tm_sec = s > 59 ? 59 : s};
	*ret = (int64_t)timegm(&tm) * 1000;
	return 0;
}

/* xs:dateTime text; times before 1971 are accepted here (a reset camera clock is still its clock). */
static int64_t time_or_unknown(const char *text)
{
	int64_t ms;
	if (text && agw_time_parse_ms(text, &ms) == 0)
		return ms;
	/* agw_time_parse_ms refuses 1970: read it by hand so the relative termination still works */
	int y, mo, d, h, mi, s;
	if (text && sscanf(text, " %4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) == 6 && y >= 1970 && mo >= 1 &&
	    mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s <= 60) {
		struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
				.tm_sec = s > 59 ? 59 : s};
		return (int64_t)timegm(&tm) * 1000;
	}
	return AGW_TIME_UNKNOWN;
}

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
	       ch == '-' || ch == '.' || (unsigned char)ch >= 0x80;
}

/* gSOAP keeps a captured element as written, without the declarations of prefixes bound on its
 * ancestors (Axis declares the SubscriptionId prefix on the Envelope). Echoed alone it would be
 * an undeclared prefix: declare, on each top-level element, the prefixes it uses, with the URI the
 * response document bound them to. Returns a new string, or NULL when nothing needs declaring. */
static char *declare_used_prefixes(const char *lit, const char *doc, size_t doclen)
{
	char decls[1024] = "";
	size_t dn = 0;
	for (const char *p = lit; (p = strpbrk(p, "< ")); p++) {
		const char *n = p + 1;
		if (*n == '/')
			n++;
		const char *e = n;
		while (name_char(*e))
			e++;
		if (*e != ':' || e == n || (size_t)(e - n) > 64)
			continue;
		char prefix[80], decl[96];
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(e - n), n);
		if (!strcmp(prefix, "xmlns") || !strcmp(prefix, "xml"))
			continue;
		snprintf(decl, sizeof(decl), "xmlns:%s=", prefix);
		if (strstr(lit, decl) || strstr(decls, decl))
			continue;
		const char *d = memmem(doc, doclen, decl, strlen(decl));
		if (!d)
			continue;
		const char *q = d + strlen(decl);
		const char *end = doc + doclen;
		if (q >= end || (*q != '"' && *q != '\''))
			continue;
		const char *close = memchr(q + 1, *q, (size_t)(end - q - 1));
		if (!close)
			continue;
		int w = snprintf(decls + dn, sizeof(decls) - dn, " %s\"%.*s\"", decl, (int)(close - q - 1), q + 1);
		if (w < 0 || (size_t)w >= sizeof(decls) - dn)
			break;
		dn += (size_t)w;
	}
	if (dn == 0)
		return NULL;
	/* insert after the name of every start tag at depth 0 */
	size_t len = strlen(lit), cap = len + 1 + dn * 8;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	size_t o = 0;
	int depth = 0;
	for (const char *p = lit; *p;) {
		if (p[0] == '<' && p[1] != '/' && p[1] != '!' && p[1] != '?') {
			const char *e = p + 1;
			while (name_char(*e) || *e == ':')
				e++;
			size_t head = (size_t)(e - p);
			if (o + head + dn + 1 > cap)
				break;
			memcpy(out + o, p, head);
			o += head;
			if (depth == 0) {
				memcpy(out + o, decls, dn);
				o += dn;
			}
			const char *gt = strchr(e, '>');
			if (!gt)
				break;
			if (gt[-1] != '/')
				depth++;
			p = e;
			continue;
		}
		if (p[0] == '<' && p[1] == '/')
			depth--;
		if (o + 2 > cap)
			break;
		out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}

/* The ReferenceParameters' elements, concatenated as XML text (NULL when there are none). */
static int reference_params(const struct wsa5__ReferenceParametersType *rp, char **ret)
{
	size_t len = 0;
	for (int i = 0; rp && i < rp->__size; i++)
		len += rp->__any[i] ? strlen(rp->__any[i]) : 0;
	if (len == 0)
		return 0;
	char *out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	size_t n = 0;
	for (int i = 0; i < rp->__size; i++) {
		size_t l = rp->__any[i] ? strlen(rp->__any[i]) : 0;
		memcpy(out + n, rp->__any[i], l);
		n += l;
	}
	out[n] = '\0';
	*ret = out;
	return 0;
}

/* The device service (tds). Reads the answer into r. */
static int read_device_op(struct soap *soap, enum agw_onvif_op op, struct agw_onvif_response *r)
{
	switch (op) {
	case AGW_ONVIF_GET_SYSTEM_DATE_AND_TIME: {
		struct _tds__GetSystemDateAndTimeResponse resp;
		if (soap_recv___tds__GetSystemDateAndTime(soap, &resp))
			return soap->error;
		int64_t ms;
		/* without a readable UTCDateTime the caller keeps the time unknown (offset 0) */
		if (resp.SystemDateAndTime && datetime_ms(resp.SystemDateAndTime->UTCDateTime, &ms) == 0)
			r->camera_time_ms = ms;
		return 0;
	}
	case AGW_ONVIF_GET_SERVICES: {
		struct _tds__GetServicesResponse resp;
		if (soap_recv___tds__GetServices(soap, &resp))
			return soap->error;
		r->count = resp.__sizeService;
		for (int i = 0; i < resp.__sizeService; i++) {
			const struct tds__Service *s = &resp.Service[i];
			if (!s->Namespace || !s->XAddr)
				continue;
			char *ns = NULL;
			if (dup_trim(&ns, s->Namespace) < 0)
				return -ENOMEM;
			int rc = 0;
			if (!strcmp(ns, NS_EVENTS))
				rc = dup_trim(&r->events_xaddr, s->XAddr);
			else if (!strcmp(ns, NS_MEDIA))
				rc = dup_trim(&r->media_xaddr, s->XAddr);
			free(ns);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	case AGW_ONVIF_GET_CAPABILITIES: {
		struct _tds__GetCapabilitiesResponse resp;
		if (soap_recv___tds__GetCapabilities(soap, &resp))
			return soap->error;
		const struct tt__Capabilities *c = resp.Capabilities;
		if (c && c->Media && dup_trim(&r->media_xaddr, c->Media->XAddr) < 0)
			return -ENOMEM;
		if (c && c->Events && dup_trim(&r->events_xaddr, c->Events->XAddr) < 0)
			return -ENOMEM;
		return 0;
	}
	case AGW_ONVIF_GET_DEVICE_INFORMATION: {
		struct _tds__GetDeviceInformationResponse resp;
		if (soap_recv___tds__GetDeviceInformation(soap, &resp))
			return soap->error;
		if (dup_trim(&r->manufacturer, resp.Manufacturer) < 0 || dup_trim(&r->model, resp.Model) < 0 ||
		    dup_trim(&r->firmware, resp.FirmwareVersion) < 0 || dup_trim(&r->serial, resp.SerialNumber) < 0)
			return -ENOMEM;
		return 0;
	}
	default:
		break;
	}
	return -EINVAL;
}

/* The event service (tev) and its subscriptions (wsnt). Reads the answer into r. */
static int read_event_op(struct soap *soap, enum agw_onvif_op op, struct agw_onvif_response *r)
{
	switch (op) {
	case AGW_ONVIF_CREATE_PULL_POINT_SUBSCRIPTION: {
		struct _tev__CreatePullPointSubscriptionResponse resp;
		if (soap_recv___tev__CreatePullPointSubscription(soap, &resp))
			return soap->error;
		if (!resp.SubscriptionReference || !resp.SubscriptionReference->Address)
			return -ENOENT;
		if (dup_trim(&r->subscription_address, resp.SubscriptionReference->Address) < 0)
			return -ENOMEM;
		if (reference_params(resp.SubscriptionReference->ReferenceParameters, &r->reference_params) < 0)
			return -ENOMEM;
		struct agw_onvif_input *in = soap->user;
		char *declared = r->reference_params ? declare_used_prefixes(r->reference_params, in->buf, in->len) : NULL;
		if (declared) {
			free(r->reference_params);
			r->reference_params = declared;
		}
		r->camera_time_ms = time_or_unknown(resp.wsnt__CurrentTime);
		r->termination_ms = time_or_unknown(resp.wsnt__TerminationTime);
		return 0;
	}
	case AGW_ONVIF_RENEW: {
		struct _wsnt__RenewResponse resp;
		if (soap_recv___tev__Renew(soap, &resp))
			return soap->error;
		r->camera_time_ms = time_or_unknown(resp.CurrentTime);
		r->termination_ms = time_or_unknown(resp.TerminationTime);
		return 0;
	}
	case AGW_ONVIF_UNSUBSCRIBE: {
		struct _wsnt__UnsubscribeResponse resp;
		if (soap_recv___tev__Unsubscribe(soap, &resp))
			return soap->error;
		return 0;
	}
	case AGW_ONVIF_GET_EVENT_PROPERTIES: {
		struct _tev__GetEventPropertiesResponse resp;
		if (soap_recv___tev__GetEventProperties(soap, &resp))
			return soap->error;
		r->count = resp.wstop__TopicSet ? resp.wstop__TopicSet->__size : 0;
		return 0;
	}
	default:
		break;
	}
	return -EINVAL;
}

/* GetProfiles: each profile's token and its video source configuration (an NVR's channels). */
static int read_profiles(const struct _trt__GetProfilesResponse *resp, struct agw_onvif_response *r)
{
	if (resp->__sizeProfiles <= 0)
		return 0;
	if (!(r->profiles = calloc((size_t)resp->__sizeProfiles, sizeof(*r->profiles))))
		return -ENOMEM;
	for (; r->count < resp->__sizeProfiles; r->count++) {
		const struct tt__Profile *p = &resp->Profiles[r->count];
		struct agw_onvif_profile *o = &r->profiles[r->count];
		const struct tt__VideoSourceConfiguration *v = p->VideoSourceConfiguration;
		if (dup_trim(&o->token, p->token) < 0 || (v && dup_trim(&o->config, v->token) < 0) ||
		    (v && dup_trim(&o->source, v->SourceToken) < 0)) {
			r->count++; /* freed by clear() */
			return -ENOMEM;
		}
	}
	return 0;
}

/* The media service (trt). Reads the answer into r. */
static int read_media_op(struct soap *soap, enum agw_onvif_op op, struct agw_onvif_response *r)
{
	switch (op) {
	case AGW_ONVIF_GET_PROFILES: {
		struct _trt__GetProfilesResponse resp;
		if (soap_recv___trt__GetProfiles(soap, &resp))
			return soap->error;
		if (resp.__sizeProfiles > 0 && dup_trim(&r->profile_token, resp.Profiles[0].token) < 0)
			return -ENOMEM;
		return read_profiles(&resp, r);
	}
	case AGW_ONVIF_GET_VIDEO_SOURCES: {
		struct _trt__GetVideoSourcesResponse resp;
		if (soap_recv___trt__GetVideoSources(soap, &resp))
			return soap->error;
		if (resp.__sizeVideoSources <= 0)
			return 0;
		/* count follows the array so that clear() frees what was filled */
		if (!(r->sources = calloc((size_t)resp.__sizeVideoSources, sizeof(*r->sources))))
			return -ENOMEM;
		for (; r->count < resp.__sizeVideoSources; r->count++)
			if (dup_trim(&r->sources[r->count], resp.VideoSources[r->count].token) < 0)
				return -ENOMEM;
		return 0;
	}
	case AGW_ONVIF_GET_STREAM_URI: {
		struct _trt__GetStreamUriResponse resp;
		if (soap_recv___trt__GetStreamUri(soap, &resp))
			return soap->error;
		return resp.MediaUri ? dup_trim(&r->uri, resp.MediaUri->Uri) : 0;
	}
	case AGW_ONVIF_GET_SNAPSHOT_URI: {
		struct _trt__GetSnapshotUriResponse resp;
		if (soap_recv___trt__GetSnapshotUri(soap, &resp))
			return soap->error;
		return resp.MediaUri ? dup_trim(&r->uri, resp.MediaUri->Uri) : 0;
	}
	default:
		break;
	}
	return -EINVAL;
}

static int read_op(struct soap *soap, enum agw_onvif_op op, struct agw_onvif_response *r)
{
	switch (op_service(op)) {
	case SERVICE_DEVICE:
		return read_device_op(soap, op, r);
	case SERVICE_EVENT:
		return read_event_op(soap, op, r);
	case SERVICE_MEDIA:
		return read_media_op(soap, op, r);
	case SERVICE_NONE:
		break;
	}
	return -EINVAL;
}

/* A copy of the document with xmlns declarations added on the root element for the prefixes of
 * the namespace table that it uses without declaring. NULL when nothing could be added. */
static char *declare_known_prefixes(const char *buf, size_t len, size_t *ret_len)
{
	const char *root = buf, *end = buf + len;
	while ((root = memchr(root, '<', (size_t)(end - root))) && root + 1 < end && (root[1] == '?' || root[1] == '!'))
		root++;
	if (!root)
		return NULL;
	const char *name_end = root + 1;
	while (name_end < end && !strchr(" \t\r\n/>", *name_end))
		name_end++;
	char extra[2048] = "";
	size_t n = 0;
	for (const struct Namespace *ns = agw_onvif_namespaces(); ns->id; ns++) {
		char use[80], decl[80];
		snprintf(use, sizeof(use), "<%s:", ns->id);
		snprintf(decl, sizeof(decl), "xmlns:%s=", ns->id);
		if (!memmem(buf, len, use, strlen(use)) || memmem(buf, len, decl, strlen(decl)))
			continue;
		int w = snprintf(extra + n, sizeof(extra) - n, " xmlns:%s=\"%s\"", ns->id, ns->ns);
		if (w < 0 || (size_t)w >= sizeof(extra) - n)
			return NULL;
		n += (size_t)w;
	}
	if (n == 0)
		return NULL;
	size_t head = (size_t)(name_end - buf);
	char *out = malloc(len + n + 1);
	if (!out)
		return NULL;
	memcpy(out, buf, head);
	memcpy(out + head, extra, n);
	memcpy(out + head + n, buf + head, len - head);
	out[len + n] = '\0';
	*ret_len = len + n;
	return out;
}

int agw_onvif_response_parse(struct soap *soap, enum agw_onvif_op op, const char *buf, size_t len,
			     struct agw_onvif_response *ret, char *err, size_t errlen)
{
	struct agw_onvif_input in;
	struct agw_onvif_response r = {0};
	agw_onvif_response_clear(&r);
	if (op == AGW_ONVIF_PULL_MESSAGES || op >= AGW_ONVIF_OP__COUNT) {
		snprintf(err, errlen, "PullMessages responses are read by the normalizer");
		return -EINVAL;
	}
	if (len > AGW_ONVIF_MAX_DOCUMENT) {
		snprintf(err, errlen, "response of %zu bytes is over the %u byte limit", len, AGW_ONVIF_MAX_DOCUMENT);
		return -EMSGSIZE;
	}
	char *repaired = NULL;
	int rc = agw_onvif_xml_check(buf, len, err, errlen);
	if (rc == -EINVAL && strstr(err, "undeclared namespace prefix") &&
	    agw_onvif_xml_check_flags(buf, len, AGW_XMLCHECK_UNDECLARED_OK, err, errlen) == 0 &&
	    (repaired = declare_known_prefixes(buf, len, &len))) {
		/* Hand-edited firmware templates forget to declare SOAP-ENV: such a device answer is
		 * read with the usual meaning of the prefix, and counted. Event documents get no such
		 * leniency: the normalizer refuses them. */
		agw_metric_add("agw_onvif_lenient_parses_total", NULL, 1);
		buf = repaired;
		rc = 0;
	}
	if (rc < 0)
		return rc;
	rc = agw_onvif_parse_begin(soap, &in, buf, len);
	if (rc < 0) {
		snprintf(err, errlen, "NUL byte in the document");
		free(repaired);
		return rc;
	}
	rc = read_op(soap, op, &r);
	if (rc > 0) {
		rc = agw_onvif_parse_error(soap, &in, err, errlen);
	} else if (rc == -ENOENT) {
		snprintf(err, errlen, "%s response without the expected content", ops[op].name);
	} else if (rc < 0) {
		snprintf(err, errlen, "%s", strerror(-rc));
	}
	free(repaired);
	if (rc < 0) {
		agw_onvif_response_clear(&r);
		return rc;
	}
	*ret = r;
	return 0;
}
