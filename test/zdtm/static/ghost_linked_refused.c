// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_linked_refused: a file opened by a name that was then removed while
 * another hard link keeps the inode, in another directory (criu looks for
 * one in the removed name's directory only: ghost_linked00). Restoring it
 * as a copy would split one inode in two, so the dump must refuse it and
 * leave the task running: the file is still the one behind the other name
 * afterwards.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char name[64], dir[64], other[96];
	struct stat a, b;
	int fd;

	test_init(argc, argv);
	snprintf(name, sizeof(name), "ghost_linked.%d", getpid());
	snprintf(dir, sizeof(dir), "ghost_linked.%d.d", getpid());
	snprintf(other, sizeof(other), "%s/other", dir);
	fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || mkdir(dir, 0755) || write(fd, "data", 4) != 4 || link(name, other) || unlink(name)) {
		fail("setup");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (fstat(fd, &a) || stat(other, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev || a.st_nlink != 1)
		fail("the open file is not the linked inode any more");
	unlink(other);
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
