// SPDX-License-Identifier: GPL-2.0
/*
 * An open of /dev/tty made while the test's controlling terminal was the
 * slave of a pty whose master the test holds: after restore the fd is still
 * /dev/tty (5:0), reaches the same pty (TIOCGDEV), keeps its O_NONBLOCK,
 * reads what is written on the master, and the test gets SIGHUP when the
 * master is closed (and not before).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

static volatile sig_atomic_t hups;

static void on_hup(int sig)
{
	hups++;
}

int main(int argc, char **argv)
{
	unsigned int dev = 0;
	struct stat st, sst;
	int m, s, tty, fl;
	char buf[16];

	test_init(argc, argv);
	signal(SIGHUP, on_hup);
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m)) {
		fail("open a pty");
		return 1;
	}
	/* (the test is a session leader without a terminal: this one becomes it) */
	s = open(ptsname(m), O_RDWR | O_CLOEXEC);
	tty = open("/dev/tty", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (s < 0 || tty < 0 || fstat(s, &sst)) {
		fail("open the slave and /dev/tty");
		return 1;
	}

	test_daemon();
	test_waitsig();

	fl = fcntl(tty, F_GETFL);
	if (fstat(tty, &st) || st.st_rdev != makedev(5, 0) || ioctl(tty, TIOCGDEV, &dev) ||
	    makedev(major(dev), minor(dev)) != sst.st_rdev || fl < 0 || !(fl & O_NONBLOCK)) {
		fail("fd %d: rdev %x, device behind it %x (the slave's %x), flags %x", tty, (int)st.st_rdev, dev,
		     (int)sst.st_rdev, fl);
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (read(tty, buf, sizeof(buf)) != -1 || errno != EAGAIN) {
		fail("/dev/tty had something to read");
		return 1;
	}
	if (write(m, "ping\n", 5) != 5 || read(tty, buf, sizeof(buf) - 1) != 5 || strcmp(buf, "ping\n")) {
		fail("/dev/tty read '%s'", buf);
		return 1;
	}
	if (hups) {
		fail("SIGHUP before the master was closed");
		return 1;
	}
	close(m);
	if (hups != 1) {
		fail("%d SIGHUPs when the master was closed", hups);
		return 1;
	}
	pass();
	return 0;
}
