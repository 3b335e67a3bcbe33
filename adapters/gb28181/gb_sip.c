/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SIP framing and parsing (see gb_sip.h). The header section is scanned here first: libosip2 finds
 * no body behind LF-only line ends, silently cuts a body to a short Content-Length, and says
 * nothing about where a message is broken. What it gets is a normalized copy (CRLF line ends,
 * exactly Content-Length bytes of body) that it only has to split into headers. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gb_sip.h"

static pthread_once_t osip_once = PTHREAD_ONCE_INIT;

/* libosip2 keeps one table of header parsers, built by parser_init() and read-only afterwards,
 * and traces parse errors to stdout unless told not to. */
static void trace_nothing(const char *fi, int li, osip_trace_level_t level, const char *chfr, va_list ap)
{
	(void)fi, (void)li, (void)level, (void)chfr, (void)ap;
}

static void osip_setup(void)
{
	parser_init();
	osip_trace_initialize_func(END_TRACE_LEVEL, trace_nothing);
	for (int level = 0; level < END_TRACE_LEVEL; level++)
		osip_trace_disable_level((osip_trace_level_t)level);
}

struct head {
	size_t skip;       /* CR/LF before the start line */
	size_t end;        /* offset of the first body byte */
	unsigned lines;    /* header lines after the start line */
	unsigned start_line; /* input line of the start line */
	unsigned body_line;
	bool lf_only;
	bool have_cl;
	size_t cl;
	unsigned cl_line;
};

static bool is_sws(char c)
{
	return c == ' ' || c == '\t';
}

/* Content-Length value: 1*DIGIT with optional surrounding whitespace. */
static int parse_cl(const char *v, size_t n, size_t *ret)
{
	while (n && is_sws(*v))
		v++, n--;
	while (n && is_sws(v[n - 1]))
		n--;
	if (n == 0 || n > 9)
		return -1;
	size_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -1;
		x = x * 10 + (size_t)(v[i] - '0');
	}
	*ret = x;
	return 0;
}

static bool name_is(const char *name, size_t n, const char *full, const char *compact)
{
	while (n && is_sws(name[n - 1]))
		n--;
	if (n == strlen(full) && !strncasecmp(name, full, n))
		return true;
	return compact && n == strlen(compact) && !strncasecmp(name, compact, n);
}

/* Scans the start line and headers. Returns 1 when the blank line ending them was found, 0 when
 * buf ends before it, or a negative errno with err. */
static int scan_head(const char *buf, size_t len, struct head *h, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	unsigned line = 1;
	size_t p = 0;
	while (p < len && (buf[p] == '\r' || buf[p] == '\n')) {
		if (buf[p] == '\n')
			line++;
		p++;
	}
	h->skip = p;
	h->start_line = line;
	size_t limit = len - p > AGW_GB_SIP_MAX_MESSAGE ? p + AGW_GB_SIP_MAX_MESSAGE : len;
	for (bool first = true;; first = false, line++) {
		const char *nl = memchr(buf + p, '\n', limit - p);
		if (!nl) {
			if (limit < len) {
				snprintf(err, errlen, "offset %zu: no end of the headers within %u bytes", h->skip,
					 AGW_GB_SIP_MAX_MESSAGE);
				return -EMSGSIZE;
			}
			return 0;
		}
		size_t b = p, e = (size_t)(nl - buf);
		p = e + 1;
		if (e > b && buf[e - 1] == '\r')
			e--;
		else
			h->lf_only = true;
		if (e == b) {
			if (first)
				continue; /* cannot happen: blank lines were skipped */
			h->end = p;
			h->body_line = line + 1;
			return 1;
		}
		if (memchr(buf + b, '\0', e - b)) {
			snprintf(err, errlen, "line %u: NUL byte in the %s", line, first ? "start line" : "headers");
			return -EINVAL;
		}
		if (first)
			continue;
		if (++h->lines > AGW_GB_SIP_MAX_HEADERS) {
			snprintf(err, errlen, "line %u: more than %u header lines", line, AGW_GB_SIP_MAX_HEADERS);
			return -E2BIG;
		}
		if (is_sws(buf[b]))
			continue; /* folded continuation of the header before */
		const char *colon = memchr(buf + b, ':', e - b);
		if (!colon || colon == buf + b) {
			int show = (int)(e - b > 40 ? 40 : e - b); /* the line is not NUL-terminated */
			snprintf(err, errlen, "line %u: header line without a name and colon: '%.*s'", line, show, buf + b);
			return -EINVAL;
		}
		size_t nlen = (size_t)(colon - (buf + b));
		if (!name_is(buf + b, nlen, "Content-Length", "l"))
			continue;
		size_t cl;
		const char *v = colon + 1;
		while (v < buf + e && is_sws(*v))
			v++;
		if (parse_cl(v, (size_t)(buf + e - v), &cl) < 0) {
			int vlen = (int)(buf + e - v);
			snprintf(err, errlen, "line %u: Content-Length '%.*s' is not a number", line, vlen > 20 ? 20 : vlen, v);
			return -EBADMSG;
		}
		if (h->have_cl && cl != h->cl) {
			snprintf(err, errlen, "line %u: a second Content-Length (%zu) differs from the first (%zu)", line, cl,
				 h->cl);
			return -EBADMSG;
		}
		h->have_cl = true;
		h->cl = cl;
		h->cl_line = line;
	}
}

bool agw_gb_sip_looks_like(const char *buf, size_t len)
{
	size_t p = 0;
	while (p < len && (buf[p] == '\r' || buf[p] == '\n'))
		p++;
	if (len - p >= 8 && !strncasecmp(buf + p, "SIP/2.0 ", 8))
		return true;
	/* METHOD SP ...: an uppercase token followed by a space */
	size_t q = p;
	while (q < len && q - p < 32 && isupper((unsigned char)buf[q]))
		q++;
	return q > p && q < len && buf[q] == ' ';
}

int agw_gb_sip_frame(const char *buf, size_t len, size_t *ret_skip, size_t *ret_len, char *err, size_t errlen)
{
	struct head h;
	int rc = scan_head(buf, len, &h, err, errlen);
	*ret_skip = h.skip;
	if (rc <= 0)
		return rc;
	if (!h.have_cl) {
		snprintf(err, errlen, "offset %zu: a message on a stream needs a Content-Length", h.skip);
		return -EBADMSG;
	}
	if (h.end - h.skip + h.cl > AGW_GB_SIP_MAX_MESSAGE) {
		snprintf(err, errlen, "offset %zu: message of %zu bytes, larger than the limit of %u", h.skip,
			 h.end - h.skip + h.cl, AGW_GB_SIP_MAX_MESSAGE);
		return -EMSGSIZE;
	}
	if (len < h.end + h.cl)
		return 0;
	*ret_len = h.end - h.skip + h.cl;
	return 1;
}

static bool token_char(char c)
{
	return isalnum((unsigned char)c) || strchr("-.!%*_+`'~", c);
}

/* "METHOD SP Request-URI SP SIP/2.0" or "SIP/2.0 SP 3DIGIT SP Reason-Phrase". */
static int check_start_line(const char *s, size_t n, unsigned line, char *err, size_t errlen)
{
	if (n >= 12 && !strncasecmp(s, "SIP/2.0 ", 8)) {
		if (isdigit((unsigned char)s[8]) && isdigit((unsigned char)s[9]) && isdigit((unsigned char)s[10]) &&
		    (n == 11 || s[11] == ' '))
			return 0;
	} else {
		size_t i = 0;
		while (i < n && token_char(s[i]))
			i++;
		const char *sp2 = i > 0 && i < n && s[i] == ' ' ? memchr(s + i + 1, ' ', n - i - 1) : NULL;
		if (sp2 && sp2 > s + i + 1 && (size_t)(s + n - sp2 - 1) == 7 && !strncasecmp(sp2 + 1, "SIP/2.0", 7))
			return 0;
	}
	snprintf(err, errlen, "line %u: not a SIP request or status line: '%.*s'", line, (int)(n > 60 ? 60 : n), s);
	return -EINVAL;
}

/* ---- telling which header libosip2 could not read ---- */

#define HEADER_CHECK(kind)                                                                         \
	static int check_##kind(const char *v)                                                     \
	{                                                                                          \
		osip_##kind##_t *x = NULL;                                                         \
		if (osip_##kind##_init(&x) != 0)                                                   \
			return 0;                                                                  \
		int rc = osip_##kind##_parse(x, v);                                                \
		osip_##kind##_free(x);                                                             \
		return rc;                                                                         \
	}
HEADER_CHECK(via)
HEADER_CHECK(from)
HEADER_CHECK(to)
HEADER_CHECK(call_id)
HEADER_CHECK(cseq)
HEADER_CHECK(contact)
HEADER_CHECK(content_type)
#undef HEADER_CHECK

static const struct {
	const char *name, *compact;
	int (*check)(const char *value);
} header_checks[] = {
	{"Via", "v", check_via},
	{"From", "f", check_from},
	{"To", "t", check_to},
	{"Call-ID", "i", check_call_id},
	{"CSeq", NULL, check_cseq},
	{"Contact", "m", check_contact},
	{"Content-Type", "c", check_content_type},
};

/* After libosip2 refused the message: names the first header line that its parser for that header
 * refuses on its own. */
static void diagnose(const char *buf, const struct head *h, char *err, size_t errlen)
{
	size_t p = h->skip;
	unsigned line = h->start_line;
	bool first = true;
	char value[1024];
	while (p < h->end) {
		const char *nl = memchr(buf + p, '\n', h->end - p);
		size_t b = p, e = nl ? (size_t)(nl - buf) : h->end;
		p = e + 1;
		if (e > b && buf[e - 1] == '\r')
			e--;
		if (first || e == b || is_sws(buf[b])) {
			first = false;
			line++;
			continue;
		}
		const char *colon = memchr(buf + b, ':', e - b);
		size_t nlen = colon ? (size_t)(colon - (buf + b)) : 0;
		for (size_t i = 0; colon && i < sizeof(header_checks) / sizeof(header_checks[0]); i++) {
			if (!name_is(buf + b, nlen, header_checks[i].name, header_checks[i].compact))
				continue;
			const char *v = colon + 1;
			while (v < buf + e && is_sws(*v))
				v++;
			snprintf(value, sizeof(value), "%.*s", (int)(buf + e - v), v);
			/* a Via line may list several; libosip2 splits them before parsing */
			char *comma = i == 0 ? strchr(value, ',') : NULL;
			if (comma)
				*comma = '\0';
			if (header_checks[i].check(value) != 0) {
				snprintf(err, errlen, "line %u: malformed %s header: '%.60s'", line, header_checks[i].name,
					 value);
				return;
			}
		}
		line++;
	}
	snprintf(err, errlen, "line %u: the SIP headers could not be parsed (libosip2)", h->start_line);
}

static const char *uri_user(const osip_from_t *f)
{
	return f && f->url && f->url->username ? f->url->username : "";
}

void agw_gb_sip_msg_free(struct agw_gb_sip_msg *m)
{
	if (!m)
		return;
	if (m->osip)
		osip_message_free(m->osip);
	free(m->buf_);
	free(m->ct_);
	free(m->cid_);
	free(m);
}

/* Bare LFs in the body: a capture pasted through an editor loses the CRs Content-Length counted. */
static size_t bare_lfs(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			c++;
	return c;
}

static int body_extent(const char *buf, size_t len, unsigned flags, const struct head *h, size_t *ret_len,
		       size_t *ret_discarded, char *err, size_t errlen)
{
	size_t avail = len - h->end;
	*ret_discarded = 0;
	if (!h->have_cl) {
		if (flags & AGW_GB_SIP_STREAM) {
			snprintf(err, errlen, "line %u: a message on a stream needs a Content-Length", h->start_line);
			return -EBADMSG;
		}
		*ret_len = avail;
		return 0;
	}
	if (h->cl > avail) {
		size_t lfs = bare_lfs(buf + h->end, avail);
		snprintf(err, errlen, "line %u: Content-Length is %zu but %zu bytes follow the headers%s", h->cl_line, h->cl,
			 avail,
			 lfs && avail + lfs == h->cl ? " (it counts CRLF line ends: the body's lost their CR)" : "");
		return -EBADMSG;
	}
	if (h->cl < avail) {
		if (flags & AGW_GB_SIP_STREAM) {
			snprintf(err, errlen, "offset %zu: %zu bytes after the body of Content-Length %zu", h->end + h->cl,
				 avail - h->cl, h->cl);
			return -EBADMSG;
		}
		*ret_discarded = avail - h->cl;
	}
	*ret_len = h->cl;
	return 0;
}

/* The copy libosip2 parses: header lines with CRLF, a blank line, exactly the body. */
static char *normalized_copy(const char *buf, const struct head *h, size_t body_len, size_t *ret_len)
{
	size_t hlen = h->end - h->skip;
	char *c = malloc(hlen * 2 + body_len + 3);
	if (!c)
		return NULL;
	size_t o = 0, p = h->skip;
	while (p < h->end) {
		const char *nl = memchr(buf + p, '\n', h->end - p);
		size_t e = (size_t)(nl - buf);
		size_t b = p;
		p = e + 1;
		if (e > b && buf[e - 1] == '\r')
			e--;
		memcpy(c + o, buf + b, e - b);
		o += e - b;
		c[o++] = '\r';
		c[o++] = '\n';
	}
	memcpy(c + o, buf + h->end, body_len);
	o += body_len;
	c[o] = '\0';
	*ret_len = o;
	return c;
}

static int fill_fields(struct agw_gb_sip_msg *m, const struct head *h, char *err, size_t errlen)
{
	osip_message_t *s = m->osip;
	if (MSG_IS_REQUEST(s)) {
		m->method = s->sip_method;
	} else {
		m->status = s->status_code;
	}
	const char *missing = !s->from ? "From" : !s->to ? "To" : !s->call_id ? "Call-ID" : !s->cseq ? "CSeq" : NULL;
	if (!missing && m->method && osip_list_size(&s->vias) == 0)
		missing = "Via";
	if (missing) {
		snprintf(err, errlen, "line %u: no %s header", h->start_line, missing);
		return -EINVAL;
	}
	if (!s->cseq->number || !s->cseq->method) {
		snprintf(err, errlen, "line %u: CSeq without a number and method", h->start_line);
		return -EINVAL;
	}
	char *end;
	errno = 0;
	m->cseq = strtoul(s->cseq->number, &end, 10);
	if (errno || *end || end == s->cseq->number) {
		snprintf(err, errlen, "line %u: CSeq number '%.20s' is not a number", h->start_line, s->cseq->number);
		return -EINVAL;
	}
	if (m->method && strcmp(s->cseq->method, m->method) != 0) {
		snprintf(err, errlen, "line %u: CSeq method '%.20s' is not the request's method '%.20s'", h->start_line,
			 s->cseq->method, m->method);
		return -EINVAL;
	}
	m->from_user = uri_user(s->from);
	m->to_user = uri_user(s->to);
	if (osip_call_id_to_str(s->call_id, &m->cid_) != 0)
		return -ENOMEM;
	m->call_id = m->cid_;
	if (s->content_type && s->content_type->type && s->content_type->subtype) {
		if (asprintf(&m->ct_, "%s/%s", s->content_type->type, s->content_type->subtype) < 0) {
			m->ct_ = NULL;
			return -ENOMEM;
		}
	}
	m->content_type = m->ct_ ? m->ct_ : "";
	return 0;
}

int agw_gb_sip_parse(const char *buf, size_t len, unsigned flags, struct agw_gb_sip_msg **ret, char *err,
		     size_t errlen)
{
	if (len > AGW_GB_SIP_MAX_MESSAGE) {
		snprintf(err, errlen, "offset 0: message of %zu bytes, larger than the limit of %u", len,
			 AGW_GB_SIP_MAX_MESSAGE);
		return -EMSGSIZE;
	}
	struct head h;
	int rc = scan_head(buf, len, &h, err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		snprintf(err, errlen, "offset %zu: the headers do not end (no blank line)", len);
		return -EINVAL;
	}
	const char *sl = buf + h.skip;
	const char *sl_end = memchr(sl, '\n', h.end - h.skip);
	size_t sl_len = (size_t)(sl_end - sl);
	if (sl_len && sl[sl_len - 1] == '\r')
		sl_len--;
	rc = check_start_line(sl, sl_len, h.start_line, err, errlen);
	if (rc < 0)
		return rc;
	size_t body_len, discarded;
	rc = body_extent(buf, len, flags, &h, &body_len, &discarded, err, errlen);
	if (rc < 0)
		return rc;

	pthread_once(&osip_once, osip_setup);
	struct agw_gb_sip_msg *m = calloc(1, sizeof(*m));
	size_t copy_len = 0;
	if (!m || !(m->buf_ = normalized_copy(buf, &h, body_len, &copy_len)) || osip_message_init(&m->osip) != 0) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	if (osip_message_parse(m->osip, m->buf_, copy_len) != 0) {
		diagnose(buf, &h, err, errlen);
		rc = -EINVAL;
		goto fail;
	}
	rc = fill_fields(m, &h, err, errlen);
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		goto fail;
	}
	m->body = m->buf_ + copy_len - body_len;
	m->body_len = body_len;
	m->body_offset = h.end;
	m->body_line = h.body_line;
	m->lf_only = h.lf_only;
	m->discarded = discarded;
	*ret = m;
	return 0;
fail:
	agw_gb_sip_msg_free(m);
	return rc;
}
