/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef AGW_ONVIF_XMLCHECK_H
#define AGW_ONVIF_XMLCHECK_H

#include <stddef.h>

/* Checks that buf is one well-formed XML document with declared prefixes and no DTD.
 * Returns 0, -EINVAL ("line N: what" in err) or -EMSGSIZE (nesting or attribute limits). */
int agw_onvif_xml_check(const char *buf, size_t len, char *err, size_t errlen);

/* An undeclared prefix is let through (gSOAP then matches it by its usual name, "SOAP-ENV:");
 * everything else is checked the same. For device responses only, never for events. */
#define AGW_XMLCHECK_UNDECLARED_OK 1u
int agw_onvif_xml_check_flags(const char *buf, size_t len, unsigned flags, char *err, size_t errlen);

#endif
