// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_child: the test holds pidfds to its child (a blocking one and a
 * PIDFD_NONBLOCK one). After restore both still refer to the child
 * (fdinfo Pid, inode of a fresh pidfd_open, signal 0), waitid(P_PIDFD) on the
 * non-blocking one says EAGAIN while the child lives, and a SIGKILL sent
 * through the pidfd kills exactly that child, as waitid(P_PIDFD) reports.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

int main(int argc, char **argv)
{
	struct pidfd_state blk, nblk;
	siginfo_t si = { 0 };
	int fd, nfd;
	pid_t child;

	test_init(argc, argv);
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		/* lives until the parent kills it through the pidfd */
		for (;;)
			pause();
	}
	fd = sys_pidfd_open(child, 0);
	nfd = sys_pidfd_open(child, PIDFD_NONBLOCK);
	if (fd < 0 || nfd < 0) {
		fail("pidfd_open(%d)", child);
		kill(child, SIGKILL);
		return 1;
	}
	if (pidfd_remember(fd, child, "pidfd", &blk) ||
	    pidfd_remember(nfd, child, "nonblocking pidfd", &nblk)) {
		kill(child, SIGKILL);
		return 1;
	}

	test_daemon();
	test_waitsig();

	pidfd_check(&blk);
	pidfd_check(&nblk);
	if (waitid(P_PIDFD, nfd, &si, WEXITED) != -1 || errno != EAGAIN)
		fail("waitid on the non-blocking pidfd of a live child: not EAGAIN");

	if (sys_pidfd_send_signal(fd, SIGKILL, NULL, 0)) {
		fail("pidfd_send_signal(SIGKILL)");
		kill(child, SIGKILL);
	}
	if (waitid(P_PIDFD, fd, &si, WEXITED)) {
		fail("waitid(P_PIDFD)");
	} else {
		errno = 0;
		if (si.si_pid != child || si.si_code != CLD_KILLED || si.si_status != SIGKILL)
			fail("waitid: pid %d code %d status %d, expected %d killed by SIGKILL",
			     si.si_pid, si.si_code, si.si_status, child);
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
