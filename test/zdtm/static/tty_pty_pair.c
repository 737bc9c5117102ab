// SPDX-License-Identifier: GPL-2.0
/*
 * A pty pair with both sides open in the task comes back as it was: the same
 * pts index (the slave's name), the slave's termios and window size, the
 * master's packet mode and the locked state (the slave can't be opened by
 * name any more), and the pair still carries data both ways.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

static int check_termios(int s, const struct termios *want)
{
	struct termios t;

	if (tcgetattr(s, &t))
		return -1;
	if (t.c_iflag != want->c_iflag || t.c_oflag != want->c_oflag || t.c_cflag != want->c_cflag ||
	    t.c_lflag != want->c_lflag || memcmp(t.c_cc, want->c_cc, NCCS) ||
	    cfgetospeed(&t) != cfgetospeed(want))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct stat st_before, st_after;
	struct winsize ws = { .ws_row = 33, .ws_col = 77, .ws_xpixel = 5, .ws_ypixel = 9 }, ws2;
	struct termios tio;
	char name[64], buf[16];
	int m, s, one = 1, lock = 0, pkt = 0, fd;

	test_init(argc, argv);
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m)) {
		fail("open a pty master");
		return 1;
	}
	snprintf(name, sizeof(name), "%s", ptsname(m));
	s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 || fstat(s, &st_before) || tcgetattr(s, &tio)) {
		fail("open the slave %s", name);
		return 1;
	}
	cfmakeraw(&tio);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 3;
	cfsetospeed(&tio, B9600);
	cfsetispeed(&tio, B9600);
	if (tcsetattr(s, TCSANOW, &tio) || ioctl(s, TIOCSWINSZ, &ws) || ioctl(m, TIOCPKT, &one) ||
	    ioctl(m, TIOCSPTLCK, &one)) {
		fail("set up the pty");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (fstat(s, &st_after) || st_after.st_rdev != st_before.st_rdev || strcmp(ptsname(m), name)) {
		fail("the slave is not %s any more", name);
		return 1;
	}
	if (check_termios(s, &tio)) {
		fail("the slave's termios changed");
		return 1;
	}
	if (ioctl(s, TIOCGWINSZ, &ws2) || memcmp(&ws, &ws2, sizeof(ws))) {
		fail("the window size changed");
		return 1;
	}
	if (ioctl(m, TIOCGPKT, &pkt) || !pkt || ioctl(m, TIOCGPTLCK, &lock) || !lock) {
		fail("packet mode %d, locked %d: both should be 1", pkt, lock);
		return 1;
	}
	if (write(s, "ping", 4) != 4 || read(m, buf, sizeof(buf)) != 5 || buf[0] != TIOCPKT_DATA ||
	    memcmp(buf + 1, "ping", 4)) {
		fail("slave to master");
		return 1;
	}
	if (write(m, "pong", 4) != 4 || read(s, buf, sizeof(buf)) != 4 || memcmp(buf, "pong", 4)) {
		fail("master to slave");
		return 1;
	}
	/* last: a failed open of the locked slave hangs the pair up */
	fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0 || errno != EIO) {
		fail("the locked slave opened by name (%d, errno %d)", fd, errno);
		return 1;
	}
	pass();
	return 0;
}
