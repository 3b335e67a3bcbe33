/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing to streams, and knowing what became of every event part: a part is "written" once the
 * write that holds its last byte has completed (every byte is in the kernel's socket buffer), "cut"
 * when the device closed the stream in its middle on purpose, "unsent" when the stream closed
 * before it was handed over, "dropped" when the stream's backlog was full (a device's buffer is
 * finite: a reader that does not read loses what the device could not keep). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "alarmgw/log.h"
#include "vendorsim.h"

#define TRICKLE_MS 100

struct wreq {
	uv_write_t req;
	struct vsim_conn *c;
	char *data;
	size_t len;
	struct vsim_part_rec *recs;
	size_t n_recs;
};

static void log_rec(struct vsim_conn *c, const struct vsim_part_rec *r, const char *fate, const char *reason)
{
	struct vsim_device *dev = c->dev;
	if (strcmp(fate, "written") == 0)
		dev->parts_written++;
	else if (strcmp(fate, "cut") == 0)
		dev->parts_cut++;
	else if (strcmp(fate, "unsent") == 0)
		dev->parts_unsent++;
	else
		dev->parts_dropped++;
	vsim_evlog_part(dev->sim, dev, c->answer, r->seq, r->post, fate, reason);
}

static void write_done(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct vsim_conn *c = w->c;
	c->queued -= w->len;
	for (size_t i = 0; i < w->n_recs; i++) {
		const struct vsim_part_rec *r = &w->recs[i];
		if (r->cut)
			log_rec(c, r, "cut", NULL);
		else if (status == 0)
			log_rec(c, r, "written", NULL);
		else
			log_rec(c, r, "unsent", status == UV_ECANCELED ? "closed" : uv_err_name(status));
	}
	free(w->recs);
	free(w->data);
	free(w);
}

/* Hands len bytes (taken over) to libuv with the records of the parts that end in them. */
static void hand(struct vsim_conn *c, char *data, size_t len, struct vsim_part_rec *recs, size_t n_recs)
{
	struct wreq *w = calloc(1, sizeof(*w));
	if (!w) {
		for (size_t i = 0; i < n_recs; i++)
			log_rec(c, &recs[i], "unsent", "out of memory");
		free(recs);
		free(data);
		return;
	}
	w->c = c;
	w->data = data;
	w->len = len;
	w->recs = recs;
	w->n_recs = n_recs;
	c->handed += len;
	c->queued += len;
	uv_buf_t buf = uv_buf_init(data, (unsigned)len);
	int r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, write_done);
	if (r < 0) {
		w->req.handle = NULL;
		write_done(&w->req, r);
	}
}

static int pend_add(struct vsim_conn *c, const struct vsim_part_rec *r)
{
	if (c->n_pend == c->cap_pend) {
		size_t cap = c->cap_pend ? 2 * c->cap_pend : 8;
		struct vsim_part_rec *v = realloc(c->pend, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		c->pend = v;
		c->cap_pend = cap;
	}
	c->pend[c->n_pend++] = *r;
	return 0;
}

/* Unsent bytes the stream holds: in libuv's queue or in the trickle buffer. */
static uint64_t backlog(const struct vsim_conn *c)
{
	return c->queued + (c->out.len - c->out_off);
}

/* Queues bytes for the stream; rec (may be NULL) is the part that ends with them. */
static void send_bytes(struct vsim_conn *c, const char *p, size_t n, const struct vsim_part_rec *rec)
{
	struct vsim_part_rec r;
	if (rec) {
		r = *rec;
		r.end = c->handed + (c->out.len - c->out_off) + n;
	}
	/* while a trickle still holds bytes, later ones queue behind them, slow or not: a stream
	 * never reorders */
	if (c->dev->mb.slow_bps || vsim_conn_has_unsent(c)) {
		camsim_buf_append(&c->out, p, n);
		if (rec && pend_add(c, &r) < 0)
			log_rec(c, &r, "unsent", "out of memory");
		vsim_conn_trickle_start(c);
		return;
	}
	char *copy = malloc(n ? n : 1);
	struct vsim_part_rec *recs = rec ? malloc(sizeof(*recs)) : NULL;
	if (!copy || (rec && !recs)) {
		free(copy);
		free(recs);
		if (rec)
			log_rec(c, &r, "unsent", "out of memory");
		return;
	}
	memcpy(copy, p, n);
	if (rec)
		recs[0] = r;
	hand(c, copy, n, recs, rec ? 1 : 0);
}

static bool writable(const struct vsim_conn *c)
{
	return c->streaming && !c->silent && !c->ending && !c->closing;
}

void vsim_conn_send(struct vsim_conn *c, const void *p, size_t n)
{
	if (!c->closing && !c->ending)
		send_bytes(c, p, n, NULL);
}

void vsim_stream_raw(struct vsim_conn *c, const void *p, size_t n)
{
	if (writable(c))
		send_bytes(c, p, n, NULL);
}

void vsim_stream_heartbeat(struct vsim_conn *c)
{
	if (!writable(c) || backlog(c) > c->dev->sim->opt.max_backlog)
		return;
	struct camsim_buf b = {0};
	vsim_render_heartbeat(c->dev, c, &b);
	if (!b.failed) {
		send_bytes(c, b.data, b.len, NULL);
		c->dev->heartbeats++;
	}
	camsim_buf_free(&b);
}

/* Whether a Dahua stream asked for this code (codes=[All] or a list). */
static bool wanted(const struct vsim_conn *c, const char *code)
{
	if (strcmp(c->codes, "All") == 0)
		return true;
	size_t n = strlen(code);
	for (const char *p = c->codes; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, code, n) == 0)
			return true;
		p += len + (comma ? 1 : 0);
	}
	return false;
}

/* Whether the client has closed its end (its FIN or RST is waiting to be read). libuv runs timers
 * before reads, so an event that a timer writes may follow a close the loop has not read yet: the
 * write still succeeds, but no client can read it. Such a part is unsent, not written. */
static bool client_gone(struct vsim_conn *c)
{
	uv_os_fd_t fd;
	char b;
	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) < 0)
		return false;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void stream_edge(struct vsim_conn *c, const struct vsim_edge *e)
{
	struct vsim_device *dev = c->dev;
	struct vsim_part_rec rec = {.seq = e->seq, .post = e->post};
	if (dev->sim->opt.protocol == VSIM_DAHUA && !wanted(c, e->type->name))
		return;
	if (client_gone(c)) {
		log_rec(c, &rec, "unsent", "closed by the client");
		return;
	}
	if (backlog(c) > dev->sim->opt.max_backlog) {
		log_rec(c, &rec, "dropped", "backlog");
		return;
	}
	struct camsim_buf b = {0};
	size_t doc = vsim_render_edge(dev, c, e, &b);
	if (b.failed) {
		log_rec(c, &rec, "unsent", "out of memory");
		camsim_buf_free(&b);
		return;
	}
	if (dev->mb.cut) {
		/* half of the event's document, then the device closes the stream: the event is gone
		 * (a cut inside the picture after it would leave a complete event) */
		dev->mb.cut--;
		rec.cut = true;
		send_bytes(c, b.data, doc / 2, &rec);
		camsim_buf_free(&b);
		vsim_evlog_stream(dev->sim, dev, c->answer, "cut", NULL);
		vsim_conn_end(c);
		return;
	}
	send_bytes(c, b.data, b.len, &rec);
	camsim_buf_free(&b);
}

void vsim_stream_edge(struct vsim_device *dev, const struct vsim_edge *e)
{
	for (struct vsim_conn *c = dev->conns, *next; c; c = next) {
		next = c->next; /* a cut ends c */
		if (writable(c))
			stream_edge(c, e);
	}
}

/* ---- the trickle of a slow device ---- */

static void trickle(uv_timer_t *t)
{
	struct vsim_conn *c = t->data;
	size_t left = c->out.len - c->out_off;
	unsigned bps = c->dev->mb.slow_bps;
	if (c->closing)
		return;
	if (bps == 0) /* back to full speed: everything at once */
		bps = (unsigned)(left * (1000 / TRICKLE_MS)) + 1;
	size_t n = bps * TRICKLE_MS / 1000;
	if (n == 0)
		n = 1;
	if (n > left)
		n = left;
	if (n > 0) {
		char *chunk = malloc(n);
		uint64_t end = c->handed + n;
		size_t k = 0;
		while (k < c->n_pend && c->pend[k].end <= end)
			k++;
		struct vsim_part_rec *recs = k ? malloc(k * sizeof(*recs)) : NULL;
		if (!chunk || (k && !recs)) {
			free(chunk);
			free(recs);
			return; /* next tick */
		}
		memcpy(chunk, c->out.data + c->out_off, n);
		if (k)
			memcpy(recs, c->pend, k * sizeof(*recs));
		if (k)
			memmove(c->pend, c->pend + k, (c->n_pend - k) * sizeof(*recs));
		c->n_pend -= k;
		c->out_off += n;
		hand(c, chunk, n, recs, k);
	}
	if (c->out_off == c->out.len) {
		camsim_buf_free(&c->out);
		c->out_off = 0;
		uv_timer_stop(&c->trickle_timer);
		if (c->ending)
			vsim_conn_end(c);
	}
}

void vsim_conn_trickle_start(struct vsim_conn *c)
{
	if (!uv_is_active((uv_handle_t *)&c->trickle_timer))
		uv_timer_start(&c->trickle_timer, trickle, TRICKLE_MS, TRICKLE_MS);
}

/* Parts still in the trickle buffer when a stream closes never left the device. */
void vsim_conn_pend_unsent(struct vsim_conn *c, const char *reason)
{
	for (size_t i = 0; i < c->n_pend; i++)
		log_rec(c, &c->pend[i], c->pend[i].cut ? "cut" : "unsent", c->pend[i].cut ? NULL : reason);
	c->n_pend = 0;
	free(c->pend);
	c->pend = NULL;
	c->cap_pend = 0;
	camsim_buf_free(&c->out);
	c->out_off = 0;
}

bool vsim_conn_has_unsent(const struct vsim_conn *c)
{
	return c->out.len > c->out_off;
}
