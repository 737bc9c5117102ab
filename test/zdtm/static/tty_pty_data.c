// SPDX-License-Identifier: GPL-2.0
/*
 * Bytes written on a pty's slave and not yet read on the master (data in
 * flight) are not dumped: the dump must refuse the pty, naming it, and leave
 * the task running with the bytes still there to read.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct termios tio;
	char buf[16];
	int m, s;

	test_init(argc, argv);
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m)) {
		fail("open a pty master");
		return 1;
	}
	s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 || tcgetattr(s, &tio)) {
		fail("open the slave");
		return 1;
	}
	cfmakeraw(&tio);
	if (tcsetattr(s, TCSANOW, &tio) || write(s, "queued", 6) != 6) {
		fail("write on the slave");
		return 1;
	}
	test_daemon();
	test_waitsig();

	memset(buf, 0, sizeof(buf));
	if (read(m, buf, sizeof(buf) - 1) != 6 || strcmp(buf, "queued")) {
		fail("the queued bytes are gone: '%s'", buf);
		return 1;
	}
	pass();
	return 0;
}
