/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The adapter contract's hooks of agw_adapter_gb28181, called the way the core calls them: the
 * option table, check_address, check (the event table), normalize over every fixture, and the
 * lifecycle of an instance that does not listen yet and must say so. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alarmgw/adapter.h"

extern const struct agw_adapter agw_adapter_gb28181;
static const struct agw_adapter *ad = &agw_adapter_gb28181;

static const struct agw_option *option(const char *name)
{
	for (const struct agw_option *o = ad->options; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	fail_msg("no option %s", name);
	/* fail_msg does not return (cmocka jumps out of the test), but it is not declared noreturn:
	 * without this a release build sees a NULL return and -Wnull-dereference fails every caller */
	abort();
}

/* A private struct with the option defaults the core would set. */
static void *new_opts(const char *event_table, int64_t utc_offset)
{
	char *p = calloc(1, ad->priv_size);
	assert_non_null(p);
	*(char **)(p + option("event_table")->offset) = event_table ? strdup(event_table) : NULL;
	*(int64_t *)(p + option("utc_offset")->offset) = utc_offset;
	return p;
}

static void free_opts(void *p)
{
	free(*(char **)((char *)p + option("event_table")->offset));
	free(*(char **)((char *)p + option("utc_offsets")->offset));
	free(p);
}

static void test_contract(void **state)
{
	(void)state;
	assert_string_equal(ad->name, "gb28181");
	assert_string_equal(ad->protocol, "gb28181");
	assert_string_equal(ad->table_option, "event_table");
	assert_true(ad->priv_size > 0);
	assert_non_null(ad->check_address);
	assert_non_null(ad->check);
	assert_non_null(ad->normalize);
	const struct agw_option *o = option("event_table");
	assert_int_equal(o->type, AGW_OPT_PATH);
	o = option("utc_offset");
	assert_int_equal(o->type, AGW_OPT_INT);
	assert_string_equal(o->def, "480");
}

static void test_check_address(void **state)
{
	(void)state;
	assert_null(ad->check_address("34020000001320000001"));
	assert_null(ad->check_address("62010201001320000393"));
	static const char *const bad[] = {"3402000000132000000",  "340200000013200000011", "3402000000132000000a",
					  "34020000001320000001 ", "rtsp://10.0.0.1/x",   "", NULL};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = ad->check_address(bad[i]);
		if (!why || !strstr(why, "20-digit"))
			fail_msg("'%s' accepted", bad[i] ? bad[i] : "(null)");
	}
}

static char *write_temp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/agw-gb-table-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_check(void **state)
{
	(void)state;
	char err[512] = "";
	void *o = new_opts(NULL, 480);
	assert_int_equal(ad->check(o, err, sizeof(err)), 0);
	free_opts(o);

	o = new_opts("/nonexistent/gb.conf", 480);
	assert_int_equal(ad->check(o, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/gb.conf: No such file or directory");
	free_opts(o);

	char *path = write_temp("5 2 motion\n5 9 crowd\n");
	o = new_opts(path, 480);
	assert_int_equal(ad->check(o, err, sizeof(err)), -EINVAL);
	char expect[128];
	snprintf(expect, sizeof(expect), "%s:2: unknown kind 'crowd'", path);
	assert_string_equal(err, expect);
	free_opts(o);
	unlink(path);
}

struct collected {
	int n;
	char topic[64], kind[32], channel[32], description[64];
	int64_t camera_time_ms;
	int fail_with; /* fn's return */
};

static int collect(void *arg, struct agw_alert *a)
{
	struct collected *c = arg;
	c->n++;
	snprintf(c->topic, sizeof(c->topic), "%s", a->topic);
	snprintf(c->kind, sizeof(c->kind), "%s", agw_alert_kind_name(a->kind));
	const char *ch = agw_items_get(&a->source, "channel");
	snprintf(c->channel, sizeof(c->channel), "%s", ch ? ch : "");
	const char *d = agw_items_get(&a->data, "AlarmDescription");
	snprintf(c->description, sizeof(c->description), "%s", d ? d : "");
	c->camera_time_ms = a->camera_time_ms;
	return c->fail_with;
}

struct norm_case {
	const char *file;
	int rc;               /* number of alerts, or the negative errno */
	const char *topic;    /* for one alert; for an error, the start of err */
	const char *kind, *channel, *description;
	int64_t camera_time_ms;
};

static const struct norm_case norms[] = {
	{"dahua-nvr-alarm.xml", 1, "5/2", "motion", "34020000001310000001", "视频动检", 1691537915000},
	{"alarm-2016-intrusion-gb2312.sip", 1, "5/6", "intrusion", "34020000001320000011", "区域入侵 东门", 1704081600000},
	{"alarm-lf-only.sip", 1, "2/1", "video_loss", "34020000001340000002", "", 1709654399000},
	{"easycvr-alarm-lowercase.xml", 1, "2", "other", "31010000001340000001", "", 1500430754000},
	{"alarm-unknown-method.xml", 1, "7/99", "other", "34020000001320000023", "", AGW_TIME_UNKNOWN},
	{"dahua-ipc-keepalive.sip", 0, NULL, NULL, NULL, NULL, 0},
	{"dahua-nvr-keepalive.xml", 0, NULL, NULL, NULL, NULL, 0},
	{"ipcam-keepalive-info.sip", 0, NULL, NULL, NULL, NULL, 0},
	{"dahua-nvr-catalog.xml", 0, NULL, NULL, NULL, NULL, 0},
	{"hikvision-ipc-catalog.sip", 0, NULL, NULL, NULL, NULL, 0},
	{"devicestatus-response.xml", 0, NULL, NULL, NULL, NULL, 0},
	{"hik-deviceinfo.xml", 0, NULL, NULL, NULL, NULL, 0},
	{"response-alarm.xml", 0, NULL, NULL, NULL, NULL, 0},
	{"query-catalog.xml", 0, NULL, NULL, NULL, NULL, 0},
	{"bad-content-length.sip", -EBADMSG, "line 10: Content-Length is 515 but 475 bytes", NULL, NULL, NULL, 0},
	{"bad-from.sip", -EINVAL, "line 3: malformed From header", NULL, NULL, NULL, 0},
	{"bad-xml.xml", -EINVAL, "line 5: XML: Opening and ending tag mismatch", NULL, NULL, NULL, 0},
	{"bad-encoding.xml", -EILSEQ, "offset 141: byte 0xFF is not GB18030", NULL, NULL, NULL, 0},
	{"bad-doctype.xml", -EINVAL, "line 2: a DOCTYPE", NULL, NULL, NULL, 0},
};

static char *read_fixture(const char *name, size_t *ret_len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/gb28181/%s", AGW_FIXTURES, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: cannot open", path);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*ret_len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	return buf;
}

static void test_normalize(void **state)
{
	(void)state;
	void *o = new_opts(NULL, 480);
	for (size_t i = 0; i < sizeof(norms) / sizeof(norms[0]); i++) {
		const struct norm_case *c = &norms[i];
		size_t len;
		char *buf = read_fixture(c->file, &len);
		struct collected got = {0};
		char err[512] = "";
		int rc = ad->normalize(o, buf, len, collect, &got, err, sizeof(err));
		free(buf);
		if (rc != c->rc)
			fail_msg("%s: %d (%s), expected %d", c->file, rc, err, c->rc);
		if (rc < 0) {
			if (strncmp(err, c->topic, strlen(c->topic)) != 0)
				fail_msg("%s: err '%s'", c->file, err);
			assert_int_equal(got.n, 0);
			continue;
		}
		assert_int_equal(got.n, rc);
		if (rc == 1 && (strcmp(got.topic, c->topic) || strcmp(got.kind, c->kind) || strcmp(got.channel, c->channel) ||
				strcmp(got.description, c->description) || got.camera_time_ms != c->camera_time_ms))
			fail_msg("%s: %s %s %s '%s' %lld", c->file, got.topic, got.kind, got.channel, got.description,
				 (long long)got.camera_time_ms);
	}
	free_opts(o);
}

static void test_normalize_options(void **state)
{
	(void)state;
	size_t len;
	char *buf = read_fixture("dahua-nvr-alarm.xml", &len);
	char *path = write_temp("5 2 1 person\n");
	void *o = new_opts(path, 0);
	struct collected got = {0};
	char err[512];
	assert_int_equal(ad->normalize(o, buf, len, collect, &got, err, sizeof(err)), 1);
	assert_string_equal(got.kind, "person");
	assert_int_equal(got.camera_time_ms, 1691537915000 + 8 * 3600 * 1000LL);
	/* fn's error comes back as it is */
	got.fail_with = -ECANCELED;
	assert_int_equal(ad->normalize(o, buf, len, collect, &got, err, sizeof(err)), -ECANCELED);
	free_opts(o);
	unlink(path);
	/* a table that cannot be read stops normalize with its error */
	o = new_opts("/nonexistent/gb.conf", 480);
	assert_int_equal(ad->normalize(o, buf, len, collect, &got, err, sizeof(err)), -ENOENT);
	free_opts(o);
	free(buf);
}

/* utc_offsets, as the SIP server reads them: the channel's entry, else its device's (From). */
static void test_normalize_zones(void **state)
{
	(void)state;
	void *o = new_opts(NULL, 480);
	char **zones = (char **)((char *)o + option("utc_offsets")->offset);
	*zones = strdup("34020000001310000001=+07:00, 34020000001320000011=0");
	struct {
		const char *file;
		int64_t camera_time_ms;
	} cases[] = {
		{"dahua-nvr-alarm.xml", 1691537915000 + 3600 * 1000LL}, /* the channel on UTC+7, not CST */
		{"alarm-lf-only.sip", 1709654399000 + 8 * 3600 * 1000LL}, /* its device (From) on UTC */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *buf = read_fixture(cases[i].file, &len);
		struct collected got = {0};
		char err[512] = "";
		assert_int_equal(ad->normalize(o, buf, len, collect, &got, err, sizeof(err)), 1);
		if (got.camera_time_ms != cases[i].camera_time_ms)
			fail_msg("%s: %lld, expected %lld", cases[i].file, (long long)got.camera_time_ms,
				 (long long)cases[i].camera_time_ms);
		free(buf);
	}
	/* a bad option is an error here too, not a silent default */
	free(*zones);
	*zones = strdup("3402=480");
	size_t len;
	char *buf = read_fixture("dahua-nvr-alarm.xml", &len);
	struct collected got = {0};
	char err[512] = "";
	assert_int_equal(ad->normalize(o, buf, len, collect, &got, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "utc_offsets: entry 1"));
	free(buf);
	free_opts(o);
}

static int stopped_calls;
static void on_stopped(struct agw_adapter_ctx *ctx)
{
	(void)ctx;
	stopped_calls++;
}

/* start() must say that nothing listens: run it with stderr in a file and read the line. */
static void test_lifecycle(void **state)
{
	(void)state;
	struct agw_adapter_ctx ctx = {.name = "gb28181", .stopped = on_stopped};
	void *priv = new_opts(NULL, 480);
	assert_int_equal(ad->init(priv, &ctx), 0);
	char id[] = "cam-1", protocol[] = "gb28181", address[] = "34020000001320000001";
	struct agw_camera cam = {.id = id, .protocol = protocol, .address = address};
	assert_int_equal(ad->camera_add(priv, &cam), 0);

	char path[] = "/tmp/agw-gb-log-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	assert_int_equal(ad->start(priv), 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char log[1024] = "";
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, log, sizeof(log) - 1);
	close(fd);
	unlink(path);
	assert_true(n > 0);
	assert_non_null(strstr(log, "not listening"));
	assert_non_null(strstr(log, "1 gb28181 camera in the ledger"));

	ad->camera_remove(priv, "cam-1");
	ad->stop(priv);
	assert_int_equal(stopped_calls, 1);
	ad->uninit(priv);
	free_opts(priv);

	/* init with a table that does not load fails */
	priv = new_opts("/nonexistent/gb.conf", 480);
	assert_int_equal(ad->init(priv, &ctx), -ENOENT);
	free_opts(priv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contract),  cmocka_unit_test(test_check_address),
		cmocka_unit_test(test_check),     cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_normalize_options), cmocka_unit_test(test_normalize_zones),
		cmocka_unit_test(test_lifecycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
