// SPDX-License-Identifier: GPL-2.0
/*
 * sigpending00: blocked pending signals survive, with their siginfo.
 *  - SIGUSR1, sent to the process (shared pending), delivered to its handler
 *    once unblocked after restore;
 *  - SIGUSR2, sent to the thread (tgkill: per-thread pending), also;
 *  - SIGRTMIN+2 queued three times with values 1, 2, 3 (sigqueue): still
 *    three, in order, with their values;
 *  - SIGWINCH stays blocked and pending-free; the blocked mask is unchanged.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define RT_SIG (SIGRTMIN + 2)

static volatile sig_atomic_t got_usr1, got_usr2, bad_info;
static pid_t me;

static void handler(int sig, siginfo_t *si, void *uc)
{
	if (si->si_pid != me)
		bad_info = sig;
	if (sig == SIGUSR1) {
		got_usr1++;
		if (si->si_code != SI_USER)	/* kill() */
			bad_info = sig;
	} else if (sig == SIGUSR2) {
		got_usr2++;
		if (si->si_code != SI_TKILL)	/* tgkill() */
			bad_info = sig;
	}
}

static int check_mask(const sigset_t *want, const char *when)
{
	sigset_t cur;

	sigprocmask(SIG_BLOCK, NULL, &cur);
	for (int s = 1; s < 65; s++) {
		if (sigismember(&cur, s) != sigismember(want, s)) {
			errno = 0;
			fail("%s: signal %d is %sblocked", when, s, sigismember(&cur, s) ? "" : "not ");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec zero = { 0 };
	struct sigaction sa;
	sigset_t block, pend, rt;
	union sigval val;
	siginfo_t si;

	test_init(argc, argv);
	me = getpid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGUSR1, &sa, NULL) || sigaction(SIGUSR2, &sa, NULL)) {
		fail("sigaction");
		return 1;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, RT_SIG);
	sigaddset(&block, SIGWINCH);
	if (sigprocmask(SIG_BLOCK, &block, NULL)) {
		fail("sigprocmask");
		return 1;
	}
	sigprocmask(SIG_BLOCK, NULL, &block);	/* the full mask, SIGTERM included */

	if (kill(me, SIGUSR1) || syscall(SYS_tgkill, me, me, SIGUSR2)) {
		fail("kill/tgkill");
		return 1;
	}
	for (int i = 1; i <= 3; i++) {
		val.sival_int = i;
		if (sigqueue(me, RT_SIG, val)) {
			fail("sigqueue");
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	check_mask(&block, "after restore");
	if (sigpending(&pend)) {
		fail("sigpending");
	} else {
		errno = 0;
		if (!sigismember(&pend, SIGUSR1) || !sigismember(&pend, SIGUSR2) ||
		    !sigismember(&pend, RT_SIG))
			fail("pending: SIGUSR1 %d SIGUSR2 %d RT %d, expected all", sigismember(&pend, SIGUSR1),
			     sigismember(&pend, SIGUSR2), sigismember(&pend, RT_SIG));
		if (sigismember(&pend, SIGWINCH))
			fail("SIGWINCH is pending, nobody sent it");
	}

	/* the real-time signals: three, in order, with their values */
	sigemptyset(&rt);
	sigaddset(&rt, RT_SIG);
	for (int i = 1; i <= 3; i++) {
		if (sigtimedwait(&rt, &si, &zero) != RT_SIG) {
			fail("queued real-time signal %d of 3 is missing", i);
			break;
		}
		errno = 0;
		if (si.si_code != SI_QUEUE || si.si_value.sival_int != i || si.si_pid != me)
			fail("real-time signal %d: code %d value %d pid %d", i, si.si_code,
			     si.si_value.sival_int, si.si_pid);
	}
	errno = 0;
	if (sigtimedwait(&rt, &si, &zero) != -1)
		fail("more than 3 real-time signals queued");

	/* unblock: the handlers run now */
	sigemptyset(&pend);
	sigaddset(&pend, SIGUSR1);
	sigaddset(&pend, SIGUSR2);
	sigprocmask(SIG_UNBLOCK, &pend, NULL);
	errno = 0;
	if (got_usr1 != 1 || got_usr2 != 1)
		fail("after unblocking: SIGUSR1 delivered %d times, SIGUSR2 %d times", got_usr1,
		     got_usr2);
	if (bad_info)
		fail("signal %d arrived with the wrong siginfo", bad_info);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
