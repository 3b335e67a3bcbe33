/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the SIP server owes the platform beyond answering: an alarm a device gave up on (never
 * answered, back-pressure) or was refused is named in an events_lost alert; a catalog Status OFF
 * makes that channel's camera offline and ON online again; a catalog position is offered to the
 * channel's camera; the alarm subscription is refreshed inside its dialog (RFC 6665). Each failed
 * on the code before it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gb_server_fx.h"

static const char *alarm_on(const char *channel, const char *sn)
{
	static char body[1024];
	snprintf(body, sizeof(body), "%s", alarm_body(sn));
	memcpy(strstr(body, CHANNEL), channel, 20);
	return body;
}

static int setup_lost(void **state)
{
	gb_fx.gave_up_ms = 600; /* the device's Timer F, shortened */
	int rc = setup(state);
	gb_fx.gave_up_ms = 0;
	return rc;
}

static void test_gave_up_is_events_lost(void **state)
{
	struct world *w = *state;
	char msg[4096], buf[4096];
	w->answer_requests = true;
	do_register(w);
	/* the core is full for health edges too at first, so nothing is raised before the checks
	 * below however slowly this runs: the losses are kept */
	w->fake.emit_rc = -EAGAIN;
	/* back-pressure: no answer, twice (a retransmission), then the device gives up */
	w->fake.durable_rc = -EAGAIN;
	message(w, msg, sizeof(msg), 60, alarm_on(CHANNEL5, "41"));
	sendmsg_(w, msg);
	assert_int_equal(receive(w, buf, sizeof(buf), 100), 0);
	sendmsg_(w, msg);
	assert_int_equal(receive(w, buf, sizeof(buf), 100), 0);
	/* another refused, then taken on its retransmission: no loss */
	message(w, msg, sizeof(msg), 61, alarm_on(CHANNEL, "42"));
	sendmsg_(w, msg);
	assert_int_equal(receive(w, buf, sizeof(buf), 100), 0);
	w->fake.durable_rc = 0;
	sendmsg_(w, msg);
	run_ms(w, 50);
	w->fake.done(w->fake.done_arg, 0);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
	/* past the device's Timer F: the loss is kept while the core refuses, then raised */
	run_ms(w, 900);
	assert_null(strstr(w->fake.emitted, "events_lost"));
	w->fake.emit_rc = 0;
	run_ms(w, 400);
	assert_non_null(strstr(w->fake.emitted, "events_lost cam-105 alarmgw:EventsLost none\n  reason=device_gave_up\n"
						"  device=" DEVICE "\n  channel=" CHANNEL5 "\n  SN=41\n"));
	assert_null(strstr(w->fake.emitted, "SN=42"));
	assert_int_equal(agw_gb_server_stats(w->srv)->alarms_lost, 1);
	/* an alarm answered with an error is gone at once: named too, with the error */
	w->fake.durable_rc = -EIO;
	message(w, msg, sizeof(msg), 62, alarm_on(CHANNEL, "43"));
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 500", buf, sizeof(buf));
	run_ms(w, 400);
	assert_non_null(strstr(w->fake.emitted, "events_lost cam-107 alarmgw:EventsLost none\n  reason=refused\n"));
	assert_non_null(strstr(w->fake.emitted, "  SN=43\n  error=Input/output error\n"));
	assert_int_equal(agw_gb_server_stats(w->srv)->alarms_lost, 2);
	agw_gb_server_stop(w->srv, on_stopped, NULL);
}


/* The catalog query's SN, from the requests the server sent. */
static void catalog_sn(struct world *w, char *sn, size_t len)
{
	const char *q = strstr(w->requests_seen, "<CmdType>Catalog</CmdType>\r\n<SN>");
	assert_non_null(q);
	snprintf(sn, len, "%.*s", (int)strcspn(q + 33, "<"), q + 33);
}

static void send_catalog(struct world *w, unsigned branch, const char *sn, const char *status5)
{
	char msg[4096], buf[4096], items[1024];
	snprintf(items, sizeof(items),
		 "<Item><DeviceID>" CHANNEL "</DeviceID><Status>ON</Status></Item>"
		 "<Item><DeviceID>" CHANNEL5 "</DeviceID><Status>%s</Status><Longitude>116.39</Longitude>"
		 "<Latitude>39.90</Latitude></Item>",
		 status5);
	message(w, msg, sizeof(msg), branch, catalog_part(sn, items));
	sendmsg_(w, msg);
	expect_status(w, "SIP/2.0 200 OK", buf, sizeof(buf));
}

static void test_catalog_status_and_position(void **state)
{
	struct world *w = *state;
	char sn[16];
	w->answer_requests = true;
	do_register(w);
	run_ms(w, 400);
	catalog_sn(w, sn, sizeof(sn));
	/* OFF: the channel's camera is offline; ON for a channel never OFF is no "back online" */
	send_catalog(w, 70, sn, "OFF");
	assert_non_null(strstr(w->fake.emitted, "camera_offline cam-105 catalog/Status/OFF true\n"));
	assert_null(strstr(w->fake.emitted, "cam-107"));
	/* its position, offered to its camera once */
	assert_int_equal(w->fake.locates, 1);
	assert_string_equal(w->fake.located, "cam-105 116.39 39.90 wgs84");
	/* the same catalog again: nothing new */
	int emits = w->fake.emits;
	send_catalog(w, 71, sn, "OFF");
	assert_int_equal(w->fake.emits, emits);
	assert_int_equal(w->fake.locates, 1);
	/* ON again: back online; a core that cannot take it now gets it from a later sweep */
	w->fake.emit_rc = -EAGAIN;
	send_catalog(w, 72, sn, "ON");
	assert_null(strstr(w->fake.emitted, "catalog/Status/ON"));
	w->fake.emit_rc = 0;
	run_ms(w, 400);
	assert_non_null(strstr(w->fake.emitted, "camera_offline cam-105 catalog/Status/ON false\n"));
	agw_gb_server_stop(w->srv, on_stopped, NULL);
}

static int setup_subscribe(void **state)
{
	gb_fx.subscribe_s = 2; /* refreshed at 80 %: 1.6 s */
	int rc = setup(state);
	gb_fx.subscribe_s = 0;
	return rc;
}

/* The header line starting with name in the n-th (0-based) request that starts with start. */
static void header_of(const char *all, const char *start, int n, const char *name, char *out, size_t len)
{
	const char *p = all;
	for (int i = 0; p && i <= n; i++) {
		p = strstr(p, start);
		if (p && i < n)
			p += strlen(start);
	}
	assert_non_null(p);
	const char *h = !strcmp(name, "") ? p : strstr(p, name);
	assert_non_null(h);
	snprintf(out, len, "%.*s", (int)strcspn(h, "\r"), h);
}

static void test_subscribe_refresh_in_dialog(void **state)
{
	struct world *w = *state;
	w->answer_requests = true;
	w->to_tag = "devtag7";
	do_register(w);
	run_ms(w, 2300);
	char first[256], second[256], line[256];
	header_of(w->requests_seen, "SUBSCRIBE ", 0, "Call-ID: ", first, sizeof(first));
	header_of(w->requests_seen, "SUBSCRIBE ", 1, "Call-ID: ", second, sizeof(second));
	assert_string_equal(first, second);
	header_of(w->requests_seen, "SUBSCRIBE ", 0, "To: ", line, sizeof(line));
	assert_string_equal(line, "To: <sip:" DEVICE "@3402000000>");
	/* the refresh: in the dialog the device's 200 made (its To-tag), to its Contact */
	header_of(w->requests_seen, "SUBSCRIBE ", 1, "To: ", line, sizeof(line));
	assert_string_equal(line, "To: <sip:" DEVICE "@3402000000>;tag=devtag7");
	header_of(w->requests_seen, "SUBSCRIBE ", 1, "", line, sizeof(line));
	assert_string_equal(line, "SUBSCRIBE sip:" DEVICE "@127.0.0.1:5061 SIP/2.0");
	agw_gb_server_stop(w->srv, on_stopped, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gave_up_is_events_lost, setup_lost, teardown),
		cmocka_unit_test_setup_teardown(test_catalog_status_and_position, setup_control, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe_refresh_in_dialog, setup_subscribe, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
