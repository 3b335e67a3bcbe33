/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a device writes: the stream's HTTP head and its parts, in the framings real firmware uses
 * (tests/fixtures/isapi and tests/fixtures/dahua hold the captures this copies). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vendorsim.h"

/* ISAPI eventType values (VENDOR-NOTES.md), with the eventDescription devices write. */
const struct vsim_type vsim_isapi_types[] = {
	{"VMD", "Motion alarm", true, false, 6},
	{"linedetection", "linedetection alarm", true, true, 2},
	{"fielddetection", "fielddetection alarm", true, true, 2},
	{"regionEntrance", "regionEntrance alarm", true, true, 1},
	{"tamperdetection", "tamperdetection alarm", true, false, 1},
	{"IO", "IO alarm", true, false, 1},
	{"PIR", "PIR alarm", true, false, 1},
	{"faceSnap", "faceSnap alarm", true, true, 1},
	{"scenechangedetection", "scenechangedetection alarm", true, false, 1},
	{NULL, NULL, false, false, 0},
};

/* Dahua Codes; pulses are codes devices write with action=Pulse. */
const struct vsim_type vsim_dahua_types[] = {
	{"VideoMotion", NULL, true, false, 6},
	{"CrossLineDetection", NULL, true, true, 2},
	{"CrossRegionDetection", NULL, true, true, 2},
	{"SmartMotionHuman", NULL, true, true, 1},
	{"VideoBlind", NULL, true, false, 1},
	{"AlarmLocal", NULL, true, false, 1},
	{"LeftDetection", NULL, false, true, 1},
	{"FaceDetection", NULL, false, true, 1},
	/* a real Code no table maps (openhab-addons#11391): weight 0, sent only when asked for */
	{"RtspSessionDisconnect", NULL, false, false, 0},
	{NULL, NULL, false, false, 0},
};

const struct vsim_type *vsim_types(enum vsim_protocol p, size_t *ret_n)
{
	const struct vsim_type *t = p == VSIM_ISAPI ? vsim_isapi_types : vsim_dahua_types;
	size_t n = 0;
	while (t[n].name)
		n++;
	*ret_n = n;
	return t;
}

int vsim_type_find(enum vsim_protocol p, const char *name)
{
	size_t n;
	const struct vsim_type *t = vsim_types(p, &n);
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(t[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

static const char *const format_names[VSIM_FMT_COUNT] = {"xml20", "xml10", "xml", "json"};

int vsim_dialect_parse(enum vsim_protocol p, const char *s, struct vsim_dialect *ret)
{
	struct vsim_dialect d = {0};
	char tmp[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(tmp) || s[0] == '+' || s[n - 1] == '+' || strstr(s, "++"))
		return -EINVAL;
	strcpy(tmp, s);
	char *save = NULL;
	bool first = true;
	for (char *tok = strtok_r(tmp, "+", &save); tok; tok = strtok_r(NULL, "+", &save), first = false) {
		bool found = false;
		for (int f = 0; f < VSIM_FMT_COUNT && first && p == VSIM_ISAPI; f++)
			if (strcmp(tok, format_names[f]) == 0) {
				d.format = (uint8_t)f;
				found = true;
			}
		if (found)
			continue;
		if (first && p == VSIM_DAHUA && strcmp(tok, "standard") == 0)
			continue;
		if (strcmp(tok, "lf") == 0)
			d.lf = true;
		else if (p == VSIM_ISAPI && strcmp(tok, "mime") == 0)
			d.mime_boundary = true;
		else if (p == VSIM_DAHUA && strcmp(tok, "amcrest") == 0)
			d.amcrest = true;
		else
			return -EINVAL;
	}
	*ret = d;
	return 0;
}

void vsim_dialect_name(enum vsim_protocol p, const struct vsim_dialect *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", p == VSIM_ISAPI ? format_names[d->format] : "standard", d->lf ? "+lf" : "",
		 d->mime_boundary ? "+mime" : "", d->amcrest ? "+amcrest" : "");
}

/* --mixed: ISAPI devices go through the 4 formats with and without LF and MIME_boundary; Dahua
 * devices through standard, lf, amcrest (always LF, as the capture is). */
void vsim_dialect_mixed(enum vsim_protocol p, unsigned i, struct vsim_dialect *ret)
{
	struct vsim_dialect d = {0};
	if (p == VSIM_ISAPI) {
		d.format = (uint8_t)(i % VSIM_FMT_COUNT);
		d.lf = (i / VSIM_FMT_COUNT) % 2;
		d.mime_boundary = (i / (2 * VSIM_FMT_COUNT)) % 2;
	} else {
		d.lf = i % 3 != 0;
		d.amcrest = i % 3 == 2;
	}
	*ret = d;
}

const char *vsim_boundary(const struct vsim_device *dev, const struct vsim_dialect *d)
{
	if (dev->sim->opt.protocol == VSIM_DAHUA)
		return "myboundary";
	return d->mime_boundary ? "MIME_boundary" : "boundary";
}

static const char *eol(const struct vsim_conn *c)
{
	return c->dialect.lf ? "\n" : "\r\n";
}

void vsim_render_stream_head(const struct vsim_device *dev, const struct vsim_conn *c, struct camsim_buf *b)
{
	const char *boundary = vsim_boundary(dev, &c->dialect);
	/* a wrong-boundary stream declares one its parts never use */
	const char *declared = c->wrong_boundary ? "WrongBoundary0123" : boundary;
	if (dev->sim->opt.protocol == VSIM_DAHUA)
		camsim_buf_printf(b,
				  "HTTP/1.1 200 OK\r\nServer: Device/1.0\r\nContent-Type: multipart/x-mixed-replace; "
				  "boundary=%s\r\nConnection: close\r\n\r\n",
				  declared);
	else
		camsim_buf_printf(b,
				  "HTTP/1.1 200 OK\r\nMIME-Version: 1.0\r\nConnection: close\r\nContent-Type: "
				  "multipart/mixed; boundary=%s\r\n\r\n",
				  declared);
}

/* The part's delimiter line and headers. */
static void part_head(const struct vsim_device *dev, const struct vsim_conn *c, const char *ctype, size_t len,
		      struct camsim_buf *b)
{
	const char *e = eol(c);
	const char *boundary = vsim_boundary(dev, &c->dialect);
	if (dev->sim->opt.protocol == VSIM_DAHUA && c->dialect.amcrest)
		camsim_buf_printf(b, "-- %s%sContent-Type: %s%sContent-Length:%zu%s", boundary, e, ctype, e, len, e);
	else if (dev->sim->opt.protocol == VSIM_DAHUA)
		camsim_buf_printf(b, "--%s%sContent-Type: %s%sContent-Length:%zu%s%s", boundary, e, ctype, e, len, e, e);
	else
		camsim_buf_printf(b, "--%s%sContent-Type: %s%sContent-Length: %zu%s%s", boundary, e, ctype, e, len, e, e);
}

static void part(const struct vsim_device *dev, const struct vsim_conn *c, const char *ctype, const void *body,
		 size_t len, struct camsim_buf *b)
{
	part_head(dev, c, ctype, len, b);
	camsim_buf_append(b, body, len);
	camsim_buf_puts(b, eol(c));
	if (dev->sim->opt.protocol == VSIM_DAHUA)
		camsim_buf_puts(b, eol(c));
}

/* "2026-12-03T16:00:00+08:00": devices write local time (China Standard Time) with its offset. */
static void local_time(double t, char *buf, size_t len, bool dahua_style)
{
	time_t s = (time_t)t + 8 * 3600;
	struct tm tm;
	gmtime_r(&s, &tm);
	if (dahua_style)
		strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

static void mac(const struct vsim_device *dev, char *buf, size_t len)
{
	snprintf(buf, len, "44:19:b6:%02x:%02x:%02x", (dev->index >> 16) & 0xff, (dev->index >> 8) & 0xff,
		 dev->index & 0xff);
}

/* An EventNotificationAlert in XML; id NULL for a heartbeat. */
static void isapi_xml(const struct vsim_device *dev, const struct vsim_conn *c, const struct vsim_edge *e,
		      const char *id, struct camsim_buf *x)
{
	const char *n = eol(c);
	char ts[40], m[24];
	local_time(e->time, ts, sizeof(ts), false);
	mac(dev, m, sizeof(m));
	static const char *const ns[] = {
		" version=\"2.0\" xmlns=\"http://www.hikvision.com/ver20/XMLSchema\"",
		" version=\"1.0\" xmlns=\"http://www.hikvision.com/ver10/XMLSchema\"",
		" version=\"1.0\"",
	};
	camsim_buf_printf(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>%s<EventNotificationAlert%s>%s", n,
			  ns[c->dialect.format < 3 ? c->dialect.format : 0], n);
	camsim_buf_printf(x, "<ipAddress>%s</ipAddress>%s<portNo>%d</portNo>%s<protocol>HTTP</protocol>%s",
			  dev->sim->opt.common.host, n, dev->port, n, n);
	camsim_buf_printf(x, "<macAddress>%s</macAddress>%s", m, n);
	/* an NVR numbers its channels with dynChannelID and leaves channelID out */
	if (dev->sim->opt.channels > 1)
		camsim_buf_printf(x, "<dynChannelID>%u</dynChannelID>%s", e->channel, n);
	else
		camsim_buf_printf(x, "<channelID>%u</channelID>%s", e->channel, n);
	camsim_buf_printf(x, "<dateTime>%s</dateTime>%s<activePostCount>%u</activePostCount>%s", ts, n, e->post, n);
	camsim_buf_printf(x, "<eventType>%s</eventType>%s<eventState>%s</eventState>%s", e->type->name, n,
			  e->state == 1 ? "active" : "inactive", n);
	camsim_buf_printf(x, "<eventDescription>%s</eventDescription>%s", e->type->description, n);
	camsim_buf_printf(x, "<channelName>Camera %02u</channelName>%s", e->channel, n);
	if (e->type->smart && e->state == 1) {
		camsim_buf_printf(x,
				  "<DetectionRegionList>%s<DetectionRegionEntry>%s<regionID>1</regionID>%s"
				  "<sensitivityLevel>50</sensitivityLevel>%s<RegionCoordinatesList>%s",
				  n, n, n, n, n);
		for (int k = 0; k < 2; k++)
			camsim_buf_printf(x,
					  "<RegionCoordinates>%s<positionX>%d</positionX>%s<positionY>%d</positionY>%s"
					  "</RegionCoordinates>%s",
					  n, 161 + 263 * k, n, 610 + 32 * k, n, n);
		camsim_buf_printf(x, "</RegionCoordinatesList>%s<detectionTarget>human</detectionTarget>%s", n, n);
		camsim_buf_printf(x, "</DetectionRegionEntry>%s</DetectionRegionList>%s", n, n);
	}
	if (e->picture)
		camsim_buf_printf(x,
				  "<detectionPictureTransType>binary</detectionPictureTransType>%s"
				  "<detectionPicturesNumber>1</detectionPicturesNumber>%s",
				  n, n);
	if (id)
		camsim_buf_printf(x, "<simEventId>%s</simEventId>%s", id, n);
	camsim_buf_printf(x, "</EventNotificationAlert>%s", n);
}

static void isapi_json(const struct vsim_device *dev, const struct vsim_conn *c, const struct vsim_edge *e,
		       const char *id, struct camsim_buf *x)
{
	char ts[40], m[24];
	local_time(e->time, ts, sizeof(ts), false);
	mac(dev, m, sizeof(m));
	camsim_buf_printf(x, "{\"ipAddress\":\"%s\",\"portNo\":%d,\"protocol\":\"HTTP\",\"macAddress\":\"%s\",",
			  dev->sim->opt.common.host, dev->port, m);
	camsim_buf_printf(x, "\"%s\":%u,", dev->sim->opt.channels > 1 ? "dynChannelID" : "channelID", e->channel);
	camsim_buf_printf(x,
			  "\"dateTime\":\"%s\",\"activePostCount\":%u,\"eventType\":\"%s\",\"eventState\":\"%s\","
			  "\"eventDescription\":\"%s\"",
			  ts, e->post, e->type->name, e->state == 1 ? "active" : "inactive", e->type->description);
	if (e->picture)
		camsim_buf_puts(x, ",\"detectionPictureTransType\":\"binary\",\"detectionPicturesNumber\":1");
	if (id)
		camsim_buf_printf(x, ",\"simEventId\":\"%s\"", id);
	camsim_buf_printf(x, "}%s", eol(c));
}

static void dahua_text(const struct vsim_device *dev, const struct vsim_conn *c, const struct vsim_edge *e,
		       struct camsim_buf *x)
{
	const char *n = eol(c);
	char lt[40];
	local_time(e->time, lt, sizeof(lt), true);
	const char *action = e->state == 1 ? "Start" : e->state == 0 ? "Stop" : "Pulse";
	camsim_buf_printf(x, "Code=%s;action=%s;index=%u;data={%s", e->type->name, action, e->channel - 1, n);
	camsim_buf_printf(x, "   \"EventID\" : %" PRIu64 ",%s", e->seq, n);
	camsim_buf_printf(x, "   \"LocaleTime\" : \"%s\",%s", lt, n);
	if (e->type->smart) {
		camsim_buf_printf(x, "   \"Name\" : \"Rule%u\",%s", e->channel, n);
		camsim_buf_printf(x, "   \"Object\" : {%s      \"ObjectType\" : \"Human\",%s      \"ObjectID\" : %u%s   },%s",
				  n, n, (unsigned)(e->seq % 1000), n, n);
	} else {
		camsim_buf_printf(x, "   \"RegionName\" : [ \"Region1\" ],%s", n);
	}
	/* as many firmwares do: the local wall clock where epoch seconds belong */
	camsim_buf_printf(x, "   \"UTC\" : %lld%s}", (long long)e->time + dev->mb.utc_local_min * 60LL, n);
}

size_t vsim_render_edge(const struct vsim_device *dev, const struct vsim_conn *c, const struct vsim_edge *e,
			struct camsim_buf *b)
{
	struct camsim_buf x = {0};
	size_t start = b->len;
	if (dev->sim->opt.protocol == VSIM_DAHUA) {
		dahua_text(dev, c, e, &x);
		part(dev, c, "text/plain", x.data, x.len, b);
		camsim_buf_free(&x);
		return b->len - start;
	}
	char id[48];
	vsim_event_id(dev, e->seq, id, sizeof(id));
	if (c->dialect.format == VSIM_FMT_JSON) {
		isapi_json(dev, c, e, id, &x);
		part(dev, c, "application/json; charset=\"UTF-8\"", x.data, x.len, b);
	} else {
		isapi_xml(dev, c, e, id, &x);
		part(dev, c, "application/xml; charset=\"UTF-8\"", x.data, x.len, b);
	}
	camsim_buf_free(&x);
	size_t doc = b->len - start;
	if (e->picture)
		part(dev, c, "image/jpeg", vsim_jpeg, vsim_jpeg_len, b);
	return doc;
}

void vsim_render_heartbeat(const struct vsim_device *dev, const struct vsim_conn *c, struct camsim_buf *b)
{
	if (dev->sim->opt.protocol == VSIM_DAHUA) {
		part(dev, c, "text/plain", "Heartbeat", 9, b);
		return;
	}
	/* the videoloss/inactive heartbeat: not a video loss */
	static const struct vsim_type videoloss = {"videoloss", "videoloss alarm", true, false, 0};
	struct vsim_edge e = {.type = &videoloss, .channel = 1, .post = 0, .state = 0, .time = camsim_wall_now()};
	struct camsim_buf x = {0};
	if (c->dialect.format == VSIM_FMT_JSON) {
		isapi_json(dev, c, &e, NULL, &x);
		part(dev, c, "application/json; charset=\"UTF-8\"", x.data, x.len, b);
	} else {
		isapi_xml(dev, c, &e, NULL, &x);
		part(dev, c, "application/xml; charset=\"UTF-8\"", x.data, x.len, b);
	}
	camsim_buf_free(&x);
}
