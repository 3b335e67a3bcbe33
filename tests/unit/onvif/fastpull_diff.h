/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The comparison of the two PullMessagesResponse readers, shared by test_onvif_fastpull and the
 * differential fuzz target (tests/fuzz/fuzz_onvif_fastpull.c). */
#ifndef AGW_FASTPULL_DIFF_H
#define AGW_FASTPULL_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "onvif_soap.h"

/* Reads buf with agw_onvif_normalize_soap (the fast reader first) and agw_onvif_normalize_gsoap
 * (gSOAP only) and compares return, error text, times and every field of every alert. Prints each
 * difference, prefixed with name, and returns how many there were. *ret_taken: the fast reader
 * took the document (did not decline it). stop_after > 0: the consumer refuses that alert. */
int agw_fastpull_diff(struct soap *soap, const char *name, const char *buf, size_t len, int stop_after,
		      bool *ret_taken);

#endif
