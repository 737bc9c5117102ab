// SPDX-License-Identifier: GPL-2.0
/*
 * A pty pair whose slave is the controlling terminal of the test's session
 * (made with setsid() and TIOCSCTTY) is refused at dump, naming it: restore
 * does not make a terminal controlling again. The task keeps running with
 * the slave still its controlling terminal.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	pid_t sid = -1;
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
	test_daemon();
	test_waitsig();

	if (ioctl(s, TIOCGSID, &sid) || sid != getsid(0)) {
		fail("the slave is not the controlling terminal any more (%d)", sid);
		return 1;
	}
	pass();
	return 0;
}
