/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A stand-in adapter registry for targets that need one (the ledger names protocols): the real
 * adapters drag FFmpeg, gSOAP, OpenSSL and curl into the process, whose start-up memory alone is
 * close to the 64 MiB a target may use. The real check_address hooks are one-line scheme checks;
 * these do the same. */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/adapter.h"

static const char *onvif_check(const char *address)
{
	if (strstr(address, "://") && strncasecmp(address, "http://", 7) != 0 && strncasecmp(address, "https://", 8) != 0)
		return "an onvif camera needs host[:port] or an http:// or https:// URL";
	return NULL;
}

static const char *rtsp_check(const char *address)
{
	if (strncasecmp(address, "rtsp://", 7) != 0 && strncasecmp(address, "rtsps://", 8) != 0)
		return "an rtsp camera needs an rtsp:// or rtsps:// URL";
	return NULL;
}

static const struct agw_adapter fuzz_onvif = {.name = "onvif", .protocol = "onvif", .check_address = onvif_check};
static const struct agw_adapter fuzz_rtsp = {.name = "rtsp", .protocol = "rtsp", .check_address = rtsp_check};
/* routes NVR channels (the ledger's device and channel columns) */
static const struct agw_adapter fuzz_isapi = {
	.name = "isapi", .protocol = "isapi", .channels = true, .check_address = onvif_check};

const struct agw_adapter *const agw_adapters[] = {&fuzz_onvif, &fuzz_rtsp, &fuzz_isapi, NULL};

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
		if (strcmp(agw_adapters[i]->protocol, protocol) == 0)
			return agw_adapters[i];
	return NULL;
}

const char *agw_adapter_protocol_list(void)
{
	return "onvif, rtsp, isapi";
}
