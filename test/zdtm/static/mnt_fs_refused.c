// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_fs_refused: the task's own mount namespace has a ramfs mounted in it,
 * holding a file. criu can't make a ramfs again with its files (nor is it a
 * bind of the root's filesystem, nor named external): the dump must fail
 * naming the mount, and the task must still see the ramfs and its file in
 * the same namespace.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "mntns.h"
#include "ns_refused.h"

#define TEXT "only in the task's own mount namespace"

int main(int argc, char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], buf[64] = "";
	unsigned long ino;
	int fd;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_fs")) {
		fail("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/file", dir);
	if (mount("zdtm-ramfs", dir, "ramfs", 0, NULL)) {
		fail("can't mount a ramfs");
		rmdir(dir);
		return 1;
	}
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, TEXT, strlen(TEXT)) != (ssize_t)strlen(TEXT)) {
		fail("can't write %s", path);
		return 1;
	}
	close(fd);
	ino = ns_ino("self", "mnt");
	test_daemon();
	test_waitsig();

	ns_same("self", "mnt", ino);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		fail("%s is gone after the refused dump", path);
	else if (strcmp(buf, TEXT))
		fail("%s holds '%s' after the refused dump", path, buf);
	if (fd >= 0)
		close(fd);
	umount(dir);
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
