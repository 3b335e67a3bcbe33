/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading SOAP requests, namespace-aware (prefixes never decide) with libxml2. */
#ifndef CAMSIM_SOAP_H
#define CAMSIM_SOAP_H

#include <stddef.h>

#include <libxml/tree.h>

#define CAMSIM_NS_SOAP12 "http://www.w3.org/2003/05/soap-envelope"
#define CAMSIM_NS_SOAP11 "http://schemas.xmlsoap.org/soap/envelope/"
#define CAMSIM_NS_WSA "http://www.w3.org/2005/08/addressing"
#define CAMSIM_NS_WSSE "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
#define CAMSIM_NS_WSU "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

/* Requests are small; anything larger is refused before parsing. */
#define CAMSIM_SOAP_MAX_REQUEST (256 * 1024)

struct camsim_soap_request {
	xmlDoc *doc;
	xmlNode *header;  /* env:Header or NULL */
	xmlNode *op;      /* first element child of env:Body */
	char op_name[64]; /* its local name: the operation */
	char message_id[256];
	char to[512];
	char action[256];
};

/* 0, or -EMSGSIZE (too large), -EBADMSG (not well-formed, not an envelope, empty Body). */
int camsim_soap_parse(const char *data, size_t len, struct camsim_soap_request *ret);
void camsim_soap_request_free(struct camsim_soap_request *r);

/* First element below parent (any depth) with this local name and namespace (ns NULL: any). */
xmlNode *camsim_soap_find(xmlNode *parent, const char *ns, const char *name);
/* Trimmed text of that element copied to buf; returns buf, or NULL when absent or too long. */
const char *camsim_soap_text(xmlNode *parent, const char *ns, const char *name, char *buf, size_t len);

#endif
