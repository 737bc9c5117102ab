// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_nested_host: the root task in criu's own mount namespace, a child in
 * one of its own (a service with PrivateTmp under a supervisor that is
 * not): the child makes it with mntns_enter() (detaching what it inherited
 * but /, /dev and /proc) and mounts a private tmpfs there with a file it
 * holds open. After restore the test is in criu's namespace again (h and ns
 * flavours; in ct the container's), the child in a new one with its tree
 * and its fd on its tmpfs, and the tmpfs is not in the test's namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mntns.h"

#define TEXT "the child's own"

static char dir[160];

static int fd_mnt_id(int fd)
{
	long long v;

	return fdinfo_get_long(fd, "mnt_id", &v) ? -1 : (int)v;
}

/* The child, exec'ed by mntns_enter() in its own namespace; fd 3 is the pipe to the test. */
static int child_main(int ready)
{
	char path[256], buf[64] = "", *before, *after;
	int fd, bad = 0;

	/* fd 3 first: mntns_child_ready() writes there */
	if (ready != 3 && (dup2(ready, 3) != 3 || close(ready)))
		return 1;
	snprintf(path, sizeof(path), "%s/priv", dir);
	if (mount("zdtm-nested-host", path, "tmpfs", 0, "size=64k")) {
		fprintf(stderr, "child: can't mount its tmpfs: %m\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/priv/a", dir);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, TEXT, strlen(TEXT)) != (ssize_t)strlen(TEXT)) {
		fprintf(stderr, "child: can't write its file: %m\n");
		return 1;
	}
	before = mntns_snapshot();
	if (!before || mntns_child_ready())
		return 1;

	after = mntns_snapshot();
	if (!after || strcmp(before, after)) {
		fprintf(stderr, "child: its mount tree changed\nbefore:\n%s\nafter:\n%s\n", before, after ?: "");
		bad = 1;
	}
	if (mntns_in_runners() || mntns_ino_of(0) == mntns_ino_of(getppid())) {
		fprintf(stderr, "child: not in a mount namespace of its own\n");
		bad = 1;
	}
	snprintf(path, sizeof(path), "%s/priv", dir);
	if (fd_mnt_id(fd) != mntns_mnt_id(path) || pread(fd, buf, sizeof(buf) - 1, 0) != (ssize_t)strlen(TEXT) ||
	    strcmp(buf, TEXT)) {
		fprintf(stderr, "child: its file is not back on its tmpfs (mnt_id %d, mount %lld, \"%s\")\n",
			fd_mnt_id(fd), mntns_mnt_id(path), buf);
		bad = 1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	char path[256], sdir[64], c;
	unsigned long mine;
	struct stat st, dst;
	int p[2], status = 0;
	pid_t child;

	if (getenv("ZDTM_NESTED_HOST_CHILD")) {
		snprintf(dir, sizeof(dir), "%s", getenv("ZDTM_NESTED_DIR") ?: "");
		if (getenv("ZDTM_MNTNS_IN"))
			return child_main(atoi(getenv("ZDTM_NESTED_HOST_CHILD")));
	}
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_nested_host") || pipe(p)) {
		fail("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/priv", dir);
	mkdir(path, 0755);
	mine = mntns_ino_of(0);
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		char fdstr[16];

		close(p[0]);
		snprintf(fdstr, sizeof(fdstr), "%d", p[1]);
		setenv("ZDTM_NESTED_HOST_CHILD", fdstr, 1);
		setenv("ZDTM_NESTED_DIR", dir, 1);
		mntns_keep_fd = p[1];
		_exit(mntns_enter(argv) ? 2 : 0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		fail("the child in its own mount namespace did not start");
		return 1;
	}
	close(p[0]);

	test_daemon();
	test_waitsig();

	if (mntns_ino_of(0) == mntns_ino_of(child))
		fail("the child is in the test's mount namespace");
	if (!getenv("ZDTM_CT") && mntns_ino_of(0) != mine)
		fail("the test is not in criu's mount namespace");
	if (stat(dir, &dst) || stat(path, &st) || st.st_dev != dst.st_dev)
		fail("the child's tmpfs is in the test's mount namespace");
	kill(child, SIGTERM);
	if (test_wait_child(child, 10, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child found its namespace changed (%s: see the log)",
		     test_status_str(status, sdir, sizeof(sdir)));
	rmdir(path);
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
