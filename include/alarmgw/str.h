/* SPDX-License-Identifier: GPL-2.0-or-later */
/* String copies that pass NULL through: optional fields (a camera's vendor, a reason) are NULL,
 * not "", all the way through. */
#ifndef ALARMGW_STR_H
#define ALARMGW_STR_H

/* strdup(s), or NULL for NULL (and on allocation failure). */
char *agw_strdup_or_null(const char *s);
/* *dst = agw_strdup_or_null(src); -ENOMEM when src was set and could not be copied, else 0. */
int agw_strdup_to(char **dst, const char *src);

#endif
