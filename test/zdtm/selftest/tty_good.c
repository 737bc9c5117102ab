// SPDX-License-Identifier: GPL-2.0
/* runner self-test: a tty test (.desc tty) that writes the runner's mark line */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	const char *mark;
	char line[256];
	int len;

	test_init(argc, argv);
	mark = getenv("ZDTM_TTY_MARK");
	errno = 0;
	if (!mark || !isatty(0) || !isatty(1) || tcgetpgrp(0) != getpgrp() || getsid(0) == getpid()) {
		fail("not a foreground job on a terminal (mark %s)", mark ? mark : "unset");
		return 1;
	}
	test_daemon();
	test_waitsig();
	len = snprintf(line, sizeof(line), "zdtm-tty-mark %s\n", mark);
	if (write(1, line, len) != len)
		fail("write the mark");
	pass();
	return 0;
}
