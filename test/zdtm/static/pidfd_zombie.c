// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_zombie: a pidfd of a zombie child. After restore the child is still a
 * zombie: poll gives POLLIN (not HUP), fdinfo Pid is its pid, and
 * waitid(P_PIDFD) returns its exit status (code 5).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int main(int argc, char **argv)
{
	struct pollfd p;
	siginfo_t si = {};
	long long pid = 0;
	pid_t child;
	int fd;

	test_init(argc, argv);
	child = fork();
	if (child == 0)
		_exit(5);
	fd = sys_pidfd_open(child, 0);
	if (fd < 0) {
		fail("pidfd_open");
		return 1;
	}
	/* wait until it is a zombie, without reaping it */
	if (waitid(P_PIDFD, fd, &si, WEXITED | WNOWAIT)) {
		fail("waitid(WNOWAIT)");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 0) != 1 || p.revents != POLLIN)
		fail("poll revents 0x%x, expected POLLIN", p.revents);
	if (fdinfo_get_long(fd, "Pid", &pid) || pid != child)
		fail("fdinfo Pid %lld, expected %d", pid, child);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, fd, &si, WEXITED)) {
		fail("waitid(P_PIDFD)");
	} else if (si.si_pid != child || si.si_code != CLD_EXITED || si.si_status != 5) {
		errno = 0;
		fail("waitid: pid %d code %d status %d, expected %d exited 5", si.si_pid, si.si_code, si.si_status,
		     child);
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
