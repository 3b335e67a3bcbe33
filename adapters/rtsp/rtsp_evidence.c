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

#include <openssl/sha.h>

#include "rtsp_evidence.h"

static int mkdir_p(const char *path)
{
	if (mkdir(path, 0750) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

/* A camera id as one directory name, injectively: [A-Za-z0-9_-] and '.' (not first) stand for
 * themselves, every other byte (and '%') is %XX, so "cam:1" is "cam%3A1" and "cam_1" stays
 * "cam_1"; never "", "." or "..", never a '/'. An encoding longer than EV_NAME_MAX keeps its
 * first part and adds '~' and the SHA-256 of the id: '~' never appears in an encoding. */
#define EV_NAME_MAX 200
#define EV_NAME_KEEP 120

/* out holds at least EV_NAME_MAX + 2 * SHA256_DIGEST_LENGTH + 2 bytes. */
static void safe_name(const char *in, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	bool truncated = false;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		unsigned char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
			  c == '-' || (c == '.' && p != (const unsigned char *)in);
		if (o + (ok ? 1 : 3) > EV_NAME_MAX) {
			truncated = true;
			break;
		}
		if (ok) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (truncated) {
		unsigned char md[SHA256_DIGEST_LENGTH];
		SHA256((const unsigned char *)in, strlen(in), md);
		o = o > EV_NAME_KEEP ? EV_NAME_KEEP : o;
		/* never cut a %XX in two ('%' only ever starts one) */
		if (o >= 1 && out[o - 1] == '%')
			o -= 1;
		else if (o >= 2 && out[o - 2] == '%')
			o -= 2;
		out[o++] = '~';
		for (size_t i = 0; i < sizeof(md); i++) {
			out[o++] = hex[md[i] >> 4];
			out[o++] = hex[md[i] & 15];
		}
	}
	if (!o) {
		out[o++] = '%';
		out[o++] = '0';
		out[o++] = '0'; /* the empty id (the ledger refuses it) */
	}
	out[o] = '\0';
}

int agw_rtsp_evidence_write(const char *state_dir, const char *camera_id, const char *tag, int64_t when_ms,
			    const void *jpeg, size_t len, char **ret_rel)
{
	char cam[EV_NAME_MAX + 2 * SHA256_DIGEST_LENGTH + 8], path[4096], tmp[4096 + 8], stamp[32], rel[512];
	safe_name(camera_id, cam);
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

/* The oldest files seen so far, at most cap of them: a max-heap on mtime, so the youngest of
 * them is the one a still older file replaces. */
struct oldest {
	struct ev_file *v;
	size_t n, cap;
};

static void heap_swap(struct ev_file *a, struct ev_file *b)
{
	struct ev_file t = *a;
	*a = *b;
	*b = t;
}

static void heap_down(struct oldest *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && h->v[l].mtime_ms > h->v[m].mtime_ms)
			m = l;
		if (r < h->n && h->v[r].mtime_ms > h->v[m].mtime_ms)
			m = r;
		if (m == i)
			return;
		heap_swap(&h->v[i], &h->v[m]);
		i = m;
	}
}

/* Offers one file; takes path (freed when not kept). */
static void oldest_offer(struct oldest *h, char *path, int64_t mtime_ms, uint64_t size)
{
	if (h->n < h->cap) {
		size_t i = h->n++;
		h->v[i] = (struct ev_file){path, mtime_ms, size};
		while (i > 0 && h->v[(i - 1) / 2].mtime_ms < h->v[i].mtime_ms) {
			heap_swap(&h->v[i], &h->v[(i - 1) / 2]);
			i = (i - 1) / 2;
		}
		return;
	}
	if (h->cap == 0 || mtime_ms >= h->v[0].mtime_ms) {
		free(path);
		return;
	}
	free(h->v[0].path);
	h->v[0] = (struct ev_file){path, mtime_ms, size};
	heap_down(h, 0);
}

static int by_age(const void *a, const void *b)
{
	const struct ev_file *x = a, *y = b;
	return x->mtime_ms < y->mtime_ms ? -1 : x->mtime_ms > y->mtime_ms;
}

/* One walk of every file under root: the total, and the oldest h->cap of them. */
static int walk(const char *root, struct oldest *h, size_t *ret_files, uint64_t *ret_bytes)
{
	DIR *top = opendir(root);
	if (!top)
		return errno == ENOENT ? 0 : -errno;
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(top))) {
		if (de->d_name[0] == '.')
			continue;
		char dir[4096 + 256];
		snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name);
		DIR *d = opendir(dir);
		if (!d)
			continue;
		struct dirent *fe;
		while ((fe = readdir(d))) {
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
			(*ret_files)++;
			*ret_bytes += (uint64_t)sb.st_size;
			oldest_offer(h, path, (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000,
				     (uint64_t)sb.st_size);
		}
		closedir(d);
	}
	closedir(top);
	return r;
}

int agw_rtsp_evidence_prune(const char *state_dir, int64_t now_ms, int64_t max_age_ms, uint64_t max_bytes,
			    size_t max_files, struct agw_rtsp_prune_stats *ret_stats)
{
	char root[4096];
	snprintf(root, sizeof(root), "%s/evidence", state_dir);
	struct agw_rtsp_prune_stats st = {0};
	struct oldest h = {.cap = max_files ? max_files : 1};
	h.v = calloc(h.cap, sizeof(*h.v));
	if (!h.v)
		return -ENOMEM;
	/* Memory is bounded by max_files, not by how many files there are: each round walks
	 * everything, keeps the max_files oldest and removes from them; a directory holding more
	 * files than that to remove takes more rounds, not more memory. */
	int r = 0;
	for (int round = 0; r == 0; round++) {
		size_t files = 0;
		uint64_t bytes = 0;
		r = walk(root, &h, &files, &bytes);
		if (r < 0)
			break;
		if (round == 0) {
			st.files = files;
			st.bytes = bytes;
		}
		qsort(h.v, h.n, sizeof(*h.v), by_age);
		uint64_t total = bytes;
		size_t removed = 0;
		bool more = false;
		for (size_t i = 0; i < h.n; i++) {
			bool old = max_age_ms > 0 && now_ms - h.v[i].mtime_ms > max_age_ms;
			bool over = max_bytes > 0 && total > max_bytes;
			if (!old && !over)
				break; /* sorted oldest first: nothing after this one qualifies either */
			if (unlink(h.v[i].path) == 0) {
				removed++;
				st.removed++;
				st.removed_bytes += h.v[i].size;
				total -= h.v[i].size;
			}
			more = i + 1 == h.n && h.n < files; /* all candidates went, others remain */
		}
		for (size_t i = 0; i < h.n; i++)
			free(h.v[i].path);
		h.n = 0;
		if (!more || removed == 0)
			break;
	}
	free(h.v);
	if (r == 0)
		*ret_stats = st;
	return r;
}
