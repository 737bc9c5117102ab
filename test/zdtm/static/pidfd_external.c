// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_external: a pidfd of a process outside the dumped tree (a grandchild
 * whose parent exited, so it was reparented to the runner). It lives on
 * through the dump and restore; after restore the pidfd refers to that very
 * process (fdinfo Pid, same pidfs inode as a fresh pidfd_open, signals reach
 * it), and a SIGKILL through the pidfd ends it.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct pidfd_state st;
	struct pollfd p;
	pid_t out;
	int fd;

	test_init(argc, argv);
	out = test_start_outsider();
	fd = out > 0 ? sys_pidfd_open(out, 0) : -1;
	if (fd < 0 || getppid() == out) {
		fail("can't start the outside process");
		return 1;
	}
	if (pidfd_remember(fd, out, "pidfd of an outside process", &st))
		return 1;

	test_daemon();
	test_waitsig();

	pidfd_check(&st);
	if (sys_pidfd_send_signal(fd, SIGKILL, NULL, 0))
		fail("pidfd_send_signal(SIGKILL) to the outside process");
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1 || !(p.revents & POLLIN))
		fail("the outside process did not end after SIGKILL through the pidfd");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
