/* SPDX-License-Identifier: GPL-2.0-or-later */
/* alarmgw: the video-alarm integration gateway. `alarmgw COMMAND [OPTIONS]`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Read by LeakSanitizer in the sanitizer builds (ignored otherwise). libconfig 1.5, Debian 12's
 * libconfig9, leaks in its scanner when a configuration or rules file has a syntax error inside or
 * right after a string: the string buffer (strbuf_append) or a token's copy (libconfig_yylex);
 * reproduced with config_read_file alone, nothing of ours on the stack, at most some bytes per
 * failed parse, bounded by the number of operator-triggered reloads. Without this a mistyped file would abort a sanitizer build the
 * way a real leak of ours does (bench/mutate found both: tests/fixtures/mutate/). Our own leaks of libconfig objects are
 * still reported: they are allocated elsewhere in libconfig. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

static void usage(FILE *out)
{
	fprintf(out, "usage: alarmgw COMMAND [OPTIONS]   (alarmgw COMMAND --help for its options)\n\ncommands:\n");
	for (const struct agw_command *c = agw_commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return agw_cmd_version(1, argv + 1);
	for (const struct agw_command *c = agw_commands; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "alarmgw: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
