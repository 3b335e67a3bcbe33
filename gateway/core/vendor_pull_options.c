/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the live event-stream client (vendor_pull.h) takes from the configuration: a device's URL,
 * and the options every pull adapter offers (AGW_VENDOR_PULL_OPTIONS). No state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/vendor_pull.h"

char *agw_vendor_pull_url(const char *address, const char *path)
{
	if (!address || !*address)
		return NULL;
	bool has_scheme = strstr(address, "://") != NULL;
	size_t alen = strlen(address);
	while (alen && address[alen - 1] == '/')
		alen--;
	size_t len = (has_scheme ? 0 : 7) + alen + strlen(path) + 1;
	char *url = malloc(len);
	if (url)
		snprintf(url, len, "%s%.*s%s", has_scheme ? "" : "http://", (int)alen, address, path);
	return url;
}

int agw_vendor_pull_options_check(const struct agw_vendor_pull_options *o, char *err, size_t errlen)
{
	if (o->backoff_max_ms && o->backoff_min_ms > o->backoff_max_ms) {
		snprintf(err, errlen, "backoff_min is longer than backoff_max");
		return -EINVAL;
	}
	return 0;
}

void agw_vendor_pull_config_apply(struct agw_vendor_pull_config *cfg, const struct agw_vendor_pull_options *o)
{
	cfg->heartbeat_timeout_ms = o->heartbeat_timeout_ms;
	cfg->connect_timeout_ms = o->connect_timeout_ms;
	cfg->backoff_min_ms = o->backoff_min_ms;
	cfg->backoff_max_ms = o->backoff_max_ms;
	cfg->coalesce_ms = o->coalesce_ms;
	cfg->allow_basic = o->basic_auth;
	cfg->tls_verify = o->tls_verify;
	cfg->ca_file = o->ca_file;
}
