/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The MQTT outbox in the store (included by store.h). A row is "pending" until the broker
 * acknowledges it (then the publisher deletes it), or "parked" with a reason when the broker refused
 * it or it can never be sent: a parked row waits for the operator and never blocks the others.
 * "In flight" (sent, PUBACK awaited) is the publisher's in-memory window over pending rows.
 * Every count here is a count of rows (kept exact by triggers, read in O(1)). */
#ifndef ALARMGW_OUTBOX_H
#define ALARMGW_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agw_store;

/* Inside the caller's transaction. Fails with -ENOSPC when the outbox holds max_rows rows of any
 * state (max_rows <= 0: unlimited); the caller raises the alert and counts it. */
int agw_store_outbox_push(struct agw_store *store, const char *topic, const void *payload, size_t len, int qos,
			  bool retained, const char *case_id, int64_t max_rows, int64_t *ret_seq);
/* The same with MQTT 5 properties as JSON ({"content_type": "image/jpeg", "user": {"k": "v"}}):
 * the publisher sends them when it speaks MQTT 5 and drops them under 3.1.1. */
int agw_store_outbox_push_props(struct agw_store *store, const char *topic, const void *payload, size_t len, int qos,
				bool retained, const char *case_id, const char *props, int64_t max_rows,
				int64_t *ret_seq);
/* All rows, whatever their state; negative errno on failure. */
int64_t agw_store_outbox_count(struct agw_store *store);

struct agw_outbox_counts {
	int64_t pending; /* waiting to be sent or acknowledged (includes the publisher's window) */
	int64_t parked;
};
int agw_outbox_counts(struct agw_store *store, struct agw_outbox_counts *ret);

/* Parks a pending row with its reason (a short text such as "not authorized (0x87)"). Returns 0,
 * -ENOENT when no pending row has that seq, or -EIO. Autocommit unless inside a transaction. */
int agw_outbox_park(struct agw_store *store, int64_t seq, const char *reason, int64_t at_ms);

/* Requeues a parked row at the end of the outbox (a new seq, so a running publisher sends it next
 * without rewinding): *ret_seq gets the new seq. -ENOENT when seq is not a parked row. */
int agw_outbox_retry(struct agw_store *store, int64_t seq, int64_t *ret_seq);
/* Requeues every parked row, oldest first, in one transaction; returns how many. */
int64_t agw_outbox_retry_all(struct agw_store *store);

struct agw_outbox_row {
	int64_t seq;
	char *topic;
	char *case_id;   /* may be NULL */
	char *state;     /* "pending" or "parked" */
	char *reason;    /* NULL unless parked */
	int64_t created_at, parked_at; /* ms; parked_at AGW_TIME_UNKNOWN unless parked */
	int64_t bytes;   /* payload size */
};
/* The first `limit` rows in seq order (parked ones only with parked_only). *ret_rows is freed with
 * agw_outbox_rows_free. Returns the number of rows. */
int agw_outbox_list(struct agw_store *store, bool parked_only, size_t limit, struct agw_outbox_row **ret_rows,
		    size_t *ret_n);
void agw_outbox_rows_free(struct agw_outbox_row *rows, size_t n);

#endif
