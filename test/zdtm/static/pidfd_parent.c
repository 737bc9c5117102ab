// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_parent: a child holds a pidfd to its parent (the test root). After
 * restore the child checks the pidfd (fdinfo Pid = getppid(), inode of a
 * fresh pidfd_open, signal 0) and sends SIGUSR1 through it; the parent must
 * receive that SIGUSR1 from the child.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static void __attribute__((noreturn)) child_main(int ready_fd)
{
	struct pidfd_state st;
	pid_t parent = getppid();
	int fd;

	fd = sys_pidfd_open(parent, 0);
	if (fd < 0) {
		fail("child: pidfd_open(%d)", parent);
		exit(1);
	}
	if (pidfd_remember(fd, parent, "child's pidfd to its parent", &st))
		exit(1);
	if (write(ready_fd, "R", 1) != 1) {
		fail("child: ready write");
		exit(1);
	}
	close(ready_fd);

	test_waitsig();

	errno = 0;
	if (getppid() != parent)
		fail("child: parent is %d, was %d", getppid(), parent);
	pidfd_check(&st);
	if (sys_pidfd_send_signal(fd, SIGUSR1, NULL, 0))
		fail("child: pidfd_send_signal(SIGUSR1)");
	exit(test_failed() ? 1 : 0);
}

int main(int argc, char **argv)
{
	struct timespec ts = { .tv_sec = 20 };
	siginfo_t si;
	sigset_t usr1;
	int p[2], status;
	pid_t child;
	char c, buf[64];

	test_init(argc, argv);
	/* SIGUSR1 stays blocked: it must be pending, then picked up below */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &usr1, NULL) || pipe2(p, O_CLOEXEC)) {
		fail("sigprocmask/pipe2");
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		close(p[0]);
		child_main(p[1]);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1 || read(p[0], &c, 1) != 0) {
		fail("the child did not get ready");
		return 1;
	}
	close(p[0]);

	test_daemon();
	test_waitsig();

	if (kill(child, SIGTERM))
		fail("kill(child, SIGTERM)");
	if (sigtimedwait(&usr1, &si, &ts) != SIGUSR1) {
		fail("no SIGUSR1 from the child through its pidfd");
	} else {
		errno = 0;
		if (si.si_pid != child || si.si_code != SI_USER)
			fail("SIGUSR1 from pid %d code %d, expected pid %d SI_USER", si.si_pid,
			     si.si_code, child);
	}
	if (test_wait_child(child, 20, &status)) {
		fail("wait for the child");
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		fail("child %s", test_status_str(status, buf, sizeof(buf)));
	}

	if (test_failed())
		return 1;
	pass();
	return 0;
}
