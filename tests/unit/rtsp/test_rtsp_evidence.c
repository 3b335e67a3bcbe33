/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Evidence pictures: JPEG encoding of a decoded frame, files under the state directory, pruning
 * by age and by total size. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libavutil/frame.h>

#include "rtsp_evidence.h"
#include "rtsp_probe.h"

static char dir[] = "/tmp/agw-rtsp-evidence-XXXXXX";

static void test_jpeg(void **state)
{
	AVFrame *f = av_frame_alloc();
	f->width = 64;
	f->height = 48;
	f->format = 0; /* AV_PIX_FMT_YUV420P */
	assert_int_equal(av_frame_get_buffer(f, 0), 0);
	for (int y = 0; y < 48; y++)
		memset(f->data[0] + y * f->linesize[0], y * 4, 64);
	for (int y = 0; y < 24; y++) {
		memset(f->data[1] + y * f->linesize[1], 128, 32);
		memset(f->data[2] + y * f->linesize[2], 128, 32);
	}
	uint8_t *jpeg = NULL;
	size_t len = 0;
	assert_int_equal(agw_rtsp_jpeg_encode(f, 5, &jpeg, &len), 0);
	assert_true(len > 100);
	assert_int_equal(jpeg[0], 0xff);
	assert_int_equal(jpeg[1], 0xd8); /* SOI */
	assert_int_equal(jpeg[len - 2], 0xff);
	assert_int_equal(jpeg[len - 1], 0xd9); /* EOI */
	/* The luma plane of a YUV frame is used in place. */
	const uint8_t *plane;
	int stride;
	uint8_t *owned = (uint8_t *)1;
	assert_int_equal(agw_rtsp_frame_luma(f, &plane, &stride, &owned), 0);
	assert_ptr_equal(plane, f->data[0]);
	assert_null(owned);

	char *rel = NULL;
	assert_int_equal(agw_rtsp_evidence_write(dir, "../cam/1", "black", 1700000000123, jpeg, len, &rel), 0);
	/* The camera id cannot leave the evidence directory. */
	assert_string_equal(rel, "evidence/%2E.%2Fcam%2F1/20231114T221320.123Z-black.jpg");
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal((size_t)sb.st_size, len);
	free(rel);
	free(jpeg);
	av_frame_free(&f);
}

static void make_file(const char *cam, const char *name, size_t size, int64_t age_s)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/evidence/%s", dir, cam);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/evidence/%s/%s", dir, cam, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < size; i++)
		fputc('x', f);
	fclose(f);
	struct timeval tv[2];
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= age_s;
	tv[1] = tv[0];
	assert_int_equal(utimes(path, tv), 0);
}

static bool exists(const char *cam, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/evidence/%s/%s", dir, cam, name);
	return access(path, F_OK) == 0;
}

static void test_prune(void **state)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/evidence", dir);
	mkdir(path, 0755);
	make_file("a", "old.jpg", 1000, 3 * 86400);
	make_file("a", "mid.jpg", 1000, 3000);
	make_file("b", "new.jpg", 1000, 10);
	make_file("b", "newer.jpg", 1000, 5);
	make_file("b", "notes.txt", 50000, 5 * 86400); /* not evidence: never touched */
	struct timeval now;
	gettimeofday(&now, NULL);
	int64_t now_ms = (int64_t)now.tv_sec * 1000;
	struct agw_rtsp_prune_stats st;
	/* age: only the 3-day-old file goes (the .jpg written by test_jpeg is recent) */
	assert_int_equal(agw_rtsp_evidence_prune(dir, now_ms, 86400000, 0, 1000, &st), 0);
	assert_int_equal(st.removed, 1);
	assert_false(exists("a", "old.jpg"));
	assert_true(exists("a", "mid.jpg"));
	/* size: the oldest go until the total fits */
	assert_int_equal(agw_rtsp_evidence_prune(dir, now_ms, 0, 2000, 1000, &st), 0);
	assert_false(exists("a", "mid.jpg"));
	assert_true(exists("b", "newer.jpg"));
	assert_true(exists("b", "notes.txt"));
	assert_true(st.bytes - st.removed_bytes <= 2000);
	/* no evidence directory at all is not an error */
	struct agw_rtsp_prune_stats none;
	assert_int_equal(agw_rtsp_evidence_prune("/nonexistent-agw", now_ms, 1, 1, 10, &none), 0);
	assert_int_equal(none.files, 0);
}

static char *write_for(const char *root, const char *camera_id)
{
	char *rel = NULL;
	static const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xd9};
	assert_int_equal(agw_rtsp_evidence_write(root, camera_id, "frozen", 1700000000000, jpeg, sizeof(jpeg), &rel), 0);
	return rel;
}

/* Folder names are an injective encoding of the id: ids that differ never share a folder. */
static void test_names(void **state)
{
	char root[512];
	snprintf(root, sizeof(root), "%s/names", dir);
	mkdir(root, 0755);
	char *a = write_for(root, "cam:1"), *b = write_for(root, "cam_1"), *c = write_for(root, "cam?1");
	assert_string_equal(a, "evidence/cam%3A1/20231114T221320.000Z-frozen.jpg");
	assert_string_equal(b, "evidence/cam_1/20231114T221320.000Z-frozen.jpg");
	assert_string_equal(c, "evidence/cam%3F1/20231114T221320.000Z-frozen.jpg");
	char *d = write_for(root, "50%"), *e = write_for(root, "50%25"), *f = write_for(root, ".hidden"),
	     *g = write_for(root, "a~b"), *h = write_for(root, "\xe8\xa7\x86");
	assert_string_equal(d, "evidence/50%25/20231114T221320.000Z-frozen.jpg");
	assert_string_equal(e, "evidence/50%2525/20231114T221320.000Z-frozen.jpg");
	assert_string_equal(f, "evidence/%2Ehidden/20231114T221320.000Z-frozen.jpg");
	assert_string_equal(g, "evidence/a%7Eb/20231114T221320.000Z-frozen.jpg");
	assert_string_equal(h, "evidence/%E8%A7%86/20231114T221320.000Z-frozen.jpg");
	/* long ids: a prefix and the id's SHA-256, within a file name's limits, still distinct */
	char long1[400], long2[400];
	memset(long1, ':', sizeof(long1) - 1);
	long1[sizeof(long1) - 1] = '\0';
	memcpy(long2, long1, sizeof(long1));
	long2[sizeof(long2) - 2] = ';';
	char *l1 = write_for(root, long1), *l2 = write_for(root, long2);
	assert_string_not_equal(l1, l2);
	const char *name = l1 + strlen("evidence/");
	size_t name_len = strcspn(name, "/");
	assert_int_equal(name[name_len], '/');
	assert_true(name_len <= 255);
	assert_non_null(strchr(l1, '~'));
	assert_null(strstr(l1, "%3~")); /* no %XX cut in two */
	free(a), free(b), free(c), free(d), free(e), free(f), free(g), free(h), free(l1), free(l2);
}

/* The byte cap holds however many files there are: max_files bounds the memory of one round,
 * not what is looked at. */
static void test_prune_many_files(void **state)
{
	char root[512], path[600];
	snprintf(root, sizeof(root), "%s/many", dir);
	mkdir(root, 0755);
	snprintf(path, sizeof(path), "%s/evidence", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/evidence/cam", root);
	mkdir(path, 0755);
	for (int i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "%s/evidence/cam/f%02d.jpg", root, i);
		FILE *fp = fopen(path, "w");
		assert_non_null(fp);
		for (int k = 0; k < 100; k++)
			fputc('x', fp);
		fclose(fp);
		struct timeval tv[2];
		gettimeofday(&tv[0], NULL);
		tv[0].tv_sec -= 1000 - i; /* f49 is the newest */
		tv[1] = tv[0];
		assert_int_equal(utimes(path, tv), 0);
	}
	struct timeval now;
	gettimeofday(&now, NULL);
	struct agw_rtsp_prune_stats st;
	assert_int_equal(agw_rtsp_evidence_prune(root, (int64_t)now.tv_sec * 1000, 0, 1000, 8, &st), 0);
	assert_int_equal(st.files, 50);
	assert_int_equal(st.removed, 40);
	for (int i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "%s/evidence/cam/f%02d.jpg", root, i);
		assert_int_equal(access(path, F_OK) == 0, i >= 40);
	}
}

static int teardown(void **state)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jpeg),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_prune_many_files),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
