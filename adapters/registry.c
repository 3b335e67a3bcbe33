/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The adapter registry: adding a protocol is one folder under adapters/ and one line here.
 * Nothing outside adapters/ names a particular adapter; the core finds them through this table. */
#include <stddef.h>
#include <string.h>

#include "alarmgw/adapter.h"

extern const struct agw_adapter agw_adapter_replay;
extern const struct agw_adapter agw_adapter_rtsp;
extern const struct agw_adapter agw_adapter_onvif;
extern const struct agw_adapter agw_adapter_isapi;
extern const struct agw_adapter agw_adapter_dahua;
extern const struct agw_adapter agw_adapter_gb28181;

const struct agw_adapter *const agw_adapters[] = {
	&agw_adapter_replay,
	&agw_adapter_rtsp,
	&agw_adapter_onvif,
	&agw_adapter_isapi,
	&agw_adapter_dahua,
	&agw_adapter_gb28181,
	NULL,
};

const struct agw_adapter *agw_adapter_find(const char *name)
{
	for (size_t i = 0; agw_adapters[i]; i++)
		if (strcmp(agw_adapters[i]->name, name) == 0)
			return agw_adapters[i];
	return NULL;
}

const struct agw_adapter *agw_adapter_for_protocol(const char *protocol)
{
	for (size_t i = 0; protocol && agw_adapters[i]; i++)
		if (agw_adapters[i]->protocol && strcmp(agw_adapters[i]->protocol, protocol) == 0)
			return agw_adapters[i];
	return NULL;
}

const char *agw_adapter_protocol_list(void)
{
	static char list[256]; /* the registry is constant: built once */
	if (list[0])
		return list;
	size_t used = 0;
	for (size_t i = 0; agw_adapters[i]; i++) {
		if (!agw_adapters[i]->protocol)
			continue;
		int n = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", agw_adapters[i]->protocol);
		if (n < 0 || (size_t)n >= sizeof(list) - used)
			break;
		used += (size_t)n;
	}
	return list;
}
