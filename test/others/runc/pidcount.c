// SPDX-License-Identifier: GPL-2.0
/*
 * pidcount: the container's init for test/unit/runc*.sh (built with gcc -static).
 *
 * It forks a child that sleeps, opens a pidfd of the child and one of itself,
 * then prints a line each step: "N ok" while both pidfds still name the same
 * processes (their fdinfo Pid: is the child's pid and our own, the child is
 * alive and still ours), else "N FAIL why" and exit 1. Each step also rewrites
 * /dev/shm/count with N (the container's tmpfs: runc's default root is read-only).
 *
 * SIGUSR1: kill the child through its pidfd and wait for it through the same
 * pidfd (waitid P_PIDFD): "child killed through its pidfd ok" proves the pidfd
 * is the child's, not just a number that looks right. SIGUSR2: exit 0.
 *
 * With PIDCOUNT_SECCOMP=ERRNO in its environment (runc-seccomp.sh gives it a
 * profile that fails getpriority() with that errno), each step also checks
 * that the filter is still there: getpriority() fails with ERRNO.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static volatile sig_atomic_t kill_child, stop;

static void on_usr1(int sig)
{
	(void)sig;
	kill_child = 1;
}

static void on_usr2(int sig)
{
	(void)sig;
	stop = 1;
}

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* The Pid: line of a pidfd's fdinfo (the process it names, in our pid namespace). */
static long pidfd_pid(int fd)
{
	char path[64], line[256];
	long pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Pid:", 4))
			pid = strtol(line + 4, NULL, 10);
	fclose(f);
	return pid;
}

static void fail(unsigned long n, const char *why)
{
	printf("%lu FAIL %s (errno %d)\n", n, why, errno);
	fflush(stdout);
	exit(1);
}

static void write_count(unsigned long n)
{
	char buf[32];
	int fd = open("/dev/shm/count.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int len = snprintf(buf, sizeof(buf), "%lu\n", n);

	if (fd < 0 || write(fd, buf, len) != len || close(fd) || rename("/dev/shm/count.tmp", "/dev/shm/count"))
		fail(n, "can't write /dev/shm/count");
}

static void check(unsigned long n, pid_t child, int child_fd, int self_fd, int child_gone)
{
	const char *sc = getenv("PIDCOUNT_SECCOMP");
	siginfo_t si;

	errno = 0;
	if (sc && (syscall(SYS_getpriority, 0, 0) != -1 || errno != atoi(sc)))
		fail(n, "getpriority() did not fail as the seccomp profile says");

	if (pidfd_pid(self_fd) != getpid())
		fail(n, "the self pidfd names another process");
	if (child_gone)
		return;
	if (pidfd_pid(child_fd) != child)
		fail(n, "the child pidfd names another process");
	if (syscall(SYS_pidfd_send_signal, child_fd, 0, NULL, 0))
		fail(n, "can't signal the child through its pidfd");
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, child_fd, &si, WEXITED | WNOHANG) || si.si_pid != 0)
		fail(n, "the child is not our running child");
}

static void kill_through_pidfd(unsigned long n, pid_t child, int child_fd)
{
	siginfo_t si;

	if (syscall(SYS_pidfd_send_signal, child_fd, SIGKILL, NULL, 0))
		fail(n, "pidfd_send_signal SIGKILL");
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, child_fd, &si, WEXITED))
		fail(n, "waitid P_PIDFD");
	if (si.si_pid != child || si.si_code != CLD_KILLED || si.si_status != SIGKILL)
		fail(n, "waitid P_PIDFD reported another process or end");
	printf("%lu child killed through its pidfd ok\n", n);
}

int main(void)
{
	struct timespec step = { 0, 200 * 1000 * 1000 };
	int child_fd, self_fd, child_gone = 0;
	unsigned long n = 0;
	pid_t child;

	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	child = fork();
	if (child < 0)
		fail(0, "fork");
	if (child == 0) {
		for (;;)
			pause();
	}
	child_fd = pidfd_open(child);
	self_fd = pidfd_open(getpid());
	if (child_fd < 0 || self_fd < 0)
		fail(0, "pidfd_open");
	printf("pidcount: pid %d child %d\n", getpid(), child);
	while (!stop) {
		n++;
		check(n, child, child_fd, self_fd, child_gone);
		if (kill_child && !child_gone) {
			kill_through_pidfd(n, child, child_fd);
			child_gone = 1;
		}
		write_count(n);
		printf("%lu ok\n", n);
		fflush(stdout);
		nanosleep(&step, NULL);
	}
	printf("%lu stopped\n", n);
	return 0;
}
