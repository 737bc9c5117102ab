// SPDX-License-Identifier: GPL-2.0
/*
 * pidns00: a tree rooted at the init of its own pid namespace, with pidfds
 * between its members.
 *
 * The test's root unshares a pid namespace and forks N, its init (pid 1 in
 * it); the pidfile names N, so N's tree is what gets dumped. N forks A and
 * B, and Z, which exits with status 7 and stays a zombie until after the
 * restore. N and A have a second thread each (NT, T); B leads a process
 * group of its own. Pidfds:
 *   N: of itself, of A, of B (PIDFD_NONBLOCK), of thread T (PIDFD_THREAD),
 *      of its own thread NT (PIDFD_THREAD), of zombie Z
 *   A: of N (its parent), of B (its sibling)
 *   B: of A (PIDFD_NONBLOCK), of N
 * After restore, inside the namespace: getpid() is 1 for N and the same as
 * before for A and B, getppid() is 1 for both (0 for N: its parent is
 * outside), B's group is its own, N's session is 1, and every pidfd refers to the right process: the last NSpid
 * column of its fdinfo (criu's /proc shows every level from the runner's
 * namespace down) is the pid in the namespace, it has as many columns as our
 * own NSpid, PIDFD_GET_INFO (answered in our namespace) agrees on pid, tgid
 * and ppid, the inode is that of a fresh pidfd_open() of the pid, and the
 * flags are kept. Signals through pidfds arrive: N -> B (SIGUSR1) and
 * A -> N (SIGUSR2), each with the sender's pid in the namespace as si_pid.
 * N reaps Z through its pidfd: status 7, si_pid Z's pid in the namespace.
 * A POSIX timer of A that notifies thread T by its tid (SIGEV_THREAD_ID)
 * still reaches T.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

struct pidfd_info {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
	uint32_t coredump_mask, spare;
};
#define PIDFD_GET_INFO _IOWR(0xFF, 11, struct pidfd_info)

/* A pidfd and what it must look like. */
struct pfd {
	int fd;
	pid_t pid;	/* target's pid (tid for a thread pidfd) in the namespace */
	pid_t tgid;	/* its thread group, in the namespace */
	pid_t ppid;	/* its parent, in the namespace (0: outside) */
	int fl;		/* F_GETFL at open */
	const char *what;
};

/* The NSpid columns of an fdinfo or status file: count, and the last one. */
static int nspid_of(const char *path, int *ret_levels, long *ret_last)
{
	char buf[4096], *p, *end;
	int fd, n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nNSpid:");
	if (!p)
		return -1;
	p += strlen("\nNSpid:");
	*ret_levels = 0;
	for (;;) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		*ret_last = v;
		(*ret_levels)++;
		p = end;
	}
	return *ret_levels ? 0 : -1;
}

static int my_levels(void)
{
	int levels = 0;
	long last;

	if (nspid_of("/proc/self/status", &levels, &last))
		return -1;
	return levels;
}

static int pfd_open(struct pfd *p, pid_t pid, pid_t tgid, pid_t ppid, unsigned int flags, const char *what)
{
	p->fd = sys_pidfd_open(pid, flags);
	p->pid = pid;
	p->tgid = tgid;
	p->ppid = ppid;
	p->what = what;
	if (p->fd < 0) {
		fail("%s: pidfd_open(%d, %#x)", what, pid, flags);
		return -1;
	}
	p->fl = fcntl(p->fd, F_GETFL);
	return 0;
}

/* Every check of one pidfd; reports each mismatch with fail(). Returns 0 or -1. */
static int pfd_check(const struct pfd *p)
{
	struct pidfd_info info = { .mask = 1 /* PIDFD_INFO_PID */ };
	struct stat mine, fresh;
	char path[64];
	long last = 0, pid_line = 0;
	int levels = 0, ret = 0, fd;

	errno = 0;
	if (fcntl(p->fd, F_GETFL) != p->fl) {
		fail("%s: F_GETFL %o, was %o", p->what, fcntl(p->fd, F_GETFL), p->fl);
		ret = -1;
	}
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", p->fd);
	if (nspid_of(path, &levels, &last)) {
		fail("%s: no NSpid in %s", p->what, path);
		return -1;
	}
	errno = 0;
	if (last != p->pid || levels != my_levels()) {
		fail("%s: NSpid ends with %ld over %d levels, expected %d over %d", p->what, last, levels, p->pid,
		     my_levels());
		ret = -1;
	}
	{
		long long v = 0;

		if (fdinfo_get_long(p->fd, "Pid", &v) || v <= 0) {
			fail("%s: fdinfo Pid %lld (the process is gone or invisible to criu's /proc)", p->what, v);
			ret = -1;
		}
		pid_line = v;
	}
	if (ioctl(p->fd, PIDFD_GET_INFO, &info)) {
		fail("%s: PIDFD_GET_INFO", p->what);
		ret = -1;
	} else if ((pid_t)info.pid != p->pid || (pid_t)info.tgid != p->tgid || (pid_t)info.ppid != p->ppid) {
		errno = 0;
		fail("%s: PIDFD_GET_INFO pid %u tgid %u ppid %u, expected %d %d %d", p->what, info.pid, info.tgid,
		     info.ppid, p->pid, p->tgid, p->ppid);
		ret = -1;
	}
	fd = sys_pidfd_open(p->pid, p->fl & PIDFD_THREAD);
	if (fd < 0 || fstat(fd, &fresh) || fstat(p->fd, &mine)) {
		fail("%s: a fresh pidfd_open(%d)", p->what, p->pid);
		ret = -1;
	} else if (mine.st_ino != fresh.st_ino) {
		errno = 0;
		fail("%s: inode %llu, a fresh pidfd of %d has %llu", p->what, (unsigned long long)mine.st_ino, p->pid,
		     (unsigned long long)fresh.st_ino);
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	if (sys_pidfd_send_signal(p->fd, 0, NULL, 0)) {
		fail("%s: pidfd_send_signal(0)", p->what);
		ret = -1;
	}
	test_msg("%s: fd %d -> %d in the namespace (%ld to criu's /proc)%s\n", p->what, p->fd, p->pid, pid_line,
		 ret ? " BAD" : "");
	return ret;
}

static int check_ids(pid_t pid, pid_t ppid, const char *who)
{
	errno = 0;
	if (getpid() != pid || getppid() != ppid) {
		fail("%s: getpid %d getppid %d, expected %d %d", who, getpid(), getppid(), pid, ppid);
		return -1;
	}
	return 0;
}

static int wait_signal(int sig, pid_t from, const char *who)
{
	struct timespec ts = { 10, 0 };
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	while (sigtimedwait(&set, &si, &ts) < 0) {
		if (errno == EINTR)
			continue;
		fail("%s: no signal %d within 10s", who, sig);
		return -1;
	}
	errno = 0;
	if (si.si_pid != from) {
		fail("%s: signal %d from %d, expected from %d", who, sig, si.si_pid, from);
		return -1;
	}
	return 0;
}

static void block(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* ---------------------------------------------------------------- A */

static pid_t t_tid;
static int t_pipe[2];

/* T: reports its tid, then reports every SIGRTMIN it gets (A's timer notifies T by its tid). */
static void *t_main(void *arg)
{
	pid_t me = syscall(SYS_gettid);
	sigset_t set;
	siginfo_t si;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	if (write(t_pipe[1], &me, sizeof(me)) != sizeof(me))
		return NULL;
	for (;;) {
		if (sigwaitinfo(&set, &si) == SIGRTMIN && si.si_code == SI_TIMER && write(t_pipe[1], &me, 1) != 1)
			return NULL;
	}
	return NULL;
}

/* A timer that notifies thread T (SIGEV_THREAD_ID: T's tid in the namespace), disarmed. */
static int make_t_timer(timer_t *ret)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGRTMIN };

	sev._sigev_un._tid = t_tid;
	return timer_create(CLOCK_MONOTONIC, &sev, ret);
}

/* Arm it for 10 ms: T must report the signal. */
static int check_t_timer(timer_t tm)
{
	struct itimerspec its = { .it_value = { 0, 10 * 1000 * 1000 } };
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char c;

	if (timer_settime(tm, 0, &its, NULL)) {
		fail("A: timer_settime");
		return -1;
	}
	for (int i = 0; i < 500; i++) {
		if (read(t_pipe[0], &c, 1) == 1)
			return 0;
		nanosleep(&ts, NULL);
	}
	errno = 0;
	fail("A: the timer of thread %d did not reach it within 5s", t_tid);
	return -1;
}

/* A: gets B's pid from N, opens its pidfds, starts T, reports; on 'c' checks and signals N. */
static void __attribute__((noreturn)) a_main(int cmd_fd, int res_fd)
{
	struct { char c; pid_t tid; } rep = { 'r', 0 };
	struct pfd n_fd, b_fd;
	pthread_t th;
	pid_t me = getpid(), b;
	char c, ok = 'y';
	timer_t tm;

	block(SIGRTMIN);	/* in every thread: only T waits for it */
	if (read_full(cmd_fd, &b, sizeof(b)) || pipe(t_pipe) || pthread_create(&th, NULL, t_main, NULL) ||
	    read_full(t_pipe[0], &t_tid, sizeof(t_tid)) || make_t_timer(&tm) ||
	    fcntl(t_pipe[0], F_SETFL, O_NONBLOCK))
		_exit(1);
	if (check_t_timer(tm))
		_exit(1);
	if (pfd_open(&n_fd, getppid(), getppid(), 0, 0, "A: pidfd of N") ||
	    pfd_open(&b_fd, b, b, getppid(), 0, "A: pidfd of sibling B"))
		_exit(1);
	if (pfd_check(&n_fd) || pfd_check(&b_fd))
		_exit(1);
	rep.tid = t_tid;
	if (write(res_fd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(1);

	if (read_full(cmd_fd, &c, 1))
		_exit(1);
	if (check_ids(me, 1, "A") | pfd_check(&n_fd) | pfd_check(&b_fd))
		ok = 'n';
	if (syscall(SYS_gettid) != me) {
		fail("A: gettid %ld, pid %d", syscall(SYS_gettid), me);
		ok = 'n';
	}
	if (sys_pidfd_send_signal(n_fd.fd, SIGUSR2, NULL, 0)) {
		fail("A: pidfd_send_signal(SIGUSR2) to N");
		ok = 'n';
	}
	if (check_t_timer(tm))
		ok = 'n';
	if (write(res_fd, &ok, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/* ---------------------------------------------------------------- B */

static void __attribute__((noreturn)) b_main(pid_t a, int cmd_fd, int res_fd)
{
	struct pfd a_fd, n_fd;
	pid_t me = getpid();
	char c = 'r', ok = 'y';

	block(SIGUSR1);
	if (setpgid(0, 0))
		_exit(1);
	if (pfd_open(&a_fd, a, a, getppid(), PIDFD_NONBLOCK, "B: pidfd of sibling A") ||
	    pfd_open(&n_fd, getppid(), getppid(), 0, 0, "B: pidfd of N"))
		_exit(1);
	if (pfd_check(&a_fd) || pfd_check(&n_fd))
		_exit(1);
	if (write(res_fd, &c, 1) != 1 || read_full(cmd_fd, &c, 1))
		_exit(1);
	if (check_ids(me, 1, "B") | pfd_check(&a_fd) | pfd_check(&n_fd))
		ok = 'n';
	if (getpgid(0) != me || getsid(0) != 1) {
		errno = 0;
		fail("B: group %d session %d, expected %d 1", getpgid(0), getsid(0), me);
		ok = 'n';
	}
	if (wait_signal(SIGUSR1, 1, "B"))
		ok = 'n';
	if (write(res_fd, &ok, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/* ---------------------------------------------------------------- N */

/* Fork a member with its command and result pipes (N keeps their other ends). */
static pid_t fork_member(int *cmd_w, int *res_r, int which, pid_t a)
{
	int cmd[2], res[2];
	pid_t pid;

	if (pipe(cmd) || pipe(res))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(cmd[1]);
		close(res[0]);
		if (which == 'A')
			a_main(cmd[0], res[1]);
		b_main(a, cmd[0], res[1]);
	}
	close(cmd[0]);
	close(res[1]);
	*cmd_w = cmd[1];
	*res_r = res[0];
	return pid;
}

static void *nt_main(void *arg)
{
	pid_t me = syscall(SYS_gettid);

	if (write(*(int *)arg, &me, sizeof(me)) != sizeof(me))
		return NULL;
	for (;;)
		pause();
	return NULL;
}

static void __attribute__((noreturn)) n_main(int ready_fd)
{
	struct { char c; pid_t tid; } rep;
	int a_cmd, a_res, b_cmd, b_res;
	struct pfd self, a_fd, b_fd, t_fd, z_fd, nt_fd;
	pid_t a = -1, b = -1, z = -1, nt = -1;
	pthread_t nth;
	int ntp[2];
	siginfo_t si = {};
	char c = 'n', ra = 'n', rb = 'n';

	if (getpid() != 1) {
		fail("N: getpid %d, expected 1 (init of the new namespace)", getpid());
		goto report;
	}
	if (setsid() < 0) {
		fail("N: setsid");
		goto report;
	}
	block(SIGUSR2);
	a = fork_member(&a_cmd, &a_res, 'A', 0);
	b = a > 0 ? fork_member(&b_cmd, &b_res, 'B', a) : -1;
	if (a < 0 || b < 0) {
		fail("N: fork");
		goto report;
	}
	if (write(a_cmd, &b, sizeof(b)) != sizeof(b) || read_full(a_res, &rep, sizeof(rep)) || rep.c != 'r' ||
	    read_full(b_res, &c, 1) || c != 'r') {
		fail("N: A or B did not get ready");
		goto report;
	}
	z = fork();
	if (z == 0)
		_exit(7);
	if (z < 0 || waitid(P_PID, z, &si, WEXITED | WNOWAIT)) {
		fail("N: a zombie child");
		goto report;
	}
	if (pfd_open(&z_fd, z, z, 1, 0, "N: pidfd of zombie Z") || pfd_check(&z_fd))
		goto report;
	if (pipe(ntp) || pthread_create(&nth, NULL, nt_main, &ntp[1]) || read_full(ntp[0], &nt, sizeof(nt))) {
		fail("N: a second thread");
		goto report;
	}
	close(ntp[0]);
	close(ntp[1]);
	if (pfd_open(&nt_fd, nt, 1, 0, PIDFD_THREAD, "N: thread pidfd of its own second thread") ||
	    pfd_check(&nt_fd))
		goto report;
	if (pfd_open(&self, 1, 1, 0, 0, "N: pidfd of itself") || pfd_open(&a_fd, a, a, 1, 0, "N: pidfd of A") ||
	    pfd_open(&b_fd, b, b, 1, PIDFD_NONBLOCK, "N: pidfd of B") ||
	    pfd_open(&t_fd, rep.tid, a, 1, PIDFD_THREAD, "N: thread pidfd of A's second thread"))
		goto report;
	if (pfd_check(&self) || pfd_check(&a_fd) || pfd_check(&b_fd) || pfd_check(&t_fd))
		goto report;
	test_msg("N: namespace pids: N 1 (thread %d), A %d (thread %d), B %d, zombie %d\n", nt, a, rep.tid, b, z);
	c = 'y';
report:
	if (write(ready_fd, &c, 1) != 1 || c != 'y')
		exit(1);
	close(ready_fd);

	test_waitsig();

	check_ids(1, 0, "N");
	if (getsid(0) != 1) {
		errno = 0;
		fail("N: session %d, expected 1", getsid(0));
	}
	pfd_check(&self);
	pfd_check(&a_fd);
	pfd_check(&b_fd);
	pfd_check(&t_fd);
	pfd_check(&nt_fd);
	pfd_check(&z_fd);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, z_fd.fd, &si, WEXITED))
		fail("N: waitid(P_PIDFD) of zombie Z");
	else if (si.si_pid != z || si.si_code != CLD_EXITED || si.si_status != 7) {
		errno = 0;
		fail("N: zombie Z reaped as pid %d code %d status %d, expected %d CLD_EXITED 7", si.si_pid,
		     si.si_code, si.si_status, z);
	}
	c = 'c';
	if (write(a_cmd, &c, 1) != 1 || write(b_cmd, &c, 1) != 1)
		fail("N: can't tell A and B to check");
	if (sys_pidfd_send_signal(b_fd.fd, SIGUSR1, NULL, 0))
		fail("N: pidfd_send_signal(SIGUSR1) to B");
	wait_signal(SIGUSR2, a, "N (from A)");
	if (read_full(a_res, &ra, 1) || read_full(b_res, &rb, 1) || ra != 'y' || rb != 'y') {
		errno = 0;
		fail("N: A answered '%c', B '%c'", ra, rb);
	}
	if (!test_failed())
		pass();
	/* the init's exit ends every process of the namespace */
	exit(0);
}

int main(int argc, char **argv)
{
	int ready[2];
	pid_t n;
	char c;

	test_init(argc, argv);
	if (pipe(ready)) {
		fail("pipe");
		return 1;
	}
	if (unshare(CLONE_NEWPID)) {
		fail("unshare(CLONE_NEWPID)");
		return 1;
	}
	n = fork();
	if (n < 0) {
		fail("fork of the namespace's init");
		return 1;
	}
	if (n == 0) {
		close(ready[0]);
		test_set_root();	/* N gives the verdict */
		n_main(ready[1]);
	}
	close(ready[1]);
	if (read_full(ready[0], &c, 1) || c != 'y') {
		errno = 0;
		fail("the namespace's init did not get ready");
		kill(n, SIGKILL);
		return 1;
	}
	/* N's tree is the one to dump; this process leaves (N goes to the runner) */
	test_daemon_pid(n);
	return 0;
}
