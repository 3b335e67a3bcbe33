/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gSOAP as a (de)serializer on memory buffers: see onvif_soap.h. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onvif_soap.h"
#include "wsaapi.h"

/* The generated table plus namespaces that only appear in values (fault subcodes), so that
 * gSOAP prints them with a known prefix. */
#define MAX_NAMESPACES 64
static struct Namespace agw_namespaces[MAX_NAMESPACES];
static pthread_once_t namespaces_once = PTHREAD_ONCE_INIT;

/* namespaces[] is the generated table (gsoap/onvif_nsmap.c) */
static void namespaces_init(void)
{
	size_t n = 0;
	while (namespaces[n].id && n < MAX_NAMESPACES - 4)
		n++;
	memcpy(agw_namespaces, namespaces, n * sizeof(namespaces[0]));
	agw_namespaces[n].id = "ter";
	agw_namespaces[n].ns = "http://www.onvif.org/ver10/error";
	agw_namespaces[n + 1].id = "tns1";
	agw_namespaces[n + 1].ns = "http://www.onvif.org/ver10/topics";
	agw_namespaces[n + 2].id = "wsrf-r";
	agw_namespaces[n + 2].ns = "http://docs.oasis-open.org/wsrf/r-2";
}

const struct Namespace *agw_onvif_namespaces(void)
{
	pthread_once(&namespaces_once, namespaces_init);
	return agw_namespaces;
}

/* Limits for documents that come from the network: nesting depth, items per list, string size. */
#define MAX_LEVEL 64
#define MAX_OCCURS 100000
#define MAX_STRING (1L << 20)

static size_t input_recv(struct soap *soap, char *buf, size_t len)
{
	struct agw_onvif_input *in = soap->user;
	size_t n = in->len - in->pos;
	if (n > len)
		n = len;
	memcpy(buf, in->buf + in->pos, n);
	in->pos += n;
	return n;
}

struct soap *agw_onvif_soap_new(void)
{
	struct soap *soap = soap_new1(SOAP_C_UTFSTRING);
	if (!soap)
		return NULL;
	pthread_once(&namespaces_once, namespaces_init);
	soap_set_namespaces(soap, agw_namespaces);
	soap->maxlevel = MAX_LEVEL;
	soap->maxoccurs = MAX_OCCURS;
	soap->maxlength = MAX_STRING;
	soap->recv_maxlength = AGW_ONVIF_MAX_DOCUMENT;
	if (soap_register_plugin(soap, soap_wsa)) {
		soap_free(soap);
		return NULL;
	}
	return soap;
}

void agw_onvif_soap_free(struct soap *soap)
{
	if (!soap)
		return;
	soap_destroy(soap);
	soap_end(soap);
	soap_free(soap);
}

/* Frees what the previous document left (its data). Not soap_end: that also clears gSOAP's
 * per-document tables (id and pointer hash tables, a 32 KiB memset and a 2,000-entry walk), which
 * was its largest cost per document, done three times per exchange. soap_begin_recv clears them
 * before every parse anyway, and a document/literal write never uses them (no multi-ref ids). */
static void release(struct soap *soap)
{
	soap_destroy(soap);
	soap_dealloc(soap, NULL);
}

int agw_onvif_parse_begin(struct soap *soap, struct agw_onvif_input *in, const char *buf, size_t len)
{
	release(soap);
	soap->error = SOAP_OK;
	if (len > AGW_ONVIF_MAX_DOCUMENT)
		return -EMSGSIZE;
	if (memchr(buf, '\0', len))
		return -EINVAL;
	in->buf = buf;
	in->len = len;
	in->pos = 0;
	soap->user = in;
	soap->frecv = input_recv;
	soap->is = NULL;
	soap->recvfd = -1;
	soap->socket = SOAP_INVALID_SOCKET;
	soap_set_imode(soap, SOAP_ENC_PLAIN);
	soap->header = NULL;
	soap->fault = NULL;
	return 0;
}

int agw_onvif_parse_end(struct soap *soap)
{
	struct agw_onvif_input *in = soap->user;
	size_t pos = in->pos - (soap->buflen - soap->bufidx);
	const char *p = in->buf + pos, *end = in->buf + in->len;
	/* gSOAP stops at the end of the root element: a second root is not a document. */
	while (p < end) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			p++;
		} else if (end - p >= 4 && !memcmp(p, "<!--", 4)) {
			const char *q = memmem(p + 4, (size_t)(end - p - 4), "-->", 3);
			if (!q)
				break;
			p = q + 3;
		} else if (end - p >= 2 && !memcmp(p, "<?", 2)) {
			const char *q = memmem(p + 2, (size_t)(end - p - 2), "?>", 2);
			if (!q)
				break;
			p = q + 2;
		} else {
			break;
		}
	}
	if (p < end) {
		/* point the error position at the stray content */
		soap->bufidx = soap->buflen;
		in->pos = (size_t)(p - in->buf);
		return soap->error = SOAP_SYNTAX_ERROR;
	}
	return 0;
}

unsigned agw_onvif_line_of(const char *buf, size_t len, size_t off)
{
	unsigned line = 1;
	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++)
		line += buf[i] == '\n';
	return line;
}

/* Copies s into buf with runs of white space collapsed and trimmed (fault texts are often
 * pretty-printed across lines). */
static const char *squeeze(const char *s, char *buf, size_t len)
{
	size_t n = 0;
	bool space = false;
	if (!s)
		s = "";
	for (; *s && n + 1 < len; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < len)
			buf[n++] = ' ';
		space = false;
		buf[n++] = *s;
	}
	buf[n] = '\0';
	return buf;
}

/* A fault code as gSOAP gives it: "prefix:Local", or "\"URI\":Local" when the camera did not
 * declare the prefix it used. The URI form says nothing to a reader: keep the local name. */
static const char *code_text(const char *s, char *buf, size_t len)
{
	squeeze(s, buf, len);
	if (buf[0] == '"') {
		char *end = strchr(buf + 1, '"');
		if (end && end[1] == ':')
			memmove(buf, end + 2, strlen(end + 2) + 1);
	}
	return buf;
}

static const char *parse_error_text(int error)
{
	switch (error) {
	case SOAP_TAG_MISMATCH: return "unexpected element";
	case SOAP_SYNTAX_ERROR: return "XML syntax error";
	case SOAP_NO_TAG: return "no XML element";
	case SOAP_TYPE: return "bad value";
	case SOAP_NAMESPACE: return "namespace error";
	case SOAP_EOF: return "unexpected end of document";
	case SOAP_LEVEL: return "nesting too deep";
	case SOAP_UTF_ERROR: return "bad UTF-8";
	case SOAP_OCCURS: return "too many items";
	case SOAP_LENGTH: return "value too long";
	case SOAP_EOM: return "out of memory";
	case SOAP_DUPLICATE_ID: return "duplicate id";
	case SOAP_MISSING_ID: return "missing id";
	case SOAP_NO_METHOD: return "not a PullMessagesResponse, Notify, NotificationMessage or MetadataStream";
	default: return "invalid document";
	}
}

int agw_onvif_parse_error(struct soap *soap, const struct agw_onvif_input *in, char *err, size_t errlen)
{
	if (soap->error == SOAP_FAULT || soap->error == SOAP_CLI_FAULT || soap->error == SOAP_SVR_FAULT) {
		const char **c = soap_faultcode(soap);
		const char *sub = soap_fault_subcode(soap);
		char code[128], subcode[128], reason[256];
		code_text(c && *c ? *c : "?", code, sizeof(code));
		squeeze(soap_fault_string(soap), reason, sizeof(reason));
		/* SOAP 1.1 has no subcode: gSOAP then reports the code again */
		if (sub && strcmp(code_text(sub, subcode, sizeof(subcode)), code) != 0)
			snprintf(err, errlen, "fault: %s/%s: %s", code, subcode, reason);
		else
			snprintf(err, errlen, "fault: %s: %s", code, reason);
		return -EPROTO;
	}
	if (soap->error == SOAP_LEVEL || soap->error == SOAP_OCCURS || soap->error == SOAP_LENGTH ||
	    soap->error == SOAP_EOM) {
		snprintf(err, errlen, "%s", parse_error_text(soap->error));
		return -EMSGSIZE;
	}
	size_t pos = 0;
	if (in && in->pos >= soap->buflen - soap->bufidx)
		pos = in->pos - (soap->buflen - soap->bufidx);
	unsigned line = in ? agw_onvif_line_of(in->buf, in->len, pos) : 0;
	snprintf(err, errlen, "line %u: %s", line, parse_error_text(soap->error));
	return -EINVAL;
}

int agw_onvif_write_begin(struct soap *soap, const char **out)
{
	release(soap);
	soap->error = SOAP_OK;
	*out = NULL;
	soap->header = NULL;
	soap->fault = NULL;
	soap->os = out;
	soap_set_omode(soap, SOAP_ENC_PLAIN);
	return 0;
}

int agw_onvif_write_end(struct soap *soap, int soap_rc, const char **out, char **ret_xml)
{
	soap->os = NULL;
	soap_clr_omode(soap, SOAP_ENC_PLAIN);
	if (soap_rc != SOAP_OK || !*out)
		return -EINVAL;
	char *xml = strdup(*out);
	if (!xml)
		return -ENOMEM;
	*ret_xml = xml;
	return 0;
}
