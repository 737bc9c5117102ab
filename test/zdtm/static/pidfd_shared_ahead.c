// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_shared_ahead: file sharing of pidfds (and a pipe) between two tasks
 * that are not the root, and of which the root holds no copy: the dump reads
 * their fds on its fds-ahead thread, which finds the sharing with kcmp, and
 * the main thread takes that answer without comparing again.
 *
 * Child A opens a pidfd of the target, dups it and opens a second one (a
 * distinct file), makes a pipe, then forks child B, which inherits all of
 * them. After restore A checks with kcmp: the dup and the original are one
 * file, B's copies are A's files, the second pidfd is another file; and the
 * O_NONBLOCK set through one fd shows in B's copy of it and not in the
 * second pidfd. A reports to the root, which passes or fails.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define KCMP_FILE 0

static int kcmp_file(pid_t p1, int fd1, pid_t p2, int fd2)
{
	return syscall(SYS_kcmp, p1, p2, KCMP_FILE, fd1, fd2);
}

/* In A after restore: 'y', or the letter of the first check that failed. */
static char check(pid_t b, int fd, int dupfd, int other, int pipe_rd)
{
	pid_t a = getpid();

	if (kcmp_file(a, fd, a, dupfd) != 0)
		return 'd';	/* fd and its dup are not one file */
	if (kcmp_file(a, fd, a, other) == 0)
		return 'o';	/* two pidfd_open()s became one file */
	if (kcmp_file(a, fd, b, fd) != 0 || kcmp_file(a, dupfd, b, dupfd) != 0)
		return 'f';	/* B's inherited fd is not A's file */
	if (kcmp_file(a, other, b, other) != 0 || kcmp_file(a, fd, b, other) == 0)
		return 's';	/* the second pidfd is not shared as it was */
	if (kcmp_file(a, pipe_rd, b, pipe_rd) != 0)
		return 'p';	/* the pipe is not shared */
	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		return 'e';
	if (!(fcntl(dupfd, F_GETFL) & O_NONBLOCK) || (fcntl(other, F_GETFL) & O_NONBLOCK))
		return 'n';	/* status flags not shared exactly */
	return 'y';
}

static void __attribute__((noreturn)) child_a(pid_t target, int go_rd, int res_wr)
{
	int fd = sys_pidfd_open(target, 0), dupfd = fd >= 0 ? dup(fd) : -1, other = sys_pidfd_open(target, 0);
	int pp[2];
	pid_t b;
	char c;

	if (fd < 0 || dupfd < 0 || other < 0 || pipe(pp))
		_exit(2);
	b = fork();
	if (b < 0)
		_exit(3);
	if (b == 0) {	/* B holds the inherited copies until it is killed */
		for (;;)
			pause();
	}
	if (write(res_wr, "r", 1) != 1)	/* set up: the root may let the dump come */
		_exit(4);
	if (read(go_rd, &c, 1) != 1)
		_exit(4);
	c = check(b, fd, dupfd, other, pp[0]);
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
	if (write(res_wr, &c, 1) != 1)
		_exit(5);
	_exit(0);
}

int main(int argc, char **argv)
{
	int go[2], res[2], status;
	pid_t target, a;
	char r = 0;

	test_init(argc, argv);
	if (pipe(go) || pipe(res)) {
		fail("pipes");
		return 1;
	}
	target = fork();
	if (target == 0) {
		for (;;)
			pause();
	}
	a = fork();
	if (a == 0) {
		close(go[1]);
		close(res[0]);
		child_a(target, go[0], res[1]);
	}
	close(go[0]);
	close(res[1]);
	if (read(res[0], &r, 1) != 1 || r != 'r') {
		fail("child A did not set up");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (write(go[1], "g", 1) != 1 || read(res[0], &r, 1) != 1)
		fail("child A did not answer");
	else if (r != 'y')
		fail("after restore, check '%c' failed in child A", r);
	waitpid(a, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("child A exited with status %#x", status);
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
