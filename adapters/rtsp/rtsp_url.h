/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Camera URLs with credentials: built on the loop, handed to libavformat on a worker. */
#ifndef AGW_RTSP_URL_H
#define AGW_RTSP_URL_H

/* The URL to open: addr (with or without "rtsp://") with username and password (either may be
 * NULL or empty) put in, percent-encoded. malloc'd; NULL when out of memory. Only ever handed to
 * libavformat; free it with agw_rtsp_url_free. */
char *agw_rtsp_url_open(const char *addr, const char *username, const char *password);
/* Wipes the URL (the credentials should not linger in freed heap memory either) and frees it;
 * NULL is fine. */
void agw_rtsp_url_free(char *url);

#endif
