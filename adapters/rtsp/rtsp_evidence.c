/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rtsp_evidence.h"

static int mkdir_p(const char *path)
{
	if (mkdir(path, 0750) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

/* Camera ids come from the ledger: keep [A-Za-z0-9._-], never a leading dot. */
static void safe_name(const char *in, char *out, size_t len)
{
	size_t o = 0;
	for (const char *p = in; *p && o + 1 < len; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
			  c == '-' || (c == '.' && o > 0);
		out[o++] = ok ? c : '_';
	}
	if (!o)
		out[o++] = '_';
	out[o] = '\0';
}

int agw_rtsp_evidence_write(const char *state_dir, const char *camera_id, const char *tag, int64_t when_ms,
			    const void *jpeg, size_t len, char **ret_rel)
{
	char cam[128], path[4096], tmp[4096 + 8], stamp[32], rel[512];
	safe_name(camera_id, cam, sizeof(cam));
	time_t secs = (time_t)(when_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(rel, sizeof(rel), "evidence/%s/%s.%03dZ-%s.jpg", cam, stamp, (int)(when_ms % 1000), tag);
	snprintf(path, sizeof(path), "%s/evidence", state_dir);
	int r = mkdir_p(path);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/evidence/%s", state_dir, cam);
	r = mkdir_p(path);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", state_dir, rel);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	const char *p = jpeg;
	size_t left = len;
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			unlink(tmp);
			return r;
		}
		p += n;
		left -= (size_t)n;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	char *out = strdup(rel);
	if (!out)
		return -ENOMEM;
	*ret_rel = out;
	return 0;
}

struct ev_file {
	char *path;
	int64_t mtime_ms;
	uint64_t size;
};

static int by_age(const void *a, const void *b)
{
	const struct ev_file *x = a, *y = b;
	return x->mtime_ms < y->mtime_ms ? -1 : x->mtime_ms > y->mtime_ms;
}

int agw_rtsp_evidence_prune(const char *state_dir, int64_t now_ms, int64_t max_age_ms, uint64_t max_bytes,
			    size_t max_files, struct agw_rtsp_prune_stats *ret_stats)
{
	char root[4096];
	snprintf(root, sizeof(root), "%s/evidence", state_dir);
	struct agw_rtsp_prune_stats st = {0};
	DIR *top = opendir(root);
	if (!top) {
		if (errno == ENOENT) {
			*ret_stats = st;
			return 0;
		}
		return -errno;
	}
	struct ev_file *files = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(top)) && n < max_files) {
		if (de->d_name[0] == '.')
			continue;
		char dir[4096 + 256];
		snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		struct dirent *fe;
		while ((fe = readdir(d)) && n < max_files) {
			size_t nl = strlen(fe->d_name);
			if (fe->d_name[0] == '.' || nl < 4 || strcmp(fe->d_name + nl - 4, ".jpg") != 0)
				continue;
			char *path = NULL;
			if (asprintf(&path, "%s/%s", dir, fe->d_name) < 0) {
				r = -ENOMEM;
				break;
			}
			struct stat sb;
			if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
				free(path);
				continue;
			}
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct ev_file *nf = realloc(files, nc * sizeof(*nf));
				if (!nf) {
					free(path);
					r = -ENOMEM;
					break;
				}
				files = nf;
				cap = nc;
			}
			files[n].path = path;
			files[n].mtime_ms = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
			files[n].size = (uint64_t)sb.st_size;
			st.bytes += files[n].size;
			n++;
		}
		closedir(d);
		if (r < 0)
			break;
	}
	closedir(top);
	st.files = n;
	if (r == 0) {
		qsort(files, n, sizeof(*files), by_age);
		uint64_t total = st.bytes;
		for (size_t i = 0; i < n; i++) {
			bool old = max_age_ms > 0 && now_ms - files[i].mtime_ms > max_age_ms;
			bool over = max_bytes > 0 && total > max_bytes;
			if (!old && !over)
				break; /* sorted oldest first: nothing after this one qualifies either */
			if (unlink(files[i].path) == 0) {
				st.removed++;
				st.removed_bytes += files[i].size;
				total -= files[i].size;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		free(files[i].path);
	free(files);
	if (r == 0)
		*ret_stats = st;
	return r;
}
