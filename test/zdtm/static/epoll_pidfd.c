// SPDX-License-Identifier: GPL-2.0
/*
 * epoll_pidfd: an epoll over pidfds of a live child, a zombie child, a child
 * already reaped, and the test itself.
 * After restore epoll_wait reports exactly the zombie (EPOLLIN) and the
 * reaped one (EPOLLIN|EPOLLHUP), with their data; then the live child is told
 * (through a pipe) to exit 7 and epoll_wait reports it once, and
 * waitid(P_PIDFD) on the pidfd from the event gives exit status 7.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

enum { LIVE, ZOMBIE, REAPED, SELF, NR };

static const uint64_t tag[NR] = { 0x11110000ULL, 0x22220000ULL, 0x33330000ULL, 0x44440000ULL };

static int add(int ep, int fd, uint64_t data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int find(const struct epoll_event *e, int n, uint64_t data)
{
	for (int i = 0; i < n; i++)
		if (e[i].data.u64 == data)
			return i;
	return -1;
}

int main(int argc, char **argv)
{
	struct epoll_event evs[8];
	int ep, pfd[NR], go[2], n, i;
	pid_t kid[NR] = {};
	siginfo_t si;

	test_init(argc, argv);
	if (pipe(go)) {
		fail("pipe");
		return 1;
	}
	for (i = LIVE; i <= REAPED; i++) {
		char c;

		kid[i] = fork();
		if (kid[i] < 0) {
			fail("fork");
			return 1;
		}
		if (kid[i] == 0) {
			if (i != LIVE)
				_exit(i);
			close(go[1]);
			_exit(read(go[0], &c, 1) == 1 ? 7 : 8);
		}
		pfd[i] = sys_pidfd_open(kid[i], 0);
		if (pfd[i] < 0) {
			fail("pidfd_open");
			return 1;
		}
	}
	close(go[0]);
	pfd[SELF] = sys_pidfd_open(getpid(), 0);
	memset(&si, 0, sizeof(si));
	if (pfd[SELF] < 0 || waitid(P_PIDFD, pfd[ZOMBIE], &si, WEXITED | WNOWAIT) ||
	    waitid(P_PIDFD, pfd[REAPED], &si, WEXITED)) {
		fail("setup");
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (i = 0; i < NR; i++)
		if (add(ep, pfd[i], tag[i] | pfd[i])) {
			fail("epoll_ctl");
			return 1;
		}

	test_daemon();
	test_waitsig();

	n = epoll_wait(ep, evs, 8, 0);
	if (n != 2)
		fail("%d events after restore, expected 2 (zombie and reaped)", n);
	i = find(evs, n, tag[ZOMBIE] | pfd[ZOMBIE]);
	if (i < 0 || evs[i].events != EPOLLIN)
		fail("zombie: %s", i < 0 ? "not reported" : "events not EPOLLIN");
	i = find(evs, n, tag[REAPED] | pfd[REAPED]);
	if (i < 0 || evs[i].events != (EPOLLIN | EPOLLHUP))
		fail("reaped: %s (events %#x)", i < 0 ? "not reported" : "events not IN|HUP", i < 0 ? 0 : evs[i].events);

	/* let the live child go; the zombie and the reaped stay reported (level) */
	if (write(go[1], "x", 1) != 1)
		fail("write to the live child");
	for (int tries = 0; tries < 50; tries++) {
		/* the other two are always ready: epoll_wait won't block */
		n = epoll_wait(ep, evs, 8, 100);
		if (find(evs, n, tag[LIVE] | pfd[LIVE]) >= 0)
			break;
		usleep(100000);
	}
	i = find(evs, n, tag[LIVE] | pfd[LIVE]);
	if (i < 0) {
		fail("the live child's exit was not reported");
	} else {
		int fd = evs[i].data.u64 & 0xffff;

		memset(&si, 0, sizeof(si));
		if (fd != pfd[LIVE] || waitid(P_PIDFD, fd, &si, WEXITED) || si.si_pid != kid[LIVE] ||
		    si.si_code != CLD_EXITED || si.si_status != 7)
			fail("live child: pid %d code %d status %d, expected %d exited 7", si.si_pid, si.si_code,
			     si.si_status, kid[LIVE]);
	}
	if (find(evs, n, tag[SELF] | pfd[SELF]) >= 0)
		fail("the pidfd of the test itself is reported");
	/* reap the zombie */
	waitpid(kid[ZOMBIE], NULL, 0);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
