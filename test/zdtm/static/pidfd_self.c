// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_self: pidfds to the process itself, one blocking and one
 * PIDFD_NONBLOCK, plus a dup of the first. After restore: each is a pidfd
 * to getpid() (fdinfo Pid, inode of a fresh pidfd_open, signal 0), the dup
 * still shares the file with the original (a flag set on one shows on the
 * other), the two pidfd_open()s are still two files, and a SIGUSR2 sent
 * through a pidfd arrives from ourselves.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

int main(int argc, char **argv)
{
	struct pidfd_state a, b, d;
	struct timespec ts = { .tv_sec = 5 };
	int fd, nfd, dfd;
	siginfo_t si;
	sigset_t usr2;
	pid_t me;

	test_init(argc, argv);
	me = getpid();
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &usr2, NULL)) {
		fail("sigprocmask");
		return 1;
	}
	fd = sys_pidfd_open(me, 0);
	nfd = sys_pidfd_open(me, PIDFD_NONBLOCK);
	if (fd < 0 || nfd < 0) {
		fail("pidfd_open(self)");
		return 1;
	}
	dfd = fcntl(fd, F_DUPFD, 30);	/* a dup without close-on-exec */
	if (dfd < 0) {
		fail("dup");
		return 1;
	}
	if (pidfd_remember(fd, me, "self pidfd", &a) ||
	    pidfd_remember(nfd, me, "non-blocking self pidfd", &b) ||
	    pidfd_remember(dfd, me, "dup of the self pidfd", &d))
		return 1;

	test_daemon();
	test_waitsig();

	pidfd_check(&a);
	pidfd_check(&b);
	pidfd_check(&d);
	/* fd and dfd are one file: the status flags are shared */
	if (fcntl(fd, F_SETFL, O_NONBLOCK)) {
		fail("F_SETFL");
	} else {
		errno = 0;
		if (!(fcntl(dfd, F_GETFL) & O_NONBLOCK))
			fail("the dup does not share the file with the original any more");
		fcntl(fd, F_SETFL, 0);
		if (fcntl(nfd, F_GETFL) != b.fl)
			fail("the two pidfd_open() files became one");
	}
	if (sys_pidfd_send_signal(nfd, SIGUSR2, NULL, 0)) {
		fail("pidfd_send_signal(SIGUSR2)");
	} else if (sigtimedwait(&usr2, &si, &ts) != SIGUSR2) {
		fail("SIGUSR2 sent through the pidfd did not arrive");
	} else {
		errno = 0;
		if (si.si_pid != me || si.si_code != SI_USER)
			fail("SIGUSR2 from pid %d code %d, expected %d SI_USER", si.si_pid,
			     si.si_code, me);
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
