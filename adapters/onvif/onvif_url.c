/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Camera addresses: the device service URL from a ledger address, and service addresses returned
 * by the camera pointed back at the host the gateway reaches it on. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "onvif_url.h"

/* Splits "scheme://authority/rest"; authority is host[:port] or [v6][:port]. */
int agw_onvif_url_split(const char *url, char **scheme, char **authority, char **host, const char **rest)
{
	const char *p = strstr(url, "://");
	if (!p)
		return -EINVAL;
	const char *a = p + 3;
	const char *slash = strpbrk(a, "/?#");
	const char *end = slash ? slash : a + strlen(a);
	const char *at = memchr(a, '@', (size_t)(end - a));
	if (at)
		a = at + 1; /* credentials never belong in a camera URL: dropped */
	if (a == end)
		return -EINVAL;
	const char *hend;
	if (*a == '[') {
		hend = memchr(a, ']', (size_t)(end - a));
		if (!hend)
			return -EINVAL;
		hend++;
	} else {
		hend = memchr(a, ':', (size_t)(end - a));
		if (!hend)
			hend = end;
	}
	if (scheme && !(*scheme = strndup(url, (size_t)(p - url))))
		return -ENOMEM;
	if (authority && !(*authority = strndup(a, (size_t)(end - a))))
		return -ENOMEM;
	if (host && !(*host = strndup(a, (size_t)(hend - a))))
		return -ENOMEM;
	if (rest)
		*rest = end;
	return 0;
}

/* A service address as the camera wrote it, pointed at the host the gateway connects to when
 * the camera names another one (a private address behind NAT, 0.0.0.0, a stale DHCP address).
 * Path and query are kept exactly (Dahua: ...?Idx=11). An https camera's http addresses are
 * taken over https on the configured port: the operator chose TLS. */
char *agw_onvif_rewrite_address(const char *cam_scheme, const char *cam_authority, const char *cam_host,
				const char *addr)
{
	char *scheme = NULL, *authority = NULL, *host = NULL, *out = NULL;
	const char *rest;
	if (!addr || !*addr)
		return NULL;
	if (addr[0] == '/') {
		if (asprintf(&out, "%s://%s%s", cam_scheme, cam_authority, addr) < 0)
			return NULL;
		return out;
	}
	if (agw_onvif_url_split(addr, &scheme, &authority, &host, &rest) < 0) {
		free(scheme);
		free(authority);
		free(host);
		return NULL;
	}
	int n;
	/* Another host (NAT, 0.0.0.0), or plain http from a camera the operator reaches over https
	 * (factory XAddrs): the configured scheme and authority, never a silent downgrade to plaintext. */
	bool downgrade = !strcasecmp(cam_scheme, "https") && strcasecmp(scheme, "https") != 0;
	if (strcasecmp(host, cam_host) != 0 || downgrade)
		n = asprintf(&out, "%s://%s%s", cam_scheme, cam_authority, rest);
	else
		n = asprintf(&out, "%s://%s%s", scheme, authority, rest);
	if (n < 0)
		out = NULL;
	free(scheme);
	free(authority);
	free(host);
	return out;
}

int agw_onvif_device_url(const char *address, char **ret)
{
	const char *p = strstr(address, "://");
	if (p && (!strncasecmp(address, "http://", 7) || !strncasecmp(address, "https://", 8))) {
		const char *path = strchr(p + 3, '/');
		if (path && path[1])
			return (*ret = strdup(address)) ? 0 : -ENOMEM;
		return asprintf(ret, "%.*s/onvif/device_service", (int)(path ? path - address : (long)strlen(address)),
				address) < 0
			       ? -ENOMEM
			       : 0;
	}
	if (p)
		return -EINVAL; /* rtsp:// and friends are not an ONVIF device address */
	return asprintf(ret, "http://%s/onvif/device_service", address) < 0 ? -ENOMEM : 0;
}

/* GetStreamUri's answer: rtsp:// or rtsps:// only; credentials dropped; a host other than the
 * configured one (NAT, 0.0.0.0) is replaced by it while the stream's own port is kept, since the
 * RTSP port is not the ONVIF one. */
char *agw_onvif_stream_address(const char *cam_host, const char *addr)
{
	char *scheme = NULL, *authority = NULL, *host = NULL, *out = NULL;
	const char *rest;
	if (!addr || agw_onvif_url_split(addr, &scheme, &authority, &host, &rest) < 0)
		goto done;
	if (strcasecmp(scheme, "rtsp") != 0 && strcasecmp(scheme, "rtsps") != 0)
		goto done;
	const char *port = authority + strlen(host); /* ":554" or "" */
	int n = asprintf(&out, "%s://%s%s%s", scheme, strcasecmp(host, cam_host) != 0 ? cam_host : host, port, rest);
	if (n < 0)
		out = NULL;
done:
	free(scheme);
	free(authority);
	free(host);
	return out;
}
