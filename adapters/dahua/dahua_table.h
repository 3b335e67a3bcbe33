/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Dahua event table compiled into the program (dahua-events.conf). */
#ifndef AGW_DAHUA_TABLE_H
#define AGW_DAHUA_TABLE_H

#include <stddef.h>

#include "alarmgw/vendor_table.h"

const struct agw_vendor_table *agw_dahua_table_default(void);
/* path's lines before the default's (path NULL: the default itself). Errors "path:line: what". */
int agw_dahua_table_open(const char *path, const struct agw_vendor_table **ret, char *err, size_t errlen);
void agw_dahua_table_close(const struct agw_vendor_table *t);

#endif
