// SPDX-License-Identifier: GPL-2.0
/*
 * sigpending02: signals pending in a thread that is not the leader, with
 * the siginfo only the thread itself may queue to itself: tgkill()'s
 * SI_TKILL (SIGUSR1, SIGRTMIN+3), and a SIGSEGV with SEGV_MAPERR and an
 * address, as the kernel makes it for a fault. No SIGTRAP here.
 * After restore the thread takes them (raw rt_sigtimedwait: glibc turns
 * SI_TKILL into SI_USER) and compares each siginfo byte for byte.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NR 3

static pid_t me;
static siginfo_t want[NR];
static volatile int ready;
static int go[2];

static int take_one(int sig, siginfo_t *ret)
{
	static const struct timespec zero = { 0 };
	uint64_t set = 1ULL << (sig - 1);

	return (int)syscall(SYS_rt_sigtimedwait, &set, ret, &zero, sizeof(set));
}

static int queue_own(void)
{
	pid_t tid = gettid();
	int sigs[NR] = { SIGUSR1, SIGRTMIN + 3, SIGSEGV };

	for (int i = 0; i < NR; i++) {
		memset(&want[i], 0, sizeof(want[i]));
		want[i].si_signo = sigs[i];
		if (sigs[i] == SIGSEGV) {
			want[i].si_code = SEGV_MAPERR;
			want[i].si_addr = (void *)0x10000UL;
			if (syscall(SYS_rt_tgsigqueueinfo, me, tid, SIGSEGV, &want[i]))
				return -1;
			continue;
		}
		want[i].si_code = SI_TKILL;
		want[i].si_pid = me;
		want[i].si_uid = getuid();
		if (syscall(SYS_tgkill, me, tid, sigs[i]))
			return -1;
	}
	return 0;
}

static void *worker(void *arg)
{
	siginfo_t got;
	char c;

	if (queue_own()) {
		fail("queue the thread's own signals");
		_exit(1);
	}
	ready = 1;
	if (read(go[0], &c, 1) != 1) {
		fail("no go");
		return NULL;
	}
	for (int i = 0; i < NR; i++) {
		memset(&got, 0, sizeof(got));
		errno = 0;
		if (take_one(want[i].si_signo, &got) != want[i].si_signo)
			fail("signal %d is not pending in the thread any more", want[i].si_signo);
		else if (memcmp(&got, &want[i], sizeof(got)))
			fail("signal %d: code %d pid %d addr %p, sent with code %d pid %d addr %p", got.si_signo,
			     got.si_code, got.si_pid, got.si_addr, want[i].si_code, want[i].si_pid, want[i].si_addr);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	sigset_t all, pend;
	pthread_t th;

	test_init(argc, argv);
	me = getpid();
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if (pipe(go) || pthread_create(&th, NULL, worker, NULL)) {
		fail("pipe or thread");
		return 1;
	}
	while (!ready)
		usleep(1000);

	test_daemon();
	test_waitsig();

	if (write(go[1], "g", 1) != 1)
		fail("write");
	pthread_join(th, NULL);
	errno = 0;
	if (sigpending(&pend) == 0)
		for (int s = 1; s <= SIGRTMAX; s++)
			if (sigismember(&pend, s))
				fail("signal %d still pending", s);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
