// SPDX-License-Identifier: GPL-2.0
/*
 * task_slack0_refused: a thread that is not real-time with a timer slack of 0 (and a
 * default of 0): created by a SCHED_FIFO thread with SCHED_RESET_ON_FORK, it starts as
 * SCHED_OTHER with the real-time slack, 0. No prctl can set 0 again (PR_SET_TIMERSLACK
 * takes 0 as "the default"), so the dump must refuse it, naming it, and leave the task
 * running with its slack unchanged.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "zdtmtst.h"

static volatile int ready, go;
static long slack_before, slack_after, policy_after;

static void *thread_fn(void *arg)
{
	(void)arg;
	slack_before = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	ready = 1;
	while (!go)
		usleep(1000);
	slack_after = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	policy_after = sched_getscheduler(0);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sched_param sp = { .sched_priority = 1 };
	pthread_t th;
	int ret;

	test_init(argc, argv);
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp)) {
		fail("sched_setscheduler(SCHED_FIFO)");
		return 1;
	}
	ret = pthread_create(&th, NULL, thread_fn, NULL);
	sp.sched_priority = 0;
	if (sched_setscheduler(0, SCHED_OTHER, &sp) || ret) {
		fail("pthread_create or back to SCHED_OTHER");
		return 1;
	}
	while (!ready)
		usleep(1000);
	if (slack_before != 0) {
		fail("the thread's slack is %ld, expected 0", slack_before);
		return 1;
	}
	test_daemon();
	test_waitsig();
	go = 1;
	pthread_join(th, NULL);
	errno = 0;
	if (slack_after != 0 || policy_after != SCHED_OTHER)
		fail("after the refused dump: slack %ld policy %ld, expected 0 and SCHED_OTHER", slack_after,
		     policy_after);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
