/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The SIP server tests' fixture (gb_server_fx.h): a fake core, a device on a UDP socket, and the
 * messages it sends. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "gb_digest.h"
#include "gb_server_fx.h"
static void channel_put(void *arg, const char *id, const char *json)
{
	struct fake *f = arg;
	f->channel_puts++;
	snprintf(f->channels + strlen(f->channels), sizeof(f->channels) - strlen(f->channels), "%s %s\n", id, json);
}

static const char *camera_of(void *arg, const char *id)
{
	const struct fake *f = arg;
	if (!strcmp(id, DEVICE) && !f->device_not_in_ledger)
		return "nvr-1"; /* the NVR itself is in the ledger too (its camera_offline) */
	if (!strcmp(id, CHANNEL5))
		return "cam-105";
	return !strcmp(id, CHANNEL) ? "cam-107" : NULL;
}

static const char *password_of(void *arg, const char *id)
{
	(void)arg;
	(void)id;
	return NULL; /* the domain-wide password applies */
}

static int emit(void *arg, const struct agw_alert *a)
{
	struct fake *f = arg;
	if (f->emit_rc)
		return f->emit_rc;
	f->emits++;
	f->last_offline = a->active;
	size_t used = strlen(f->emitted);
	snprintf(f->emitted + used, sizeof(f->emitted) - used, "%s %s %s %s\n", agw_alert_kind_name(a->kind), a->camera_id,
		 a->topic, a->active == AGW_ACTIVE_TRUE ? "true" : a->active == AGW_ACTIVE_FALSE ? "false" : "none");
	for (size_t i = 0; i < a->data.n; i++) {
		used = strlen(f->emitted);
		snprintf(f->emitted + used, sizeof(f->emitted) - used, "  %s=%s\n", a->data.v[i].name, a->data.v[i].value);
	}
	return 0;
}

static int locate(void *arg, const char *camera, double lon, double lat, const char *crs)
{
	struct fake *f = arg;
	f->locates++;
	snprintf(f->located, sizeof(f->located), "%s %.2f %.2f %s", camera, lon, lat, crs);
	return 0;
}

static int emit_durable(void *arg, const struct agw_alert *a, void (*done)(void *, int), void *done_arg)
{
	struct fake *f = arg;
	f->durable_calls++;
	if (f->durable_rc != 0)
		return f->durable_rc;
	snprintf(f->camera, sizeof(f->camera), "%s", a->camera_id);
	snprintf(f->topic, sizeof(f->topic), "%s", a->topic);
	snprintf(f->kind, sizeof(f->kind), "%s", agw_alert_kind_name(a->kind));
	f->camera_time_ms = a->camera_time_ms;
	f->done = done;
	f->done_arg = done_arg;
	return 0;
}



/* The header line of a message that starts with name, with its CRLF, appended to out. */
void copy_header(const char *msg, const char *name, char *out, size_t len)
{
	const char *p = strstr(msg, name);
	const char *e = p ? strstr(p, "\r\n") : NULL;
	if (p && e)
		snprintf(out + strlen(out), len - strlen(out), "%.*s\r\n", (int)(e - p), p);
}

void answer_request(struct world *w, const char *req)
{
	char out[2048] = "SIP/2.0 200 OK\r\n";
	copy_header(req, "Via: ", out, sizeof(out));
	copy_header(req, "From: ", out, sizeof(out));
	copy_header(req, "To: ", out, sizeof(out));
	if (w->to_tag && !strncmp(req, "SUBSCRIBE ", 10)) { /* a device that makes a dialog */
		snprintf(out + strlen(out) - 2, sizeof(out) - strlen(out) + 2, ";tag=%s\r\nContact: <sip:" DEVICE
									       "@127.0.0.1:5061>\r\n",
			 w->to_tag);
	}
	copy_header(req, "Call-ID: ", out, sizeof(out));
	copy_header(req, "CSeq: ", out, sizeof(out));
	snprintf(out + strlen(out), sizeof(out) - strlen(out), "Content-Length: 0\r\n\r\n");
	sendmsg_(w, out);
}

void sendmsg_(struct world *w, const char *msg)
{
	assert_int_equal(sendto(w->sock, msg, strlen(msg), 0, (struct sockaddr *)&w->to, sizeof(w->to)), (ssize_t)strlen(msg));
}

/* Runs the loop until an answer comes (or ms pass); returns its length, 0 for none. Requests
 * from the server are kept aside (and answered when the test says so). */
size_t receive(struct world *w, char *buf, size_t len, int ms)
{
	for (int i = 0; i < ms; i++) {
		uv_run(&w->loop, UV_RUN_NOWAIT);
		ssize_t n = recv(w->sock, buf, len - 1, MSG_DONTWAIT);
		if (n > 0) {
			buf[n] = '\0';
			if (!strncmp(buf, "SIP/2.0 ", 8))
				return (size_t)n;
			snprintf(w->request, sizeof(w->request), "%s", buf);
			size_t used = strlen(w->requests_seen);
			snprintf(w->requests_seen + used, sizeof(w->requests_seen) - used, "%s", buf);
			w->requests++;
			if (w->answer_requests)
				answer_request(w, buf);
			continue;
		}
		usleep(1000);
	}
	buf[0] = '\0';
	return 0;
}

void expect_status(struct world *w, const char *status_line, char *buf, size_t len)
{
	receive(w, buf, len, 2000);
	if (strncmp(buf, status_line, strlen(status_line)) != 0)
		fail_msg("expected '%s', got '%.200s'", status_line, buf);
}

void register_msg(struct world *w, char *out, size_t len, const char *auth, int expires)
{
	w->branch++;
	snprintf(out, len,
		 "REGISTER sip:" SERVER_ID "@3402000000 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:%d;rport;branch=z9hG4bK%u\r\n"
		 "From: <sip:" DEVICE "@3402000000>;tag=111\r\n"
		 "To: <sip:" DEVICE "@3402000000>\r\n"
		 "Call-ID: reg-1\r\nCSeq: %u REGISTER\r\n"
		 "Contact: <sip:" DEVICE "@127.0.0.1:5060>\r\n"
		 "%s"
		 "Max-Forwards: 70\r\nUser-Agent: SIP UAS V3.0.0.1208500\r\nExpires: %d\r\nContent-Length: 0\r\n\r\n",
		 5060, w->branch, w->branch, auth, expires);
}

void authorization(const char *nonce, const char *password, char *out, size_t len)
{
	const char *uri = "sip:" SERVER_ID "@3402000000";
	char a1[256], ha1[33], ha2[33], r[512], resp[33];
	snprintf(a1, sizeof(a1), "%s:%s:%s", DEVICE, "3402000000", password);
	agw_gb_md5_hex(a1, strlen(a1), ha1);
	snprintf(a1, sizeof(a1), "REGISTER:%s", uri);
	agw_gb_md5_hex(a1, strlen(a1), ha2);
	snprintf(r, sizeof(r), "%s:%s:%s", ha1, nonce, ha2);
	agw_gb_md5_hex(r, strlen(r), resp);
	snprintf(out, len,
		 "Authorization: Digest username=\"%s\", realm=\"3402000000\", nonce=\"%s\", uri=\"%s\", "
		 "response=\"%s\", algorithm=MD5\r\n",
		 DEVICE, nonce, uri, resp);
}

void message(struct world *w, char *out, size_t len, unsigned branch, const char *body)
{
	snprintf(out, len,
		 "MESSAGE sip:" SERVER_ID "@3402000000 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bK%u\r\n"
		 "From: <sip:" DEVICE "@3402000000>;tag=222\r\n"
		 "To: <sip:" SERVER_ID "@3402000000>\r\n"
		 "Call-ID: msg-%u\r\nCSeq: 20 MESSAGE\r\n"
		 "Content-Type: Application/MANSCDP+xml\r\nContent-Length: %zu\r\n\r\n%s",
		 branch, branch, strlen(body), body);
	(void)w;
}

const char *alarm_body_at(const char *sn, const char *time)
{
	static char b[1024];
	snprintf(b, sizeof(b),
		 "<?xml version=\"1.0\" encoding=\"GB2312\" standalone=\"yes\" ?><Notify><CmdType>Alarm</CmdType>"
		 "<SN>%s</SN><DeviceID>" CHANNEL "</DeviceID><AlarmPriority>1</AlarmPriority><AlarmMethod>5</AlarmMethod>"
		 "<AlarmTime>%s</AlarmTime><AlarmDescription>\xCA\xD3\xC6\xB5\xB6\xAF\xBC\xEC</AlarmDescription>"
		 "<Info><AlarmType>2</AlarmType></Info></Notify>",
		 sn, time);
	return b;
}

const char *alarm_body(const char *sn)
{
	return alarm_body_at(sn, "2023-08-09T07:38:35");
}

struct gb_fx_opts gb_fx = {.keepalive_ms = 60000};


int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	assert_int_equal(uv_loop_init(&w->loop), 0);
	struct agw_gb_server_config cfg = {
		.listen = "127.0.0.1:0",
		.sip_id = SERVER_ID,
		.password = "12345678",
		.expires_min_s = 60,
		.expires_max_s = 3600,
		.keepalive_interval_ms = gb_fx.keepalive_ms,
		.keepalive_misses = 3,
		.max_devices = 100,
		.utc_offset_min = 480,
	};
	if (gb_fx.control) {
		char zerr[128];
		assert_int_equal(agw_gb_zones_parse(DEVICE "=+07:00", &w->zones, zerr, sizeof(zerr)), 0);
		cfg.zones = w->zones;
		cfg.catalog_interval_ms = 60000;
		cfg.arm = cfg.reset_alarm = true;
		cfg.subscribe_expires_s = 600;
	}
	if (gb_fx.subscribe_s)
		cfg.subscribe_expires_s = gb_fx.subscribe_s;
	cfg.gave_up_ms = gb_fx.gave_up_ms;
	struct agw_gb_server_env env = {.arg = &w->fake,
					.camera_of = camera_of,
					.password_of = password_of,
					.channel_put = channel_put,
					.locate = locate,
					.emit = emit,
					.emit_durable = emit_durable};
	char err[256];
	if (agw_gb_server_start(&w->loop, &cfg, &env, &w->srv, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	w->sock = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(w->sock >= 0);
	w->to.sin_family = AF_INET;
	w->to.sin_port = htons((uint16_t)agw_gb_server_port(w->srv));
	w->to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*state = w;
	return 0;
}

int stopped;
int setup_control(void **state)
{
	gb_fx.control = true;
	int rc = setup(state);
	gb_fx.control = false;
	return rc;
}

void on_stopped(void *arg)
{
	(void)arg;
	stopped++;
}

int teardown(void **state)
{
	struct world *w = *state;
	close(w->sock);
	agw_gb_server_stop(w->srv, NULL, NULL); /* again, for a test that failed before its stop */
	uv_run(&w->loop, UV_RUN_DEFAULT);
	agw_gb_server_free(w->srv);
	agw_gb_zones_free(w->zones);
	assert_int_equal(uv_loop_close(&w->loop), 0);
	free(w);
	return 0;
}

void do_register(struct world *w)
{
	char msg[2048], buf[4096], auth[512];
	register_msg(w, msg, sizeof(msg), "", 3600);
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 401 Unauthorized", buf, sizeof(buf));
	const char *n = strstr(buf, "nonce=\"");
	assert_non_null(n);
	assert_non_null(strstr(buf, "realm=\"3402000000\""));
	snprintf(w->nonce, sizeof(w->nonce), "%.40s", n + 7);
	authorization(w->nonce, "12345678", auth, sizeof(auth));
	register_msg(w, msg, sizeof(msg), auth, 7200);
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	assert_non_null(strstr(buf, "Expires: 3600\r\n")); /* capped at register_expires_max */
	assert_non_null(strstr(buf, "Date: "));
	assert_non_null(strstr(buf, "received=127.0.0.1"));
	assert_true(agw_gb_server_device_online(w->srv, DEVICE));
}

const char *catalog_part(const char *sn, const char *items)
{
	static char b[2048];
	snprintf(b, sizeof(b),
		 "<?xml version=\"1.0\" encoding=\"GB2312\"?><Response><CmdType>Catalog</CmdType><SN>%s</SN>"
		 "<DeviceID>" DEVICE "</DeviceID><SumNum>4</SumNum><DeviceList Num=\"2\">%s</DeviceList></Response>",
		 sn, items);
	return b;
}

void run_ms(struct world *w, int ms)
{
	char buf[4096];
	receive(w, buf, sizeof(buf), ms);
}
