/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The subcommand table: one line per command, in the order `alarmgw --help` lists them. */
#include <stddef.h>

#include "cli.h"

const struct agw_command agw_commands[] = {
	{"run", "run the gateway daemon", agw_cmd_run},
	{"check", "validate a configuration and everything it references", agw_cmd_check},
	{"cameras", "import and list the camera ledger", agw_cmd_cameras},
	{"status", "show cameras, recent alerts and cases, and the outbox", agw_cmd_status},
	{"outbox", "list the MQTT outbox (parked rows and their reasons) and retry parked rows", agw_cmd_outbox},
	{"cases", "list cases and show one with its full history (alerts, feedback, escalations, messages, evidence)", agw_cmd_cases},
	{"normalize", "show how a device's event documents are normalized (--adapter NAME)", agw_cmd_normalize},
	{"grid", "import grid cells (GeoJSON) and locate a point in them", agw_cmd_grid},
	{"rules", "test the rules on alerts from a JSONL file", agw_cmd_rules},
	{"channels", "list the channels devices reported (catalogs, alarms), and those in no ledger row", agw_cmd_channels},
	{"cluster", "show the instances sharing the cameras through etcd", agw_cmd_cluster},
	{"version", "print the version", agw_cmd_version},
	{NULL, NULL, NULL},
};
