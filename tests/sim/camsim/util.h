/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by the simulator's modules: a growing text buffer, XML escaping, base64,
 * RFC 3339 times and xs:duration values. */
#ifndef CAMSIM_UTIL_H
#define CAMSIM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct camsim_buf {
	char *data;
	size_t len;
	size_t cap;
	bool failed; /* an allocation failed: the content is incomplete */
};

void camsim_buf_append(struct camsim_buf *b, const void *p, size_t n);
void camsim_buf_puts(struct camsim_buf *b, const char *s);
void camsim_buf_printf(struct camsim_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with &, <, >, " and ' replaced by entities. */
void camsim_buf_escape(struct camsim_buf *b, const char *s);
/* Appends n bytes of c. */
void camsim_buf_fill(struct camsim_buf *b, char c, size_t n);
/* Hands the NUL-terminated content to the caller (NULL if an allocation failed) and resets b. */
char *camsim_buf_steal(struct camsim_buf *b, size_t *ret_len);
void camsim_buf_free(struct camsim_buf *b);

/* Wall clock in seconds with a fraction. */
double camsim_wall_now(void);
/* "YYYY-MM-DDThh:mm:ssZ" for whole seconds t (seconds since the epoch, may be before 1970). */
const char *camsim_time_format(int64_t t, char *buf, size_t len);
/* RFC 3339 date-time with optional fraction and zone (no zone = UTC); returns 0 or -EINVAL. */
int camsim_time_parse(const char *s, double *ret_t);
/* xs:duration such as PT60S, PT1M30.5S, P1DT2H; years and months count as 365 and 30 days.
 * Negative durations are rejected. Returns 0 or -EINVAL. */
int camsim_duration_parse(const char *s, double *ret_seconds);

/* Base64 without line breaks; out must hold 4 * ((n + 2) / 3) + 1 bytes. Returns the length. */
size_t camsim_base64_encode(const unsigned char *in, size_t n, char *out);
/* Decodes s (padding required); returns the decoded length, or -EINVAL, or -ENOBUFS if out is too small. */
int camsim_base64_decode(const char *s, unsigned char *out, size_t out_len);

/* Percent-decoded value of key in a query string "a=1&b=2" copied to buf; returns 0 or -ENOENT. */
int camsim_query_get(const char *query, const char *key, char *buf, size_t len);

/* jpeg.c: the simulators' picture, a real 32x24 baseline JPEG. camsim serves it as the ONVIF
 * snapshot, vendorsim in ISAPI event parts and as the Dahua and ISAPI snapshots. */
extern const unsigned char vsim_jpeg[];
extern const size_t vsim_jpeg_len;

#endif
