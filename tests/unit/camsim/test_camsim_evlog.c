/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The events log's lines, as the reconciling tests read them: queued, dropped, and sent (which
 * answer an event left in, of which kind, whether it was written). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "camsim.h"

static char *log_text(FILE *f)
{
	fflush(f);
	long n = ftell(f);
	assert_true(n >= 0);
	char *buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	return buf;
}

static void test_sent_lines(void **state)
{
	(void)state;
	struct camsim sim = {0};
	struct camsim_camera cam = {.sim = &sim};
	snprintf(cam.id, sizeof(cam.id), "cam-00003");
	sim.events_log = tmpfile();
	assert_non_null(sim.events_log);
	camsim_evlog_sent(&sim, &cam, 7, 12, CAMSIM_ANSWER_MALFORMED, true);
	camsim_evlog_sent(&sim, &cam, 8, 13, CAMSIM_ANSWER_OK, false);
	camsim_evlog_dropped(&sim, &cam, 9, "reboot");
	char *text = log_text(sim.events_log);
	assert_non_null(strstr(text, "{\"id\":\"cam-00003-7\",\"sent\":\"malformed\",\"answer\":12,\"written\":true,\"sent_ms\":"));
	assert_non_null(strstr(text, "{\"id\":\"cam-00003-8\",\"sent\":\"ok\",\"answer\":13,\"written\":false,\"sent_ms\":"));
	assert_non_null(strstr(text, "{\"id\":\"cam-00003-9\",\"dropped\":\"reboot\"}\n"));
	/* one line each */
	int lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 3);
	free(text);
	fclose(sim.events_log);
}

static void test_answer_names(void **state)
{
	(void)state;
	assert_string_equal(camsim_answer_names[CAMSIM_ANSWER_OK], "ok");
	assert_string_equal(camsim_answer_names[CAMSIM_ANSWER_FAULT], "fault");
	assert_string_equal(camsim_answer_names[CAMSIM_ANSWER_OVERSIZED], "oversized");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sent_lines),
		cmocka_unit_test(test_answer_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
