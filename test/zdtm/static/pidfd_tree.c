// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_tree: pidfds across a tree. The root holds pidfds of its child A and
 * its grandchild G (A's child); A holds a pidfd of its sibling B. After
 * restore: every pidfd refers to the same process (fdinfo Pid, inode,
 * signal 0), PIDFD_GET_INFO agrees (pid, tgid, ppid), a signal sent by A
 * through its sibling pidfd reaches B, and A reaps G with waitid(P_PIDFD)
 * (the root's pidfd of G then reads Pid -1 and G's exit status).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct pidfd_info {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
	uint32_t coredump_mask, spare;
};
#define PIDFD_GET_INFO _IOWR(0xFF, 11, struct pidfd_info)

static void check_info(int fd, pid_t pid, pid_t ppid, const char *what)
{
	struct pidfd_info info = { .mask = 1 /* PIDFD_INFO_PID */ };

	if (ioctl(fd, PIDFD_GET_INFO, &info)) {
		fail("%s: PIDFD_GET_INFO", what);
		return;
	}
	errno = 0;
	if ((pid_t)info.pid != pid || (pid_t)info.tgid != pid || (pid_t)info.ppid != ppid)
		fail("%s: PIDFD_GET_INFO pid %u tgid %u ppid %u, expected %d %d %d", what, info.pid, info.tgid,
		     info.ppid, pid, pid, ppid);
}

/* B: reports SIGUSR1 on its pipe, then waits to be killed. */
static void __attribute__((noreturn)) b_main(int report_fd)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (sigwait(&set, &sig) == 0 && write(report_fd, "1", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/*
 * A: makes G, holds a pidfd of sibling B; on a byte from the root (after
 * restore) checks its pidfds, signals B, lets G go and reaps it, reports.
 */
static void __attribute__((noreturn)) a_main(pid_t b, int cmd_fd, int res_fd, int gpid_fd)
{
	struct pidfd_state st;
	int bfd = sys_pidfd_open(b, 0), gfd, gpipe[2];
	siginfo_t si = {};
	char c, ok = 'y';
	pid_t g;

	if (pipe(gpipe))
		_exit(1);
	g = fork();
	if (g == 0) {
		close(gpipe[1]);
		while (read(gpipe[0], &c, 1) < 0)
			;
		_exit(9);
	}
	close(gpipe[0]);
	gfd = sys_pidfd_open(g, 0);
	if (bfd < 0 || gfd < 0 || pidfd_remember(bfd, b, "A's pidfd of sibling B", &st))
		_exit(1);
	if (write(gpid_fd, &g, sizeof(g)) != sizeof(g))
		_exit(1);

	while (read(cmd_fd, &c, 1) < 0)
		;
	if (pidfd_check(&st))
		ok = 'n';
	check_info(bfd, b, getppid(), "A's pidfd of B");
	if (sys_pidfd_send_signal(bfd, SIGUSR1, NULL, 0))
		ok = 'n';
	close(gpipe[1]);	/* G exits with 9 */
	if (waitid(P_PIDFD, gfd, &si, WEXITED) || si.si_pid != g || si.si_status != 9)
		ok = 'n';
	if (test_failed())
		ok = 'n';
	if (write(res_fd, &ok, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	int cmd[2], res[2], gp[2], brep[2], afd, bfd, gfd;
	struct pidfd_state sa, sg;
	struct pollfd p;
	long long pid;
	pid_t a, b, g;
	char c = 0;

	test_init(argc, argv);
	if (pipe(cmd) || pipe(res) || pipe(gp) || pipe(brep)) {
		fail("pipe");
		return 1;
	}
	b = fork();
	if (b == 0)
		b_main(brep[1]);
	a = fork();
	if (a == 0)
		a_main(b, cmd[0], res[1], gp[1]);
	if (read(gp[0], &g, sizeof(g)) != sizeof(g)) {
		fail("A did not start G");
		return 1;
	}
	afd = sys_pidfd_open(a, 0);
	bfd = sys_pidfd_open(b, 0);
	gfd = sys_pidfd_open(g, 0);
	if (afd < 0 || bfd < 0 || gfd < 0 || pidfd_remember(afd, a, "pidfd of child A", &sa) ||
	    pidfd_remember(gfd, g, "pidfd of grandchild G", &sg))
		return 1;

	test_daemon();
	test_waitsig();

	pidfd_check(&sa);
	pidfd_check(&sg);
	check_info(afd, a, getpid(), "pidfd of A");
	check_info(gfd, g, a, "pidfd of G");
	if (write(cmd[1], "go", 1) != 1 || read(res[0], &c, 1) != 1 || c != 'y')
		fail("A's checks after restore failed (answer '%c')", c);
	if (read(brep[0], &c, 1) != 1 || c != '1')
		fail("B did not get the SIGUSR1 A sent through its pidfd");
	/* G was reaped by A */
	p = (struct pollfd){ .fd = gfd, .events = POLLIN };
	errno = 0;
	if (poll(&p, 1, 5000) != 1 || p.revents != (POLLIN | POLLHUP))
		fail("pidfd of reaped G: revents 0x%x", p.revents);
	if (fdinfo_get_long(gfd, "Pid", &pid) || pid != -1)
		fail("pidfd of reaped G: Pid %lld", pid);
	sys_pidfd_send_signal(afd, SIGKILL, NULL, 0);
	sys_pidfd_send_signal(bfd, SIGKILL, NULL, 0);
	waitpid(a, NULL, 0);
	waitpid(b, NULL, 0);

	if (test_failed())
		return 1;
	pass();
	return 0;
}
