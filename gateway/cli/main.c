/* SPDX-License-Identifier: GPL-2.0-or-later */
/* alarmgw: the video-alarm integration gateway. `alarmgw COMMAND [OPTIONS]`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

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
