/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text of a libconfig file (the daemon config, the rules file) as libconfig 1.5 must be given
 * it. That version (Debian 12) reads an integer literal over 32 bits without its L suffix as a
 * wrapped 32-bit value, silently: 10737418240 became -2147483648 and 5000000000 became 705032704,
 * and byte counts that large are what operators write. */
#ifndef AGW_CORE_LIBCONFIG_TEXT_H
#define AGW_CORE_LIBCONFIG_TEXT_H

#include <stddef.h>

#define AGW_LIBCONFIG_TEXT_MAX (16u << 20) /* a config or rules file larger than this is refused */

/* Reads the file at path and returns its text with an L after every integer literal (decimal or
 * hexadecimal, outside strings and comments) that does not fit in 32 bits, so libconfig reads it
 * as the 64-bit number written. *ret is NUL-terminated, freed by the caller. Errors: -errno when
 * the file cannot be read (-EFBIG past AGW_LIBCONFIG_TEXT_MAX), -ERANGE for a literal past 64
 * bits, -EINVAL for a NUL byte; then why (and *ret_line, 1-based, 0 for the file) say what and
 * where, and *ret is untouched. */
int agw_libconfig_text_read(const char *path, char **ret, int *ret_line, char *why, size_t whylen);

/* The same on text in memory: [in, in+len). */
int agw_libconfig_text_widen(const char *in, size_t len, char **ret, int *ret_line, char *why, size_t whylen);

#endif
