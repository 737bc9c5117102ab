// SPDX-License-Identifier: GPL-2.0
/*
 * evloop00: a C event loop, restored while it sits in epoll_wait.
 * One epoll watches a signalfd (SIGTERM), a timerfd ticking every 100 ms and
 * the pidfds of three children; each child blocks in read() on its own pipe
 * and exits 20+i once it gets a byte. The loop runs from before the dump.
 * When SIGTERM arrives through the signalfd (after restore), the loop lets
 * child 0 go at once, child 1 three ticks later and child 2 six ticks later.
 * Each exit must be seen exactly once (the pidfd is reaped with
 * waitid(P_PIDFD) and removed from the epoll), in that order, with its exit
 * code, and the timer must keep ticking: at least 10 ticks after SIGTERM.
 * The loop has handled 3 ticks already when the test reports ready.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define NR_KIDS 3
#define TAG_SIG 0x5100
#define TAG_TIMER 0x7100
#define TAG_KID 0x9100

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct loop {
	int ep, sfd, tfd, pidfd[NR_KIDS], go[NR_KIDS];
	pid_t kid[NR_KIDS];
	int seen[NR_KIDS], order[NR_KIDS], nr_seen;
	uint64_t ticks, ticks_at_term;
	bool term;
	int released;
};

static void release(struct loop *l)
{
	while (l->released < NR_KIDS && l->ticks >= l->ticks_at_term + 3 * l->released) {
		if (write(l->go[l->released], "g", 1) != 1)
			fail("write to child %d", l->released);
		l->released++;
	}
}

static void on_signal(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo != SIGTERM) {
			fail("signal %u from the signalfd", si.ssi_signo);
			continue;
		}
		if (!l->term) {
			l->term = true;
			l->ticks_at_term = l->ticks;
			test_msg("SIGTERM at tick %llu\n", (unsigned long long)l->ticks);
		}
	}
}

static void on_timer(struct loop *l)
{
	uint64_t n;

	if (read(l->tfd, &n, sizeof(n)) == sizeof(n))
		l->ticks += n;
}

static void on_kid(struct loop *l, int i)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, l->pidfd[i], &si, WEXITED | WNOHANG)) {
		fail("waitid on child %d", i);
		return;
	}
	if (si.si_pid == 0) {
		fail("child %d reported by epoll but not exited", i);
		return;
	}
	if (l->seen[i]++) {
		fail("child %d seen twice", i);
		return;
	}
	if (si.si_pid != l->kid[i] || si.si_code != CLD_EXITED || si.si_status != 20 + i)
		fail("child %d: pid %d code %d status %d", i, si.si_pid, si.si_code, si.si_status);
	if (!l->term)
		fail("child %d exited before SIGTERM", i);
	if (epoll_ctl(l->ep, EPOLL_CTL_DEL, l->pidfd[i], NULL))
		fail("EPOLL_CTL_DEL of child %d", i);
	l->order[l->nr_seen++] = i;
	test_msg("child %d exited at tick %llu\n", i, (unsigned long long)l->ticks);
}

static int setup(struct loop *l)
{
	struct itimerspec its = { .it_value = { 0, 100000000 }, .it_interval = { 0, 100000000 } };
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t set;
	int p[2];

	for (int i = 0; i < NR_KIDS; i++) {
		char c;

		if (pipe2(p, O_CLOEXEC))
			return -1;
		l->kid[i] = fork();
		if (l->kid[i] < 0)
			return -1;
		if (l->kid[i] == 0) {
			for (int j = 0; j < i; j++)
				close(l->go[j]);
			close(p[1]);
			_exit(read(p[0], &c, 1) == 1 ? 20 + i : 1);
		}
		close(p[0]);
		l->go[i] = p[1];
		l->pidfd[i] = sys_pidfd_open(l->kid[i], 0);
		if (l->pidfd[i] < 0)
			return -1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	l->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->sfd < 0 || l->tfd < 0 || l->ep < 0 || timerfd_settime(l->tfd, 0, &its, NULL))
		return -1;
	ev.data.u64 = TAG_SIG;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->sfd, &ev))
		return -1;
	ev.data.u64 = TAG_TIMER;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->tfd, &ev))
		return -1;
	for (int i = 0; i < NR_KIDS; i++) {
		ev.data.u64 = TAG_KID + i;
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->pidfd[i], &ev))
			return -1;
	}
	return 0;
}

/* Run the loop; warmup: return after that many ticks (the loop is live before the dump). */
static void run(struct loop *l, uint64_t warmup)
{
	double deadline = 0;

	for (;;) {
		struct epoll_event evs[8];
		int n = epoll_wait(l->ep, evs, 8, 1000);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail("epoll_wait");
			return;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == TAG_SIG)
				on_signal(l);
			else if (tag == TAG_TIMER)
				on_timer(l);
			else if (tag >= TAG_KID && tag < TAG_KID + NR_KIDS)
				on_kid(l, tag - TAG_KID);
			else
				fail("unknown event data %#llx", (unsigned long long)tag);
		}
		if (warmup && l->ticks >= warmup)
			return;
		if (!l->term)
			continue;
		if (!deadline)
			deadline = now() + 10;
		release(l);
		if (l->nr_seen == NR_KIDS && l->ticks >= l->ticks_at_term + 10)
			return;
		if (now() > deadline) {
			fail("stuck: %d children seen, %llu ticks since SIGTERM", l->nr_seen,
			     (unsigned long long)(l->ticks - l->ticks_at_term));
			return;
		}
	}
}

int main(int argc, char **argv)
{
	struct loop l = {};

	test_init(argc, argv);
	if (setup(&l)) {
		fail("setup");
		return 1;
	}

	run(&l, 3);
	test_daemon();
	run(&l, 0);

	for (int i = 0; i < l.nr_seen; i++)
		if (l.order[i] != i)
			fail("child %d exited as number %d", l.order[i], i);
	for (int i = 0; i < NR_KIDS; i++)
		if (!l.seen[i]) {
			kill(l.kid[i], SIGKILL);
			waitpid(l.kid[i], NULL, 0);
		}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
