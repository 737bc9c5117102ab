// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's programs, one binary:
 *   pidfd-demo reaper CMD...        run CMD as a child subreaper that reaps at once
 *   pidfd-demo outside              a process outside the dumped tree (sleeps)
 *   pidfd-demo supervisor OUTSIDE_PID REPORT
 *        a supervisor holding pidfds to two live workers, one of its threads,
 *        a reaped worker, itself and the outside process. On SIGUSR1 it checks
 *        each pidfd and appends a report to REPORT; on SIGTERM it stops its
 *        workers through their pidfds and exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PIDFD_THREAD O_EXCL
#define P_PIDFD 3

struct pidfd_info {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
	uint32_t coredump_mask, spare;
};
#define PIDFD_GET_INFO _IOWR(0xFF, 11, struct pidfd_info)

static int pidfd_open(pid_t pid, unsigned int flags)
{
	return syscall(SYS_pidfd_open, pid, flags);
}

static int pidfd_send_signal(int fd, int sig)
{
	return syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

static int reaper(char **argv)
{
	pid_t cmd, pid;
	int status, cmd_status = 1;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	cmd = fork();
	if (cmd == 0) {
		execvp(argv[0], argv);
		perror("exec");
		_exit(127);
	}
	while ((pid = wait(&status)) > 0 || errno == EINTR) {
		if (pid == cmd) {
			cmd_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			break;
		}
	}
	/* reap what the command left behind and is already gone */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return cmd_status;
}

static pid_t spawn_worker(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		alarm(600);
		for (;;)
			pause();
	}
	return pid;
}

static void *thread_fn(void *arg)
{
	*(pid_t *)arg = gettid();
	for (;;)
		pause();
	return NULL;
}

struct tracked {
	const char *what;
	int fd;
	pid_t pid;		/* expected Pid: in fdinfo (-1: reaped) */
	int exit_status;	/* reaped: expected PIDFD_INFO_EXIT */
	bool thread;
	bool outside;
};

static struct tracked t[6];
static int nr_t;
static FILE *report;
static int mismatches;

static long fdinfo_pid(int fd)
{
	char path[64], line[256];
	long v = -100;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(report, "    %-9s ", ok ? "ok" : "MISMATCH");
	vfprintf(report, fmt, ap);
	fprintf(report, "\n");
	va_end(ap);
	if (!ok)
		mismatches++;
}

static void report_all(const char *when)
{
	fprintf(report, "== %s: supervisor %d\n", when, getpid());
	for (int i = 0; i < nr_t; i++) {
		struct pollfd p = { .fd = t[i].fd, .events = POLLIN };
		long pid = fdinfo_pid(t[i].fd);
		int fl = fcntl(t[i].fd, F_GETFL);

		fprintf(report, "  fd %d: pidfd of %s\n", t[i].fd, t[i].what);
		poll(&p, 1, 0);
		check(pid == t[i].pid, "fdinfo Pid: %ld (expected %d)", pid, t[i].pid);
		check(!!(fl & PIDFD_THREAD) == t[i].thread, "PIDFD_THREAD flag %s", (fl & PIDFD_THREAD) ? "set" : "clear");
		if (t[i].pid > 0) {
			struct stat a, b;
			int fresh = pidfd_open(t[i].pid, t[i].thread ? PIDFD_THREAD : 0);

			check(pidfd_send_signal(t[i].fd, 0) == 0, "pidfd_send_signal(0) reaches it");
			check(p.revents == 0, "poll: not exited (revents 0x%x)", p.revents);
			check(fresh >= 0 && !fstat(fresh, &a) && !fstat(t[i].fd, &b) && a.st_ino == b.st_ino,
			      "same process as pidfd_open(%d) now (same pidfs inode)", t[i].pid);
			if (fresh >= 0)
				close(fresh);
		} else {
			struct pidfd_info info = { .mask = 8 };
			int r = pidfd_send_signal(t[i].fd, 0), e = errno;
			bool have_exit;

			check(r < 0 && e == ESRCH, "pidfd_send_signal gives ESRCH");
			check(p.revents == (POLLIN | POLLHUP), "poll: POLLIN|POLLHUP (revents 0x%x)", p.revents);
			have_exit = !ioctl(t[i].fd, PIDFD_GET_INFO, &info) && (info.mask & 8);
			check(have_exit && info.exit_code == t[i].exit_status, "PIDFD_INFO_EXIT status 0x%x (expected 0x%x)",
			      info.exit_code, t[i].exit_status);
		}
	}
	fprintf(report, "== %s: %d mismatches\n", when, mismatches);
	fflush(report);
}

static int supervisor(pid_t outside, const char *report_path)
{
	static pid_t thread_tid;
	pthread_t th;
	pid_t a, b, c;
	sigset_t set;
	int sig, rounds = 0;

	report = fopen(report_path, "a");
	if (!report)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	a = spawn_worker();
	b = spawn_worker();
	c = fork();
	if (c == 0)
		_exit(7);
	pthread_create(&th, NULL, thread_fn, &thread_tid);
	while (!__atomic_load_n(&thread_tid, __ATOMIC_SEQ_CST))
		usleep(1000);

	t[nr_t++] = (struct tracked){ "worker A", pidfd_open(a, 0), a };
	t[nr_t++] = (struct tracked){ "worker B", pidfd_open(b, 0), b };
	t[nr_t++] = (struct tracked){ "worker C (exited with 7, reaped)", pidfd_open(c, 0), -1, 7 << 8 };
	waitpid(c, NULL, 0);
	t[nr_t++] = (struct tracked){ "a thread of the supervisor", pidfd_open(thread_tid, PIDFD_THREAD), thread_tid, 0,
				      true };
	t[nr_t++] = (struct tracked){ "the supervisor itself", pidfd_open(getpid(), 0), getpid() };
	t[nr_t++] = (struct tracked){ "an outside process", pidfd_open(outside, 0), outside, 0, false, true };
	for (int i = 0; i < nr_t; i++)
		if (t[i].fd < 0) {
			fprintf(report, "can't open the pidfd of %s: %s\n", t[i].what, strerror(errno));
			return 1;
		}
	fprintf(report, "ready\n");
	fflush(report);

	while (sigwait(&set, &sig) == 0) {
		if (sig == SIGUSR1) {
			report_all(rounds++ ? "after restore" : "before dump");
			continue;
		}
		/* SIGTERM: stop the workers through their pidfds and reap them */
		for (int i = 0; i < 2; i++) {
			siginfo_t si;

			pidfd_send_signal(t[i].fd, SIGKILL);
			waitid(P_PIDFD, t[i].fd, &si, WEXITED);
		}
		return mismatches ? 1 : 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "reaper"))
		return reaper(argv + 2);
	if (argc == 2 && !strcmp(argv[1], "outside")) {
		alarm(600);
		for (;;)
			pause();
	}
	if (argc == 4 && !strcmp(argv[1], "supervisor"))
		return supervisor(atoi(argv[2]), argv[3]);
	fprintf(stderr, "usage: %s reaper CMD... | outside | supervisor OUTSIDE_PID REPORT\n", argv[0]);
	return 2;
}
