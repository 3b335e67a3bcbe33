/* SPDX-License-Identifier: GPL-2.0-or-later */
/* alarmgw-rtspd: the RTSP server the RTSP adapter's tests and benchmark run against, built on the
 * GStreamer RTSP server library. It serves H.264 test pictures on loopback:
 *
 *   /normal   SMPTE bars with a band of blocks that encodes the wall clock (changes every 200 ms,
 *             repeats after hours), so two patrols never see the same picture
 *   /black    a black picture
 *   /frozen   plain SMPTE bars: the identical picture on every connection
 *   /covered  flat grey, no features (a covered or blurred lens)
 *   /switch   like /normal; the target of the stop/start/mute/unmute commands
 *   /meta     like /normal plus an ONVIF metadata track (application/vnd.onvif.metadata) that
 *             sends a tt:MetadataStream motion event every --meta-interval ms, split across RTP
 *             packets (marker bit on the last packet of a document)

 * With --auth USER:PASSWORD every mount requires those credentials (HTTP basic; a client without
 * them gets a 401 challenge).
 *
 * Commands, one per line on stdin, answered "ok ..." or "error ..." on stdout:
 *   stop PATH     unmount: new connections get 404 (video loss)
 *   start PATH    mount again
 *   mute PATH     the source stops sending frames and metadata (connections hang: no video)
 *   unmute PATH   frames flow again
 *   show PATH normal|black|frozen|covered
 *                 new connections to PATH get that picture (clearing tests)
 *   quit
 * Prints "READY port=N" once listening (port 0 picks a free port). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib-unix.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gst/rtsp-server/rtsp-server.h>

#define META_PT 107
#define META_CHUNK 300 /* bytes of XML per RTP packet: small, so documents span several packets */

struct mount {
	const char *path;
	const char *pattern; /* videotestsrc pattern */
	bool clock_band;     /* draw the wall-clock band */
	bool meta;           /* add the metadata track */
	GstRTSPMediaFactory *factory;
	bool mounted;
	bool muted;
	GList *media; /* GstRTSPMedia * (ref) currently prepared */
};

static struct mount mounts[] = {
	{.path = "/normal", .pattern = "smpte", .clock_band = true},
	{.path = "/black", .pattern = "black"},
	{.path = "/frozen", .pattern = "smpte"},
	{.path = "/covered", .pattern = "solid-color"},
	{.path = "/switch", .pattern = "smpte", .clock_band = true},
	{.path = "/meta", .pattern = "smpte", .clock_band = true, .meta = true},
};
#define N_MOUNTS (sizeof(mounts) / sizeof(mounts[0]))

static struct {
	int width, height, fps;
	unsigned meta_interval_ms;
	GstRTSPServer *server;
	GMainLoop *loop;
	guint16 meta_seq;
	unsigned meta_count;
} g = {.width = 320, .height = 240, .fps = 25, .meta_interval_ms = 1000};

static gint64 wall_ms(void)
{
	return g_get_real_time() / 1000;
}

/* Draws 2 rows of 8 blocks under the picture's middle: the bits of wall time / 200 ms, white or
 * black. Large blocks so that even a 16x16 luma fingerprint sees every change. */
static GstPadProbeReturn clock_band_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
	GstBuffer *buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
	GST_PAD_PROBE_INFO_DATA(info) = buf;
	GstMapInfo map;
	if (!gst_buffer_map(buf, &map, GST_MAP_WRITE))
		return GST_PAD_PROBE_OK;
	int stride = GST_ROUND_UP_4(g.width);
	guint64 counter = (guint64)wall_ms() / 200;
	int bw = g.width / 8, bh = g.height / 6;
	for (int bit = 0; bit < 16; bit++) {
		guint8 luma = (counter >> bit) & 1 ? 235 : 16;
		int x0 = (bit % 8) * bw, y0 = g.height / 3 + (bit / 8) * bh;
		for (int y = y0; y < y0 + bh && y < g.height; y++) {
			gsize off = (gsize)y * (gsize)stride + (gsize)x0;
			if (off + (gsize)bw <= map.size)
				memset(map.data + off, luma, (size_t)bw);
		}
	}
	gst_buffer_unmap(buf, &map);
	return GST_PAD_PROBE_OK;
}

#define META_DOC_FMT \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<tt:MetadataStream xmlns:tt=\"http://www.onvif.org/ver10/schema\" " \
	"xmlns:wsnt=\"http://docs.oasis-open.org/wsn/b-2\" " \
	"xmlns:tns1=\"http://www.onvif.org/ver10/topics\">" \
	"<tt:Event><wsnt:NotificationMessage>" \
	"<wsnt:Topic Dialect=\"http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet\">" \
	"tns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic>" \
	"<wsnt:Message><tt:Message UtcTime=\"%s\" PropertyOperation=\"Changed\">" \
	"<tt:Source>" \
	"<tt:SimpleItem Name=\"VideoSourceConfigurationToken\" Value=\"VideoSourceToken\"/>" \
	"<tt:SimpleItem Name=\"VideoAnalyticsConfigurationToken\" Value=\"VideoAnalyticsToken\"/>" \
	"<tt:SimpleItem Name=\"Rule\" Value=\"MyMotionDetectorRule\"/>" \
	"</tt:Source>" \
	"<tt:Data><tt:SimpleItem Name=\"IsMotion\" Value=\"%s\"/>" \
	"<tt:SimpleItem Name=\"EventId\" Value=\"rtspd-%u\"/></tt:Data>" \
	"</tt:Message></wsnt:Message>" \
	"</wsnt:NotificationMessage></tt:Event></tt:MetadataStream>"

/* Sends one document as RTP packets: same timestamp, consecutive sequence numbers, marker bit on
 * the last one (as the ONVIF streaming spec says). */
static void meta_push(GstAppSrc *src, const char *doc, guint32 rtptime)
{
	size_t len = strlen(doc);
	for (size_t off = 0; off < len; off += META_CHUNK) {
		size_t n = len - off < META_CHUNK ? len - off : META_CHUNK;
		GstBuffer *buf = gst_rtp_buffer_new_allocate((guint)n, 0, 0);
		GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
		if (!gst_rtp_buffer_map(buf, GST_MAP_WRITE, &rtp)) {
			gst_buffer_unref(buf);
			return;
		}
		gst_rtp_buffer_set_payload_type(&rtp, META_PT);
		gst_rtp_buffer_set_seq(&rtp, g.meta_seq++);
		gst_rtp_buffer_set_timestamp(&rtp, rtptime);
		gst_rtp_buffer_set_ssrc(&rtp, 0x4f4e5646);
		gst_rtp_buffer_set_marker(&rtp, off + n == len);
		memcpy(gst_rtp_buffer_get_payload(&rtp), doc + off, n);
		gst_rtp_buffer_unmap(&rtp);
		gst_app_src_push_buffer(src, buf); /* takes the buffer */
	}
}

static gboolean meta_tick(gpointer user)
{
	struct mount *m = user;
	if (!m->media || m->muted)
		return G_SOURCE_CONTINUE;
	char when[40], doc[2048];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	unsigned id = g.meta_count++;
	snprintf(doc, sizeof(doc), META_DOC_FMT, when, id % 2 == 0 ? "true" : "false", id);
	guint32 rtptime = (guint32)((guint64)g_get_monotonic_time() * 9 / 100);
	for (GList *l = m->media; l; l = l->next) {
		GstElement *bin = gst_rtsp_media_get_element(l->data);
		GstElement *src = gst_bin_get_by_name(GST_BIN(bin), "pay1");
		if (src) {
			meta_push(GST_APP_SRC(src), doc, rtptime);
			gst_object_unref(src);
		}
		gst_object_unref(bin);
	}
	return G_SOURCE_CONTINUE;
}

static void set_gate(GstRTSPMedia *media, bool drop)
{
	GstElement *bin = gst_rtsp_media_get_element(media);
	GstElement *gate = gst_bin_get_by_name(GST_BIN(bin), "gate");
	if (gate) {
		g_object_set(gate, "drop", drop, NULL);
		gst_object_unref(gate);
	}
	gst_object_unref(bin);
}

static void media_unprepared(GstRTSPMedia *media, gpointer user)
{
	struct mount *m = user;
	GList *l = g_list_find(m->media, media);
	if (l) {
		m->media = g_list_delete_link(m->media, l);
		g_object_unref(media);
	}
}

static void media_configure(GstRTSPMediaFactory *factory, GstRTSPMedia *media, gpointer user)
{
	struct mount *m = user;
	GstElement *bin = gst_rtsp_media_get_element(media);
	if (m->clock_band) {
		GstElement *src = gst_bin_get_by_name(GST_BIN(bin), "src");
		GstPad *pad = gst_element_get_static_pad(src, "src");
		gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, clock_band_probe, NULL, NULL);
		gst_object_unref(pad);
		gst_object_unref(src);
	}
	gst_object_unref(bin);
	set_gate(media, m->muted);
	m->media = g_list_prepend(m->media, g_object_ref(media));
	g_signal_connect(media, "unprepared", G_CALLBACK(media_unprepared), m);
}

static char *launch_line(const struct mount *m)
{
	char extra[64] = "";
	if (strcmp(m->pattern, "solid-color") == 0)
		snprintf(extra, sizeof(extra), " foreground-color=0xff808080");
	char *video = g_strdup_printf(
		"videotestsrc name=src is-live=true pattern=%s%s ! "
		"video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 ! valve name=gate drop=false ! "
		"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=%d threads=1 ! "
		"rtph264pay name=pay0 pt=96 config-interval=-1",
		m->pattern, extra, g.width, g.height, g.fps, g.fps);
	char *line;
	if (m->meta)
		line = g_strdup_printf("( %s appsrc name=pay1 is-live=true format=time do-timestamp=true "
				       "caps=\"application/x-rtp,media=(string)application,clock-rate=(int)90000,"
				       "encoding-name=(string)VND.ONVIF.METADATA,payload=(int)%d\" )",
				       video, META_PT);
	else
		line = g_strdup_printf("( %s )", video);
	g_free(video);
	return line;
}

static struct mount *mount_find(const char *path)
{
	for (size_t i = 0; i < N_MOUNTS; i++)
		if (strcmp(mounts[i].path, path) == 0)
			return &mounts[i];
	return NULL;
}

static void mount_set(struct mount *m, bool on)
{
	GstRTSPMountPoints *mp = gst_rtsp_server_get_mount_points(g.server);
	if (on && !m->mounted)
		gst_rtsp_mount_points_add_factory(mp, m->path, g_object_ref(m->factory));
	else if (!on && m->mounted)
		gst_rtsp_mount_points_remove_factory(mp, m->path);
	m->mounted = on;
	g_object_unref(mp);
}

static void reply(const char *status, const char *text)
{
	printf("%s %s\n", status, text);
	fflush(stdout);
}

/* Changes the picture new connections to m get. */
static bool show(struct mount *m, const char *what)
{
	while (*what == ' ')
		what++;
	const struct mount *model = NULL;
	for (size_t i = 0; i < N_MOUNTS; i++)
		if (strcmp(mounts[i].path + 1, what) == 0  && !mounts[i].meta)
			model = &mounts[i];
	if (!model || m->meta) {
		reply("error cannot show", what);
		return false;
	}
	m->pattern = model->pattern;
	m->clock_band = model->clock_band;
	char *line = launch_line(m);
	gst_rtsp_media_factory_set_launch(m->factory, line);
	g_free(line);
	return true;
}

static void command(char *line)
{
	g_strstrip(line);
	if (!*line)
		return;
	if (strcmp(line, "quit") == 0) {
		reply("ok", line);
		g_main_loop_quit(g.loop);
		return;
	}
	char **tok = g_strsplit(line, " ", 3);
	struct mount *m = tok[0] && tok[1] ? mount_find(tok[1]) : NULL;
	const char *cmd = tok[0];
	if (!m) {
		reply("error unknown command or path:", line);
	} else if (strcmp(cmd, "stop") == 0 || strcmp(cmd, "start") == 0) {
		mount_set(m, strcmp(cmd, "start") == 0);
		reply("ok", line);
	} else if (strcmp(cmd, "show") == 0 && tok[2]) {
		if (show(m, tok[2]))
			reply("ok", line);
	} else if (strcmp(cmd, "mute") == 0 || strcmp(cmd, "unmute") == 0) {
		m->muted = strcmp(cmd, "mute") == 0;
		for (GList *l = m->media; l; l = l->next)
			set_gate(l->data, m->muted);
		reply("ok", line);
	} else {
		reply("error unknown command:", line);
	}
	g_strfreev(tok);
}

static gboolean stdin_ready(GIOChannel *ch, GIOCondition cond, gpointer user)
{
	char *line = NULL;
	gsize len = 0;
	GIOStatus st = g_io_channel_read_line(ch, &line, &len, NULL, NULL);
	if (st == G_IO_STATUS_NORMAL && line) {
		command(line);
		g_free(line);
		return G_SOURCE_CONTINUE;
	}
	g_free(line);
	if (st == G_IO_STATUS_AGAIN)
		return G_SOURCE_CONTINUE;
	/* stdin closed: the test that started us is gone, so go too */
	g_main_loop_quit(g.loop);
	return G_SOURCE_REMOVE;
}

static gboolean on_signal(gpointer user)
{
	g_main_loop_quit(g.loop);
	return G_SOURCE_REMOVE;
}

/* The RTSP server asks every payloader for its "pt" property; our metadata appsrc has none, and
 * GLib would warn on every connection. Everything else goes to GLib's default handler. */
static void log_filter(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer user)
{
	if (message && strstr(message, "GstAppSrc' has no property named 'pt'"))
		return;
	g_log_default_handler(domain, level, message, user);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: alarmgw-rtspd [-a ADDR] [-p PORT] [-W WIDTH] [-H HEIGHT] [-r FPS]\n"
		     "                      [--meta-interval MS] [--auth USER:PASSWORD] [--no-stdin]\n");
}

/* Basic authentication for USER:PASSWORD, installed on the server; NULL when cred has no ':'. */
static GstRTSPAuth *make_auth(const char *cred)
{
	char **up = g_strsplit(cred, ":", 2);
	if (!up[0] || !up[1]) {
		g_strfreev(up);
		return NULL;
	}
	GstRTSPAuth *auth = gst_rtsp_auth_new();
	GstRTSPToken *user = gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "user", NULL);
	char *basic = gst_rtsp_auth_make_basic(up[0], up[1]);
	gst_rtsp_auth_add_basic(auth, basic, user);
	g_free(basic);
	gst_rtsp_token_unref(user);
	/* No default token: a request without credentials gets a 401 challenge (with an
	 * anonymous token it would get a 404, and clients only send credentials when challenged). */
	gst_rtsp_server_set_auth(g.server, auth);
	g_strfreev(up);
	return auth;
}

/* Every mount's media factory (only "user" may use them when auth is set). */
static void add_mounts(GstRTSPAuth *auth)
{
	for (size_t i = 0; i < N_MOUNTS; i++) {
		struct mount *m = &mounts[i];
		m->factory = gst_rtsp_media_factory_new();
		char *line = launch_line(m);
		gst_rtsp_media_factory_set_launch(m->factory, line);
		g_free(line);
		gst_rtsp_media_factory_set_shared(m->factory, FALSE);
		if (auth)
			gst_rtsp_media_factory_add_role(m->factory, "user", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS,
							G_TYPE_BOOLEAN, TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
							G_TYPE_BOOLEAN, TRUE, NULL);
		g_signal_connect(m->factory, "media-configure", G_CALLBACK(media_configure), m);
		if (m->meta)
			g_timeout_add(g.meta_interval_ms, meta_tick, m);
		mount_set(m, true);
	}
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	const char *port = "0";
	const char *auth_cred = NULL;
	bool use_stdin = true;
	static const struct option opts[] = {
		{"address", required_argument, NULL, 'a'}, {"port", required_argument, NULL, 'p'},
		{"width", required_argument, NULL, 'W'},   {"height", required_argument, NULL, 'H'},
		{"fps", required_argument, NULL, 'r'},     {"meta-interval", required_argument, NULL, 'm'},
		{"auth", required_argument, NULL, 'u'},    {"no-stdin", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "a:p:W:H:r:m:u:nh", opts, NULL)) != -1) {
		switch (c) {
		case 'a': addr = optarg; break;
		case 'p': port = optarg; break;
		case 'W': g.width = atoi(optarg); break;
		case 'H': g.height = atoi(optarg); break;
		case 'r': g.fps = atoi(optarg); break;
		case 'm': g.meta_interval_ms = (unsigned)atoi(optarg); break;
		case 'u': auth_cred = optarg; break;
		case 'n': use_stdin = false; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (g.width < 64 || g.width > 4096 || g.height < 64 || g.height > 4096 || g.fps < 1 || g.fps > 60 ||
	    g.width % 8 || g.height % 2 || g.meta_interval_ms < 10) {
		fprintf(stderr, "alarmgw-rtspd: bad size/fps/interval\n");
		return 2;
	}
	gst_init(&argc, &argv);
	g_log_set_handler("GLib-GObject", G_LOG_LEVEL_WARNING, log_filter, NULL);
	g.loop = g_main_loop_new(NULL, FALSE);
	g.server = gst_rtsp_server_new();
	gst_rtsp_server_set_address(g.server, addr);
	gst_rtsp_server_set_service(g.server, port);
	/* A thread per client: one connection stuck on a muted mount must not stall the others (by
	 * default every client shares one thread). */
	GstRTSPThreadPool *tp = gst_rtsp_server_get_thread_pool(g.server);
	gst_rtsp_thread_pool_set_max_threads(tp, 64);
	g_object_unref(tp);

	GstRTSPAuth *auth = NULL;
	if (auth_cred && !(auth = make_auth(auth_cred))) {
		fprintf(stderr, "alarmgw-rtspd: --auth wants USER:PASSWORD\n");
		return 2;
	}
	add_mounts(auth);

	if (gst_rtsp_server_attach(g.server, NULL) == 0) {
		fprintf(stderr, "alarmgw-rtspd: cannot listen on %s:%s\n", addr, port);
		return 1;
	}
	g_unix_signal_add(SIGINT, on_signal, NULL);
	g_unix_signal_add(SIGTERM, on_signal, NULL);
	GIOChannel *in = NULL;
	if (use_stdin) {
		in = g_io_channel_unix_new(0);
		g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_ready, NULL);
	}
	printf("READY port=%d\n", gst_rtsp_server_get_bound_port(g.server));
	fflush(stdout);
	g_main_loop_run(g.loop);

	if (in)
		g_io_channel_unref(in);
	for (size_t i = 0; i < N_MOUNTS; i++) {
		g_list_free_full(mounts[i].media, g_object_unref);
		g_object_unref(mounts[i].factory);
	}
	if (auth)
		g_object_unref(auth);
	g_object_unref(g.server);
	g_main_loop_unref(g.loop);
	return 0;
}
