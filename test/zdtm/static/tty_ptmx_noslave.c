// SPDX-License-Identifier: GPL-2.0
/*
 * Pty masters (opens of /dev/ptmx) whose slave is open nowhere in the tree
 * come back as they were:
 * - one whose slave was never opened: the master does not poll POLLHUP, and
 *   a slave opened after restore talks with it;
 * - one whose slave was opened, written on and closed: the master polls
 *   POLLHUP, reads what the slave wrote and then EIO, and its slave's node
 *   still belongs to the owner it was given.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

#define OWNER_UID 13337
#define OWNER_GID 44443

static int revents(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

static int open_master(void)
{
	struct stat st;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0 || grantpt(m) || unlockpt(m) || fstat(m, &st) || st.st_rdev != makedev(5, 2))
		return -1;
	return m;
}

/* The slave that was never opened: it talks with the master once opened. */
static int check_never_opened(int m)
{
	struct termios tio;
	char buf[16];
	int s;

	if (revents(m) & POLLHUP) {
		fail("the master of a slave never opened polls POLLHUP");
		return -1;
	}
	s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 || tcgetattr(s, &tio)) {
		fail("open the slave %s", ptsname(m));
		return -1;
	}
	cfmakeraw(&tio);
	if (tcsetattr(s, TCSANOW, &tio) || write(s, "ping", 4) != 4) {
		fail("write on the slave");
		return -1;
	}
	memset(buf, 0, sizeof(buf));
	if (read(m, buf, sizeof(buf) - 1) != 4 || strcmp(buf, "ping")) {
		fail("read on the master: '%s'", buf);
		return -1;
	}
	close(s);
	return 0;
}

/* The slave that was closed: the master reads its last bytes, then EIO. */
static int check_closed(int m)
{
	struct stat st;
	char buf[16];
	int ps, n;

	if (!(revents(m) & POLLHUP)) {
		fail("the master of a closed slave does not poll POLLHUP");
		return -1;
	}
	memset(buf, 0, sizeof(buf));
	n = read(m, buf, sizeof(buf) - 1);
	if (n != 4 || strcmp(buf, "bye\n")) {
		fail("the closed slave's last bytes: %d '%s'", n, buf);
		return -1;
	}
	if (read(m, buf, sizeof(buf)) != -1 || errno != EIO) {
		fail("the master of a closed slave does not read EIO");
		return -1;
	}
	ps = ioctl(m, TIOCGPTPEER, O_PATH | O_CLOEXEC);
	if (ps < 0 || fstat(ps, &st) || st.st_uid != OWNER_UID || st.st_gid != OWNER_GID) {
		fail("the slave's node belongs to %u:%u", st.st_uid, st.st_gid);
		return -1;
	}
	close(ps);
	return 0;
}

int main(int argc, char **argv)
{
	struct termios tio;
	int m, mc, s;

	test_init(argc, argv);
	m = open_master();
	mc = open_master();
	if (m < 0 || mc < 0) {
		fail("open the pty masters");
		return 1;
	}
	s = open(ptsname(mc), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 || tcgetattr(s, &tio)) {
		fail("open the slave %s", ptsname(mc));
		return 1;
	}
	tio.c_oflag &= ~OPOST;
	if (tcsetattr(s, TCSANOW, &tio) || write(s, "bye\n", 4) != 4 || close(s)) {
		fail("write on the slave and close it");
		return 1;
	}
	if (chown(ptsname(mc), OWNER_UID, OWNER_GID)) {
		fail("chown %s", ptsname(mc));
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (check_never_opened(m) || check_closed(mc))
		return 1;
	pass();
	return 0;
}
