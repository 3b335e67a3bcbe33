/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Certificate checks for rtsps:// cameras. FFmpeg 5.1 (Debian 12) opens the TLS connection of its
 * RTSP demuxer without passing any option down (rtsp.c: ffurl_open_whitelist(..., NULL, ...)), so
 * tls_verify and ca_file given to avformat_open_input never reach it and any certificate is
 * accepted. Before each rtsps:// session the adapter makes its own TLS handshake to the camera
 * (OpenSSL: the chain against ca_file or the system store, and the host name or IP address) and
 * opens the stream only when it succeeds. docs/rtsp.md says what this does not cover. */
#ifndef AGW_RTSP_TLS_H
#define AGW_RTSP_TLS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agw_rtsp_tls {
	bool verify;         /* false: rtsps:// is encrypted but the camera is not authenticated */
	const char *ca_file; /* NULL: the system store */
};

/* For an rtsps:// url with tls->verify (anything else returns 0 at once): connects to its host and
 * port (322 by default) within timeout_ms, polling stop, and completes a verified handshake.
 * Returns 0, -EPERM with reason "certificate ...: <why>" when the camera is not who it claims,
 * -ETIMEDOUT, -ECANCELED (stop) or the connection's errno. reason never holds the URL. */
int agw_rtsp_tls_check(const char *url, const struct agw_rtsp_tls *tls, int64_t timeout_ms, const atomic_bool *stop,
		       char *reason, size_t reason_len);

#endif
