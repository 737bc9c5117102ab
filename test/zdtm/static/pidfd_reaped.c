// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_reaped: pidfds of processes reaped before the dump keep their exit.
 * Child A exits with 42 (two distinct pidfds of it), child B is killed by
 * SIGUSR1; both reaped before the dump. After restore: Pid -1, poll
 * POLLIN|POLLHUP, pidfd_send_signal ESRCH, PIDFD_INFO_EXIT gives the wait
 * status, the two pidfds of A share an inode, A's and B's do not.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

struct pidfd_info {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
	uint32_t coredump_mask, spare;
};
#define PIDFD_GET_INFO _IOWR(0xFF, 11, struct pidfd_info)
#define PIDFD_INFO_EXIT 8

static void check_dead(int fd, int status, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct pidfd_info info = { .mask = PIDFD_INFO_EXIT };
	long long pid = 0;
	int r;

	if (fdinfo_get_long(fd, "Pid", &pid) || pid != -1) {
		errno = 0;
		fail("%s: fdinfo Pid %lld, expected -1", what, pid);
	}
	if (poll(&p, 1, 0) != 1 || p.revents != (POLLIN | POLLHUP)) {
		errno = 0;
		fail("%s: poll revents 0x%x, expected POLLIN|POLLHUP", what, p.revents);
	}
	r = sys_pidfd_send_signal(fd, 0, NULL, 0);
	if (r == 0 || errno != ESRCH)
		fail("%s: pidfd_send_signal gives %d, expected ESRCH", what, r);
	if (ioctl(fd, PIDFD_GET_INFO, &info) || !(info.mask & PIDFD_INFO_EXIT)) {
		fail("%s: no PIDFD_INFO_EXIT", what);
	} else if (info.exit_code != status) {
		errno = 0;
		fail("%s: exit status 0x%x, expected 0x%x", what, info.exit_code, status);
	}
}

static ino_t ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

int main(int argc, char **argv)
{
	int a1, a2, b, sa, sb;
	pid_t pa, pb;

	test_init(argc, argv);
	pa = fork();
	if (pa == 0)
		_exit(42);
	pb = fork();
	if (pb == 0) {
		for (;;)
			pause();
	}
	a1 = sys_pidfd_open(pa, 0);
	a2 = sys_pidfd_open(pa, 0);
	b = sys_pidfd_open(pb, 0);
	if (a1 < 0 || a2 < 0 || b < 0) {
		fail("pidfd_open");
		return 1;
	}
	kill(pb, SIGUSR1);
	if (waitpid(pa, &sa, 0) != pa || waitpid(pb, &sb, 0) != pb) {
		fail("waitpid");
		return 1;
	}
	check_dead(a1, sa, "reaped A (before dump)");
	check_dead(b, sb, "reaped B (before dump)");

	test_daemon();
	test_waitsig();

	check_dead(a1, sa, "first pidfd of reaped A");
	check_dead(a2, sa, "second pidfd of reaped A");
	check_dead(b, sb, "pidfd of reaped B");
	errno = 0;
	if (ino(a1) != ino(a2))
		fail("the two pidfds of A don't share an inode any more");
	if (ino(a1) == ino(b))
		fail("pidfds of A and B share an inode");

	if (test_failed())
		return 1;
	pass();
	return 0;
}
