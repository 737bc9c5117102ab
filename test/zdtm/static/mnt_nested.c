// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_nested: a task in a second mount namespace of the tree, as systemd's
 * PrivateTmp or a nested runtime makes one. The test (in a mount namespace
 * of its own) forks a child that unshares another one and there mounts a
 * private tmpfs (a file in it open at a position, its cwd in it, a unix
 * socket listening on a name in it) and binds a directory of the root
 * filesystem (a file open through the bind). After
 * restore the child must be in a namespace of its own again, neither the
 * test's nor criu's, with its mounts (mountinfo compared), its files and
 * fds on the very mounts (fdinfo mnt_id), its socket's name bound there
 * again (a new client connects to it), and none of it in the test's; a
 * file the child writes through its bind shows up in the test's directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mntns.h"

#define TEXT "private to the child's namespace"
#define SRC_TEXT "in the test's directory"
#define BACK_TEXT "written by the child through its bind"

static char dir[160];

static int put(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	int ret = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return ret;
}

static int holds(const char *path, const char *text)
{
	char buf[128] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	return n >= 0 && !strcmp(buf, text);
}

/* A unix stream socket listening on path (listen) or connected to it; -1. */
static int unix_at(const char *path, bool listen_on)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (sk < 0)
		return -1;
	if (listen_on ? bind(sk, (struct sockaddr *)&sa, sizeof(sa)) || listen(sk, 4)
		      : connect(sk, (struct sockaddr *)&sa, sizeof(sa))) {
		close(sk);
		return -1;
	}
	return sk;
}

static int fd_mnt_id(int fd)
{
	long long v;

	return fdinfo_get_long(fd, "mnt_id", &v) ? -1 : (int)v;
}

/* The child, in its own mount namespace (exec'ed there by mntns_fork_child()). */
static int child_main(void)
{
	char buf[64] = "", *before, *after;
	int priv_fd, bind_fd, lsk, csk, bad = 0;
	struct stat st, cwd;

	if (mount("zdtm-nested", mntns_at(dir, "priv"), "tmpfs", 0, "size=64k") || put(mntns_at(dir, "priv/a"), TEXT) ||
	    mkdir(mntns_at(dir, "priv/d"), 0700) || mount(mntns_at(dir, "src"), mntns_at(dir, "bnd"), NULL, MS_BIND, NULL) || chdir(mntns_at(dir, "priv/d"))) {
		fprintf(stderr, "child: can't set its mounts up: %m\n");
		return 1;
	}
	/* a name only the child's namespace has: restore must bind it there */
	lsk = unix_at(mntns_at(dir, "priv/sock"), true);
	priv_fd = open(mntns_at(dir, "priv/a"), O_RDWR | O_CLOEXEC);
	bind_fd = open(mntns_at(dir, "bnd/f"), O_RDONLY | O_CLOEXEC);
	if (lsk < 0 || priv_fd < 0 || bind_fd < 0 || lseek(priv_fd, 3, SEEK_SET) != 3) {
		fprintf(stderr, "child: can't open its files: %m\n");
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
	if (mntns_ino_of(0) == mntns_ino_of(getppid()) || mntns_in_runners()) {
		fprintf(stderr, "child: not in a mount namespace of its own\n");
		bad = 1;
	}
	if (fd_mnt_id(priv_fd) != mntns_mnt_id(mntns_at(dir, "priv")) || fd_mnt_id(bind_fd) != mntns_mnt_id(mntns_at(dir, "bnd"))) {
		fprintf(stderr, "child: its fds are not on its mounts (mnt_id %d and %d, mounts %lld and %lld)\n",
			fd_mnt_id(priv_fd), fd_mnt_id(bind_fd), mntns_mnt_id(mntns_at(dir, "priv")), mntns_mnt_id(mntns_at(dir, "bnd")));
		bad = 1;
	}
	if (lseek(priv_fd, 0, SEEK_CUR) != 3 || pread(priv_fd, buf, sizeof(buf) - 1, 0) != (ssize_t)strlen(TEXT) ||
	    strcmp(buf, TEXT) || !holds(mntns_at(dir, "bnd/f"), SRC_TEXT)) {
		fprintf(stderr, "child: its files are not back\n");
		bad = 1;
	}
	if (stat(".", &cwd) || stat(mntns_at(dir, "priv/d"), &st) || cwd.st_dev != st.st_dev || cwd.st_ino != st.st_ino) {
		fprintf(stderr, "child: its cwd is not its tmpfs's directory\n");
		bad = 1;
	}
	csk = unix_at(mntns_at(dir, "priv/sock"), false);
	if (csk < 0 || send(csk, "x", 1, 0) != 1) {
		fprintf(stderr, "child: can't connect to its socket's name: %m\n");
		bad = 1;
	} else {
		int a = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);

		if (a < 0 || recv(a, buf, 1, 0) != 1 || buf[0] != 'x') {
			fprintf(stderr, "child: its listener did not get the connection\n");
			bad = 1;
		}
	}
	if (put(mntns_at(dir, "bnd/back"), BACK_TEXT)) {
		fprintf(stderr, "child: can't write through its bind\n");
		bad = 1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	char *before, sdir[200];
	struct stat st, dst;
	pid_t child;
	int status = 0;

	if (getenv("ZDTM_MNTNS_CHILD")) {
		snprintf(dir, sizeof(dir), "%s", getenv("ZDTM_NESTED_DIR") ?: "");
		return child_main();
	}
	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_nested") || mkdir(mntns_at(dir, "src"), 0755) || mkdir(mntns_at(dir, "priv"), 0755) ||
	    mkdir(mntns_at(dir, "bnd"), 0755) || put(mntns_at(dir, "src/f"), SRC_TEXT)) {
		fail("can't make the test's directories");
		return 1;
	}
	setenv("ZDTM_NESTED_DIR", dir, 1);
	child = mntns_fork_child(argv);
	if (child < 0) {
		fail("the child in its own mount namespace did not start");
		return 1;
	}
	before = mntns_snapshot();

	test_daemon();
	test_waitsig();

	mntns_check(before);
	/* the child's mounts are its namespace's only */
	if (stat(dir, &dst) || stat(mntns_at(dir, "priv"), &st) || st.st_dev != dst.st_dev)
		fail("the child's tmpfs is in the test's mount namespace");
	if (mntns_ino_of(child) == mntns_ino_of(0))
		fail("the child is in the test's mount namespace");
	kill(child, SIGTERM);
	if (test_wait_child(child, 10, &status) || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child found its namespace changed (%s: see the log)",
		     test_status_str(status, sdir, sizeof(sdir)));
	if (!holds(mntns_at(dir, "src/back"), BACK_TEXT))
		fail("what the child wrote through its bind is not in the test's directory");
	unlink(mntns_at(dir, "src/back"));
	unlink(mntns_at(dir, "src/f"));
	rmdir(mntns_at(dir, "src"));
	rmdir(mntns_at(dir, "priv"));
	rmdir(mntns_at(dir, "bnd"));
	rmdir(dir);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
