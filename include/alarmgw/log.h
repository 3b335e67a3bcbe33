/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One logger for the whole gateway: journald-friendly lines on stderr, "<N>[component:camera] text".
 * Log once, where the decision is taken. Never pass a password or a URL with credentials
 * (agw_url_redact makes a URL safe to print). rules/ never logs. */
#ifndef ALARMGW_LOG_H
#define ALARMGW_LOG_H

#include <stddef.h>

/* syslog priorities, as journald reads them from the "<N>" prefix */
enum agw_log_level {
	AGW_LOG_ERR = 3,
	AGW_LOG_WARNING = 4,
	AGW_LOG_NOTICE = 5,
	AGW_LOG_INFO = 6,
	AGW_LOG_DEBUG = 7,
};

void agw_log_set_level(enum agw_log_level level);
enum agw_log_level agw_log_get_level(void);
/* "err", "warning", "notice", "info", "debug"; returns -EINVAL for anything else */
int agw_log_level_parse(const char *name, enum agw_log_level *ret_level);

/* component: "core", "onvif", "mqtt", ...; camera: camera id or NULL */
void agw_log(enum agw_log_level level, const char *component, const char *camera, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define agw_log_err(comp, cam, ...) agw_log(AGW_LOG_ERR, comp, cam, __VA_ARGS__)
#define agw_log_warn(comp, cam, ...) agw_log(AGW_LOG_WARNING, comp, cam, __VA_ARGS__)
#define agw_log_notice(comp, cam, ...) agw_log(AGW_LOG_NOTICE, comp, cam, __VA_ARGS__)
#define agw_log_info(comp, cam, ...) agw_log(AGW_LOG_INFO, comp, cam, __VA_ARGS__)
#define agw_log_debug(comp, cam, ...) agw_log(AGW_LOG_DEBUG, comp, cam, __VA_ARGS__)

/* Copies url into buf with any user:password@ replaced by "***@" and the query string values of
 * user/password/pass/pwd/token keys replaced by "***". Always NUL-terminates; returns buf. */
const char *agw_url_redact(const char *url, char *buf, size_t len);

#endif
