// SPDX-License-Identifier: GPL-2.0
/*
 * A pty master (an open of /dev/ptmx) whose slave is not open in the tree:
 * the slave's state can't be read without opening it, so the dump must refuse
 * it (crfail) and leave the task running, with the master still working:
 * what is written on the slave side is read back on the master.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct termios tio;
	struct stat st;
	char buf[16];
	int m, s;

	test_init(argc, argv);
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m)) {
		fail("open a pty master");
		return 1;
	}
	if (fstat(m, &st) || st.st_rdev != makedev(5, 2)) {
		fail("the master is not /dev/ptmx (5:2)");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (fstat(m, &st) || st.st_rdev != makedev(5, 2)) {
		fail("fd %d is no longer the pty master", m);
		return 1;
	}
	s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 || tcgetattr(s, &tio)) {
		fail("open the slave %s", ptsname(m));
		return 1;
	}
	cfmakeraw(&tio);
	if (tcsetattr(s, TCSANOW, &tio) || write(s, "ping", 4) != 4) {
		fail("write on the slave");
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	if (read(m, buf, sizeof(buf) - 1) != 4 || strcmp(buf, "ping")) {
		fail("read on the master: '%s'", buf);
		return 1;
	}
	pass();
	return 0;
}
