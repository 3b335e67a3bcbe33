/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include <MQTTAsync.h>
#include <sqlite3.h>
#include <uv.h>

#include "cli.h"

int agw_cmd_version(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: alarmgw version\nPrints the version of alarmgw and of the libraries it runs on.\n");
		return 0;
	}
	MQTTAsync_nameValue *info = MQTTAsync_getVersionInfo();
	const char *paho = "?";
	for (; info && info->name; info++)
		if (strcmp(info->name, "Product version") == 0)
			paho = info->value;
	printf("alarmgw %s (schema %d; sqlite %s, libuv %s, paho-mqtt-c %s)\n", AGW_VERSION,
	       agw_store_latest_schema_version(), sqlite3_libversion(), uv_version_string(), paho);
	return 0;
}
