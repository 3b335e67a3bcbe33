/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/str.h"

char *agw_strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int agw_strdup_to(char **dst, const char *src)
{
	*dst = agw_strdup_or_null(src);
	return (!src || *dst) ? 0 : -ENOMEM;
}
