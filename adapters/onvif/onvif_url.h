/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef AGW_ONVIF_URL_H
#define AGW_ONVIF_URL_H

/* Splits "scheme://[user@]authority/rest"; each output is malloc'd (pass NULL to skip it); rest
 * points into url (path, query, fragment). Returns 0, -EINVAL or -ENOMEM; on failure the caller
 * frees what was set. */
int agw_onvif_url_split(const char *url, char **scheme, char **authority, char **host, const char **rest);

/* A service address the camera returned, pointed at the configured host when it names another one
 * (private address behind NAT, 0.0.0.0) or downgrades https to http (then the configured scheme
 * and authority are used); path and query are kept exactly; a bare path is joined to the
 * configured authority. malloc'd, NULL when unusable. */
char *agw_onvif_rewrite_address(const char *cam_scheme, const char *cam_authority, const char *cam_host,
				const char *addr);

/* An RTSP stream address the camera returned (GetStreamUri), without credentials, pointed at the
 * configured host when it names another; the stream's port is kept. NULL when it is not an
 * rtsp:// or rtsps:// URL, or out of memory. malloc'd. */
char *agw_onvif_stream_address(const char *cam_host, const char *addr);

/* The device service URL of a ledger address: "host", "host:port" or an http(s) URL (with a path:
 * used as is; without: /onvif/device_service). -EINVAL for other schemes. */
int agw_onvif_device_url(const char *address, char **ret);

#endif
