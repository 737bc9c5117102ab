// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_overmount_refused: in a mount namespace of its own, a tmpfs with a
 * file is hidden by a second tmpfs mounted on the same directory. Its files
 * can't be read through the namespace: the dump must fail naming the
 * mount, and the task keep both, the lower file seen again once the upper
 * tmpfs is unmounted.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "mntns.h"

int main(int argc, char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], buf[16] = "";
	int fd;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_over")) {
		fail("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/lower", dir);
	if (mount("zdtm-lower", dir, "tmpfs", 0, "size=16k") ||
	    (fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) < 0 || write(fd, "lower", 5) != 5 ||
	    mount("zdtm-upper", dir, "tmpfs", 0, "size=16k")) {
		fail("can't build the tree");
		return 1;
	}
	close(fd);
	test_daemon();
	test_waitsig();

	if (!access(path, F_OK))
		fail("the upper tmpfs is gone");
	if (umount(dir))
		fail("umount upper");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) != 5 || strcmp(buf, "lower"))
		fail("the lower tmpfs lost its file");
	if (fd >= 0)
		close(fd);
	umount(dir);
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
