// SPDX-License-Identifier: GPL-2.0
/*
 * file_symlink_opath: an fd of a symlink itself (O_PATH | O_NOFOLLOW) comes
 * back as the same symlink, not its target: fstat says a link with its
 * inode, readlinkat(fd, "") gives its target.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

static const char *link_name = "file_symlink_opath.lnk";
static const char *target = "file_symlink_opath.target";

int main(int argc, char **argv)
{
	struct stat before, after;
	char buf[64];
	ssize_t n;
	int fd;

	test_init(argc, argv);
	unlink(link_name);
	if (symlink(target, link_name)) {
		fail("symlink");
		return 1;
	}
	fd = open(link_name, O_PATH | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &before) || !S_ISLNK(before.st_mode)) {
		fail("open the symlink itself");
		return 1;
	}

	test_daemon();
	test_waitsig();

	n = readlinkat(fd, "", buf, sizeof(buf) - 1);
	if (fstat(fd, &after) || !S_ISLNK(after.st_mode) || after.st_ino != before.st_ino)
		fail("fd %d is not the symlink any more (mode 0%o)", fd, after.st_mode);
	else if (n < 0 || (buf[n] = '\0', strcmp(buf, target)))
		fail("readlinkat gives '%s', want '%s'", n < 0 ? "" : buf, target);
	if (!(fcntl(fd, F_GETFL) & O_PATH))
		fail("fd %d lost O_PATH", fd);
	unlink(link_name);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
