/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The SIP server on a real loop and a real UDP socket, with a fake core: registration with a 401
 * challenge and Digest, wrong passwords, keepalives, an alarm answered only after the (fake)
 * commit, retransmissions absorbed, a repeated SN not journaled twice, back-pressure, bad input,
 * and a stop that waits for the alarm still being committed. */
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

#include "alarmgw/metrics.h"
#include "gb_digest.h"
#include "gb_server.h"

#include "gb_server_fx.h"

static void test_register(void **state)
{
	struct world *w = *state;
	char msg[2048], buf[4096], auth[512];
	/* not registered yet: its messages are refused */
	message(w, msg, sizeof(msg), 900, "<Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>" DEVICE
					  "</DeviceID><Status>OK</Status></Notify>");
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 403 Forbidden", buf, sizeof(buf));
	assert_false(agw_gb_server_device_online(w->srv, DEVICE));
	/* a wrong password */
	register_msg(w, msg, sizeof(msg), "", 3600);
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 401", buf, sizeof(buf));
	const char *n = strstr(buf, "nonce=\"");
	char nonce[64];
	snprintf(nonce, sizeof(nonce), "%.40s", n + 7);
	authorization(nonce, "wrong", auth, sizeof(auth));
	register_msg(w, msg, sizeof(msg), auth, 3600);
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 403 Forbidden", buf, sizeof(buf));
	assert_int_equal(agw_gb_server_stats(w->srv)->auth_failed, 1);
	/* a made-up nonce is challenged again */
	authorization("00000000000000000000000000000000deadbeef", "12345678", auth, sizeof(auth));
	register_msg(w, msg, sizeof(msg), auth, 3600);
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 401", buf, sizeof(buf));
	/* too short */
	authorization(nonce, "12345678", auth, sizeof(auth));
	register_msg(w, msg, sizeof(msg), auth, 30);
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 423 Interval Too Brief", buf, sizeof(buf));
	assert_non_null(strstr(buf, "Min-Expires: 60\r\n"));
	do_register(w);
	/* Expires: 0 unregisters */
	register_msg(w, msg, sizeof(msg), auth, 0);
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	assert_false(agw_gb_server_device_online(w->srv, DEVICE));
	agw_gb_server_stop(w->srv, on_stopped, NULL);
}

static void test_keepalive_and_bad_input(void **state)
{
	struct world *w = *state;
	char msg[2048], buf[4096];
	do_register(w);
	message(w, msg, sizeof(msg), 1, "<?xml version=\"1.0\"?><Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>" DEVICE
					"</DeviceID><Status>OK</Status></Notify>");
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	assert_int_equal(agw_gb_server_stats(w->srv)->keepalives, 1);
	/* broken XML: 400 with the reason */
	message(w, msg, sizeof(msg), 2, "<Notify><CmdType>Alarm</CmdType><SN>1</Sn></Notify>");
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 400 Bad Request", buf, sizeof(buf));
	assert_non_null(strstr(buf, "Warning: 399 alarmgw \"line 10: XML: Opening and ending tag mismatch"));
	/* not SIP at all: nothing to answer, counted */
	sendmsg_(w, "hello\r\n\r\n");
	assert_int_equal(receive(w, buf, sizeof(buf), 100), 0);
	assert_int_equal(agw_gb_server_stats(w->srv)->bad, 2);
	/* other methods */
	sendmsg_(w, "INVITE sip:" SERVER_ID "@3402000000 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKi\r\n"
		    "From: <sip:" DEVICE "@3402000000>;tag=1\r\nTo: <sip:" SERVER_ID "@3402000000>\r\nCall-ID: i\r\n"
		    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	expect_status(w, "SIP/2.0 405 Method Not Allowed", buf, sizeof(buf));
	agw_gb_server_stop(w->srv, on_stopped, NULL);
}

static void test_alarm_after_commit(void **state)
{
	struct world *w = *state;
	char msg[4096], buf[4096], first[4096];
	do_register(w);
	message(w, msg, sizeof(msg), 10, alarm_body("9"));
	sendmsg_(w, msg);
	/* nothing until the commit; the retransmission gets 100 Trying and is not emitted again */
	assert_int_equal(receive(w, buf, sizeof(buf), 100), 0);
	assert_int_equal(w->fake.durable_calls, 1);
	assert_string_equal(w->fake.camera, "cam-107");
	assert_string_equal(w->fake.topic, "5/2");
	assert_string_equal(w->fake.kind, "motion");
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 100 Trying", buf, sizeof(buf));
	assert_int_equal(w->fake.durable_calls, 1);
	/* committed: 200 OK */
	w->fake.done(w->fake.done_arg, 0);
	size_t n = receive(w, first, sizeof(first), 2000);
	assert_true(n > 0);
	assert_memory_equal(first, "SIP/2.0 200 OK", 14);
	/* then the Alarm Response the standard asks for, as a MESSAGE to the device, sent again until
	 * answered (Timer E: 500 ms, 1 s, ...) */
	for (int i = 0; i < 40 && w->requests < 3; i++) /* at 0, 0.5 and 1.5 s, on a 250 ms sweep */
		receive(w, buf, sizeof(buf), 100);
	assert_int_equal(w->requests, 3);
	assert_memory_equal(w->request, "MESSAGE sip:" DEVICE "@127.0.0.1:", 12 + 20 + 11);
	assert_non_null(strstr(w->request, "<CmdType>Alarm</CmdType>"));
	assert_non_null(strstr(w->request, "<SN>9</SN>"));
	assert_non_null(strstr(w->request, "<DeviceID>" CHANNEL "</DeviceID>"));
	assert_non_null(strstr(w->request, "<Result>OK</Result>"));
	assert_non_null(strstr(w->request, "From: <sip:" SERVER_ID "@3402000000>;tag="));
	/* the Via host is the listen address (a wildcard one would give the device's Request-URI host) */
	assert_non_null(strstr(w->request, "Via: SIP/2.0/UDP 127.0.0.1:"));
	answer_request(w, w->request);
	receive(w, buf, sizeof(buf), 2500); /* the next would have come 2 s after the third */
	assert_int_equal(w->requests, 3);
	assert_int_equal(agw_gb_server_stats(w->srv)->requests_answered, 1);
	w->answer_requests = true;
	/* a late retransmission gets the same answer, byte for byte */
	sendmsg_(w, msg);
	receive(w, buf, sizeof(buf), 2000);
	assert_string_equal(buf, first);
	assert_int_equal(w->fake.durable_calls, 1);
	assert_int_equal(agw_gb_server_stats(w->srv)->alarms_journaled, 1);
	assert_int_equal(agw_gb_server_stats(w->srv)->retransmissions, 2);
	/* the same SN in a new transaction: answered, not journaled twice */
	message(w, msg, sizeof(msg), 11, alarm_body("9"));
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	assert_int_equal(w->fake.durable_calls, 1);
	assert_int_equal(agw_gb_server_stats(w->srv)->alarms_duplicate, 1);
	/* the same SN at another time is another alarm (a device counts from 1 again after a restart) */
	message(w, msg, sizeof(msg), 13, alarm_body_at("9", "2023-08-09T09:00:00"));
	sendmsg_(w, msg);
	assert_int_equal(receive(w, buf, sizeof(buf), 100), 0);
	assert_int_equal(w->fake.durable_calls, 2);
	w->fake.done(w->fake.done_arg, 0);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	/* back-pressure: no answer, and the retransmission is tried again */
	w->fake.durable_rc = -EAGAIN;
	message(w, msg, sizeof(msg), 12, alarm_body("10"));
	sendmsg_(w, msg);
	assert_int_equal(receive(w, buf, sizeof(buf), 100), 0);
	assert_int_equal(w->fake.durable_calls, 3);
	w->fake.durable_rc = 0;
	sendmsg_(w, msg);
	assert_int_equal(receive(w, buf, sizeof(buf), 100), 0);
	assert_int_equal(w->fake.durable_calls, 4);
	/* stopping with that alarm uncommitted: stop waits for its done() */
	stopped = 0;
	agw_gb_server_stop(w->srv, on_stopped, NULL);
	uv_run(&w->loop, UV_RUN_NOWAIT);
	uv_run(&w->loop, UV_RUN_NOWAIT);
	assert_int_equal(stopped, 0);
	w->fake.done(w->fake.done_arg, -ESHUTDOWN);
	assert_int_equal(stopped, 1);
}

static void test_unmatched_channel(void **state)
{
	struct world *w = *state;
	char msg[4096], buf[4096];
	do_register(w);
	char body[1024];
	snprintf(body, sizeof(body), "%s", alarm_body("77"));
	char *ch = strstr(body, CHANNEL);
	memcpy(ch, "34020000001310000099", 20);
	/* a channel not in the ledger goes to the device's own ledger camera, when it has one */
	message(w, msg, sizeof(msg), 20, body);
	sendmsg_(w, msg);
	assert_int_equal(receive(w, buf, sizeof(buf), 100), 0);
	assert_int_equal(w->fake.durable_calls, 1);
	assert_string_equal(w->fake.camera, "nvr-1");
	w->fake.done(w->fake.done_arg, 0);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	/* else it is answered, counted and not journaled */
	w->fake.device_not_in_ledger = true;
	memcpy(strstr(body, "<SN>77<"), "<SN>78<", 7);
	message(w, msg, sizeof(msg), 21, body);
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	assert_int_equal(w->fake.durable_calls, 1);
	assert_int_equal(agw_gb_server_stats(w->srv)->alarms_unmatched, 1);
	agw_gb_server_stop(w->srv, on_stopped, NULL);
}

/* Keepalives every 100 ms, 3 missed: the sweep (every second) finds the device offline, emits
 * camera_offline for its ledger camera, and the next keepalive brings it back. */
static int setup_fast(void **state)
{
	gb_fx.keepalive_ms = 100;
	int rc = setup(state);
	gb_fx.keepalive_ms = 60000;
	return rc;
}

static void test_liveness(void **state)
{
	struct world *w = *state;
	char msg[2048], buf[4096];
	/* every change counted in metrics (its log line may be summed up with others) */
	int64_t on0 = agw_metric_get("agw_gb28181_device_changes_total", "to=\"online\"");
	int64_t off0 = agw_metric_get("agw_gb28181_device_changes_total", "to=\"offline\"");
	do_register(w);
	assert_int_equal(w->fake.emits, 0); /* a first registration is no "back online" */
	assert_int_equal(agw_metric_get("agw_gb28181_device_changes_total", "to=\"online\"") - on0, 1);
	receive(w, buf, sizeof(buf), 1500);
	assert_false(agw_gb_server_device_online(w->srv, DEVICE));
	assert_int_equal(w->fake.emits, 1);
	assert_int_equal(w->fake.last_offline, AGW_ACTIVE_TRUE);
	assert_int_equal(agw_metric_get("agw_gb28181_device_changes_total", "to=\"offline\"") - off0, 1);
	message(w, msg, sizeof(msg), 30, "<Notify><CmdType>Keepalive</CmdType><SN>2</SN><DeviceID>" DEVICE
					 "</DeviceID><Status>OK</Status></Notify>");
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	assert_true(agw_gb_server_device_online(w->srv, DEVICE));
	assert_int_equal(w->fake.emits, 2);
	assert_int_equal(w->fake.last_offline, AGW_ACTIVE_FALSE);
	assert_int_equal(agw_metric_get("agw_gb28181_device_changes_total", "to=\"online\"") - on0, 2);
	agw_gb_server_stop(w->srv, on_stopped, NULL);
}

/* TCP: messages split across reads and several in one write, answers on the connection, and a
 * stream that cannot be framed closes the connection. */
static int tcp_connect(struct world *w)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	/* connect() completes once the loop accepts; the kernel finishes the handshake without it */
	assert_int_equal(connect(fd, (struct sockaddr *)&w->to, sizeof(w->to)), 0);
	return fd;
}

static size_t tcp_receive(struct world *w, int fd, char *buf, size_t len, int ms)
{
	size_t got = 0;
	for (int i = 0; i < ms; i++) {
		uv_run(&w->loop, UV_RUN_NOWAIT);
		ssize_t n = recv(fd, buf + got, len - 1 - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			break; /* closed by the server */
		else if (got && strstr(buf, "\r\n\r\n"))
			break;
		buf[got] = '\0';
		usleep(1000);
	}
	buf[got] = '\0';
	return got;
}

static void test_tcp(void **state)
{
	struct world *w = *state;
	char msg[4096], buf[8192], auth[512];
	int fd = tcp_connect(w);
	register_msg(w, msg, sizeof(msg), "", 3600);
	/* in two pieces, cut inside a header */
	size_t half = 70;
	assert_int_equal(send(fd, msg, half, 0), (ssize_t)half);
	assert_int_equal(tcp_receive(w, fd, buf, sizeof(buf), 100), 0);
	assert_int_equal(send(fd, msg + half, strlen(msg) - half, 0), (ssize_t)(strlen(msg) - half));
	tcp_receive(w, fd, buf, sizeof(buf), 2000);
	if (strncmp(buf, "SIP/2.0 401", 11) != 0)
		fail_msg("got '%.100s'", buf);
	const char *n = strstr(buf, "nonce=\"");
	char nonce[64];
	snprintf(nonce, sizeof(nonce), "%.40s", n + 7);
	authorization(nonce, "12345678", auth, sizeof(auth));
	register_msg(w, msg, sizeof(msg), auth, 3600);
	/* a CRLF keep-alive (RFC 5626) before it */
	assert_int_equal(send(fd, "\r\n\r\n", 4, 0), 4);
	assert_int_equal(send(fd, msg, strlen(msg), 0), (ssize_t)strlen(msg));
	tcp_receive(w, fd, buf, sizeof(buf), 2000);
	assert_memory_equal(buf, "SIP/2.0 200 OK", 14);
	assert_true(agw_gb_server_device_online(w->srv, DEVICE));
	/* two requests in one write: a keepalive and an alarm; the keepalive is answered at once, the
	 * alarm after its commit, both on this connection */
	char two[8192];
	message(w, msg, sizeof(msg), 40, "<Notify><CmdType>Keepalive</CmdType><SN>3</SN><DeviceID>" DEVICE
					 "</DeviceID><Status>OK</Status></Notify>");
	int o = snprintf(two, sizeof(two), "%s", msg);
	message(w, msg, sizeof(msg), 41, alarm_body("500"));
	snprintf(two + o, sizeof(two) - (size_t)o, "%s", msg);
	assert_int_equal(send(fd, two, strlen(two), 0), (ssize_t)strlen(two));
	tcp_receive(w, fd, buf, sizeof(buf), 2000);
	assert_memory_equal(buf, "SIP/2.0 200 OK", 14);
	assert_non_null(strstr(buf, "Call-ID: msg-40"));
	assert_int_equal(w->fake.durable_calls, 1);
	w->fake.done(w->fake.done_arg, 0);
	tcp_receive(w, fd, buf, sizeof(buf), 2000);
	assert_memory_equal(buf, "SIP/2.0 200 OK", 14);
	assert_non_null(strstr(buf, "Call-ID: msg-41"));
	/* no Content-Length on a stream: the connection is closed */
	const char *nocl = "MESSAGE sip:" SERVER_ID "@3402000000 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKx\r\n"
			   "From: <sip:" DEVICE "@3402000000>;tag=1\r\nTo: <sip:" SERVER_ID "@3402000000>\r\nCall-ID: x\r\n"
			   "CSeq: 1 MESSAGE\r\n\r\n";
	assert_int_equal(send(fd, nocl, strlen(nocl), 0), (ssize_t)strlen(nocl));
	uint64_t bad = agw_gb_server_stats(w->srv)->bad;
	assert_int_equal(tcp_receive(w, fd, buf, sizeof(buf), 2000), 0);
	assert_int_equal(agw_gb_server_stats(w->srv)->bad, bad + 1);
	close(fd);
	agw_gb_server_stop(w->srv, on_stopped, NULL);
}

/* A MESSAGE claiming a registered device from another host is refused. */
static void test_other_host(void **state)
{
	struct world *w = *state;
	char msg[2048], buf[4096];
	do_register(w);
	int other = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7F000002)}; /* 127.0.0.2 */
	assert_int_equal(bind(other, (struct sockaddr *)&a, sizeof(a)), 0);
	message(w, msg, sizeof(msg), 50, alarm_body("600"));
	assert_int_equal(sendto(other, msg, strlen(msg), 0, (struct sockaddr *)&w->to, sizeof(w->to)), (ssize_t)strlen(msg));
	buf[0] = '\0';
	for (int i = 0; i < 2000 && !buf[0]; i++) {
		uv_run(&w->loop, UV_RUN_NOWAIT);
		ssize_t n = recv(other, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n > 0)
			buf[n] = '\0';
		else
			usleep(1000);
	}
	assert_memory_equal(buf, "SIP/2.0 403 Forbidden", 21);
	assert_non_null(strstr(buf, "registered from another address"));
	assert_int_equal(w->fake.durable_calls, 0);
	close(other);
	agw_gb_server_stop(w->srv, on_stopped, NULL);
}

/* With catalog, arming, ResetAlarm, a subscription and the device on UTC+7: after registration
 * the server arms the device, subscribes and asks for its catalog; a catalog over two MESSAGEs
 * stores each channel once (again only when it changes); an alarm from a channel in no ledger row
 * is stored with its time; AlarmTime is read in the device's zone; a journaled alarm is reset. */
static void test_catalog_and_arming(void **state)
{
	struct world *w = *state;
	char msg[4096], buf[4096], sn[16];
	w->answer_requests = true;
	do_register(w);
	run_ms(w, 400); /* the sweep sends the query and the SUBSCRIBE */
	assert_non_null(strstr(w->requests_seen, "<GuardCmd>SetGuard</GuardCmd>"));
	assert_non_null(strstr(w->requests_seen, "SUBSCRIBE sip:" DEVICE "@127.0.0.1:"));
	assert_non_null(strstr(w->requests_seen, "Event: presence\r\nExpires: 600\r\n"));
	const char *q = strstr(w->requests_seen, "<CmdType>Catalog</CmdType>\r\n<SN>");
	assert_non_null(q);
	snprintf(sn, sizeof(sn), "%.*s", (int)strcspn(q + 33, "<"), q + 33);
	/* the answer in two parts; an item without a 20-digit ID is skipped */
	message(w, msg, sizeof(msg), 30,
		catalog_part(sn, "<Item><DeviceID>" CHANNEL "</DeviceID><Name>East gate</Name><Status>ON</Status>"
				 "<Longitude>116.39</Longitude><Latitude>39.90</Latitude></Item>"
				 "<Item><DeviceID>34020000001310000002</DeviceID><Name>\xB6\xAB\xC3\xC5</Name>"
				 "<Longitude>0</Longitude><Latitude>0</Latitude></Item>"));
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	message(w, msg, sizeof(msg), 31,
		catalog_part(sn, "<Item><DeviceID>34020000001310000003</DeviceID><ParentID>" DEVICE "</ParentID></Item>"
				 "<Item><DeviceID>abc</DeviceID></Item>"));
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	run_ms(w, 400);
	assert_int_equal(w->fake.channel_puts, 3);
	assert_non_null(strstr(w->fake.channels, CHANNEL " {\"device\":\"" DEVICE "\",\"name\":\"East gate\",\"status\":"
						   "\"ON\",\"longitude\":116.39"));
	assert_non_null(strstr(w->fake.channels, "34020000001310000002 {\"device\":\"" DEVICE "\",\"name\":\"东门\"}"));
	assert_int_equal(agw_gb_server_stats(w->srv)->catalog_channels, 3);
	/* the same catalog again changes nothing */
	message(w, msg, sizeof(msg), 32, catalog_part(sn, "<Item><DeviceID>34020000001310000003</DeviceID><ParentID>" DEVICE
							  "</ParentID></Item>"));
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	run_ms(w, 300);
	assert_int_equal(w->fake.channel_puts, 3);
	/* an alarm from a channel without a ledger row: listed with its time */
	char body[1024];
	snprintf(body, sizeof(body), "%s", alarm_body("5"));
	memcpy(strstr(body, CHANNEL), "34020000001310000002", 20);
	w->fake.device_not_in_ledger = true;
	message(w, msg, sizeof(msg), 33, body);
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	run_ms(w, 300);
	assert_int_equal(w->fake.channel_puts, 4);
	assert_non_null(strstr(w->fake.channels, "\"name\":\"东门\",\"first_unmatched_alarm_ms\":"));
	/* the ledger channel's alarm: AlarmTime is UTC+7 on this device, then ResetAlarm */
	message(w, msg, sizeof(msg), 34, alarm_body("6"));
	sendmsg_(w, msg);
	run_ms(w, 50);
	assert_int_equal(w->fake.durable_calls, 1);
	assert_int_equal(w->fake.camera_time_ms, 1691541515000); /* 2023-08-09T00:38:35Z, not 23:38:35Z the day before (CST) */
	w->fake.done(w->fake.done_arg, 0);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	run_ms(w, 50);
	assert_non_null(strstr(w->requests_seen, "<DeviceID>" CHANNEL "</DeviceID>\r\n<AlarmCmd>ResetAlarm</AlarmCmd>\r\n"
						 "<Info>\r\n<AlarmMethod>5</AlarmMethod>\r\n<AlarmType>2</AlarmType>"));
	/* a refused control is counted */
	message(w, msg, sizeof(msg), 35, "<Response><CmdType>DeviceControl</CmdType><SN>9</SN><DeviceID>" DEVICE
					 "</DeviceID><Result>ERROR</Result></Response>");
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	assert_int_equal(agw_gb_server_stats(w->srv)->controls_refused, 1);
	agw_gb_server_stop(w->srv, on_stopped, NULL);
}

static void test_bind_failure(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct agw_gb_server_config cfg = {.listen = "192.0.2.1:5060", .sip_id = SERVER_ID, .max_devices = 1};
	struct agw_gb_server_env env = {0};
	struct agw_gb_server *s = (struct agw_gb_server *)0x1;
	char err[256];
	assert_true(agw_gb_server_start(&loop, &cfg, &env, &s, err, sizeof(err)) < 0);
	assert_ptr_equal(s, (struct agw_gb_server *)0x1);
	assert_non_null(strstr(err, "udp 192.0.2.1:5060: "));
	cfg.listen = "127.0.0.1:0";
	cfg.sip_id = "3402";
	assert_int_equal(agw_gb_server_start(&loop, &cfg, &env, &s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "sip_id '3402' is not a 20-digit GB/T 28181 ID");
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_and_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmatched_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_liveness, setup_fast, teardown),
		cmocka_unit_test_setup_teardown(test_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_catalog_and_arming, setup_control, teardown),
		cmocka_unit_test(test_bind_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
