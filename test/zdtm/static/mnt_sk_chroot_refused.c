// SPDX-License-Identifier: GPL-2.0
/*
 * mnt_sk_chroot_refused: in the test's own mount namespace, a child
 * chroot()s into a directory and binds a unix socket to an absolute name
 * there ("/sock", the file DIR/sock). The restore binds names from the
 * namespace's root, where that name is another file: the dump must fail
 * naming the socket, and the child's socket must still have its name and
 * its file afterwards.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mntns.h"

static char dir[160];

static int child(int ready)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX }, got;
	socklen_t len = sizeof(got);
	struct stat st;
	sigset_t set;
	int sk, sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	strcpy(sa.sun_path, "/sock");
	sk = socket(AF_UNIX, SOCK_STREAM, 0);
	if (chdir(dir) || chroot(".") || sk < 0 || bind(sk, (struct sockaddr *)&sa, sizeof(sa)) || listen(sk, 1) ||
	    sigprocmask(SIG_BLOCK, &set, NULL) || write(ready, "r", 1) != 1)
		return 100;
	if (sigwait(&set, &sig))
		return 101;
	if (getsockname(sk, (struct sockaddr *)&got, &len) || strcmp(got.sun_path, "/sock") || stat("/sock", &st) ||
	    !S_ISSOCK(st.st_mode))
		return 102;
	return 0;
}

int main(int argc, char **argv)
{
	int p[2], status;
	pid_t pid;
	char c;

	if (mntns_enter(argv))
		return 1;
	test_init(argc, argv);
	if (!mntns_mkdtemp(dir, sizeof(dir), "mnt_sk_chroot") || pipe(p)) {
		fail("mkdtemp");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (pid == 0) {
		close(p[0]);
		_exit(child(p[1]));
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		fail("the child could not bind its socket in its root");
		return 1;
	}
	test_daemon();
	test_waitsig();

	kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child's socket lost its name or file (status %#x)", status);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
