/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <libxml/parser.h>

#include "soap.h"

static bool node_is(const xmlNode *n, const char *ns, const char *name)
{
	if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
		return false;
	if (!ns)
		return true;
	return n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0;
}

static bool is_envelope_ns(const xmlNode *n)
{
	const char *href = n->ns && n->ns->href ? (const char *)n->ns->href : "";
	return strcmp(href, CAMSIM_NS_SOAP12) == 0 || strcmp(href, CAMSIM_NS_SOAP11) == 0;
}

static xmlNode *first_element(xmlNode *n)
{
	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

xmlNode *camsim_soap_find(xmlNode *parent, const char *ns, const char *name)
{
	if (!parent)
		return NULL;
	for (xmlNode *c = parent->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (node_is(c, ns, name))
			return c;
		xmlNode *d = camsim_soap_find(c, ns, name);
		if (d)
			return d;
	}
	return NULL;
}

const char *camsim_soap_text(xmlNode *parent, const char *ns, const char *name, char *buf, size_t len)
{
	xmlNode *n = camsim_soap_find(parent, ns, name);
	if (!n)
		return NULL;
	xmlChar *text = xmlNodeGetContent(n);
	if (!text)
		return NULL;
	const char *s = (const char *)text;
	while (isspace((unsigned char)*s))
		s++;
	size_t l = strlen(s);
	while (l && isspace((unsigned char)s[l - 1]))
		l--;
	const char *res = NULL;
	if (l < len) {
		memcpy(buf, s, l);
		buf[l] = '\0';
		res = buf;
	}
	xmlFree(text);
	return res;
}

int camsim_soap_parse(const char *data, size_t len, struct camsim_soap_request *ret)
{
	struct camsim_soap_request r = {0};
	if (len > CAMSIM_SOAP_MAX_REQUEST)
		return -EMSGSIZE;
	/* No network, no entity expansion, no DTD loading: requests come from the network. Undeclared
	 * prefixes leave a document behind in libxml2; they are an error here. */
	xmlParserCtxt *ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return -ENOMEM;
	r.doc = xmlCtxtReadMemory(ctxt, data, (int)len, "request.xml", NULL,
				  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	bool clean = ctxt->wellFormed && ctxt->nsWellFormed;
	xmlFreeParserCtxt(ctxt);
	if (!r.doc)
		return -EBADMSG;
	if (!clean)
		goto bad;
	xmlNode *env = xmlDocGetRootElement(r.doc);
	if (!env || !is_envelope_ns(env) || strcmp((const char *)env->name, "Envelope") != 0)
		goto bad;
	const char *ns = (const char *)env->ns->href;
	xmlNode *body = NULL;
	for (xmlNode *c = env->children; c; c = c->next) {
		if (node_is(c, ns, "Header"))
			r.header = c;
		else if (node_is(c, ns, "Body"))
			body = c;
	}
	if (!body)
		goto bad;
	r.op = first_element(body->children);
	if (!r.op || strlen((const char *)r.op->name) >= sizeof(r.op_name))
		goto bad;
	strcpy(r.op_name, (const char *)r.op->name);
	if (r.header) {
		if (!camsim_soap_text(r.header, CAMSIM_NS_WSA, "MessageID", r.message_id, sizeof(r.message_id)))
			r.message_id[0] = '\0';
		if (!camsim_soap_text(r.header, CAMSIM_NS_WSA, "To", r.to, sizeof(r.to)))
			r.to[0] = '\0';
		if (!camsim_soap_text(r.header, CAMSIM_NS_WSA, "Action", r.action, sizeof(r.action)))
			r.action[0] = '\0';
	}
	*ret = r;
	return 0;
bad:
	xmlFreeDoc(r.doc);
	return -EBADMSG;
}

void camsim_soap_request_free(struct camsim_soap_request *r)
{
	if (!r)
		return;
	xmlFreeDoc(r->doc);
	r->doc = NULL;
}
