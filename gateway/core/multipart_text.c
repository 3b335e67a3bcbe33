/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text the multipart parser reads: white space, header fields, HTTP lines and the boundary
 * parameter of a Content-Type (multipart_text.h). */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "alarmgw/multipart.h"
#include "multipart_text.h"

bool multipart_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void multipart_trim(const char **s, size_t *len)
{
	while (*len && multipart_is_ws(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && multipart_is_ws((*s)[*len - 1]))
		(*len)--;
}

bool multipart_is_blank(const char *s, size_t len)
{
	multipart_trim(&s, &len);
	return len == 0;
}

int agw_multipart_boundary_parse(const char *content_type, char *out, size_t outlen)
{
	const char *p = content_type;
	if (!p)
		return -ENOENT;
	while (multipart_is_ws(*p))
		p++;
	if (strncasecmp(p, "multipart/", 10) != 0)
		return -ENOENT;
	for (p = strchr(p, ';'); p; p = strchr(p, ';')) {
		p++;
		while (multipart_is_ws(*p))
			p++;
		if (strncasecmp(p, "boundary", 8) != 0)
			continue;
		const char *q = p + 8;
		while (multipart_is_ws(*q))
			q++;
		if (*q != '=')
			continue;
		q++;
		while (multipart_is_ws(*q))
			q++;
		const char *v = q, *e;
		if (*q == '"') {
			v = q + 1;
			e = strchr(v, '"');
			if (!e)
				return -EINVAL;
		} else {
			e = v;
			while (*e && *e != ';' && !multipart_is_ws(*e))
				e++;
		}
		size_t n = (size_t)(e - v);
		if (n == 0 || n > AGW_MULTIPART_MAX_BOUNDARY || n + 1 > outlen)
			return -EINVAL;
		memcpy(out, v, n);
		out[n] = '\0';
		return 0;
	}
	return -ENOENT;
}

size_t multipart_line_len(const char *s, size_t n)
{
	if (n && s[n - 1] == '\n')
		n--;
	if (n && s[n - 1] == '\r')
		n--;
	return n;
}

bool multipart_is_http_line(const char *s, size_t len)
{
	if (len >= 5 && !memcmp(s, "HTTP/", 5))
		return true;
	/* a request line of a captured push: "POST /path HTTP/1.1" */
	return len >= 9 && (!memcmp(s + len - 9, " HTTP/1.1", 9) || !memcmp(s + len - 9, " HTTP/1.0", 9));
}

bool multipart_header_value(const char *s, size_t len, const char *name, const char **ret_v, size_t *ret_n)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(s, name, nl) != 0)
		return false;
	const char *v = s + nl;
	size_t n = len - nl;
	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	if (!n || *v != ':')
		return false;
	v++;
	n--;
	multipart_trim(&v, &n);
	*ret_v = v;
	*ret_n = n;
	return true;
}

bool multipart_looks_like_header(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_'))
		i++;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i > 0 && i < len && s[i] == ':' && isalpha((unsigned char)s[0]);
}
