/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `alarmgw run`: the daemon. One libuv loop; SIGTERM/SIGINT stop gracefully (exit 0 within 5 s),
 * SIGHUP reloads; sd_notify READY/STATUS/RELOADING/STOPPING/WATCHDOG under systemd. */
#ifndef ALARMGW_DAEMON_H
#define ALARMGW_DAEMON_H

#include "config.h"

/* Takes ownership of cfg, a heap-allocated loaded config (the daemon frees it). Returns the process
 * exit code. */
int agw_daemon_run(struct agw_config *cfg);

#endif
