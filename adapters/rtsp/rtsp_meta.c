/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rtsp_meta.h"

#define TAG "MetadataStream"
#define TAG_LEN (sizeof(TAG) - 1)
/* "</" + a prefix + ":" + TAG + spaces + ">": the longest tail a packet boundary can cut. */
#define TAIL_MAX 96

void agw_rtsp_meta_init(struct agw_rtsp_meta *m, size_t max_doc)
{
	memset(m, 0, sizeof(*m));
	m->max_doc = max_doc;
	m->pts = AGW_RTSP_META_NO_PTS;
}

void agw_rtsp_meta_free(struct agw_rtsp_meta *m)
{
	if (!m)
		return;
	free(m->buf);
	m->buf = NULL;
	m->len = m->cap = m->scanned = 0;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	       c == '.';
}

/* Finds the end (one past '>') of the first closing MetadataStream tag in buf[from..len), or 0. */
static size_t find_end(const char *buf, size_t len, size_t from)
{
	for (size_t i = from; i + 2 + TAG_LEN < len + 1; i++) {
		if (buf[i] != '<' || buf[i + 1] != '/')
			continue;
		size_t j = i + 2;
		size_t name = j;
		while (j < len && name_char(buf[j]))
			j++;
		if (j < len && buf[j] == ':') {
			name = ++j;
			while (j < len && name_char(buf[j]))
				j++;
		}
		if (j - name != TAG_LEN || memcmp(buf + name, TAG, TAG_LEN) != 0)
			continue;
		while (j < len && (buf[j] == ' ' || buf[j] == '\t' || buf[j] == '\r' || buf[j] == '\n'))
			j++;
		if (j < len && buf[j] == '>')
			return j + 1;
	}
	return 0;
}

static void drop(struct agw_rtsp_meta *m)
{
	bool blank = true;
	for (size_t i = 0; i < m->len && blank; i++)
		blank = m->buf[i] == ' ' || m->buf[i] == '\t' || m->buf[i] == '\r' || m->buf[i] == '\n';
	if (!blank)
		m->dropped++;
	m->len = m->scanned = 0;
}

/* Does a packet start a new document? (a retransmitted or resynchronized stream) */
static bool starts_doc(const char *p, size_t len)
{
	while (len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
		p++;
		len--;
	}
	return len >= 5 && memcmp(p, "<?xml", 5) == 0;
}

int agw_rtsp_meta_push(struct agw_rtsp_meta *m, const void *data, size_t len, int64_t pts, agw_rtsp_meta_doc_fn fn,
		       void *arg)
{
	if (pts != m->pts) {
		/* A new timestamp: whatever is buffered can no longer be completed. */
		if (m->len)
			drop(m);
		m->skipping = false;
		m->pts = pts;
	} else if (m->skipping && starts_doc(data, len)) {
		m->skipping = false;
	}
	if (m->skipping)
		return 0;
	if (len > m->max_doc || m->len + len > m->max_doc) {
		m->dropped++;
		m->len = m->scanned = 0;
		m->skipping = true;
		return 0;
	}
	if (m->len + len + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		while (cap < m->len + len + 1)
			cap *= 2;
		char *nb = realloc(m->buf, cap);
		if (!nb)
			return -ENOMEM;
		m->buf = nb;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, data, len);
	m->len += len;
	int docs = 0;
	for (;;) {
		size_t from = m->scanned > TAIL_MAX ? m->scanned - TAIL_MAX : 0;
		size_t end = find_end(m->buf, m->len, from);
		if (!end) {
			m->scanned = m->len;
			break;
		}
		size_t start = 0;
		while (start < end && m->buf[start] != '<')
			start++;
		char saved = m->buf[end];
		m->buf[end] = '\0';
		m->docs++;
		docs++;
		int r = fn ? fn(arg, m->buf + start, end - start) : 0;
		m->buf[end] = saved;
		memmove(m->buf, m->buf + end, m->len - end);
		m->len -= end;
		m->scanned = 0;
		if (r < 0) {
			return r;
		}
	}
	return docs;
}
