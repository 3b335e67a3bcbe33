/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pictures of the open cases for the page: one keyed seek of the evidence table (its primary
 * key is (case_id, n)) per open case, at most AGW_STATUS_OPEN_MAX of them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarmgw/alert.h"
#include "status.h"

static int64_t col_time(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? AGW_TIME_UNKNOWN : sqlite3_column_int64(st, i);
}

static int col_dup(sqlite3_stmt *st, int i, char **dst)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	*dst = t ? strdup(t) : NULL;
	return t && !*dst ? -ENOMEM : 0;
}

/* The case's first pictures into c; its count of them. */
static int case_pictures(sqlite3_stmt *list, sqlite3_stmt *count, struct agw_status_case *c)
{
	sqlite3_reset(count);
	sqlite3_bind_text(count, 1, c->id, -1, SQLITE_STATIC);
	if (sqlite3_step(count) != SQLITE_ROW)
		return -EIO;
	c->pictures_total = sqlite3_column_int64(count, 0);
	if (!c->pictures_total)
		return 0;
	c->pictures = calloc(AGW_STATUS_PICTURES_SHOWN, sizeof(*c->pictures));
	if (!c->pictures)
		return -ENOMEM;
	sqlite3_reset(list);
	sqlite3_bind_text(list, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(list, 2, AGW_STATUS_PICTURES_SHOWN);
	int rc;
	while ((rc = sqlite3_step(list)) == SQLITE_ROW && c->n_pictures < AGW_STATUS_PICTURES_SHOWN) {
		struct agw_status_picture *p = &c->pictures[c->n_pictures++];
		p->n = sqlite3_column_int64(list, 0);
		p->captured_ms = col_time(list, 3);
		p->camera_ms = col_time(list, 4);
		if (col_dup(list, 1, &p->status) < 0 || col_dup(list, 2, &p->reason) < 0)
			return -ENOMEM;
	}
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

int agw_status_read_pictures(sqlite3 *db, struct agw_status *s, char *err, size_t errlen)
{
	sqlite3_stmt *list = NULL, *count = NULL;
	int ret = -EIO;
	if (sqlite3_prepare_v2(db, "SELECT n, status, reason, captured_gateway_time, captured_camera_time FROM evidence"
				   " WHERE case_id = ?1 ORDER BY n LIMIT ?2", -1, &list, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM evidence WHERE case_id = ?1", -1, &count, NULL) != SQLITE_OK)
		goto out;
	ret = 0;
	for (size_t i = 0; ret == 0 && i < s->n_open; i++)
		ret = case_pictures(list, count, &s->open[i]);
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	else if (ret < 0)
		snprintf(err, errlen, "status query failed: %s", sqlite3_errmsg(db));
	sqlite3_finalize(list);
	sqlite3_finalize(count);
	return ret;
}
