// SPDX-License-Identifier: GPL-2.0
/*
 * file_symlink_unlinked_refused: an fd of a symlink itself (O_PATH |
 * O_NOFOLLOW) whose name was removed: the dump must refuse it, naming it,
 * and leave the test with the same fd.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	const char *name = "file_symlink_unlinked_refused.lnk";
	struct stat before, after;
	int fd;

	test_init(argc, argv);
	unlink(name);
	if (symlink("nowhere", name) || (fd = open(name, O_PATH | O_NOFOLLOW)) < 0 || fstat(fd, &before) ||
	    unlink(name)) {
		fail("set up the unlinked symlink");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (fstat(fd, &after) || !S_ISLNK(after.st_mode) || after.st_ino != before.st_ino)
		fail("fd %d is not the unlinked symlink any more", fd);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
