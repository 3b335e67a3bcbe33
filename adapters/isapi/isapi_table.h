/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ISAPI event table compiled into the program (isapi-events.conf). */
#ifndef AGW_ISAPI_TABLE_H
#define AGW_ISAPI_TABLE_H

#include <stddef.h>

#include "alarmgw/vendor_table.h"

const struct agw_vendor_table *agw_isapi_table_default(void);
/* The table an adapter uses: path's lines before the default's (path NULL: the default, not to
 * be freed; otherwise free with agw_vendor_table_free). Errors "path:line: what". */
int agw_isapi_table_open(const char *path, const struct agw_vendor_table **ret, char *err, size_t errlen);
void agw_isapi_table_close(const struct agw_vendor_table *t);

#endif
