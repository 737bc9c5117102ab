// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_fifo_refused: a fifo open read-write whose name was removed. criu
 * opens fifos by name on restore, so the dump must refuse it and leave the
 * task running with the fifo working.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char name[64], buf[4];
	int fd;

	test_init(argc, argv);
	snprintf(name, sizeof(name), "ghost_fifo.%d", getpid());
	if (mkfifo(name, 0600)) {
		fail("mkfifo");
		return 1;
	}
	fd = open(name, O_RDWR);
	if (fd < 0 || unlink(name) || write(fd, "abc", 3) != 3) {
		fail("setup");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (read(fd, buf, 3) != 3 || memcmp(buf, "abc", 3))
		fail("the fifo lost its data");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
