// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_shared: file sharing of pidfds. One pidfd of the child is dup'ed
 * (same file), inherited by a second child through fork (same file across
 * tasks), and a second pidfd_open of the same child is a distinct file.
 * After restore kcmp says: dup and original are one file, the inherited
 * one is that file too, the second pidfd is another file; all have one inode.
 * Shared status flags prove it too: O_NONBLOCK set through one fd shows in its
 * dup and not in the distinct pidfd. The fd flags (close-on-exec) are kept.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define KCMP_FILE 0

static int kcmp_file(pid_t p1, int fd1, pid_t p2, int fd2)
{
	return syscall(SYS_kcmp, p1, p2, KCMP_FILE, fd1, fd2);
}

int main(int argc, char **argv)
{
	int fd, dupfd, other, res[2], go[2];
	struct stat a, b, c;
	pid_t target, holder;
	char r = 0;

	test_init(argc, argv);
	target = fork();
	if (target == 0) {
		for (;;)
			pause();
	}
	fd = sys_pidfd_open(target, 0);
	dupfd = dup(fd);		/* no close-on-exec, unlike fd */
	other = sys_pidfd_open(target, 0);
	if (fd < 0 || dupfd < 0 || other < 0 || pipe(res) || pipe(go)) {
		fail("setup");
		return 1;
	}
	holder = fork();
	if (holder == 0) {
		/* checks after restore that its inherited fd is still the parent's file */
		char c;

		close(res[0]);
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		c = kcmp_file(getppid(), fd, getpid(), fd) == 0 ? 'y' : 'n';
		if (write(res[1], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	close(res[1]);
	close(go[0]);

	test_daemon();
	test_waitsig();

	errno = 0;
	if (kcmp_file(getpid(), fd, getpid(), dupfd) != 0)
		fail("fd and its dup are not one file");
	if (kcmp_file(getpid(), fd, getpid(), other) == 0)
		fail("two pidfd_open()s became one file");
	if (fstat(fd, &a) || fstat(dupfd, &b) || fstat(other, &c) || a.st_ino != b.st_ino || a.st_ino != c.st_ino)
		fail("pidfds of one process have different inodes");
	if (fcntl(fd, F_GETFD) != FD_CLOEXEC || fcntl(dupfd, F_GETFD) != 0 || fcntl(other, F_GETFD) != FD_CLOEXEC)
		fail("fd flags: %d %d %d, expected 1 0 1", fcntl(fd, F_GETFD), fcntl(dupfd, F_GETFD),
		     fcntl(other, F_GETFD));
	if (fcntl(fd, F_SETFL, O_NONBLOCK) || !(fcntl(dupfd, F_GETFL) & O_NONBLOCK) ||
	    (fcntl(other, F_GETFL) & O_NONBLOCK))
		fail("status flags are not shared exactly between the dup'ed fds");
	if (write(go[1], "g", 1) != 1 || read(res[0], &r, 1) != 1 || r != 'y')
		fail("the forked holder's fd is not the parent's file (answer '%c')", r);
	waitpid(holder, NULL, 0);
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
