/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Normalization with a caller-owned gSOAP context (the adapter reuses one per loop), and the
 * helpers the normalize command and the tests share. */
#ifndef AGW_ONVIF_EVENTS_H
#define AGW_ONVIF_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "onvif_normalize.h"
#include "onvif_soap.h"

/* What a PullMessagesResponse says besides its messages (empty strings when absent). */
struct agw_onvif_pull_info {
	char current_time[48];
	char termination_time[48];
};

/* agw_onvif_normalize() on a caller's context, for answers to PullMessages: there, an envelope that
 * answers another operation is an error (-EINVAL, "line N: not a PullMessagesResponse, ..."). */
int agw_onvif_normalize_soap(struct soap *soap, const char *xml, size_t len, const struct agw_onvif_topic_table *table,
			     int (*fn)(void *arg, struct agw_alert *alert), void *arg, struct agw_onvif_pull_info *info,
			     char *err, size_t errlen);

/* true/false/1/0/active/inactive/on/off/yes/no in any case, trimmed: 1, 0, or -1 for anything else. */
int agw_onvif_bool_parse(const char *text);

#endif
