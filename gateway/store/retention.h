/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Journal retention: the alert journal and decisions grow by every event (10,000 cameras at one
 * event per 10 s is 86 million rows a day), so old rows are deleted by age and by count, and
 * closed cases by age. Open cases and the outbox are never touched. */
#ifndef ALARMGW_RETENTION_H
#define ALARMGW_RETENTION_H

#include <stdint.h>

#include "store.h"

struct agw_retention {
	int64_t max_age_ms;  /* rows older than this go; 0 keeps them */
	int64_t max_rows;    /* alerts beyond this many (oldest first) go; 0 = no limit */
	int64_t batch;       /* most rows of one table deleted per call (bounds a transaction) */
};

/* Deletes one batch of what is due, in one transaction. Returns the number of rows deleted (0 when
 * nothing is due: the caller stops until the next period) or negative errno. */
int64_t agw_retention_prune(struct agw_store *store, const struct agw_retention *policy, int64_t now_ms);

#endif
