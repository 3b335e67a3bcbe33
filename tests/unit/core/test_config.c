/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon config: values land where they belong; every mistake is reported with its line, all
 * of them, not only the first. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "testutil.h"

static void good_config(void **state)
{
	(void)state;
	char *path = write_temp(".conf", "gateway: {\n"
					 "  id = \"xian-beilin-01\";\n"
					 "  state_dir = \"/tmp\";\n"
					 "  log_level = \"debug\";\n"
					 "  queue_max = 5000;\n"
					 "  watchdog = \"10s\";\n"
					 "};\n"
					 "mqtt: {\n"
					 "  uri = \"ssl://broker.example:8883\";\n"
					 "  version = \"5\";\n"
					 "  keepalive = 20;\n"
					 "  reconnect_min = \"500ms\";\n"
					 "  inflight = 32;\n"
					 "};\n"
					 "adapters: {\n"
					 "  replay: { file = \"a.jsonl\"; };\n"
					 "  rtsp: { enabled = false; };\n"
					 "};\n");
	struct agw_config cfg;
	struct agw_errors errs = {0};
	assert_int_equal(agw_config_load(path, &cfg, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(cfg.gateway_id, "xian-beilin-01");
	assert_int_equal(cfg.log_level, AGW_LOG_DEBUG);
	assert_int_equal(cfg.queue_max, 5000);
	assert_int_equal(cfg.watchdog_ms, 10000);
	assert_string_equal(cfg.mqtt.uri, "ssl://broker.example:8883");
	assert_int_equal(cfg.mqtt.version, 5);
	assert_int_equal(cfg.mqtt.keepalive_ms, 20000);
	assert_int_equal(cfg.mqtt.reconnect_min_ms, 500);
	assert_int_equal(cfg.mqtt.inflight, 32);
	/* defaults stay where the file says nothing */
	assert_string_equal(cfg.mqtt.topic_prefix, "agw");
	assert_false(cfg.mqtt.clean_session);
	/* only enabled adapters are listed */
	assert_int_equal(cfg.n_adapters, 1);
	assert_string_equal(cfg.adapters[0], "replay");
	char *db = agw_config_db_path(&cfg);
	assert_string_equal(db, "/tmp/alarmgw.db");
	free(db);
	agw_config_free(&cfg);
	unlink(path);
	free(path);
	agw_log_set_level(AGW_LOG_INFO);
}

static bool has_error(const struct agw_errors *errs, const char *needle)
{
	for (size_t i = 0; i < errs->n; i++)
		if (strstr(errs->v[i], needle))
			return true;
	return false;
}

static void five_mistakes(void **state)
{
	(void)state;
	char *path = write_temp(".conf", "gateway: {\n"                     /* 1 */
					 "  id = \"gw\";\n"                   /* 2 */
					 "  log_level = \"loud\";\n"          /* 3: bad value */
					 "  queue_max = 5;\n"                 /* 4: out of range */
					 "  colour = \"blue\";\n"             /* 5: unknown key */
					 "};\n"                               /* 6 */
					 "mqtt: {\n"                          /* 7 */
					 "  keepalive = \"soon\";\n"          /* 8: bad duration */
					 "  inflight = \"many\";\n"           /* 9: wrong type */
					 "};\n"                               /* 10 */
					 "metrics: { port = 9100; };\n");     /* 11: unknown section */
	struct agw_config cfg;
	struct agw_errors errs = {0};
	assert_int_equal(agw_config_load(path, &cfg, &errs), -EINVAL);
	for (size_t i = 0; i < errs.n; i++)
		print_message("%s\n", errs.v[i]);
	assert_int_equal(errs.n, 6);
	char want[512];
	static const struct {
		int line;
		const char *what;
	} expected[] = {
		{3, "gateway.log_level"}, {4, "gateway.queue_max = 5 is out of range"}, {5, "unknown key gateway.colour"},
		{8, "mqtt.keepalive must be a duration"}, {9, "mqtt.inflight must be a whole number"},
		{11, "unknown section \"metrics\""},
	};
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		snprintf(want, sizeof(want), "%s:%d: %s", path, expected[i].line, expected[i].what);
		if (!has_error(&errs, want))
			fail_msg("missing error: %s", want);
	}
	agw_errors_clear(&errs);
	agw_config_free(&cfg);
	unlink(path);
	free(path);
	agw_log_set_level(AGW_LOG_INFO);
}

static void syntax_error_has_line(void **state)
{
	(void)state;
	char *path = write_temp(".conf", "gateway: {\n  id = \"gw\";\n  state_dir = ;\n};\n");
	struct agw_config cfg;
	struct agw_errors errs = {0};
	assert_int_equal(agw_config_load(path, &cfg, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	char want[512];
	snprintf(want, sizeof(want), "%s:3: syntax error", path);
	assert_non_null(strstr(errs.v[0], want));
	agw_errors_clear(&errs);
	agw_config_free(&cfg);
	unlink(path);
	free(path);
}

static void missing_file(void **state)
{
	(void)state;
	struct agw_config cfg;
	struct agw_errors errs = {0};
	assert_int_equal(agw_config_load("/nonexistent/alarmgw.conf", &cfg, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0], "/nonexistent/alarmgw.conf: cannot read"));
	agw_errors_clear(&errs);
	agw_config_free(&cfg);
}

static void cross_checks(void **state)
{
	(void)state;
	char *path = write_temp(".conf", "gateway: { id = \"a/b\"; };\n"
					 "mqtt: { cert_file = \"c.pem\"; reconnect_min = \"2m\"; reconnect_max = \"1m\"; };\n");
	struct agw_config cfg;
	struct agw_errors errs = {0};
	assert_int_equal(agw_config_load(path, &cfg, &errs), -EINVAL);
	assert_true(has_error(&errs, "gateway.id must be non-empty"));
	assert_true(has_error(&errs, "cert_file and mqtt.key_file go together"));
	assert_true(has_error(&errs, "reconnect_min is larger"));
	agw_errors_clear(&errs);
	agw_config_free(&cfg);
	unlink(path);
	free(path);
}

static void durations(void **state)
{
	(void)state;
	int64_t ms;
	assert_int_equal(agw_duration_parse("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(agw_duration_parse("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(agw_duration_parse("5m", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(agw_duration_parse("2h", &ms), 0);
	assert_int_equal(ms, 7200000);
	assert_int_equal(agw_duration_parse("30", &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(agw_duration_parse("-1s", &ms), -EINVAL);
	assert_int_equal(agw_duration_parse("5 parsecs", &ms), -EINVAL);
	assert_int_equal(agw_duration_parse("", &ms), -EINVAL);
	assert_int_equal(agw_duration_parse("nan", &ms), -EINVAL);
	assert_int_equal(agw_duration_parse("infs", &ms), -EINVAL);
	assert_int_equal(agw_duration_parse("1e300h", &ms), -ERANGE);
}

/* libconfig 1.5 reads an integer over 32 bits without its L as a wrapped 32-bit value, silently
 * (10737418240 became -2147483648): byte counts that large are what operators write. */
static void integers_over_32_bits(void **state)
{
	(void)state;
	char *path = write_temp(".conf", "# a comment 99999999999 and a string are left alone\n"
					 "gateway: { id = \"gw-5000000000\"; state_dir = \"/tmp\";\n"
					 "  queue_max_bytes = 0x100000000; };\n"
					 "evidence: { max_total_bytes = 10737418240; min_free_bytes = 5000000000L;\n"
					 "  max_bytes = 65536; };\n");
	struct agw_config cfg;
	struct agw_errors errs = {0};
	int rc = agw_config_load(path, &cfg, &errs);
	for (size_t i = 0; i < errs.n; i++)
		print_message("%s\n", errs.v[i]);
	assert_int_equal(rc, 0);
	assert_string_equal(cfg.gateway_id, "gw-5000000000");
	assert_true(cfg.queue_max_bytes == 4294967296LL);
	assert_true(cfg.evidence.max_total_bytes == 10737418240LL);
	assert_true(cfg.evidence.min_free_bytes == 5000000000LL);
	assert_int_equal(cfg.evidence.max_bytes, 65536);
	agw_config_free(&cfg);
	unlink(path);
	free(path);
	/* past 64 bits: an error on its line, not a number nobody wrote */
	path = write_temp(".conf", "gateway: { id = \"gw\";\n  queue_max_bytes = 99999999999999999999; };\n");
	errs = (struct agw_errors){0};
	assert_int_equal(agw_config_load(path, &cfg, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	char want[512];
	snprintf(want, sizeof(want), "%s:2: integer 99999999999999999999 is out of range", path);
	if (!has_error(&errs, want))
		fail_msg("missing error: %s (got %s)", want, errs.v[0]);
	agw_errors_clear(&errs);
	agw_config_free(&cfg);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_config),  cmocka_unit_test(five_mistakes), cmocka_unit_test(syntax_error_has_line),
		cmocka_unit_test(missing_file), cmocka_unit_test(cross_checks),  cmocka_unit_test(durations),
		cmocka_unit_test(integers_over_32_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
