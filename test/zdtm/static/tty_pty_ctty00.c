// SPDX-License-Identifier: GPL-2.0
/*
 * A pty pair whose slave is the controlling terminal of the test's session
 * (made with setsid() and TIOCSCTTY), with a child in the session, comes
 * back as it was: the slave is again the controlling terminal of the test
 * and of its child (their /proc stat tty_nr), the foreground group is the
 * test's, and bytes written on the slave are read on the master.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

/* field 7 of /proc/PID/stat: the controlling terminal, in the kernel's encoding */
static long tty_nr(pid_t pid)
{
	char path[64], buf[1024], *p;
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 2, "%*c %*d %*d %*d %ld", &nr);
	fclose(f);
	return nr;
}

int main(int argc, char **argv)
{
	pid_t sid = -1, child;
	struct stat st;
	char buf[8];
	long want;
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
	test_daemon();
	test_waitsig();

	if (fstat(s, &st)) {
		fail("fstat the slave");
		goto out;
	}
	want = (major(st.st_rdev) << 8) | (minor(st.st_rdev) & 0xff) | ((minor(st.st_rdev) & ~0xffUL) << 12);
	if (ioctl(s, TIOCGSID, &sid) || sid != getsid(0)) {
		fail("the slave is not the session's controlling terminal any more (%d)", sid);
	} else if (tty_nr(getpid()) != want || tty_nr(child) != want) {
		fail("tty_nr of the test %ld, of its child %ld, not %ld", tty_nr(getpid()), tty_nr(child), want);
	} else if (tcgetpgrp(s) != getpgrp()) {
		fail("the foreground group is %d, not the test's %d", tcgetpgrp(s), getpgrp());
	} else if (write(s, "ok\n", 3) != 3 || read(m, buf, sizeof(buf)) < 2 || memcmp(buf, "ok", 2)) {
		fail("no data from the slave to the master");
	} else {
		pass();
	}
out:
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return 0;
}
