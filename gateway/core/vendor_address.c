/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/vendor_address.h"

const char *agw_vendor_check_http_address(const char *address, const char *what_needs)
{
	if (!address || !*address)
		return "address is empty";
	const char *scheme_end = strstr(address, "://");
	if (scheme_end && strncasecmp(address, "http://", 7) != 0 && strncasecmp(address, "https://", 8) != 0)
		return what_needs;
	const char *host = scheme_end ? scheme_end + 3 : address;
	size_t hlen = strcspn(host, "/?#");
	if (hlen == 0)
		return "address has no host";
	if (!scheme_end && host[hlen])
		return what_needs; /* a path needs the scheme */
	/* host, [v6], optional :port of digits */
	const char *colon = NULL;
	if (host[0] == '[') {
		const char *rb = memchr(host, ']', hlen);
		if (!rb)
			return "address has an unclosed '[' in its host";
		if ((size_t)(rb - host) + 1 < hlen)
			colon = rb + 1;
	} else {
		colon = memchr(host, ':', hlen);
	}
	if (colon) {
		if (*colon != ':')
			return "address has characters after its host";
		const char *p = colon + 1, *end = host + hlen;
		if (p == end || end - p > 5)
			return "address has a bad port";
		for (; p < end; p++)
			if (!isdigit((unsigned char)*p))
				return "address has a bad port";
		long port = strtol(colon + 1, NULL, 10);
		if (port < 1 || port > 65535)
			return "address has a bad port";
	}
	return NULL;
}
