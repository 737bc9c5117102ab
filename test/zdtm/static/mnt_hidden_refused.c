// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_hidden_refused: in the test's own mount namespace, a file of a tmpfs
 * is open while a second tmpfs is mounted on its directory, hiding it.
 * Restore opens files below their mount's root without crossing another
 * mount, which can't reach it: the dump must fail naming the file and the
 * mount hiding it, and the fd still read the hidden file afterwards.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mntns.h"

int main(int argc, char **argv)
{
	char dir[160], sub[192], path[256], buf[16] = "";
	int fd;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_hidden")) {
		fail("mkdtemp");
		return 1;
	}
	snprintf(sub, sizeof(sub), "%s/d", dir);
	snprintf(path, sizeof(path), "%s/d/file", dir);
	if (mount("zdtm-lower", dir, "tmpfs", 0, "size=16k") || mkdir(sub, 0755) ||
	    (fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644)) < 0 || write(fd, "hidden", 6) != 6 ||
	    mount("zdtm-upper", sub, "tmpfs", 0, "size=16k")) {
		fail("can't build the tree");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (pread(fd, buf, sizeof(buf) - 1, 0) != 6 || strcmp(buf, "hidden"))
		fail("the hidden file reads '%s' after the refused dump", buf);
	if (!access(path, F_OK))
		fail("the upper tmpfs is gone");
	close(fd);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
