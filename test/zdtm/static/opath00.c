// SPDX-License-Identifier: GPL-2.0
/*
 * opath00: O_PATH fds of a file and of a directory survive restore: still
 * O_PATH (F_GETFL), the same inodes, and the directory fd still works as an
 * openat() base. An O_PATH file can have no owner (F_SETOWN), which the
 * dump must not ask for.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

static int same_inode(int fd, const struct stat *st)
{
	struct stat now;

	return !fstat(fd, &now) && now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

int main(int argc, char **argv)
{
	struct stat fst, dst;
	int ffd, dfd, fd;
	char buf[8] = {};

	test_init(argc, argv);
	if (mkdir("opath00.dir", 0700) && errno != EEXIST) {
		fail("mkdir");
		return 1;
	}
	fd = open("opath00.dir/file", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "opath", 5) != 5) {
		fail("create the file");
		return 1;
	}
	close(fd);
	ffd = open("opath00.dir/file", O_PATH);
	dfd = open("opath00.dir", O_PATH | O_DIRECTORY);
	if (ffd < 0 || dfd < 0 || fstat(ffd, &fst) || fstat(dfd, &dst)) {
		fail("O_PATH opens");
		return 1;
	}
	test_daemon();
	test_waitsig();
	errno = 0;
	if (!(fcntl(ffd, F_GETFL) & O_PATH) || !(fcntl(dfd, F_GETFL) & O_PATH))
		fail("an fd lost O_PATH: file flags %#x, dir flags %#x", fcntl(ffd, F_GETFL), fcntl(dfd, F_GETFL));
	if (!same_inode(ffd, &fst) || !same_inode(dfd, &dst))
		fail("an O_PATH fd refers to another inode after restore");
	fd = openat(dfd, "file", O_RDONLY);
	if (fd < 0 || read(fd, buf, 5) != 5 || strcmp(buf, "opath"))
		fail("openat() through the O_PATH directory fd: '%s'", buf);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
