// SPDX-License-Identifier: GPL-2.0
/*
 * A pty whose master is in the tree and whose slave is open only in a
 * process outside it: restore could not connect the master with that slave
 * again, so the dump must refuse the pty, naming it, and leave the task
 * running with the pty working: what the master writes, the outside holder
 * of the slave could read (checked here by the test, through a new open of
 * the slave, which shares its input).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct termios tio;
	char buf[16];
	pid_t out;
	int m, s;

	test_init(argc, argv);
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m)) {
		fail("open a pty");
		return 1;
	}
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	if (s < 0 || tcgetattr(s, &tio)) {
		fail("open the slave");
		return 1;
	}
	cfmakeraw(&tio);
	if (tcsetattr(s, TCSANOW, &tio)) {
		fail("make the slave raw");
		return 1;
	}
	/* (the outside process keeps a copy of every fd: the slave is open there) */
	out = test_start_outsider();
	if (out <= 0) {
		fail("can't start the outside process");
		return 1;
	}
	close(s);

	test_daemon();
	test_waitsig();

	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	memset(buf, 0, sizeof(buf));
	if (s < 0 || write(m, "ping", 4) != 4 || read(s, buf, sizeof(buf) - 1) != 4 || strcmp(buf, "ping")) {
		fail("the pty does not work: '%s'", buf);
		kill(out, SIGKILL);
		return 1;
	}
	kill(out, SIGKILL);
	pass();
	return 0;
}
