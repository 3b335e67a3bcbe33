/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NVR channel routes (gateway/core/vendor_routes.c): a city's worth of devices and channels in,
 * every channel found, removals (a reload) forget exactly what they name, and the routing rule
 * (channel row, else the device; counted only for devices with channel rows). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alarmgw/metrics.h"
#include "alarmgw/vendor_routes.h"

static struct agw_camera row(char *id, char *device, int channel)
{
	struct agw_camera c = {.id = id, .protocol = (char *)"isapi", .address = (char *)"", .device = device,
			       .channel = channel};
	return c;
}

#define DEVICES 5000
#define CHANNELS 8

static void test_many(void **state)
{
	(void)state;
	struct agw_vendor_routes *r;
	assert_int_equal(agw_vendor_routes_new(&r), 0);
	char id[64], dev[32], ch[16];
	for (int d = 0; d < DEVICES; d++) {
		snprintf(dev, sizeof(dev), "nvr-%d", d);
		/* a device row without a channel is no route */
		struct agw_camera dr = row(dev, NULL, 0);
		assert_int_equal(agw_vendor_routes_add(r, &dr), 0);
		for (int c = 1; c <= CHANNELS; c++) {
			snprintf(id, sizeof(id), "cam-%d-%d", d, c);
			struct agw_camera cr = row(id, dev, c);
			assert_int_equal(agw_vendor_routes_add(r, &cr), 0);
		}
	}
	for (int d = 0; d < DEVICES; d += 7) {
		snprintf(dev, sizeof(dev), "nvr-%d", d);
		assert_true(agw_vendor_routes_has_channels(r, dev));
		for (int c = 1; c <= CHANNELS; c++) {
			snprintf(id, sizeof(id), "cam-%d-%d", d, c);
			snprintf(ch, sizeof(ch), "%d", c);
			const char *got = agw_vendor_routes_find(r, dev, ch);
			assert_non_null(got);
			assert_string_equal(got, id);
		}
		assert_null(agw_vendor_routes_find(r, dev, "9"));
		assert_null(agw_vendor_routes_find(r, dev, "x1"));
		assert_null(agw_vendor_routes_find(r, dev, ""));
		assert_null(agw_vendor_routes_find(r, dev, NULL));
	}
	/* the same channel of a device twice */
	struct agw_camera dup = row((char *)"other", (char *)"nvr-3", 2);
	assert_int_equal(agw_vendor_routes_add(r, &dup), -EEXIST);
	/* "07" is channel 7 */
	assert_string_equal(agw_vendor_routes_find(r, "nvr-3", "07"), "cam-3-7");
	/* a reload removes one channel row: that channel is gone, the others stay; the last
	 * channel's removal makes the device an ordinary camera again */
	agw_vendor_routes_remove(r, "cam-3-2");
	assert_null(agw_vendor_routes_find(r, "nvr-3", "2"));
	assert_string_equal(agw_vendor_routes_find(r, "nvr-3", "3"), "cam-3-3");
	for (int c = 1; c <= CHANNELS; c++) {
		snprintf(id, sizeof(id), "cam-3-%d", c);
		agw_vendor_routes_remove(r, id);
	}
	assert_false(agw_vendor_routes_has_channels(r, "nvr-3"));
	assert_true(agw_vendor_routes_has_channels(r, "nvr-4"));
	agw_vendor_routes_remove(r, "no-such-camera");
	/* the freed channel can be taken by another row */
	assert_int_equal(agw_vendor_routes_add(r, &dup), 0);
	assert_string_equal(agw_vendor_routes_find(r, "nvr-3", "2"), "other");
	agw_vendor_routes_free(r);
}

static void test_route(void **state)
{
	(void)state;
	struct agw_vendor_routes *r;
	assert_int_equal(agw_vendor_routes_new(&r), 0);
	/* nvr-1 has its own channel 1 and a channel row for 2; cam-9 is an ordinary camera */
	struct agw_camera own = row((char *)"nvr-1", NULL, 1), ch2 = row((char *)"yard", (char *)"nvr-1", 2);
	assert_int_equal(agw_vendor_routes_add(r, &own), 0);
	assert_int_equal(agw_vendor_routes_add(r, &ch2), 0);
	struct agw_alert a;
	agw_alert_init(&a);
	const char *l7 = "adapter=\"isapi\",device=\"nvr-1\",channel=\"7\"";
	const char *lo = "adapter=\"isapi\",device=\"nvr-1\",channel=\"other\"";
	const char *l9 = "adapter=\"isapi\",device=\"cam-9\",channel=\"1\"";
	/* no channel: the device, not counted */
	assert_string_equal(agw_vendor_routes_route(r, "isapi", "nvr-1", &a), "nvr-1");
	assert_int_equal(agw_items_add(&a.source, "channel", "2"), 0);
	assert_string_equal(agw_vendor_routes_route(r, "isapi", "nvr-1", &a), "yard");
	agw_items_clear(&a.source);
	assert_int_equal(agw_items_add(&a.source, "channel", "1"), 0);
	assert_string_equal(agw_vendor_routes_route(r, "isapi", "nvr-1", &a), "nvr-1");
	/* an ordinary camera's channel 1 is no NVR channel: not counted */
	assert_string_equal(agw_vendor_routes_route(r, "isapi", "cam-9", &a), "cam-9");
	assert_int_equal(agw_metric_get("agw_unrouted_channel_alerts_total", l9), 0);
	agw_items_clear(&a.source);
	assert_int_equal(agw_items_add(&a.source, "channel", "7"), 0);
	assert_string_equal(agw_vendor_routes_route(r, "isapi", "nvr-1", &a), "nvr-1");
	assert_string_equal(agw_vendor_routes_route(r, "isapi", "nvr-1", &a), "nvr-1");
	assert_int_equal(agw_metric_get("agw_unrouted_channel_alerts_total", l7), 2);
	/* what a device writes is not a label: a channel that is not a small number is "other" */
	agw_items_clear(&a.source);
	assert_int_equal(agw_items_add(&a.source, "channel", "7\",x=\"y"), 0);
	assert_string_equal(agw_vendor_routes_route(r, "isapi", "nvr-1", &a), "nvr-1");
	assert_int_equal(agw_metric_get("agw_unrouted_channel_alerts_total", lo), 1);
	agw_alert_clear(&a);
	agw_vendor_routes_free(r);
}

/* Source tokens (ONVIF NVRs): found per device, with the row's channel; gone with the row, also
 * after the tables grew; the device of a channel row. */
static void test_tokens(void **state)
{
	(void)state;
	struct agw_vendor_routes *r;
	assert_int_equal(agw_vendor_routes_new(&r), 0);
	char ids[200][16];
	for (int i = 0; i < 200; i++) {
		snprintf(ids[i], sizeof(ids[i]), "ch-%d", i);
		struct agw_camera c = row(ids[i], (char *)(i % 2 ? "nvr-a" : "nvr-b"), i + 1);
		char tok[32];
		snprintf(tok, sizeof(tok), "VideoSource_%d", i / 2);
		c.source_token = i % 3 ? tok : NULL; /* every third row by place only */
		assert_int_equal(agw_vendor_routes_add(r, &c), 0);
	}
	int ch = -1;
	assert_string_equal(agw_vendor_routes_find_token(r, "nvr-a", "VideoSource_50", &ch), "ch-101");
	assert_int_equal(ch, 102);
	assert_string_equal(agw_vendor_routes_find_token(r, "nvr-b", "VideoSource_50", &ch), "ch-100");
	ch = -1;
	assert_null(agw_vendor_routes_find_token(r, "nvr-a", "VideoSource_1", &ch)); /* ch-3: no token */
	assert_null(agw_vendor_routes_find_token(r, "nvr-c", "VideoSource_50", &ch));
	assert_int_equal(ch, -1);
	assert_string_equal(agw_vendor_routes_device_of(r, "ch-7", &ch), "nvr-a");
	assert_int_equal(ch, 8);
	assert_null(agw_vendor_routes_device_of(r, "nvr-a", &ch));
	agw_vendor_routes_remove(r, "ch-101");
	assert_null(agw_vendor_routes_find_token(r, "nvr-a", "VideoSource_50", &ch));
	assert_string_equal(agw_vendor_routes_find_token(r, "nvr-b", "VideoSource_50", &ch), "ch-100");
	agw_vendor_routes_free(r); /* ASan: every token freed */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
