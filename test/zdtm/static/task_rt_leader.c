// SPDX-License-Identifier: GPL-2.0
/*
 * task_rt_leader: a real-time main thread (SCHED_FIFO: timer slack 0, its default not
 * dumped) and a second thread with a timer slack of its own survive dump and restore:
 * the leader's blob of reads has no calls for the default slack then (the kernel would
 * ignore them), and the other thread's default is read as before.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "zdtmtst.h"

#define THREAD_SLACK 123457L

static volatile int ready, go;
static long thr_slack[2], thr_default[2];

/* The calling thread's slack and default (0 gives the default as the slack), put back. */
static void slacks(long *cur, long *def)
{
	*cur = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0);
	*def = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	prctl(PR_SET_TIMERSLACK, *cur, 0, 0, 0);
}

static void *thread_fn(void *arg)
{
	(void)arg;
	prctl(PR_SET_TIMERSLACK, THREAD_SLACK, 0, 0, 0);
	slacks(&thr_slack[0], &thr_default[0]);
	ready = 1;
	while (!go)
		usleep(1000);
	slacks(&thr_slack[1], &thr_default[1]);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sched_param sp = { .sched_priority = 1 };
	pthread_t th;
	long slack;
	int policy;

	test_init(argc, argv);
	/* the thread first: created by a real-time thread its default would be 0, which the dump refuses */
	if (pthread_create(&th, NULL, thread_fn, NULL)) {
		fail("pthread_create");
		return 1;
	}
	while (!ready)
		usleep(1000);
	if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
		fail("sched_setscheduler(SCHED_FIFO)");
		return 1;
	}
	slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (slack != 0 || thr_slack[0] != THREAD_SLACK || !thr_default[0]) {
		fail("before: leader's slack %ld, thread's %ld default %ld", slack, thr_slack[0], thr_default[0]);
		return 1;
	}

	test_daemon();
	test_waitsig();

	go = 1;
	pthread_join(th, NULL);
	policy = sched_getscheduler(0);
	if (sched_getparam(0, &sp))
		sp.sched_priority = -1;
	slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (policy != SCHED_FIFO || sp.sched_priority != 1 || slack != 0)
		fail("leader: policy %d priority %d slack %ld, expected SCHED_FIFO 1 and 0", policy, sp.sched_priority,
		     slack);
	if (thr_slack[1] != thr_slack[0] || thr_default[1] != thr_default[0])
		fail("thread: slack %ld default %ld, was %ld and %ld", thr_slack[1], thr_default[1], thr_slack[0],
		     thr_default[0]);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
