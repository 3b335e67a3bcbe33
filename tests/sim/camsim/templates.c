/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kinds.h"
#include "templates.h"

#define ACT_TDS "http://www.onvif.org/ver10/device/wsdl/"
#define ACT_TRT "http://www.onvif.org/ver10/media/wsdl/"
#define ACT_TEV "http://www.onvif.org/ver10/events/wsdl/"
#define ACT_WSN "http://docs.oasis-open.org/wsn/bw-2/"

static void begin(struct camsim_buf *b, const char *action, const char *relates_to)
{
	camsim_buf_puts(b,
			"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\""
			" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\""
			" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\""
			" xmlns:tt=\"http://www.onvif.org/ver10/schema\""
			" xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\""
			" xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\""
			" xmlns:tev=\"http://www.onvif.org/ver10/events/wsdl\""
			" xmlns:ter=\"http://www.onvif.org/ver10/error\""
			" xmlns:wsnt=\"http://docs.oasis-open.org/wsn/b-2\""
			" xmlns:wstop=\"http://docs.oasis-open.org/wsn/t-1\""
			" xmlns:wsrf-bf=\"http://docs.oasis-open.org/wsrf/bf-2\""
			" xmlns:wsrf-r=\"http://docs.oasis-open.org/wsrf/r-2\""
			" xmlns:tns1=\"http://www.onvif.org/ver10/topics\">\n<env:Header>");
	if (action) {
		camsim_buf_puts(b, "<wsa:Action>");
		camsim_buf_escape(b, action);
		camsim_buf_puts(b, "</wsa:Action>");
	}
	if (relates_to && relates_to[0]) {
		camsim_buf_puts(b, "<wsa:RelatesTo>");
		camsim_buf_escape(b, relates_to);
		camsim_buf_puts(b, "</wsa:RelatesTo>");
	}
	camsim_buf_puts(b, "</env:Header>\n<env:Body>");
}

static void end(struct camsim_buf *b)
{
	camsim_buf_puts(b, "</env:Body>\n</env:Envelope>\n");
}

static void put_time(struct camsim_buf *b, const char *element, int64_t t)
{
	char ts[40];
	camsim_buf_printf(b, "<%s>%s</%s>", element, camsim_time_format(t, ts, sizeof(ts)), element);
}

const struct camsim_dialect camsim_dialects[CAMSIM_DIALECT_COUNT] = {
	{"standard", "env", "true", "false", CAMSIM_TIME_Z, false},
	{"alt1", "s", "1", "0", CAMSIM_TIME_MICROS, true},
	{"alt2", "SOAP-ENV", "ON", "OFF", CAMSIM_TIME_NO_ZONE, false},
	{"alt3", "env", "active", "inactive", CAMSIM_TIME_Z, true},
};

int camsim_dialect_find(const char *name)
{
	for (int i = 0; i < CAMSIM_DIALECT_COUNT; i++)
		if (strcmp(camsim_dialects[i].name, name) == 0)
			return i;
	return -ENOENT;
}

void camsim_tpl_restyle(struct camsim_buf *b, const struct camsim_dialect *d)
{
	if (!b->data || strcmp(d->prefix, "env") == 0)
		return;
	/* "env:" and "xmlns:env=" only occur as the envelope prefix in what the templates write. */
	struct camsim_buf o = {0};
	const char *p = b->data;
	const char *decl = strstr(p, "xmlns:env=");
	for (;;) {
		const char *use = strstr(p, "env:");
		if (!use && !decl)
			break;
		if (decl && (!use || decl < use)) {
			camsim_buf_append(&o, p, (size_t)(decl - p));
			camsim_buf_printf(&o, "xmlns:%s=", d->prefix);
			p = decl + strlen("xmlns:env=");
			decl = NULL;
		} else {
			camsim_buf_append(&o, p, (size_t)(use - p));
			camsim_buf_printf(&o, "%s:", d->prefix);
			p = use + strlen("env:");
		}
	}
	camsim_buf_puts(&o, p);
	camsim_buf_free(b);
	*b = o;
}

static const char *format_time(int64_t t, enum camsim_time_style style, char *buf, size_t len)
{
	char ts[40];
	camsim_time_format(t, ts, sizeof(ts));
	size_t n = strlen(ts) - 1; /* without the Z */
	if (style == CAMSIM_TIME_MICROS)
		snprintf(buf, len, "%.*s.000000Z", (int)n, ts);
	else if (style == CAMSIM_TIME_NO_ZONE)
		snprintf(buf, len, "%.*s", (int)n, ts);
	else
		snprintf(buf, len, "%s", ts);
	return buf;
}

void camsim_event_id(const char *camera_id, uint64_t seq, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%" PRIu64, camera_id, seq);
}

void camsim_tpl_fault(struct camsim_buf *b, const char *relates_to, const char *code, const char *subcode,
		      const char *reason, const char *detail_xml)
{
	begin(b, "http://www.w3.org/2005/08/addressing/soap/fault", relates_to);
	camsim_buf_printf(b, "<env:Fault><env:Code><env:Value>%s</env:Value>", code);
	if (subcode)
		camsim_buf_printf(b, "<env:Subcode><env:Value>%s</env:Value></env:Subcode>", subcode);
	camsim_buf_puts(b, "</env:Code><env:Reason><env:Text xml:lang=\"en\">");
	camsim_buf_escape(b, reason);
	camsim_buf_puts(b, "</env:Text></env:Reason>");
	if (detail_xml)
		camsim_buf_printf(b, "<env:Detail>%s</env:Detail>", detail_xml);
	camsim_buf_puts(b, "</env:Fault>");
	end(b);
}

void camsim_tpl_system_date_time(struct camsim_buf *b, const char *relates_to, int64_t camera_now, bool ntp)
{
	char ts[40];
	int y, mo, d, h, mi, s;
	camsim_time_format(camera_now, ts, sizeof(ts));
	if (sscanf(ts, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) != 6)
		y = 1970, mo = 1, d = 1, h = 0, mi = 0, s = 0;
	begin(b, ACT_TDS "GetSystemDateAndTimeResponse", relates_to);
	camsim_buf_printf(b,
			  "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
			  "<tt:DateTimeType>%s</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
			  "<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>"
			  "<tt:UTCDateTime><tt:Time><tt:Hour>%d</tt:Hour><tt:Minute>%d</tt:Minute>"
			  "<tt:Second>%d</tt:Second></tt:Time><tt:Date><tt:Year>%d</tt:Year><tt:Month>%d</tt:Month>"
			  "<tt:Day>%d</tt:Day></tt:Date></tt:UTCDateTime>"
			  "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>",
			  ntp ? "NTP" : "Manual", h, mi, s, y, mo, d);
	end(b);
}

void camsim_tpl_device_information(struct camsim_buf *b, const char *relates_to, const char *camera_id)
{
	begin(b, ACT_TDS "GetDeviceInformationResponse", relates_to);
	camsim_buf_puts(b, "<tds:GetDeviceInformationResponse><tds:Manufacturer>CamSim</tds:Manufacturer>"
			   "<tds:Model>CS-ONVIF-1</tds:Model><tds:FirmwareVersion>1.0.0</tds:FirmwareVersion>"
			   "<tds:SerialNumber>");
	camsim_buf_escape(b, camera_id);
	camsim_buf_puts(b, "</tds:SerialNumber><tds:HardwareId>camsim</tds:HardwareId>"
			   "</tds:GetDeviceInformationResponse>");
	end(b);
}

void camsim_tpl_capabilities(struct camsim_buf *b, const char *relates_to, const char *base_url)
{
	begin(b, ACT_TDS "GetCapabilitiesResponse", relates_to);
	camsim_buf_printf(b,
			  "<tds:GetCapabilitiesResponse><tds:Capabilities>"
			  "<tt:Device><tt:XAddr>%s/onvif/device_service</tt:XAddr></tt:Device>"
			  "<tt:Events><tt:XAddr>%s/onvif/event_service</tt:XAddr>"
			  "<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>"
			  "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
			  "<tt:WSPausableSubscriptionManagerInterfaceSupport>false"
			  "</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>"
			  "<tt:Media><tt:XAddr>%s/onvif/media_service</tt:XAddr><tt:StreamingCapabilities>"
			  "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
			  "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
			  "</tds:Capabilities></tds:GetCapabilitiesResponse>",
			  base_url, base_url, base_url);
	end(b);
}

void camsim_tpl_services(struct camsim_buf *b, const char *relates_to, const char *base_url)
{
	static const struct {
		const char *ns, *path;
		int minor;
	} services[] = {
		{"http://www.onvif.org/ver10/device/wsdl", "device_service", 20},
		{"http://www.onvif.org/ver10/media/wsdl", "media_service", 20},
		{"http://www.onvif.org/ver10/events/wsdl", "event_service", 20},
	};
	begin(b, ACT_TDS "GetServicesResponse", relates_to);
	camsim_buf_puts(b, "<tds:GetServicesResponse>");
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		camsim_buf_printf(b,
				  "<tds:Service><tds:Namespace>%s</tds:Namespace><tds:XAddr>%s/onvif/%s</tds:XAddr>"
				  "<tds:Version><tt:Major>2</tt:Major><tt:Minor>%d</tt:Minor></tds:Version>"
				  "</tds:Service>",
				  services[i].ns, base_url, services[i].path, services[i].minor);
	camsim_buf_puts(b, "</tds:GetServicesResponse>");
	end(b);
}

/* One profile: stream "main" or "sub" of video source `source`, named as a Hikvision NVR names
 * them (Profile_101 is channel 1's main stream); a camera (source 0) keeps its placeholder tokens. */
static void profile(struct camsim_buf *b, unsigned source, bool sub)
{
	char token[32], cfg[32], src[32];
	if (source == 0) {
		snprintf(token, sizeof(token), "Profile_1");
		snprintf(cfg, sizeof(cfg), "VideoSourceToken");
		snprintf(src, sizeof(src), "VideoSource_1");
	} else {
		snprintf(token, sizeof(token), "Profile_%u0%u", source, sub ? 2 : 1);
		snprintf(cfg, sizeof(cfg), "VideoSourceConfig_%u", source);
		snprintf(src, sizeof(src), "VideoSource_%u", source);
	}
	unsigned w = sub ? 640 : 1920, h = sub ? 360 : 1080;
	camsim_buf_printf(b, "<trt:Profiles fixed=\"true\" token=\"%s\"><tt:Name>%s</tt:Name>"
			     "<tt:VideoSourceConfiguration token=\"%s\"><tt:Name>VideoSource_%u</tt:Name>"
			     "<tt:UseCount>2</tt:UseCount><tt:SourceToken>%s</tt:SourceToken>"
			     "<tt:Bounds x=\"0\" y=\"0\" width=\"1920\" height=\"1080\"/></tt:VideoSourceConfiguration>",
			  token, sub ? "subStream" : "mainStream", cfg, source ? source : 1, src);
	camsim_buf_printf(b, "<tt:VideoEncoderConfiguration token=\"VideoEncoderToken_%u%u\"><tt:Name>VideoEncoder_%u%u</tt:Name>"
			     "<tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>"
			     "<tt:Resolution><tt:Width>%u</tt:Width><tt:Height>%u</tt:Height></tt:Resolution>"
			     "<tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit>"
			     "<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>%u</tt:BitrateLimit>"
			     "</tt:RateControl><tt:H264><tt:GovLength>50</tt:GovLength><tt:H264Profile>Main</tt:H264Profile>"
			     "</tt:H264><tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0"
			     "</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL>"
			     "<tt:AutoStart>false</tt:AutoStart></tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout>"
			     "</tt:VideoEncoderConfiguration></trt:Profiles>",
			  source ? source : 1, sub ? 2 : 1, source ? source : 1, sub ? 2 : 1, w, h, sub ? 512 : 4096);
}

void camsim_tpl_profiles(struct camsim_buf *b, const char *relates_to, unsigned sources)
{
	begin(b, ACT_TRT "GetProfilesResponse", relates_to);
	camsim_buf_puts(b, "<trt:GetProfilesResponse>");
	if (sources <= 1)
		profile(b, 0, false);
	for (unsigned s = 1; sources > 1 && s <= sources; s++) {
		profile(b, s, false);
		profile(b, s, true);
	}
	camsim_buf_puts(b, "</trt:GetProfilesResponse>");
	end(b);
}

void camsim_tpl_video_sources(struct camsim_buf *b, const char *relates_to, unsigned sources)
{
	begin(b, ACT_TRT "GetVideoSourcesResponse", relates_to);
	camsim_buf_puts(b, "<trt:GetVideoSourcesResponse>");
	for (unsigned s = 1; s <= (sources > 1 ? sources : 1); s++)
		camsim_buf_printf(b, "<trt:VideoSources token=\"VideoSource_%u\"><tt:Framerate>25</tt:Framerate>"
				     "<tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution>"
				     "</trt:VideoSources>",
				  s);
	camsim_buf_puts(b, "</trt:GetVideoSourcesResponse>");
	end(b);
}

void camsim_tpl_stream_uri(struct camsim_buf *b, const char *relates_to, const char *host, const char *camera_id,
			   const char *url)
{
	begin(b, ACT_TRT "GetStreamUriResponse", relates_to);
	camsim_buf_puts(b, "<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>");
	if (url && *url) {
		camsim_buf_escape(b, url);
	} else {
		camsim_buf_puts(b, "rtsp://");
		camsim_buf_escape(b, host);
		camsim_buf_puts(b, ":554/camsim/");
		camsim_buf_escape(b, camera_id);
		camsim_buf_puts(b, "?channel=1&amp;subtype=0");
	}
	camsim_buf_puts(b, "</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
			   "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>"
			   "</trt:MediaUri></trt:GetStreamUriResponse>");
	end(b);
}

void camsim_tpl_snapshot_uri(struct camsim_buf *b, const char *relates_to, const char *base_url)
{
	begin(b, ACT_TRT "GetSnapshotUriResponse", relates_to);
	camsim_buf_printf(b,
			  "<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>%s/onvif/snapshot.jpg</tt:Uri>"
			  "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
			  "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>"
			  "</trt:MediaUri></trt:GetSnapshotUriResponse>",
			  base_url);
	end(b);
}

/* The Source items of an event of kind k on video source `source` (an NVR's, from 1; 0 on a camera,
 * which keeps the placeholder tokens Hikvision cameras write). */
static void source_items(struct camsim_buf *b, const struct camsim_kind *k, bool describe, unsigned source)
{
	static const char *const rule_items[] = {"VideoSourceConfigurationToken", "VideoAnalyticsConfigurationToken",
						 "Rule"};
	char cfg[32], src[32];
	snprintf(cfg, sizeof(cfg), source ? "VideoSourceConfig_%u" : "VideoSourceToken", source);
	snprintf(src, sizeof(src), source ? "VideoSource_%u" : "VideoSourceToken", source);
	const char *values[] = {cfg, "VideoAnalyticsToken", k->rule};
	if (k->source == CAMSIM_SOURCE_RULE) {
		for (int i = 0; i < 3; i++)
			if (describe)
				camsim_buf_printf(b, "<tt:SimpleItemDescription Name=\"%s\" Type=\"%s\"/>", rule_items[i],
						  i < 2 ? "tt:ReferenceToken" : "xs:string");
			else
				camsim_buf_printf(b, "<tt:SimpleItem Name=\"%s\" Value=\"%s\"/>", rule_items[i],
						  values[i]);
	} else {
		const char *name = k->source == CAMSIM_SOURCE_INPUT ? "InputToken" : "Source";
		const char *value = k->source == CAMSIM_SOURCE_INPUT ? "DIGIT_INPUT_1" : src;
		if (describe)
			camsim_buf_printf(b, "<tt:SimpleItemDescription Name=\"%s\" Type=\"tt:ReferenceToken\"/>", name);
		else
			camsim_buf_printf(b, "<tt:SimpleItem Name=\"%s\" Value=\"%s\"/>", name, value);
	}
}

/* Splits a topic after its "tns1:" prefix into its path components. */
static int split_topic(const char *topic, const char *parts[8], size_t lens[8])
{
	const char *p = strchr(topic, ':') ? strchr(topic, ':') + 1 : topic;
	int n = 0;
	while (*p && n < 8) {
		const char *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);
		parts[n] = p;
		lens[n++] = l;
		p += l;
		if (*p == '/')
			p++;
	}
	return n;
}

void camsim_tpl_event_properties(struct camsim_buf *b, const char *relates_to)
{
	begin(b, ACT_TEV "EventPortType/GetEventPropertiesResponse", relates_to);
	camsim_buf_puts(b, "<tev:GetEventPropertiesResponse>"
			   "<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml"
			   "</tev:TopicNamespaceLocation><wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>"
			   "<wstop:TopicSet>");
	const char *open[8];
	size_t open_len[8];
	int depth = 0;
	for (int k = 0; k < CAMSIM_KIND_COUNT; k++) {
		const struct camsim_kind *kind = &camsim_kinds[k];
		const char *parts[8];
		size_t lens[8];
		int n = split_topic(kind->topic, parts, lens);
		int common = 0;
		while (common < depth && common < n - 1 && open_len[common] == lens[common] &&
		       memcmp(open[common], parts[common], lens[common]) == 0)
			common++;
		while (depth > common) {
			depth--;
			camsim_buf_printf(b, "</tns1:%.*s>", (int)open_len[depth], open[depth]);
		}
		for (; depth < n - 1; depth++) {
			open[depth] = parts[depth];
			open_len[depth] = lens[depth];
			camsim_buf_printf(b, "<tns1:%.*s>", (int)lens[depth], parts[depth]);
		}
		camsim_buf_printf(b, "<tns1:%.*s wstop:topic=\"true\"><tt:MessageDescription IsProperty=\"%s\">"
				     "<tt:Source>",
				  (int)lens[n - 1], parts[n - 1], kind->state_item ? "true" : "false");
		source_items(b, kind, true, 0);
		camsim_buf_puts(b, "</tt:Source><tt:Data>");
		if (kind->state_item)
			camsim_buf_printf(b, "<tt:SimpleItemDescription Name=\"%s\" Type=\"xs:boolean\"/>",
					  kind->state_item);
		if (kind->extra_item)
			camsim_buf_printf(b, "<tt:SimpleItemDescription Name=\"%s\" Type=\"xs:string\"/>",
					  kind->extra_item);
		camsim_buf_puts(b, "<tt:SimpleItemDescription Name=\"EventId\" Type=\"xs:string\"/>"
				   "</tt:Data></tt:MessageDescription>");
		camsim_buf_printf(b, "</tns1:%.*s>", (int)lens[n - 1], parts[n - 1]);
	}
	while (depth > 0) {
		depth--;
		camsim_buf_printf(b, "</tns1:%.*s>", (int)open_len[depth], open[depth]);
	}
	camsim_buf_puts(b, "</wstop:TopicSet>"
			   "<wsnt:TopicExpressionDialect>http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
			   "</wsnt:TopicExpressionDialect>"
			   "<wsnt:TopicExpressionDialect>http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete"
			   "</wsnt:TopicExpressionDialect>"
			   "<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter"
			   "</tev:MessageContentFilterDialect>"
			   "<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd"
			   "</tev:MessageContentSchemaLocation></tev:GetEventPropertiesResponse>");
	end(b);
}

static void put_address(struct camsim_buf *b, const char *element, const char *address)
{
	camsim_buf_printf(b, "<%s><wsa:Address>", element);
	camsim_buf_escape(b, address);
	camsim_buf_printf(b, "</wsa:Address></%s>", element);
}

void camsim_tpl_subscription_created(struct camsim_buf *b, const char *relates_to, const char *sub_address,
				     int64_t now, int64_t termination)
{
	begin(b, ACT_TEV "EventPortType/CreatePullPointSubscriptionResponse", relates_to);
	camsim_buf_puts(b, "<tev:CreatePullPointSubscriptionResponse>");
	put_address(b, "tev:SubscriptionReference", sub_address);
	put_time(b, "wsnt:CurrentTime", now);
	put_time(b, "wsnt:TerminationTime", termination);
	camsim_buf_puts(b, "</tev:CreatePullPointSubscriptionResponse>");
	end(b);
}

void camsim_tpl_renewed(struct camsim_buf *b, const char *relates_to, int64_t now, int64_t termination)
{
	begin(b, ACT_WSN "SubscriptionManager/RenewResponse", relates_to);
	camsim_buf_puts(b, "<wsnt:RenewResponse>");
	put_time(b, "wsnt:TerminationTime", termination);
	put_time(b, "wsnt:CurrentTime", now);
	camsim_buf_puts(b, "</wsnt:RenewResponse>");
	end(b);
}

void camsim_tpl_unsubscribed(struct camsim_buf *b, const char *relates_to)
{
	begin(b, ACT_WSN "SubscriptionManager/UnsubscribeResponse", relates_to);
	camsim_buf_puts(b, "<wsnt:UnsubscribeResponse/>");
	end(b);
}

void camsim_tpl_pull_begin(struct camsim_buf *b, const char *relates_to, int64_t now, int64_t termination)
{
	begin(b, ACT_TEV "PullPointSubscription/PullMessagesResponse", relates_to);
	camsim_buf_puts(b, "<tev:PullMessagesResponse>");
	put_time(b, "tev:CurrentTime", now);
	put_time(b, "tev:TerminationTime", termination);
}

void camsim_tpl_notification(struct camsim_buf *b, const char *sub_address, const char *camera_id,
			     const struct camsim_event *ev, const struct camsim_dialect *d)
{
	const struct camsim_kind *k = &camsim_kinds[ev->kind < CAMSIM_KIND_COUNT ? ev->kind : 0];
	char ts[40], id[64];
	camsim_event_id(camera_id, ev->seq, id, sizeof(id));
	camsim_buf_puts(b, "<wsnt:NotificationMessage>");
	put_address(b, "wsnt:SubscriptionReference", sub_address);
	camsim_buf_printf(b, "<wsnt:Topic Dialect=\"http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet\">"
			     "%s%s%s</wsnt:Topic>",
			  d->padded_topic ? "\n        " : "", k->topic, d->padded_topic ? "\n      " : "");
	camsim_buf_printf(b, "<wsnt:Message><tt:Message UtcTime=\"%s\" PropertyOperation=\"%s\"><tt:Source>",
			  format_time(ev->time, d->time, ts, sizeof(ts)), ev->initialized ? "Initialized" : "Changed");
	source_items(b, k, false, ev->source);
	camsim_buf_puts(b, "</tt:Source><tt:Data>");
	if (k->state_item)
		camsim_buf_printf(b, "<tt:SimpleItem Name=\"%s\" Value=\"%s\"/>", k->state_item,
				  ev->active ? d->yes : d->no);
	if (k->extra_item)
		camsim_buf_printf(b, "<tt:SimpleItem Name=\"%s\" Value=\"%s\"/>", k->extra_item, k->extra_value);
	camsim_buf_printf(b, "<tt:SimpleItem Name=\"EventId\" Value=\"%s\"/>", id);
	camsim_buf_puts(b, "</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>");
}

void camsim_tpl_pull_end(struct camsim_buf *b)
{
	camsim_buf_puts(b, "</tev:PullMessagesResponse>");
	end(b);
}
