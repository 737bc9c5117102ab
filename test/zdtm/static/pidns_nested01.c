// SPDX-License-Identifier: GPL-2.0
/*
 * pidns_nested01: a task that unshared a pid namespace has children on both sides of it.
 *
 * The root R forks C. C forks A (in C's pid namespace), unshares a pid
 * namespace (N), forks G, N's init, then K, pid 2 in N: K's parent C is
 * outside N, and N's init is K's sibling. K starts a second thread. C's
 * pid_for_children stays N.
 *
 * After restore: every member's NSpid line (its pid at every level, from
 * R's namespace down), getpid() and getppid() (0 for G and K, whose parent
 * is outside N) are what they were; C's pidfds of A, G and K and K's pidfd of
 * G still show the same NSpid line in their fdinfo and name the process a
 * fresh pidfd_open() of the same pid names; C's pid_for_children is G's
 * namespace, and K's thread is still there with its tid.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "pidns_nested.h"

#define PIDFD_GET_PID_NAMESPACE _IO(0xFF, 5)

static int cmd_pipe[2], res_pipe[2];

struct pfd {
	int fd;
	pid_t pid;
	char nspid[128];
	const char *what;
};

static int pfd_open(struct pfd *p, pid_t pid, const char *what)
{
	char path[64];

	p->what = what;
	p->pid = pid;
	p->fd = sys_pidfd_open(pid, 0);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", p->fd);
	if (p->fd < 0 || nspid_line(path, p->nspid, sizeof(p->nspid))) {
		fail("%s: pidfd_open(%d)", what, pid);
		return -1;
	}
	return 0;
}

static int pfd_check(const struct pfd *p)
{
	char path[64], line[128] = "";
	struct stat a, b;
	int fresh, ret = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", p->fd);
	errno = 0;
	if (nspid_line(path, line, sizeof(line)) || strcmp(line, p->nspid)) {
		fail("%s: fdinfo NSpid '%s', was '%s'", p->what, line, p->nspid);
		ret = -1;
	}
	fresh = sys_pidfd_open(p->pid, 0);
	if (fresh < 0 || fstat(fresh, &a) || fstat(p->fd, &b) || a.st_ino != b.st_ino) {
		fail("%s: not the process a fresh pidfd_open(%d) names", p->what, p->pid);
		ret = -1;
	}
	if (fresh >= 0)
		close(fresh);
	return ret;
}

static void ready(void)
{
	if (write(res_pipe[1], "r", 1) != 1)
		_exit(1);
}

static void wait_word(void)
{
	char c;

	while (read(cmd_pipe[0], &c, 1) != 1)
		if (errno != EINTR)
			_exit(1);
}

static void __attribute__((noreturn)) answer(int ok)
{
	if (write(res_pipe[1], ok ? "y" : "n", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static void __attribute__((noreturn)) member(const char *who)
{
	struct self s;

	if (self_remember(&s, who))
		_exit(1);
	ready();
	wait_word();
	answer(!self_check(&s));
}

static int t_pipe[2];

static void *k_thread(void *arg)
{
	pid_t tid = syscall(SYS_gettid);

	(void)arg;
	if (write(t_pipe[1], &tid, sizeof(tid)) != sizeof(tid))
		return NULL;
	for (;;)
		pause();
	return NULL;
}

static void __attribute__((noreturn)) k_main(void)
{
	struct self s;
	struct pfd g;
	pthread_t th;
	pid_t tid;
	char path[64];
	int ok;

	if (self_remember(&s, "K") || pfd_open(&g, 1, "K: pidfd of G, N's init") || pipe(t_pipe) ||
	    pthread_create(&th, NULL, k_thread, NULL) || read(t_pipe[0], &tid, sizeof(tid)) != sizeof(tid))
		_exit(1);
	ready();
	wait_word();
	ok = !self_check(&s) & !pfd_check(&g);
	errno = 0;
	if (getppid() != 0 || getpid() != 2) {
		fail("K: pid %d ppid %d in N, expected 2 0", getpid(), getppid());
		ok = 0;
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
	if (access(path, F_OK) && syscall(SYS_tgkill, getpid(), tid, 0)) {
		fail("K: its thread %d is gone", tid);
		ok = 0;
	}
	answer(ok);
}

static void __attribute__((noreturn)) c_main(void)
{
	struct pfd a, g, k;
	struct self s;
	struct stat pfc;
	pid_t ap, gp, kp;
	int ok, nsfd;

	if (self_remember(&s, "C"))
		_exit(1);
	ap = fork();
	if (ap == 0)
		member("A");
	if (ap < 0 || unshare(CLONE_NEWPID))
		_exit(1);
	gp = fork();
	if (gp == 0)
		member("G");
	kp = gp < 0 ? -1 : fork();
	if (kp == 0)
		k_main();
	if (kp < 0 || pfd_open(&a, ap, "C: pidfd of A") || pfd_open(&g, gp, "C: pidfd of G") ||
	    pfd_open(&k, kp, "C: pidfd of K"))
		_exit(1);
	ready();
	wait_word();
	ok = !self_check(&s) & !pfd_check(&a) & !pfd_check(&g) & !pfd_check(&k);
	nsfd = ioctl(g.fd, PIDFD_GET_PID_NAMESPACE, 0);
	{
		struct stat want;

		errno = 0;
		if (nsfd < 0 || fstat(nsfd, &want) || stat("/proc/self/ns/pid_for_children", &pfc) ||
		    pfc.st_ino != want.st_ino) {
			fail("C: pid_for_children is not G's namespace");
			ok = 0;
		}
	}
	answer(ok);
}

#define NR_MEMBERS 4	/* C, A, G, K */

/* SIGKILL to the children of pid, as R's /proc shows them (G's death ends N, K with it). */
static void kill_children_of(pid_t pid)
{
	char path[64], text[256], *p, *end;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return;
	text[n] = '\0';
	for (p = text;; p = end) {
		long v = strtol(p, &end, 10);
		int pfd;

		if (end == p)
			break;
		pfd = sys_pidfd_open(v, 0);
		if (pfd < 0)
			continue;
		sys_pidfd_send_signal(pfd, SIGKILL, NULL, 0);
		close(pfd);
	}
}

int main(int argc, char **argv)
{
	char buf[NR_MEMBERS];
	int ok = 1;
	pid_t c;

	test_init(argc, argv);
	if (pipe(cmd_pipe) || pipe(res_pipe)) {
		fail("pipe");
		return 1;
	}
	c = fork();
	if (c == 0)
		c_main();
	for (int i = 0; i < NR_MEMBERS; i++)
		if (c < 0 || read(res_pipe[0], &buf[i], 1) != 1 || buf[i] != 'r') {
			fail("a member did not get ready");
			if (c > 0)
				kill(c, SIGKILL);
			return 1;
		}

	test_daemon();
	test_waitsig();

	if (write(cmd_pipe[1], "cccc", NR_MEMBERS) != NR_MEMBERS)
		ok = 0;
	for (int i = 0; i < NR_MEMBERS; i++)
		if (read(res_pipe[0], &buf[i], 1) != 1 || buf[i] != 'y') {
			errno = 0;
			fail("a member answered '%c'", buf[i]);
			ok = 0;
		}
	if (ok && !test_failed())
		pass();
	kill_children_of(c);	/* A, G (and K with N) */
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	return 0;
}
