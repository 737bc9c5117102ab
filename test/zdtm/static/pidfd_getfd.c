// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_getfd: fds taken from a child with pidfd_getfd(): a pidfd the child
 * holds (of its own child, our grandchild) and the write end of a pipe the
 * child created. After restore the taken pidfd refers to the grandchild and is
 * still the child's very file (kcmp), and the taken pipe end still writes into
 * the pipe whose read end the child holds.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define KCMP_FILE 0

static int pidfd_getfd(int pidfd, int fd)
{
	return syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}

int main(int argc, char **argv)
{
	int info[2], res[2], child_pidfd, gfd, wfd;
	struct pidfd_state st;
	pid_t child, grandchild;
	int nums[3];
	char buf[8] = "";

	test_init(argc, argv);
	if (pipe(info) || pipe(res)) {
		fail("pipe");
		return 1;
	}
	child = fork();
	if (child == 0) {
		/* make a grandchild and a pipe, report the fd numbers, then echo what arrives */
		int p[2], gfd_c;
		pid_t g = fork();
		ssize_t n;

		if (g == 0) {
			for (;;)
				pause();
		}
		gfd_c = sys_pidfd_open(g, 0);
		if (pipe(p) || gfd_c < 0)
			_exit(1);
		nums[0] = g;
		nums[1] = gfd_c;
		nums[2] = p[1];
		if (write(info[1], nums, sizeof(nums)) != sizeof(nums))
			_exit(2);
		n = read(p[0], buf, sizeof(buf));
		if (n > 0 && write(res[1], buf, n) != n)
			_exit(3);
		kill(g, SIGKILL);
		waitpid(g, NULL, 0);
		_exit(0);
	}
	if (read(info[0], nums, sizeof(nums)) != sizeof(nums)) {
		fail("child setup");
		return 1;
	}
	grandchild = nums[0];
	child_pidfd = sys_pidfd_open(child, 0);
	gfd = pidfd_getfd(child_pidfd, nums[1]);
	wfd = pidfd_getfd(child_pidfd, nums[2]);
	if (child_pidfd < 0 || gfd < 0 || wfd < 0 || pidfd_remember(gfd, grandchild, "pidfd taken from child", &st)) {
		fail("pidfd_getfd");
		return 1;
	}

	test_daemon();
	test_waitsig();

	pidfd_check(&st);
	errno = 0;
	if (syscall(SYS_kcmp, getpid(), child, KCMP_FILE, gfd, nums[1]) != 0)
		fail("the taken pidfd is no longer the child's file");
	if (syscall(SYS_kcmp, getpid(), child, KCMP_FILE, wfd, nums[2]) != 0)
		fail("the taken pipe end is no longer the child's file");
	if (write(wfd, "ping", 4) != 4)
		fail("write into the taken pipe end");
	if (read(res[0], buf, 4) != 4 || memcmp(buf, "ping", 4))
		fail("the child did not get the bytes written through the taken pipe end");
	waitpid(child, NULL, 0);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
