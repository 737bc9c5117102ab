// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_nested_root_refused: a child in a second mount namespace of the tree
 * that pivot_root()ed into a directory of the test's (as a nested runtime
 * starts its container): its namespace's root mount is not the root task's
 * namespace's root, and restore makes every namespace's root from one
 * directory (--root). The dump must fail naming that namespace and mount,
 * and leave both running: the child still in its own root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mntns.h"

static char dir[160];

static int child_main(void)
{
	char nr[256];

	snprintf(nr, sizeof(nr), "%s/nr", dir);
	if (mount(nr, nr, NULL, MS_BIND, NULL) || chdir(nr) || syscall(SYS_pivot_root, ".", ".") ||
	    umount2(".", MNT_DETACH) || chdir("/")) {
		fprintf(stderr, "child: can't pivot_root into %s: %m\n", nr);
		return 1;
	}
	if (mntns_child_ready())
		return 1;
	/* still in the root it made: the marker is at its top */
	if (access("/marker", F_OK)) {
		fprintf(stderr, "child: its root changed\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char path[256], sdir[64];
	int status = 0, fd;
	pid_t child;

	if (getenv("ZDTM_MNTNS_CHILD")) {
		snprintf(dir, sizeof(dir), "%s", getenv("ZDTM_NESTED_DIR") ?: "");
		return child_main();
	}
	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_nested_root")) {
		fail("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/nr", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/nr/marker", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		fail("can't make the child's root");
		return 1;
	}
	close(fd);
	setenv("ZDTM_NESTED_DIR", dir, 1);
	child = mntns_fork_child(argv);
	if (child < 0) {
		fail("the child did not pivot_root into its own root");
		return 1;
	}

	test_daemon();
	test_waitsig();

	kill(child, SIGTERM);
	if (test_wait_child(child, 10, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child is not as it was (%s: see the log)", test_status_str(status, sdir, sizeof(sdir)));
	unlink(path);
	snprintf(path, sizeof(path), "%s/nr", dir);
	rmdir(path);
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
