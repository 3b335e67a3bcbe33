/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The multipart push parser (include/alarmgw/multipart.h says what it accepts and why).
 *
 * Two layers: the outer one counts input offsets and de-chunks a captured chunked body; the inner
 * one is a state machine over lines (HTTP head, delimiters, part headers) and part bodies. Every
 * unit it accumulates (a line, a header block, a body) lives in one growable buffer whose size
 * the limits bound. Bodies are scanned line by line only to notice a delimiter line; a part with
 * Content-Length is emitted the moment its last byte arrives. The text helpers (white space,
 * header fields, HTTP lines) are in multipart_text.c. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/multipart.h"
#include "multipart_text.h"

#define DEFAULT_MAX_HEADER (16u << 10)
#define DEFAULT_MAX_PART (4u << 20)
#define FIRST_LINE_MAX 8192u      /* first line of a boundary-less input before it counts as a document */
#define SNIFF_LINE_MAX 512u       /* a delimiter line while the boundary is still unknown */
#define CHUNK_LINE_MAX 40u

enum mp_state {
	ST_START,   /* nothing seen yet: HTTP head, first delimiter or a single document */
	ST_HEAD,    /* inside the HTTP head */
	ST_SEEK,    /* looking for a delimiter line (preamble, after garbage, after a close delimiter) */
	ST_HEADERS, /* after a delimiter line, in the part's headers */
	ST_BODY,    /* in a part's body */
	ST_AFTER,   /* a part with Content-Length is complete: blank lines, then a delimiter */
	ST_SINGLE,  /* the whole input is one document */
	ST_IGNORE,  /* nothing more to parse (HTTP error, oversize document, finished) */
	ST_STOPPED, /* on_part asked to stop */
};

enum chunk_state { CH_OFF, CH_DETECT, CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER };

struct agw_multipart {
	struct agw_multipart_config cfg;
	char boundary[AGW_MULTIPART_MAX_BOUNDARY + 1]; /* without leading dashes */
	size_t blen;
	enum mp_state st;
	int stop_rc;
	bool head_allowed;  /* the input may start with an HTTP head (no Content-Type given) */
	bool preamble;      /* before the first delimiter: skipped silently */
	bool epilogue;      /* after a close delimiter: skipped silently */
	bool garbage;       /* a run of unexpected bytes has been reported */
	bool line_long;     /* the current seek line overflowed its cap */
	bool hold;          /* Content-Length reached inside what may be a delimiter line */
	int status;
	uint64_t raw_off;   /* input bytes consumed by the outer layer */
	uint64_t off;       /* input offset of the next byte the inner layer sees */
	uint64_t line_off;  /* input offset of the current line's first byte */
	uint64_t next_off;  /* input offset just after the line being handled */
	uint64_t part_off, body_off;
	char *buf;
	size_t len, cap;
	size_t line_start;  /* start of the current line in buf */
	size_t hdr_len, body_start;
	int64_t clen;
	char ctype[256];
	/* de-chunking a captured "Transfer-Encoding: chunked" body */
	enum chunk_state ch;
	uint64_t ch_left;
	char ch_line[CHUNK_LINE_MAX];
	size_t ch_len;
	uint64_t ch_line_off;
};

static void report(struct agw_multipart *m, uint64_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void report(struct agw_multipart *m, uint64_t off, const char *fmt, ...)
{
	if (!m->cfg.on_error)
		return;
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	m->cfg.on_error(m->cfg.arg, off, what);
}

static int buf_append(struct agw_multipart *m, const char *p, size_t n)
{
	if (m->len + n + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 256;
		while (cap < m->len + n + 1)
			cap *= 2;
		char *b = realloc(m->buf, cap);
		if (!b)
			return -ENOMEM;
		m->buf = b;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
	return 0;
}

static void buf_reset(struct agw_multipart *m)
{
	m->len = 0;
	m->line_start = 0;
}

/* Sets the boundary from a token, without its leading dashes. */
static int set_boundary(struct agw_multipart *m, const char *tok, size_t n)
{
	while (n && *tok == '-') {
		tok++;
		n--;
	}
	multipart_trim(&tok, &n);
	if (n == 0 || n > AGW_MULTIPART_MAX_BOUNDARY)
		return -EINVAL;
	memcpy(m->boundary, tok, n);
	m->boundary[n] = '\0';
	m->blen = n;
	return 0;
}

/* Whether a line is a delimiter of the current boundary: any leading dashes (and spaces after
 * them), the token, optionally "--" (close), trailing white space. */
static bool is_delimiter(const struct agw_multipart *m, const char *s, size_t len, bool *ret_close)
{
	if (m->blen == 0 || len > m->blen + 64)
		return false;
	multipart_trim(&s, &len);
	size_t dashes = 0;
	while (len && *s == '-') {
		s++;
		len--;
		dashes++;
	}
	while (dashes && len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	if (len < m->blen || memcmp(s, m->boundary, m->blen) != 0)
		return false;
	if (len == m->blen) {
		*ret_close = false;
		return true;
	}
	if (len == m->blen + 2 && s[m->blen] == '-' && s[m->blen + 1] == '-') {
		*ret_close = true;
		return true;
	}
	return false;
}

static int emit(struct agw_multipart *m, size_t body_end, bool short_body, bool unterminated)
{
	/* the byte after the body is a delimiter's line break or spare capacity */
	char saved = body_end < m->len ? m->buf[body_end] : '\0';
	if (m->len + 1 > m->cap && buf_append(m, "", 0) < 0)
		return -ENOMEM;
	m->buf[body_end] = '\0';
	struct agw_multipart_part part = {
		.content_type = m->ctype,
		.content_length = m->clen,
		.headers = m->buf,
		.headers_len = m->hdr_len,
		.body = m->buf + m->body_start,
		.len = body_end - m->body_start,
		.offset = m->part_off,
		.body_offset = m->body_off,
		.short_body = short_body,
		.unterminated = unterminated,
	};
	int rc = m->cfg.on_part ? m->cfg.on_part(m->cfg.arg, &part) : 0;
	if (body_end < m->len)
		m->buf[body_end] = saved;
	if (rc < 0) {
		m->st = ST_STOPPED;
		m->stop_rc = rc;
	}
	return rc < 0 ? rc : 0;
}

static void begin_part(struct agw_multipart *m, uint64_t delim_off)
{
	m->st = ST_HEADERS;
	m->part_off = delim_off;
	m->clen = -1;
	m->ctype[0] = '\0';
	m->hdr_len = 0;
	m->hold = false;
	m->garbage = false;
	m->preamble = false;
	m->epilogue = false;
	buf_reset(m);
}

static void start_seek(struct agw_multipart *m, bool quiet)
{
	m->st = ST_SEEK;
	m->garbage = quiet;
	m->line_long = false;
	buf_reset(m);
}

static int on_line(struct agw_multipart *m);

/* The body has its Content-Length bytes and buf holds more after them (the rest of a line that was
 * not a delimiter): emits the part, then hands those bytes to ST_AFTER. */
static int emit_with_tail(struct agw_multipart *m)
{
	size_t end = m->body_start + (size_t)m->clen;
	int rc = emit(m, end, false, false);
	if (rc < 0)
		return rc;
	size_t tail = m->len - end;
	uint64_t tail_off = m->body_off + (uint64_t)m->clen;
	memmove(m->buf, m->buf + end, tail);
	start_seek(m, false);
	m->st = ST_AFTER;
	m->len = tail;
	m->line_off = tail_off;
	m->next_off = tail_off + tail;
	if (tail && m->buf[tail - 1] == '\n')
		return on_line(m);
	return 0;
}

/* Whether an incomplete line could still become a delimiter line. */
static bool delimiter_prefix(const struct agw_multipart *m, const char *s, size_t len)
{
	size_t dashes = 0;
	while (len && *s == '-') {
		s++;
		len--;
		dashes++;
	}
	while (dashes && len && *s == ' ') {
		s++;
		len--;
	}
	if (!dashes && !len)
		return false;
	if (len > m->blen + 3)
		return false;
	return memcmp(s, m->boundary, len < m->blen ? len : m->blen) == 0;
}

/* A line in ST_SEEK or ST_AFTER. */
static void seek_line(struct agw_multipart *m, const char *s, size_t len)
{
	bool close;
	if (!m->line_long && is_delimiter(m, s, len, &close)) {
		if (close) {
			start_seek(m, false);
			m->epilogue = true;
		} else {
			begin_part(m, m->line_off);
		}
		return;
	}
	if (!m->line_long && multipart_is_blank(s, len))
		return;
	if (!m->preamble && !m->epilogue && !m->garbage) {
		report(m, m->line_off, "unexpected data between parts, skipped up to the next boundary");
		m->garbage = true;
	}
	m->st = ST_SEEK;
}

static void set_single(struct agw_multipart *m, uint64_t doc_off)
{
	m->st = ST_SINGLE;
	m->part_off = doc_off;
	m->body_off = doc_off;
	m->clen = -1;
	m->hdr_len = 0;
	m->body_start = 0;
}

static void set_ctype(struct agw_multipart *m, const char *v, size_t n)
{
	if (n >= sizeof(m->ctype))
		n = sizeof(m->ctype) - 1;
	memcpy(m->ctype, v, n);
	m->ctype[n] = '\0';
}

/* The HTTP head in buf is complete. Returns true when a chunked body follows. */
static bool head_done(struct agw_multipart *m)
{
	const char *p = m->buf, *end = m->buf + m->len;
	bool first = true, chunked = false;
	char ctype[512] = "";
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		const char *s = p;
		size_t n = (size_t)(e - p);
		multipart_trim(&s, &n);
		const char *v;
		size_t vn;
		if (first) {
			if (n >= 5 && !memcmp(s, "HTTP/", 5)) {
				const char *sp = memchr(s, ' ', n);
				m->status = sp ? atoi(sp + 1) : 0;
			}
			first = false;
		} else if (multipart_header_value(s, n, "Content-Type", &v, &vn)) {
			snprintf(ctype, sizeof(ctype), "%.*s", (int)vn, v);
		} else if (multipart_header_value(s, n, "Transfer-Encoding", &v, &vn)) {
			chunked = vn >= 7 && !strncasecmp(v + vn - 7, "chunked", 7);
		}
		p = nl ? nl + 1 : end;
	}
	uint64_t head_off = m->part_off;
	buf_reset(m);
	if (m->status && (m->status < 200 || m->status > 299)) {
		report(m, head_off, "HTTP status %d, not an event stream", m->status);
		m->st = ST_IGNORE;
		return false;
	}
	char b[AGW_MULTIPART_MAX_BOUNDARY + 1];
	int rc = agw_multipart_boundary_parse(ctype, b, sizeof(b));
	if (rc == 0 && set_boundary(m, b, strlen(b)) == 0) {
		start_seek(m, false);
		m->preamble = true;
	} else if (rc == -ENOENT && strncasecmp(ctype, "multipart/", 10) != 0 && ctype[0]) {
		set_single(m, m->next_off);
		set_ctype(m, ctype, strlen(ctype));
	} else {
		/* multipart without a usable boundary, or no Content-Type: sniff the first "--" line */
		m->st = ST_START;
	}
	m->head_allowed = false;
	return chunked;
}

/* The first line of the input: an HTTP head, the first delimiter, or a single document. */
static void start_line(struct agw_multipart *m, const char *s, size_t n)
{
	if (multipart_is_blank(s, n)) {
		buf_reset(m);
		return;
	}
	if (m->head_allowed && multipart_is_http_line(s, multipart_line_len(s, n))) {
		m->st = ST_HEAD;
		m->part_off = m->line_off;
		m->line_start = m->len;
		return;
	}
	if (n >= 2 && s[0] == '-' && s[1] == '-' && set_boundary(m, s, n) == 0) {
		begin_part(m, m->line_off);
		return;
	}
	set_single(m, m->line_off);
}

static void set_content_length(struct agw_multipart *m, const char *v, size_t vn)
{
	char num[24];
	char *endp;
	snprintf(num, sizeof(num), "%.*s", (int)(vn < 23 ? vn : 23), v);
	long long cl = strtoll(num, &endp, 10);
	if (vn == 0 || vn > 18 || *endp || cl < 0) {
		report(m, m->line_off, "bad Content-Length '%.*s', the part ends at the next boundary",
		       (int)(vn > 40 ? 40 : vn), v);
		m->clen = -1;
	} else {
		m->clen = cl;
	}
}

/* A line of a part's headers: a header, the blank line that ends them, a delimiter (an empty
 * part), or the body's first line when the blank line is missing. */
static int header_line(struct agw_multipart *m, const char *s, size_t n)
{
	bool close;
	if (is_delimiter(m, s, n, &close)) {
		/* an empty part (firmware that repeats the delimiter line) */
		if (close) {
			start_seek(m, false);
			m->epilogue = true;
		} else {
			begin_part(m, m->line_off);
		}
		return 0;
	}
	if (multipart_is_blank(s, n)) {
		m->hdr_len = m->line_start;
		m->body_start = m->len;
		m->body_off = m->next_off;
	} else if (multipart_looks_like_header(s, n)) {
		const char *v;
		size_t vn;
		if (multipart_header_value(s, n, "Content-Type", &v, &vn)) {
			set_ctype(m, v, vn);
		} else if (multipart_header_value(s, n, "Content-Length", &v, &vn)) {
			set_content_length(m, v, vn);
		}
		m->line_start = m->len;
		return 0;
	} else {
		/* no blank line after the headers: this line is the body's first */
		m->hdr_len = m->line_start;
		m->body_start = m->line_start;
		m->body_off = m->line_off;
	}
	if (m->clen >= 0 && (uint64_t)m->clen > m->cfg.max_part) {
		report(m, m->part_off, "part of %" PRId64 " bytes is over the limit of %zu, skipped", m->clen,
		       m->cfg.max_part);
		start_seek(m, true);
		return 0;
	}
	m->st = ST_BODY;
	m->line_start = m->len;
	/* the first body line may already hold the whole body, or the body may be empty */
	if (m->clen >= 0 && m->len - m->body_start >= (uint64_t)m->clen)
		return emit_with_tail(m);
	return 0;
}

/* Handles the complete line [line_start, len) of buf in a line-based state. Returns negative to
 * stop, 1 when the HTTP head ended with a chunked body (the outer layer must take over). */
static int on_line(struct agw_multipart *m)
{
	const char *s = m->buf + m->line_start;
	size_t n = m->len - m->line_start;
	switch (m->st) {
	case ST_START:
		start_line(m, s, n);
		return 0;
	case ST_HEAD:
		if (multipart_is_blank(s, n))
			return head_done(m) ? 1 : 0;
		m->line_start = m->len;
		return 0;
	case ST_SEEK:
	case ST_AFTER:
		seek_line(m, s, n);
		if (m->st == ST_SEEK || m->st == ST_AFTER)
			buf_reset(m);
		return 0;
	case ST_HEADERS:
		return header_line(m, s, n);
	default:
		return 0;
	}
}

/* Line cap of the current line-based state. */
static size_t line_cap(const struct agw_multipart *m)
{
	switch (m->st) {
	case ST_START:
		return FIRST_LINE_MAX;
	case ST_HEAD:
	case ST_HEADERS:
		return m->cfg.max_header;
	default:
		return m->blen ? m->blen + 64 : SNIFF_LINE_MAX;
	}
}

/* Consumes up to one line of [p, p+n) in a line-based state; *k = bytes used. */
static int line_step(struct agw_multipart *m, const char *p, size_t n, size_t *k)
{
	const char *nl = memchr(p, '\n', n);
	size_t take = nl ? (size_t)(nl - p) + 1 : n;
	*k = take;
	if (m->line_long) {
		/* the rest of a line too long to be a delimiter (already reported): dropped */
		if (nl) {
			m->line_long = false;
			buf_reset(m);
		}
		return 0;
	}
	if (m->len == m->line_start)
		m->line_off = m->off;
	size_t cap = line_cap(m);
	if (m->len + take > cap) {
		switch (m->st) {
		case ST_START: {
			/* a long first line: a document, not a stream */
			set_single(m, m->line_off);
			*k = 0;
			return 0;
		}
		case ST_HEAD:
			report(m, m->part_off, "HTTP head longer than %zu bytes", cap);
			m->st = ST_IGNORE;
			buf_reset(m);
			return 0;
		case ST_HEADERS:
			report(m, m->part_off, "part headers longer than %zu bytes, part skipped", cap);
			start_seek(m, true);
			m->line_long = nl == NULL; /* the rest of this line is not a delimiter either */
			return 0;
		default:
			/* a long line is never a delimiter: report it, drop its bytes */
			m->line_long = true;
			seek_line(m, "x", 1);
			if (nl) {
				m->line_long = false;
				buf_reset(m);
			}
			return 0;
		}
	}
	if (buf_append(m, p, take) < 0)
		return -ENOMEM;
	m->next_off = m->off + take;
	return nl ? on_line(m) : 0;
}

/* The body outgrew max_part: reported, the rest of the part skipped up to the next delimiter
 * (the rest of the current line first, when it is not complete). */
static int body_overflow(struct agw_multipart *m, bool line_complete)
{
	report(m, m->part_off, "part larger than %zu bytes, skipped up to the next boundary", m->cfg.max_part);
	start_seek(m, true);
	m->line_long = !line_complete;
	return 0;
}

/* Consumes body bytes of [p, p+n); *k = bytes used. */
static int body_step(struct agw_multipart *m, const char *p, size_t n, size_t *k)
{
	const char *nl = memchr(p, '\n', n);
	size_t take = nl ? (size_t)(nl - p) + 1 : n;
	size_t have = m->len - m->body_start;
	if (m->clen >= 0 && !m->hold && take > (uint64_t)m->clen - have)
		take = (size_t)((uint64_t)m->clen - have);
	if (m->hold && m->len - m->line_start + take > m->blen + 64) {
		/* too long for a delimiter line: the part was complete */
		m->hold = false;
		*k = 0;
		return emit_with_tail(m);
	}
	*k = take;
	bool over = !m->hold && have + take > m->cfg.max_part;
	if (over && m->len - m->line_start + take > m->blen + 64)
		return body_overflow(m, nl != NULL && take == (size_t)(nl - p) + 1);
	if (buf_append(m, p, take) < 0)
		return -ENOMEM;
	if (over) {
		/* past the limit, unless this line is (or may still become) the delimiter that ends
		 * the body: the same verdict however the input was cut into chunks */
		const char *ls = m->buf + m->line_start;
		size_t ln = m->len - m->line_start;
		bool complete = ls[ln - 1] == '\n', close;
		if (complete ? !is_delimiter(m, ls, ln, &close) : !delimiter_prefix(m, ls, ln))
			return body_overflow(m, complete);
		if (!complete)
			return 0;
	}
	if (m->len > m->line_start && m->buf[m->len - 1] == '\n') {
		bool close;
		const char *s = m->buf + m->line_start;
		size_t sn = m->len - m->line_start;
		if (is_delimiter(m, s, sn, &close)) {
			size_t end = m->line_start;
			if (end > m->body_start && m->buf[end - 1] == '\n')
				end--;
			if (end > m->body_start && m->buf[end - 1] == '\r')
				end--;
			uint64_t delim_off = m->body_off + (m->line_start - m->body_start);
			m->hold = false;
			int rc = emit(m, end, m->clen >= 0, false);
			if (rc < 0)
				return rc;
			if (close) {
				start_seek(m, false);
				m->epilogue = true;
			} else {
				begin_part(m, delim_off);
			}
			return 0;
		}
		if (m->hold) {
			m->hold = false;
			return emit_with_tail(m);
		}
		m->line_start = m->len;
	}
	if (!m->hold && m->clen >= 0 && m->len - m->body_start == (uint64_t)m->clen) {
		/* a body that ends in what may be the start of a delimiter line (a Content-Length
		 * counted with CRs that the capture lost) waits for the end of that line */
		if (m->len > m->line_start && delimiter_prefix(m, m->buf + m->line_start, m->len - m->line_start)) {
			m->hold = true;
			return 0;
		}
		int rc = emit(m, m->len, false, false);
		if (rc < 0)
			return rc;
		start_seek(m, false);
		m->st = ST_AFTER;
	}
	return 0;
}

/* The inner layer over de-chunked bytes. Stops early (with *used < n) when the HTTP head has
 * ended and announced a chunked body. */
static int inner_feed(struct agw_multipart *m, const char *p, size_t n, size_t *used)
{
	size_t i = 0;
	int rc = 0;
	while (i < n && rc == 0) {
		size_t k = 0;
		switch (m->st) {
		case ST_BODY:
			rc = body_step(m, p + i, n - i, &k);
			break;
		case ST_SINGLE:
			k = n - i;
			if (m->len + k > m->cfg.max_part) {
				report(m, m->part_off, "document larger than %zu bytes", m->cfg.max_part);
				m->st = ST_IGNORE;
				buf_reset(m);
			} else if (buf_append(m, p + i, k) < 0) {
				rc = -ENOMEM;
			}
			break;
		case ST_IGNORE:
			k = n - i;
			break;
		case ST_STOPPED:
			*used = n;
			return m->stop_rc;
		default:
			rc = line_step(m, p + i, n - i, &k);
			break;
		}
		i += k;
		m->off += k;
	}
	*used = i;
	if (rc == 1) {
		m->ch = CH_DETECT;
		m->ch_len = 0;
		return 0;
	}
	return rc;
}

static int inner_all(struct agw_multipart *m, const char *p, size_t n, uint64_t at)
{
	m->off = at;
	size_t used;
	int rc = inner_feed(m, p, n, &used);
	/* a head cannot end inside a chunk's data: the head comes before any chunk */
	return rc;
}

/* One line of chunk framing complete in ch_line. */
static int chunk_line(struct agw_multipart *m)
{
	const char *s = m->ch_line;
	size_t n = m->ch_len;
	multipart_trim(&s, &n);
	if (m->ch == CH_DATA_END) {
		if (n)
			report(m, m->ch_line_off, "chunked body: no line break after a chunk's data");
		m->ch = CH_SIZE;
		return 0;
	}
	if (m->ch == CH_TRAILER)
		return 0;
	size_t i = 0;
	uint64_t v = 0;
	while (i < n && isxdigit((unsigned char)s[i]) && i < 15) {
		v = v * 16 + (uint64_t)(isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower((unsigned char)s[i]) - 'a' + 10));
		i++;
	}
	bool ok = i > 0 && (i == n || s[i] == ';' || s[i] == ' ');
	if (m->ch == CH_DETECT && !ok) {
		/* "Transfer-Encoding: chunked" in a head that curl -i wrote above a body it had
		 * already de-chunked: the bytes are body bytes */
		m->ch = CH_OFF;
		return inner_all(m, m->ch_line, m->ch_len, m->ch_line_off);
	}
	if (!ok) {
		report(m, m->ch_line_off, "chunked body: bad chunk size line, the rest is read as it is");
		m->ch = CH_OFF;
		return inner_all(m, m->ch_line, m->ch_len, m->ch_line_off);
	}
	m->ch_left = v;
	m->ch = v ? CH_DATA : CH_TRAILER;
	return 0;
}

int agw_multipart_feed(struct agw_multipart *m, const void *data, size_t len)
{
	const char *p = data;
	int rc = 0;
	if (m->st == ST_STOPPED)
		return m->stop_rc;
	while (len > 0 && rc == 0) {
		if (m->ch == CH_OFF) {
			size_t used;
			m->off = m->raw_off;
			rc = inner_feed(m, p, len, &used);
			m->raw_off += used;
			p += used;
			len -= used;
			continue;
		}
		if (m->ch == CH_DATA) {
			size_t k = len < m->ch_left ? len : (size_t)m->ch_left;
			rc = inner_all(m, p, k, m->raw_off);
			m->ch_left -= k;
			if (!m->ch_left) {
				m->ch = CH_DATA_END;
				m->ch_len = 0;
			}
			m->raw_off += k;
			p += k;
			len -= k;
			continue;
		}
		/* a framing line */
		if (m->ch_len == 0)
			m->ch_line_off = m->raw_off;
		char c = *p;
		if (m->ch_len < sizeof(m->ch_line))
			m->ch_line[m->ch_len++] = c;
		m->raw_off++;
		p++;
		len--;
		if (c == '\n' || m->ch_len == sizeof(m->ch_line)) {
			rc = chunk_line(m);
			m->ch_len = 0;
		}
	}
	if (rc < 0 && m->st != ST_STOPPED) {
		m->st = ST_STOPPED;
		m->stop_rc = rc;
	}
	return rc < 0 ? rc : 0;
}

int agw_multipart_finish(struct agw_multipart *m)
{
	int rc = 0;
	if (m->st == ST_STOPPED)
		return m->stop_rc;
	if (m->ch == CH_DETECT && m->ch_len) {
		m->ch = CH_OFF;
		rc = inner_all(m, m->ch_line, m->ch_len, m->ch_line_off);
		if (rc < 0)
			return rc;
	} else if (m->ch == CH_DATA || m->ch == CH_SIZE || (m->ch == CH_DATA_END && m->ch_len)) {
		report(m, m->raw_off, "chunked body ends without its last chunk");
	}
	switch (m->st) {
	case ST_START:
		if (!multipart_is_blank(m->buf, m->len)) {
			set_single(m, m->line_off);
			rc = emit(m, m->len, false, true);
		}
		break;
	case ST_SINGLE:
		if (!multipart_is_blank(m->buf, m->len))
			rc = emit(m, m->len, false, true);
		break;
	case ST_HEAD:
		report(m, m->part_off, "the input ends inside the HTTP head");
		break;
	case ST_SEEK:
	case ST_AFTER: {
		bool close;
		const char *s = m->buf + m->line_start;
		size_t n = m->len - m->line_start;
		if (!multipart_is_blank(s, n) && !is_delimiter(m, s, n, &close) && !m->preamble && !m->epilogue && !m->garbage)
			report(m, m->line_off, "unexpected data at the end of the input");
		break;
	}
	case ST_HEADERS:
		if (!multipart_is_blank(m->buf, m->len))
			report(m, m->part_off, "the input ends inside a part's headers");
		break;
	case ST_BODY:
		if (m->hold)
			rc = emit(m, m->body_start + (size_t)m->clen, false, false);
		else if (m->clen >= 0)
			report(m, m->part_off, "the input ends inside a part: %zu of %" PRId64 " bytes", m->len - m->body_start,
			       m->clen);
		else if (m->len - m->body_start > m->cfg.max_part) /* the end of a line that looked like a delimiter */
			report(m, m->part_off, "part larger than %zu bytes, skipped up to the next boundary", m->cfg.max_part);
		else
			rc = emit(m, m->len, false, true);
		break;
	default:
		break;
	}
	if (rc < 0)
		return rc;
	m->st = ST_IGNORE;
	buf_reset(m);
	return 0;
}

int agw_multipart_new(const struct agw_multipart_config *cfg, struct agw_multipart **ret)
{
	struct agw_multipart *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	if (!m->cfg.max_header)
		m->cfg.max_header = DEFAULT_MAX_HEADER;
	if (!m->cfg.max_part)
		m->cfg.max_part = DEFAULT_MAX_PART;
	m->clen = -1;
	m->ch = CH_OFF;
	if (!cfg->content_type) {
		m->st = ST_START;
		m->head_allowed = true;
	} else {
		char b[AGW_MULTIPART_MAX_BOUNDARY + 1];
		int rc = agw_multipart_boundary_parse(cfg->content_type, b, sizeof(b));
		if (rc == 0)
			rc = set_boundary(m, b, strlen(b));
		if (rc == 0) {
			start_seek(m, false);
			m->preamble = true;
		} else if (rc == -ENOENT && strncasecmp(cfg->content_type, "multipart/", 10) != 0) {
			set_single(m, 0);
			set_ctype(m, cfg->content_type, strlen(cfg->content_type));
		} else if (rc == -ENOENT) {
			m->st = ST_START; /* multipart without a boundary parameter: sniff it */
		} else {
			free(m);
			return -EINVAL;
		}
	}
	*ret = m;
	return 0;
}

void agw_multipart_free(struct agw_multipart *m)
{
	if (!m)
		return;
	free(m->buf);
	free(m);
}

uint64_t agw_multipart_offset(const struct agw_multipart *m)
{
	return m->raw_off;
}

const char *agw_multipart_boundary(const struct agw_multipart *m)
{
	return m->blen ? m->boundary : NULL;
}

int agw_multipart_http_status(const struct agw_multipart *m)
{
	return m->status;
}
