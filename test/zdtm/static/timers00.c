// SPDX-License-Identifier: GPL-2.0
/*
 * timers00: interval timers and POSIX timers survive restore:
 *  - ITIMER_REAL and ITIMER_VIRTUAL armed far in the future, with intervals;
 *  - POSIX timers with ids that are not the first ones (ids 0 and 1 deleted),
 *    on CLOCK_MONOTONIC with SIGEV_SIGNAL, on CLOCK_REALTIME with
 *    SIGEV_THREAD_ID to a second thread, one with SIGEV_NONE, one disarmed;
 *  - a short periodic POSIX timer that keeps firing after restore.
 * After restore each timer has its id, clock, notification (the lines of
 * /proc/self/timers are the same), its interval, and no more time left than
 * before the dump.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define NR_TIMERS 5

static timer_t timers[NR_TIMERS];
static struct itimerspec before[NR_TIMERS];
static volatile int ticks;
static pid_t worker_tid;
static volatile int worker_stop;

static void on_tick(int sig)
{
	ticks++;
}

static void *worker(void *arg)
{
	worker_tid = syscall(SYS_gettid);
	while (!worker_stop)
		usleep(1000);
	return NULL;
}

static char *read_timers(void)
{
	static char buf[4096];
	FILE *f = fopen("/proc/self/timers", "re");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

static int make_timer(int i, clockid_t clock, int notify, int sig, long value_s, long interval_s)
{
	struct sigevent sev = { .sigev_notify = notify, .sigev_signo = sig };
	struct itimerspec its = { { interval_s, 0 }, { value_s, 0 } };

	sev.sigev_value.sival_int = 100 + i;
	if (notify == SIGEV_THREAD_ID)
		sev.sigev_notify_thread_id = worker_tid;
	if (timer_create(clock, &sev, &timers[i]))
		return -1;
	return value_s ? timer_settime(timers[i], 0, &its, NULL) : 0;
}

int main(int argc, char **argv)
{
	struct itimerval real = { { 7200, 0 }, { 3600, 0 } }, virt = { { 600, 0 }, { 500, 0 } };
	struct itimerval real_b, virt_b, real_a, virt_a;
	char *timers_before, *timers_after;
	timer_t scratch[2];
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	pthread_t th;
	int ticks_at_restore;

	test_init(argc, argv);
	signal(SIGALRM, SIG_IGN);
	signal(SIGVTALRM, SIG_IGN);
	signal(SIGUSR2, on_tick);
	if (pthread_create(&th, NULL, worker, NULL)) {
		fail("pthread_create");
		return 1;
	}
	while (!worker_tid)
		usleep(1000);
	/* take ids 0 and 1 and give them back: the test's timers get ids 2.. */
	if (timer_create(CLOCK_MONOTONIC, &none, &scratch[0]) || timer_create(CLOCK_MONOTONIC, &none, &scratch[1])) {
		fail("timer_create");
		return 1;
	}
	if (make_timer(0, CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 1, 3000, 4000) ||
	    make_timer(1, CLOCK_REALTIME, SIGEV_THREAD_ID, SIGRTMIN + 2, 2000, 0) ||
	    make_timer(2, CLOCK_MONOTONIC, SIGEV_NONE, 0, 1000, 1000) ||
	    make_timer(3, CLOCK_BOOTTIME, SIGEV_SIGNAL, SIGRTMIN + 3, 0, 0) ||
	    timer_delete(scratch[0]) || timer_delete(scratch[1])) {
		fail("posix timers");
		return 1;
	}
	/* a short periodic one, delivering SIGUSR2 every 10 ms */
	{
		struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
		struct itimerspec its = { { 0, 10000000 }, { 0, 10000000 } };

		if (timer_create(CLOCK_MONOTONIC, &sev, &timers[4]) || timer_settime(timers[4], 0, &its, NULL)) {
			fail("the periodic timer");
			return 1;
		}
	}
	if (setitimer(ITIMER_REAL, &real, NULL) || setitimer(ITIMER_VIRTUAL, &virt, NULL)) {
		fail("setitimer");
		return 1;
	}
	for (int i = 0; i < NR_TIMERS; i++)
		timer_gettime(timers[i], &before[i]);
	getitimer(ITIMER_REAL, &real_b);
	getitimer(ITIMER_VIRTUAL, &virt_b);
	timers_before = strdup(read_timers() ?: "");

	test_daemon();
	test_waitsig();

	timers_after = read_timers();
	errno = 0;
	if (!timers_after || strcmp(timers_before, timers_after))
		fail("/proc/self/timers differs:\n--- before\n%s--- after\n%s", timers_before,
		     timers_after ? timers_after : "(unreadable)");
	for (int i = 0; i < NR_TIMERS - 1; i++) {
		struct itimerspec now;

		if (timer_gettime(timers[i], &now)) {
			fail("timer %d (id %ld) is gone", i, (long)timers[i]);
			continue;
		}
		if (now.it_interval.tv_sec != before[i].it_interval.tv_sec)
			fail("timer %d: interval %lds, was %lds", i, (long)now.it_interval.tv_sec,
			     (long)before[i].it_interval.tv_sec);
		if (!before[i].it_value.tv_sec && (now.it_value.tv_sec || now.it_value.tv_nsec))
			fail("timer %d: armed after restore, was disarmed", i);
		if (before[i].it_value.tv_sec &&
		    (now.it_value.tv_sec > before[i].it_value.tv_sec || now.it_value.tv_sec < before[i].it_value.tv_sec - 60))
			fail("timer %d: %lds left, %lds before the dump", i, (long)now.it_value.tv_sec,
			     (long)before[i].it_value.tv_sec);
	}
	getitimer(ITIMER_REAL, &real_a);
	getitimer(ITIMER_VIRTUAL, &virt_a);
	if (real_a.it_interval.tv_sec != real_b.it_interval.tv_sec || real_a.it_value.tv_sec > real_b.it_value.tv_sec ||
	    real_a.it_value.tv_sec < real_b.it_value.tv_sec - 60)
		fail("ITIMER_REAL: %lds/%lds, was %lds/%lds", (long)real_a.it_value.tv_sec,
		     (long)real_a.it_interval.tv_sec, (long)real_b.it_value.tv_sec, (long)real_b.it_interval.tv_sec);
	if (virt_a.it_interval.tv_sec != virt_b.it_interval.tv_sec || !virt_a.it_value.tv_sec)
		fail("ITIMER_VIRTUAL: %lds/%lds, was %lds/%lds", (long)virt_a.it_value.tv_sec,
		     (long)virt_a.it_interval.tv_sec, (long)virt_b.it_value.tv_sec, (long)virt_b.it_interval.tv_sec);
	ticks_at_restore = ticks;
	for (int i = 0; i < 200 && ticks < ticks_at_restore + 5; i++)
		usleep(5000);
	if (ticks < ticks_at_restore + 5)
		fail("the periodic timer does not fire after restore (%d ticks)", ticks - ticks_at_restore);
	worker_stop = 1;
	pthread_join(th, NULL);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
