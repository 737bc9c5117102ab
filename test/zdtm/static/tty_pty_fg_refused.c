// SPDX-License-Identifier: GPL-2.0
/*
 * A pty pair whose slave is the controlling terminal of the test's session,
 * with a child in a process group of its own made the terminal's foreground
 * group, is refused at dump, naming it: restore makes the session leader's
 * group the foreground one. The task keeps running with its child in the
 * foreground.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	pid_t child;
	int m, s;

	test_init(argc, argv);
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m)) {
		fail("open a pty master");
		return 1;
	}
	s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 || (getsid(0) != getpid() && setsid() < 0) || ioctl(s, TIOCSCTTY, 0)) {
		fail("make the slave the session's controlling terminal");
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		for (;;)
			pause();
	}
	if (setpgid(child, child) || tcsetpgrp(s, child)) {
		fail("make the child's group the foreground one");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (tcgetpgrp(s) != child)
		fail("the foreground group is %d, not the child's %d", tcgetpgrp(s), child);
	else
		pass();
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return 0;
}
