/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gSOAP used as a (de)serializer only: requests are written to a string and responses parsed from a
 * buffer that libcurl received. No gSOAP I/O ever touches a socket. */
#ifndef AGW_ONVIF_SOAP_H
#define AGW_ONVIF_SOAP_H

#include <stddef.h>

#include "soapH.h"

/* Documents bigger than this are refused before parsing (the adapter's own limit is lower). */
#define AGW_ONVIF_MAX_DOCUMENT (16u << 20)

/* The input of one parse: the document and how far gSOAP has read into it. */
struct agw_onvif_input {
	const char *buf;
	size_t len, pos;
};

/* The namespace table every context uses (prefix -> URI), NULL-terminated. */
const struct Namespace *agw_onvif_namespaces(void);

/* A context with the project's namespace table, input limits and the WS-Addressing plugin. */
struct soap *agw_onvif_soap_new(void);
void agw_onvif_soap_free(struct soap *soap); /* NULL is a no-op */

/* Starts a parse of buf (not necessarily NUL-terminated): frees what the previous message
 * allocated and points gSOAP's input at in. Returns 0, -EMSGSIZE or -EINVAL (embedded NUL). */
int agw_onvif_parse_begin(struct soap *soap, struct agw_onvif_input *in, const char *buf, size_t len);
/* After the document's root has been read: only white space, comments and processing
 * instructions may follow. Returns 0 or -EINVAL (sets soap->error). */
int agw_onvif_parse_end(struct soap *soap);

/* Turns the soap->error of a failed parse into a negative errno and a one-line message:
 * -EPROTO "fault: <code>: <reason>" for a SOAP Fault, -EMSGSIZE for a limit, -EINVAL
 * "line N: <what>" for XML that is not well-formed or not what was expected. */
int agw_onvif_parse_error(struct soap *soap, const struct agw_onvif_input *in, char *err, size_t errlen);

/* Line number (1-based) of byte offset off in buf. */
unsigned agw_onvif_line_of(const char *buf, size_t len, size_t off);

/* Request serialization: call soap_send___<op>(soap, endpoint, action, request) between these;
 * end returns a malloc'd NUL-terminated document in *ret_xml. */
int agw_onvif_write_begin(struct soap *soap, const char **out);
int agw_onvif_write_end(struct soap *soap, int soap_rc, const char **out, char **ret_xml);

#endif
