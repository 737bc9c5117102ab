// SPDX-License-Identifier: GPL-2.0
/*
 * Pty slaves hung up by the close of their master (upstream's pty04 shape):
 * two opens of the slave, one of them the test's controlling terminal, and a
 * dup of the other; the test closed the master. After restore each fd is
 * still a file of that pty's slave (its major, its owner), hung up: read
 * gives 0, write and ioctls fail with EIO, poll says POLLHUP; the two opens
 * are two files and the dup shares its file's offset flags; the test has no
 * controlling terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

static int check_hung(int fd, const struct stat *was)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct termios t;
	struct stat st;
	char c;

	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) || major(st.st_rdev) != major(was->st_rdev) ||
	    st.st_uid != was->st_uid || st.st_gid != was->st_gid) {
		fail("fd %d: not the pty's slave (rdev %x, owner %u:%u)", fd, (int)st.st_rdev, st.st_uid, st.st_gid);
		return -1;
	}
	if (read(fd, &c, 1) != 0) {
		fail("fd %d: read does not give 0", fd);
		return -1;
	}
	if (((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR && (write(fd, "x", 1) != -1 || errno != EIO)) ||
	    !tcgetattr(fd, &t) || errno != EIO) {
		fail("fd %d: write or tcgetattr does not fail with EIO", fd);
		return -1;
	}
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLHUP)) {
		fail("fd %d: poll gives %x", fd, p.revents);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int m, s1, s2, s3, fl;
	struct stat st;

	test_init(argc, argv);
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m)) {
		fail("open a pty");
		return 1;
	}
	s1 = open(ptsname(m), O_RDWR | O_CLOEXEC);
	s2 = open(ptsname(m), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	s3 = dup(s2);
	if (s1 < 0 || s2 < 0 || s3 < 0 || fstat(s1, &st) || ioctl(s1, TIOCSCTTY, 0)) {
		fail("open the slave twice and make it the controlling terminal");
		return 1;
	}
	signal(SIGHUP, SIG_IGN);
	close(m);

	test_daemon();
	test_waitsig();

	if (check_hung(s1, &st) || check_hung(s2, &st) || check_hung(s3, &st))
		return 1;
	fl = fcntl(s2, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != O_RDONLY || !(fl & O_NONBLOCK) || (fcntl(s1, F_GETFL) & O_ACCMODE) != O_RDWR) {
		fail("the flags of the slave's files: %x", fl);
		return 1;
	}
	if (fcntl(s3, F_SETFL, 0) || (fcntl(s2, F_GETFL) & O_NONBLOCK) || (fcntl(s1, F_GETFL) & O_NONBLOCK)) {
		fail("the dup and its file are not one file, or the two opens are");
		return 1;
	}
	if (open("/dev/tty", O_RDWR) >= 0 || errno != ENXIO) {
		fail("the test has a controlling terminal");
		return 1;
	}
	pass();
	return 0;
}
