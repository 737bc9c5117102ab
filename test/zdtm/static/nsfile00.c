// SPDX-License-Identifier: GPL-2.0
/*
 * nsfile00: fds of namespace files (nsfs): /proc/self/ns/net (read-only,
 * O_NONBLOCK), /proc/self/ns/uts, /proc/self/ns/ipc, /proc/self/ns/user,
 * and /proc/self/ns/time_for_children. After restore each is still a
 * namespace file of its kind (NS_GET_NSTYPE), with its flags, and names the
 * namespace the test is in now (the same inode as a new open of the path).
 */
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct nsf {
	const char *path;
	int type;
	int flags;
	int fd;
};

int main(int argc, char **argv)
{
	struct nsf f[] = {
		{ "/proc/self/ns/net", CLONE_NEWNET, O_RDONLY | O_NONBLOCK },
		{ "/proc/self/ns/uts", CLONE_NEWUTS, O_RDONLY },
		{ "/proc/self/ns/ipc", CLONE_NEWIPC, O_RDONLY },
		{ "/proc/self/ns/user", CLONE_NEWUSER, O_RDONLY },
		{ "/proc/self/ns/time_for_children", CLONE_NEWTIME, O_RDONLY },
	};
	int n = sizeof(f) / sizeof(f[0]);

	test_init(argc, argv);
	for (int i = 0; i < n; i++) {
		f[i].fd = open(f[i].path, f[i].flags);
		if (f[i].fd < 0) {
			fail("open %s", f[i].path);
			return 1;
		}
	}

	test_daemon();
	test_waitsig();

	for (int i = 0; i < n; i++) {
		struct stat a, b;
		int fl = fcntl(f[i].fd, F_GETFL);

		if (ioctl(f[i].fd, NS_GET_NSTYPE) != f[i].type)
			fail("%s: not a namespace file of its kind", f[i].path);
		if ((fl & (O_ACCMODE | O_NONBLOCK)) != f[i].flags)
			fail("%s: flags 0%o, expected 0%o", f[i].path, fl, f[i].flags);
		if (fstat(f[i].fd, &a) || stat(f[i].path, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
			fail("%s: not the namespace the test is in", f[i].path);
	}
	if (test_failed())
		return 1;
	pass();
	return 0;
}
