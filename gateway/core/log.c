/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/log.h"

static enum agw_log_level current_level = AGW_LOG_INFO;

void agw_log_set_level(enum agw_log_level level)
{
	current_level = level;
}

enum agw_log_level agw_log_get_level(void)
{
	return current_level;
}

int agw_log_level_parse(const char *name, enum agw_log_level *ret_level)
{
	static const struct {
		const char *name;
		enum agw_log_level level;
	} names[] = {
		{"err", AGW_LOG_ERR},     {"error", AGW_LOG_ERR},   {"warning", AGW_LOG_WARNING},
		{"notice", AGW_LOG_NOTICE}, {"info", AGW_LOG_INFO}, {"debug", AGW_LOG_DEBUG},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (name && strcasecmp(name, names[i].name) == 0) {
			*ret_level = names[i].level;
			return 0;
		}
	return -EINVAL;
}

void agw_log(enum agw_log_level level, const char *component, const char *camera, const char *fmt, ...)
{
	if (level > current_level)
		return;
	/* One fprintf per line so concurrent threads (paho, workers) do not interleave within a line. */
	char text[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* Newlines from peers' text would forge log lines; fold them. */
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (camera)
		fprintf(stderr, "<%d>[%s:%s] %s\n", (int)level, component ? component : "core", camera, text);
	else
		fprintf(stderr, "<%d>[%s] %s\n", (int)level, component ? component : "core", text);
}

static bool is_secret_key(const char *key, size_t len)
{
	static const char *const secrets[] = {"user", "username", "password", "pass", "pwd", "passwd", "token", "auth"};
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strlen(secrets[i]) == len && strncasecmp(key, secrets[i], len) == 0)
			return true;
	return false;
}

const char *agw_url_redact(const char *url, char *buf, size_t len)
{
	if (!len)
		return buf;
	buf[0] = '\0';
	if (!url)
		return buf;
	size_t o = 0;
	/* PUT evaluates its argument exactly once, even when the buffer is full. */
#define PUT(c)                                                                                             \
	do {                                                                                               \
		char put_c_ = (c);                                                                         \
		if (o + 1 < len)                                                                           \
			buf[o++] = put_c_;                                                                 \
	} while (0)
	const char *p = url;
	const char *scheme = strstr(url, "://");
	const char *auth_start = scheme ? scheme + 3 : url;
	const char *path = auth_start + strcspn(auth_start, "/?#");
	const char *at = NULL;
	for (const char *q = auth_start; q < path; q++)
		if (*q == '@')
			at = q; /* the last @ before the path ends the userinfo */
	for (; p < auth_start; p++)
		PUT(*p);
	if (at) {
		for (const char *s = "***@"; *s; s++)
			PUT(*s);
		p = at + 1;
	}
	for (; p < path; p++)
		PUT(*p);
	/* path, then query parameters with secret values masked */
	bool in_query = false;
	while (*p) {
		if (*p == '?' || (in_query && *p == '&')) {
			in_query = true;
			PUT(*p++);
			size_t klen = strcspn(p, "=&#");
			for (size_t i = 0; i < klen; i++)
				PUT(p[i]);
			bool secret = is_secret_key(p, klen);
			p += klen;
			if (*p == '=') {
				PUT(*p++);
				size_t vlen = strcspn(p, "&#");
				if (secret) {
					for (const char *s = "***"; *s; s++)
						PUT(*s);
				} else {
					for (size_t i = 0; i < vlen; i++)
						PUT(p[i]);
				}
				p += vlen;
			}
			continue;
		}
		PUT(*p++);
	}
#undef PUT
	buf[o] = '\0';
	return buf;
}
