// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_inotify_hidden_refused: in the test's own mount namespace, an inotify
 * watches a file of a tmpfs on which a second tmpfs is then mounted, at the
 * file's directory. Restore finds a watched inode again by its path below a
 * mount of the tree, and no path leads to this one any more: the dump must
 * fail naming the watch, and the watch must still be there afterwards.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mntns.h"

/* whether the fdinfo of ifd lists watch wd */
static int has_watch(int ifd, int wd)
{
	char path[64], buf[4096], want[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ifd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	snprintf(want, sizeof(want), "inotify wd:%x ", wd);
	return strstr(buf, want) != NULL;
}

int main(int argc, char **argv)
{
	char dir[160], sub[192], path[256];
	int fd, ifd, wd;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_inotify_hidden")) {
		fail("mkdtemp");
		return 1;
	}
	snprintf(sub, sizeof(sub), "%s/d", dir);
	snprintf(path, sizeof(path), "%s/d/file", dir);
	if (mount("zdtm-lower", dir, "tmpfs", 0, "size=16k") || mkdir(sub, 0755) ||
	    (fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644)) < 0 || close(fd)) {
		fail("can't build the tree");
		return 1;
	}
	ifd = inotify_init1(IN_CLOEXEC);
	wd = ifd < 0 ? -1 : inotify_add_watch(ifd, path, IN_MODIFY);
	if (wd < 0 || mount("zdtm-upper", sub, "tmpfs", 0, "size=16k")) {
		fail("can't watch the file and hide it");
		return 1;
	}
	test_daemon();
	test_waitsig();

	if (!has_watch(ifd, wd))
		fail("watch %d is gone after the refused dump", wd);
	close(ifd);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
