/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The adapter registry: adding a protocol is one folder under adapters/ and one line here. */
#include <stddef.h>
#include <string.h>

#include "alarmgw/adapter.h"

extern const struct agw_adapter agw_adapter_replay;
extern const struct agw_adapter agw_adapter_rtsp;
extern const struct agw_adapter agw_adapter_onvif;

const struct agw_adapter *const agw_adapters[] = {
	&agw_adapter_replay,
	&agw_adapter_rtsp,
	&agw_adapter_onvif,
	NULL,
};

const struct agw_adapter *agw_adapter_find(const char *name)
{
	for (size_t i = 0; agw_adapters[i]; i++)
		if (strcmp(agw_adapters[i]->name, name) == 0)
			return agw_adapters[i];
	return NULL;
}
