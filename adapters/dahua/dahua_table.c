/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The default Dahua table: the text of dahua-events.conf, embedded at build time, parsed once. */
#include <pthread.h>
#include <stdlib.h>

#include "dahua_table.h"

extern const char agw_dahua_events_data[];
extern const size_t agw_dahua_events_data_size;

static struct agw_vendor_table *default_table;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
	char err[256];
	/* The text is part of the build and a unit test parses it: failing here is a build bug,
	 * and an empty table still keeps every event (as "other"). */
	if (agw_vendor_table_parse(agw_dahua_events_data, agw_dahua_events_data_size, "dahua-events.conf", NULL,
				   &default_table, err, sizeof(err)) < 0)
		default_table = NULL;
}

const struct agw_vendor_table *agw_dahua_table_default(void)
{
	pthread_once(&default_once, default_init);
	return default_table;
}

int agw_dahua_table_open(const char *path, const struct agw_vendor_table **ret, char *err, size_t errlen)
{
	if (!path || !*path) {
		*ret = agw_dahua_table_default();
		return 0;
	}
	struct agw_vendor_table *t;
	int rc = agw_vendor_table_load(path, agw_dahua_table_default(), &t, err, errlen);
	if (rc == 0)
		*ret = t;
	return rc;
}

void agw_dahua_table_close(const struct agw_vendor_table *t)
{
	if (t && t != default_table)
		agw_vendor_table_free((struct agw_vendor_table *)t);
}
