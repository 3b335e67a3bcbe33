/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef AGW_ONVIF_XMLCHECK_H
#define AGW_ONVIF_XMLCHECK_H

#include <stddef.h>

/* Checks that buf is one well-formed XML document with declared prefixes and no DTD.
 * Returns 0, -EINVAL ("line N: what" in err) or -EMSGSIZE (nesting or attribute limits). */
int agw_onvif_xml_check(const char *buf, size_t len, char *err, size_t errlen);

#endif
