/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sizes that more than one module must agree on. */
#ifndef ALARMGW_LIMITS_H
#define ALARMGW_LIMITS_H

/* A case id with its NUL: "agw-" + 16 hex digits today; room for a cluster-wide prefix. Feedback
 * naming a longer id cannot name one of our cases and is refused as such. */
#define AGW_CASE_ID_SIZE 40

#endif
