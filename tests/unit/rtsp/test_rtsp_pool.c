/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The RTSP adapter's worker pool: jobs run off the loop thread and come back on it, the queue is
 * bounded, and stopping ends running jobs (through the stop flag) and hands back queued ones
 * unrun. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rtsp_pool.h"

struct job {
	struct agw_rtsp_work w;
	struct agw_rtsp_pool *pool;
	bool wait_for_stop; /* blocks like a patrol on a silent camera, until the stop flag */
	bool saw_stop;
	pthread_t thread;
	int *done_ran, *done_unrun;
};

static pthread_t loop_thread;
static int stopped_calls;

static void work(struct agw_rtsp_work *w)
{
	struct job *j = (struct job *)w;
	j->thread = pthread_self();
	if (j->wait_for_stop) {
		const atomic_bool *stop = agw_rtsp_pool_stop_flag(j->pool);
		for (int i = 0; i < 20000 && !atomic_load(stop); i++)
			usleep(1000);
		j->saw_stop = atomic_load(stop);
	}
}

static void done(struct agw_rtsp_work *w, bool ran)
{
	struct job *j = (struct job *)w;
	assert_true(pthread_equal(pthread_self(), loop_thread));
	if (ran) {
		(*j->done_ran)++;
		assert_false(pthread_equal(j->thread, loop_thread));
		if (j->wait_for_stop)
			assert_true(j->saw_stop);
	} else {
		(*j->done_unrun)++;
	}
	free(j);
}

static void on_stopped(void *arg)
{
	stopped_calls++;
	*(bool *)arg = true;
}

static struct job *job_new(struct agw_rtsp_pool *p, bool wait, int *ran, int *unrun)
{
	struct job *j = calloc(1, sizeof(*j));
	j->w.work = work;
	j->w.done = done;
	j->pool = p;
	j->wait_for_stop = wait;
	j->done_ran = ran;
	j->done_unrun = unrun;
	return j;
}

static void test_run_and_return(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	loop_thread = pthread_self();
	struct agw_rtsp_pool *p;
	assert_int_equal(agw_rtsp_pool_new(&loop, 2, 8, &p), 0);
	int ran = 0, unrun = 0;
	for (int i = 0; i < 8; i++)
		assert_int_equal(agw_rtsp_pool_submit(p, &job_new(p, false, &ran, &unrun)->w), 0);
	for (int i = 0; i < 2000 && ran < 8; i++)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(ran, 8);
	assert_int_equal(unrun, 0);
	bool stopped = false;
	agw_rtsp_pool_stop(p, on_stopped, &stopped);
	struct job *late = job_new(p, false, &ran, &unrun);
	assert_int_equal(agw_rtsp_pool_submit(p, &late->w), -ESHUTDOWN); /* the caller still owns it */
	free(late);
	uv_run(&loop, UV_RUN_DEFAULT); /* returns once the pool's handle is closed */
	assert_true(stopped);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_stop_interrupts_and_hands_back(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	loop_thread = pthread_self();
	struct agw_rtsp_pool *p;
	assert_int_equal(agw_rtsp_pool_new(&loop, 1, 2, &p), 0);
	int ran = 0, unrun = 0;
	struct job *blocker = job_new(p, true, &ran, &unrun);
	assert_int_equal(agw_rtsp_pool_submit(p, &blocker->w), 0);
	usleep(50000); /* the only thread takes the blocker */
	assert_int_equal(agw_rtsp_pool_submit(p, &job_new(p, false, &ran, &unrun)->w), 0);
	assert_int_equal(agw_rtsp_pool_submit(p, &job_new(p, false, &ran, &unrun)->w), 0);
	/* the queue holds 2: the next one is refused, and the caller still owns it */
	struct job *extra = job_new(p, false, &ran, &unrun);
	assert_int_equal(agw_rtsp_pool_submit(p, &extra->w), -EAGAIN);
	free(extra);
	bool stopped = false;
	int before = stopped_calls;
	agw_rtsp_pool_stop(p, on_stopped, &stopped);
	assert_int_equal(unrun, 2); /* queued jobs come back unrun, at once */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_true(stopped);
	assert_int_equal(stopped_calls, before + 1);
	assert_int_equal(ran, 1); /* the blocker ended through the stop flag (checked in done) */
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- the stop deadline ---- */

/* A job blocked where no interrupt reaches (getaddrinfo): it ignores the stop flag, and when it
 * gets its answer it writes into its owner's state. */
struct stuck_job {
	struct agw_rtsp_work w;
	atomic_bool *release;
	int *owner_state;
	int *unrun;
};

static void stuck_work(struct agw_rtsp_work *w)
{
	struct stuck_job *j = (struct stuck_job *)w;
	for (int i = 0; i < 5000 && !atomic_load(j->release); i++)
		usleep(1000);
	*j->owner_state = 42;
}

static void stuck_done(struct agw_rtsp_work *w, bool ran)
{
	struct stuck_job *j = (struct stuck_job *)w;
	assert_false(ran); /* the loop is gone: results are not acted on */
	(*j->unrun)++;
	free(j);
}

static void *release_later(void *arg)
{
	usleep(200000);
	atomic_store((atomic_bool *)arg, true);
	return NULL;
}

static void close_any(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* What the daemon does when an adapter misses the stop deadline: every handle of the loop is
 * closed by a walk, the loop drains, then the adapter is uninit and its state freed. The pool
 * must not leave a thread that still writes into that state: abandon waits for it. */
static void test_abandon_after_deadline_waits(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	loop_thread = pthread_self();
	struct agw_rtsp_pool *p;
	assert_int_equal(agw_rtsp_pool_new(&loop, 1, 2, &p), 0);
	int *owner_state = calloc(1, sizeof(*owner_state));
	atomic_bool release;
	atomic_init(&release, false);
	int unrun = 0;
	struct stuck_job *j = calloc(1, sizeof(*j));
	j->w.work = stuck_work;
	j->w.done = stuck_done;
	j->release = &release;
	j->owner_state = owner_state;
	j->unrun = &unrun;
	assert_int_equal(agw_rtsp_pool_submit(p, &j->w), 0);
	usleep(50000); /* the thread is in the job */
	bool stopped = false;
	int before = stopped_calls;
	agw_rtsp_pool_stop(p, on_stopped, &stopped);
	uv_walk(&loop, close_any, NULL); /* the deadline */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_false(stopped);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, release_later, &release), 0);
	agw_rtsp_pool_abandon(p); /* the adapter's uninit */
	assert_int_equal(*owner_state, 42);
	free(owner_state); /* the core frees the adapter's state */
	assert_int_equal(unrun, 1);
	assert_int_equal(stopped_calls, before);
	pthread_join(t, NULL);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* A pool abandoned with its handle open (a start that failed after init) closes it itself. */
static void test_abandon_open_pool(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	loop_thread = pthread_self();
	struct agw_rtsp_pool *p;
	assert_int_equal(agw_rtsp_pool_new(&loop, 2, 2, &p), 0);
	agw_rtsp_pool_abandon(p);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_and_return),
		cmocka_unit_test(test_stop_interrupts_and_hands_back),
		cmocka_unit_test(test_abandon_after_deadline_waits),
		cmocka_unit_test(test_abandon_open_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
