// SPDX-License-Identifier: GPL-2.0
/*
 * ghost_xattr_refused: an unlinked file with an extended attribute. The
 * ghost image has no room for xattrs, so the dump must refuse the file and
 * leave the task running; the attribute is still there afterwards.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char name[64], val[8];
	int fd;

	test_init(argc, argv);
	snprintf(name, sizeof(name), "ghost_xattr.%d", getpid());
	fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || fsetxattr(fd, "user.zdtm", "kept", 4, 0) || unlink(name)) {
		fail("setup (does the file system take user xattrs?)");
		return 1;
	}

	test_daemon();
	test_waitsig();

	errno = 0;
	if (fgetxattr(fd, "user.zdtm", val, sizeof(val)) != 4 || memcmp(val, "kept", 4))
		fail("the xattr is gone");
	if (test_failed())
		return 1;
	pass();
	return 0;
}
