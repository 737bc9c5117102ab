// SPDX-License-Identifier: GPL-2.0
/*
 * sigtrap_pending: a SIGTRAP that waits, blocked, in the queues survives, and so
 * do the SIGTRAP handler and the blocked mask (remote syscalls of the dump
 * and the restore must neither take the signal nor unblock SIGTRAP).
 *  - the process has a SA_SIGINFO handler for SIGTRAP, with SIGUSR1 in its
 *    mask and SA_RESTART;
 *  - SIGTRAP is blocked in both threads and pending three times: in the
 *    shared queue (kill(), SI_USER), in the leader's (tgkill(), SI_TKILL)
 *    and in the second thread's (a breakpoint's siginfo, TRAP_BRKPT and an
 *    address, which that thread queued to itself).
 * After restore: the masks and the action, then each thread unblocks
 * SIGTRAP in turn and its handler must run for exactly the signals of that
 * thread's queue and the shared one, with their siginfo; the leader reads
 * the shared one through a signalfd first.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define BRK_ADDR 0x4005a0UL

static pid_t me, worker_tid;
static int go[2];
static __thread int trap_seen, trap_bad;
static __thread int trap_code;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	trap_seen++;
	trap_code = si->si_code;
	if (si->si_signo != SIGTRAP)
		trap_bad = 1;
	if (si->si_code == TRAP_BRKPT && si->si_addr != (void *)BRK_ADDR)
		trap_bad = 2;
	if (si->si_code == SI_TKILL && (si->si_pid != me || gettid() != me))
		trap_bad = 3;
	if (si->si_code == TRAP_BRKPT && gettid() != worker_tid)
		trap_bad = 4;
}

static int trap_blocked(void)
{
	sigset_t cur;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, SIGTRAP);
}

static void unblock_trap(void)
{
	sigset_t t;

	sigemptyset(&t);
	sigaddset(&t, SIGTRAP);
	pthread_sigmask(SIG_UNBLOCK, &t, NULL);
}

static void *worker(void *arg)
{
	siginfo_t si;
	char c;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGTRAP;
	si.si_code = TRAP_BRKPT;
	si.si_addr = (void *)BRK_ADDR;
	if (syscall(SYS_rt_tgsigqueueinfo, me, gettid(), SIGTRAP, &si)) {
		fail("queue a breakpoint SIGTRAP");
		_exit(1);
	}
	__atomic_store_n(&worker_tid, gettid(), __ATOMIC_SEQ_CST);
	if (read(go[0], &c, 1) != 1) {
		fail("no go");
		return NULL;
	}
	errno = 0;
	if (!trap_blocked())
		fail("worker: SIGTRAP is not blocked after restore");
	unblock_trap();
	if (trap_seen != 1 || trap_code != TRAP_BRKPT || trap_bad)
		fail("worker: handler ran %d times, last code %d, bad %d (want once, TRAP_BRKPT)", trap_seen,
		     trap_code, trap_bad);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {}, now;
	struct signalfd_siginfo fdsi;
	sigset_t trap, pend;
	pthread_t th;
	int sfd;

	test_init(argc, argv);
	me = getpid();
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR1);
	sigemptyset(&trap);
	sigaddset(&trap, SIGTRAP);
	sfd = signalfd(-1, &trap, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigaction(SIGTRAP, &sa, NULL) || sfd < 0 || pipe(go)) {
		fail("setup");
		return 1;
	}
	sigprocmask(SIG_BLOCK, &trap, NULL);
	if (pthread_create(&th, NULL, worker, NULL)) {
		fail("pthread_create");
		return 1;
	}
	while (!__atomic_load_n(&worker_tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	if (kill(me, SIGTRAP) || syscall(SYS_tgkill, me, me, SIGTRAP)) {
		fail("kill/tgkill");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (!trap_blocked())
		fail("leader: SIGTRAP is not blocked after restore");
	if (sigaction(SIGTRAP, NULL, &now) || now.sa_sigaction != on_trap ||
	    (now.sa_flags & (SA_SIGINFO | SA_RESTART)) != (SA_SIGINFO | SA_RESTART) ||
	    !sigismember(&now.sa_mask, SIGUSR1))
		fail("the SIGTRAP action changed: handler %p flags %#x", (void *)now.sa_sigaction, now.sa_flags);
	if (sigpending(&pend) || !sigismember(&pend, SIGTRAP))
		fail("SIGTRAP is not pending after restore");

	/* a signalfd reads the leader's own queue first, then the shared one */
	if (read(sfd, &fdsi, sizeof(fdsi)) != sizeof(fdsi))
		fail("signalfd: nothing to read");
	else if (fdsi.ssi_signo != SIGTRAP || fdsi.ssi_code != SI_TKILL || fdsi.ssi_pid != (uint32_t)me)
		fail("signalfd: signal %u code %d pid %u (want SIGTRAP from tgkill)", fdsi.ssi_signo, fdsi.ssi_code,
		     fdsi.ssi_pid);
	unblock_trap();
	if (trap_seen != 1 || trap_code != SI_USER || trap_bad)
		fail("leader: handler ran %d times, last code %d, bad %d (want once, SI_USER)", trap_seen, trap_code,
		     trap_bad);
	if (write(go[1], "g", 1) != 1)
		fail("write");
	pthread_join(th, NULL);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
