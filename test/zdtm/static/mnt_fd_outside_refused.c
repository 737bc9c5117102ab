// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_fd_outside_refused: in a mount namespace of its own, the task holds a
 * directory it opened before making the namespace: on a mount of another
 * namespace (the runner's). Restore could only open it by its path in the tree's namespace,
 * a different mount: the dump must fail naming the fd and the mount, and
 * the task keep running with that very file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mntns.h"
#include "ns_refused.h"

int main(int argc, char **argv)
{
	struct stat before, after;
	unsigned long ino;
	int fd;

	fd = 100;
	if (!getenv("ZDTM_MNTNS_IN")) {
		int o = open("/", O_RDONLY | O_DIRECTORY);

		if (o < 0 || dup2(o, fd) != fd)
			return 1;
		close(o);
	}
	mntns_keep_fd = fd;
	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (fstat(fd, &before)) {
		fail("the fd of the runner's / is not there");
		return 1;
	}
	ino = ns_ino("self", "mnt");
	test_daemon();
	test_waitsig();

	ns_same("self", "mnt", ino);
	if (fstat(fd, &after) || after.st_ino != before.st_ino || after.st_dev != before.st_dev)
		fail("the fd changed after the refused dump");
	close(fd);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
