/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The RTSP adapter's worker pool: jobs run off the loop thread and come back on it, the queue is
 * bounded, and stopping ends running jobs (through the stop flag) and hands back queued ones
 * unrun. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_and_return),
		cmocka_unit_test(test_stop_interrupts_and_hands_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
