/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The reload's camera diff: removed, changed, added and unchanged cameras between two lists in any
 * order, with the pointers into the lists the adapters are handed. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "camera_diff.h"
#include "store.h"

static struct agw_camera cam(const char *id, const char *name)
{
	return (struct agw_camera){.id = (char *)id, .name = (char *)name, .protocol = (char *)"onvif",
				   .address = (char *)"http://10.0.0.1/", .lon = NAN, .lat = NAN};
}

static void test_diff(void **state)
{
	(void)state;
	/* old and new in different orders: the diff must not depend on it */
	struct agw_camera old[] = {cam("c", "C"), cam("a", "A"), cam("b", "B"), cam("d", "D")};
	struct agw_camera neu[] = {cam("e", "E"), cam("b", "B2"), cam("a", "A"), cam("d", "D")};
	struct agw_camera_diff d;
	assert_int_equal(agw_camera_diff(old, 4, neu, 4, &d), 0);
	assert_int_equal(d.n_same, 2); /* a, d */
	assert_int_equal(d.n_removed, 1);
	assert_ptr_equal(d.removed[0], &old[0]); /* c */
	assert_int_equal(d.n_changed, 1);
	assert_ptr_equal(d.changed_old[0], &old[2]);
	assert_ptr_equal(d.changed_new[0], &neu[1]);
	assert_int_equal(d.n_added, 1);
	assert_ptr_equal(d.added[0], &neu[0]); /* e */
	agw_camera_diff_free(&d);
}

static void test_empty(void **state)
{
	(void)state;
	struct agw_camera neu[] = {cam("a", "A")};
	struct agw_camera_diff d;
	assert_int_equal(agw_camera_diff(NULL, 0, neu, 1, &d), 0);
	assert_int_equal(d.n_added, 1);
	assert_int_equal(d.n_removed + d.n_changed + d.n_same, 0);
	agw_camera_diff_free(&d);
	assert_int_equal(agw_camera_diff(neu, 1, NULL, 0, &d), 0);
	assert_int_equal(d.n_removed, 1);
	agw_camera_diff_free(&d);
	agw_camera_diff_free(NULL);
}

/* A reload writes only the rows that differ: the store ends up holding exactly the new list. */
static void test_store_change(void **state)
{
	(void)state;
	char dir[] = "/tmp/agw-camdiff-XXXXXX", db[64], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/c.db", dir);
	struct agw_store *store;
	assert_int_equal(agw_store_open(db, &store, err, sizeof(err)), 0);
	struct agw_camera old[] = {cam("a", "A"), cam("b", "B"), cam("c", "C")};
	struct agw_camera neu[] = {cam("d", "D"), cam("b", "B2"), cam("a", "A")};
	assert_int_equal(agw_store_cameras_replace(store, old, 3), 0);
	struct agw_camera_diff d;
	assert_int_equal(agw_camera_diff(old, 3, neu, 3, &d), 0);
	const struct agw_camera *gone[] = {d.removed[0], d.changed_old[0]}, *put[] = {d.changed_new[0], d.added[0]};
	assert_int_equal(agw_store_cameras_change(store, gone, 2, put, 2), 0);
	agw_camera_diff_free(&d);
	struct agw_camera *back = NULL;
	size_t n = 0;
	assert_int_equal(agw_store_cameras_load(store, &back, &n), 3);
	assert_string_equal(back[0].id, "a");
	assert_string_equal(back[1].id, "b");
	assert_string_equal(back[1].name, "B2");
	assert_string_equal(back[2].id, "d");
	agw_cameras_free(back, n);
	agw_store_close(store);
	char path[96];
	const char *files[] = {"c.db", "c.db-wal", "c.db-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_diff), cmocka_unit_test(test_empty),
					   cmocka_unit_test(test_store_change)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
