/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Adapter option tables: defaults, values of every type, errors with lines, equality for reload. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "options.h"
#include "testutil.h"

struct fake {
	char *host;
	int64_t count;
	bool fast;
	int64_t timeout_ms;
	double ratio;
};

#define OPT(f) offsetof(struct fake, f)
static const struct agw_option fake_options[] = {
	{"host", AGW_OPT_STRING, OPT(host), NULL, 0, 0, true, "where"},
	{"count", AGW_OPT_INT, OPT(count), "10", 1, 100, false, "how many"},
	{"fast", AGW_OPT_BOOL, OPT(fast), "false", 0, 0, false, "hurry"},
	{"timeout", AGW_OPT_DURATION, OPT(timeout_ms), "5s", 100, 60000, false, "patience"},
	{"ratio", AGW_OPT_DOUBLE, OPT(ratio), "0.5", 0, 1, false, "share"},
	{NULL, 0, 0, NULL, 0, 0, false, NULL},
};
#undef OPT

static const struct agw_adapter fake_adapter = {
	.name = "fake",
	.description = "test adapter",
	.priv_size = sizeof(struct fake),
	.options = fake_options,
};

static config_setting_t *section(config_t *cfg, const char *text, char **ret_path)
{
	*ret_path = write_temp(".conf", text);
	config_init(cfg);
	assert_true(config_read_file(cfg, *ret_path));
	return config_lookup(cfg, "adapters.fake");
}

static void defaults_and_values(void **state)
{
	(void)state;
	config_t cfg;
	char *path;
	config_setting_t *s = section(&cfg, "adapters: { fake: { host = \"h1\"; fast = true; timeout = \"250ms\"; }; };\n",
				      &path);
	struct fake f = {0};
	struct agw_errors errs = {0};
	assert_int_equal(agw_options_parse(&fake_adapter, s, &f, path, &errs), 0);
	assert_string_equal(f.host, "h1");
	assert_int_equal(f.count, 10);
	assert_true(f.fast);
	assert_int_equal(f.timeout_ms, 250);
	assert_true(f.ratio == 0.5);
	struct fake g = {0};
	assert_int_equal(agw_options_parse(&fake_adapter, s, &g, path, &errs), 0);
	assert_true(agw_options_equal(&fake_adapter, &f, &g));
	g.count = 11;
	assert_false(agw_options_equal(&fake_adapter, &f, &g));
	agw_options_free(&fake_adapter, &f);
	agw_options_free(&fake_adapter, &g);
	assert_null(f.host);
	config_destroy(&cfg);
	unlink(path);
	free(path);
}

static void errors_with_lines(void **state)
{
	(void)state;
	config_t cfg;
	char *path;
	config_setting_t *s = section(&cfg,
				      "adapters: {\n"
				      "  fake: {\n"
				      "    count = 1000;\n"
				      "    fast = \"yes\";\n"
				      "    timeout = \"forever\";\n"
				      "    colour = 3;\n"
				      "  };\n"
				      "};\n",
				      &path);
	struct fake f = {0};
	struct agw_errors errs = {0};
	assert_int_equal(agw_options_parse(&fake_adapter, s, &f, path, &errs), -EINVAL);
	for (size_t i = 0; i < errs.n; i++)
		print_message("%s\n", errs.v[i]);
	assert_int_equal(errs.n, 5);
	char want[600];
	snprintf(want, sizeof(want), "%s:3: adapters.fake.count must be between 1 and 100", path);
	assert_string_equal(errs.v[0], want);
	snprintf(want, sizeof(want), "%s:4: adapters.fake.fast must be true or false", path);
	assert_string_equal(errs.v[1], want);
	snprintf(want, sizeof(want), "%s:5: adapters.fake.timeout must be a duration", path);
	assert_non_null(strstr(errs.v[2], want));
	snprintf(want, sizeof(want), "%s:6: unknown option adapters.fake.colour", path);
	assert_non_null(strstr(errs.v[3], want));
	assert_non_null(strstr(errs.v[4], "adapters.fake.host is required"));
	agw_errors_clear(&errs);
	agw_options_free(&fake_adapter, &f);
	config_destroy(&cfg);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_and_values),
		cmocka_unit_test(errors_with_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
