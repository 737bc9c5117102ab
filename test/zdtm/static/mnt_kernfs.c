// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_kernfs: the kernel's filesystems a container mounts, in a mount
 * namespace of the test's own: a devpts instance of its own with its ptmx
 * bound on a file (as /dev/ptmx is), the ptmx of a second devpts instance
 * whose own mount is gone (restore makes the instance and binds the part),
 * sysfs read-only, mqueue, cgroup2 and a cgroup v1 hierarchy when the machine has one. After restore the tree must
 * be back (mountinfo, peer groups renamed) and each must work.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mntns.h"

static char dir[160];	/* mntns_mkdtemp(): the run directory is not deep */
static bool have_v1;

static void works(void)
{
	int fd = open(mntns_at(dir, "ptmx"), O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		fail("can't open a pty through the bound ptmx");
	else
		close(fd);
	if (stat(mntns_at(dir, "sys/kernel"), &st))
		fail("sysfs has no kernel/");
	fd = open(mntns_at(dir, "lone_ptmx"), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		fail("can't open a pty through the lone ptmx");
	else
		close(fd);
	if (stat(mntns_at(dir, "cg2/cgroup.procs"), &st))
		fail("cgroup2 has no cgroup.procs");
	if (have_v1 && stat(mntns_at(dir, "cpu/cgroup.procs"), &st))
		fail("the cpu hierarchy has no cgroup.procs");
	if (stat(mntns_at(dir, "mq"), &st) || !S_ISDIR(st.st_mode))
		fail("mqueue is not there");
}

int main(int argc, char **argv)
{
	static const char *const dirs[] = { "pts", "sys", "mq", "cg2", "cpu", "whole" };
	char *before;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_kernfs")) {
		fail("mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkdir(mntns_at(dir, dirs[i]), 0755);
	close(open(mntns_at(dir, "ptmx"), O_CREAT | O_WRONLY | O_CLOEXEC, 0666));
	if (mount("devpts", mntns_at(dir, "pts"), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620") ||
	    mount(mntns_at(dir, "pts/ptmx"), mntns_at(dir, "ptmx"), NULL, MS_BIND, NULL) ||
	    mount("sysfs", mntns_at(dir, "sys"), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) ||
	    mount("mqueue", mntns_at(dir, "mq"), "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) ||
	    mount("cgroup2", mntns_at(dir, "cg2"), "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		fail("can't build the tree");
		return 1;
	}
	close(open(mntns_at(dir, "lone_ptmx"), O_CREAT | O_WRONLY | O_CLOEXEC, 0666));
	if (mount("devpts", mntns_at(dir, "whole"), "devpts", 0, "newinstance,ptmxmode=0666") ||
	    mount(mntns_at(dir, "whole/ptmx"), mntns_at(dir, "lone_ptmx"), NULL, MS_BIND, NULL) || umount(mntns_at(dir, "whole"))) {
		fail("can't leave the ptmx of a devpts alone");
		return 1;
	}
	/* the machine's cgroup v1 cpu hierarchy, if it has one (a second mount of it) */
	have_v1 = !mount("cgroup", mntns_at(dir, "cpu"), "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, "cpu");
	works();
	before = mntns_snapshot();

	test_daemon();
	test_waitsig();

	mntns_check(before);
	works();

	umount2(mntns_at(dir, "ptmx"), MNT_DETACH);
	umount2(mntns_at(dir, "lone_ptmx"), MNT_DETACH);
	unlink(mntns_at(dir, "lone_ptmx"));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		umount2(mntns_at(dir, dirs[i]), MNT_DETACH);
		rmdir(mntns_at(dir, dirs[i]));
	}
	unlink(mntns_at(dir, "ptmx"));
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
