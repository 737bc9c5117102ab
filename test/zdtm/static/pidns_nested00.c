// SPDX-License-Identifier: GPL-2.0
/*
 * pidns_nested00: pid namespaces nested two levels below the tree's, with pidfds across the levels.
 *
 * The test's root R forks C. C unshares a pid namespace (N1) and forks G,
 * the init of N1. G forks J (pid 2 in N1), then unshares a pid namespace
 * (N2) and forks H, the init of N2; H forks I (pid 2 in N2), which starts a
 * second thread (tid 3 in N2). C's and G's pid_for_children stay the
 * namespaces they unshared (N1, N2).
 *
 * Pidfds: R holds one of C, G, J, H, I and a thread pidfd of I's thread
 * (found through /proc, which shows R's namespace); G one of J, H and I;
 * I one of H, its parent; C one of G.
 *
 * After restore every task checks that its NSpid line (its pid at every
 * level, from R's namespace down) is what it was, and so are getpid() and
 * getppid(); every pidfd still shows the same NSpid line in its fdinfo,
 * PIDFD_GET_INFO gives the same pid (in its holder's namespace), and its
 * inode is that of a fresh pidfd_open() of that pid; C's and G's
 * pid_for_children are still N1 and N2 (the pid namespace of their child's
 * pidfd), J's its own. A signal sent by R through its pidfd of I reaches I
 * with si_pid 0 (R is outside I's namespace).
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"
#include "pidns_nested.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#define PIDFS_IOCTL_MAGIC 0xFF
#define PIDFD_GET_PID_NAMESPACE _IO(PIDFS_IOCTL_MAGIC, 5)

struct pidfd_info {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
	uint32_t coredump_mask, spare;
};
#define PIDFD_GET_INFO _IOWR(0xFF, 11, struct pidfd_info)

#define NR_MEMBERS 6	/* C, G, J, H, I, I's thread (which answers nothing: I checks it) */
#define NR_ANSWER 5	/* C, G, J, H, I */

static int cmd_pipe[2], res_pipe[2];

struct pfd {
	int fd;
	pid_t pid;		/* PIDFD_GET_INFO pid: the target as its holder sees it */
	unsigned int flags;
	char nspid[128];
	const char *what;
};

static int pfd_info_pid(int fd, pid_t *ret)
{
	struct pidfd_info info = { .mask = 1 };

	if (ioctl(fd, PIDFD_GET_INFO, &info))
		return -1;
	*ret = info.pid;
	return 0;
}

static int pfd_open(struct pfd *p, pid_t pid, unsigned int flags, const char *what)
{
	char path[64];

	p->what = what;
	p->flags = flags;
	p->fd = sys_pidfd_open(pid, flags);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", p->fd);
	if (p->fd < 0 || pfd_info_pid(p->fd, &p->pid) || nspid_line(path, p->nspid, sizeof(p->nspid))) {
		fail("%s: pidfd_open(%d)", what, pid);
		return -1;
	}
	return 0;
}

static int pfd_check(const struct pfd *p)
{
	struct stat a, b;
	char path[64], line[128];
	pid_t pid = 0;
	int fresh, ret = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", p->fd);
	errno = 0;
	if (nspid_line(path, line, sizeof(line)) || strcmp(line, p->nspid)) {
		fail("%s: fdinfo NSpid '%s', was '%s'", p->what, line, p->nspid);
		ret = -1;
	}
	if (pfd_info_pid(p->fd, &pid) || pid != p->pid) {
		fail("%s: PIDFD_GET_INFO pid %d, was %d", p->what, pid, p->pid);
		ret = -1;
	}
	fresh = sys_pidfd_open(p->pid, p->flags);
	if (fresh < 0 || fstat(fresh, &a) || fstat(p->fd, &b) || a.st_ino != b.st_ino) {
		fail("%s: not the process a fresh pidfd_open(%d) names", p->what, p->pid);
		ret = -1;
	}
	if (fresh >= 0)
		close(fresh);
	if (sys_pidfd_send_signal(p->fd, 0, NULL, 0)) {
		fail("%s: pidfd_send_signal(0)", p->what);
		ret = -1;
	}
	return ret;
}

static int ns_ino(int fd, ino_t *ret)
{
	struct stat st;
	int nsfd = ioctl(fd, PIDFD_GET_PID_NAMESPACE, 0);

	if (nsfd < 0)
		return -1;
	if (fstat(nsfd, &st)) {
		close(nsfd);
		return -1;
	}
	close(nsfd);
	*ret = st.st_ino;
	return 0;
}

/* The pid namespace of my next children: that of the pidfd's process (fd -1: my own). */
static int check_for_children(const char *who, int fd)
{
	struct stat st, own;
	ino_t want;

	if (stat("/proc/self/ns/pid_for_children", &st) || stat("/proc/self/ns/pid", &own)) {
		fail("%s: stat of its pid namespaces", who);
		return -1;
	}
	want = own.st_ino;
	if (fd >= 0 && ns_ino(fd, &want)) {
		fail("%s: PIDFD_GET_PID_NAMESPACE", who);
		return -1;
	}
	errno = 0;
	if (st.st_ino != want) {
		fail("%s: pid_for_children [%lu], expected [%lu]", who, (unsigned long)st.st_ino, (unsigned long)want);
		return -1;
	}
	return 0;
}

static void ready(void)
{
	char c = 'r';

	if (write(res_pipe[1], &c, 1) != 1)
		_exit(1);
}

/* Wait for R's word, then report whether the checks passed. */
static void __attribute__((noreturn)) answer(int ok)
{
	char c = ok ? 'y' : 'n';

	if (write(res_pipe[1], &c, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static void wait_word(void)
{
	char c;

	while (read(cmd_pipe[0], &c, 1) != 1)
		if (errno != EINTR)
			_exit(1);
}

static void *i_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void __attribute__((noreturn)) i_main(void)
{
	struct self s;
	struct pfd h;
	pthread_t th;
	sigset_t set;
	siginfo_t si;
	struct timespec ts = { 10, 0 };
	int ok;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (self_remember(&s, "I") || pfd_open(&h, getppid(), 0, "I: pidfd of H") ||
	    pthread_create(&th, NULL, i_thread, NULL))
		_exit(1);
	ready();
	wait_word();
	ok = !self_check(&s) & !pfd_check(&h);
	errno = 0;
	if (getpid() != 2 || getppid() != 1) {
		fail("I: pid %d ppid %d in N2, expected 2 1", getpid(), getppid());
		ok = 0;
	}
	if (sigtimedwait(&set, &si, &ts) != SIGUSR1) {
		fail("I: no SIGUSR1 from R");
		ok = 0;
	} else if (si.si_pid != 0) {
		errno = 0;
		fail("I: SIGUSR1 from %d, expected 0 (R is outside N2)", si.si_pid);
		ok = 0;
	}
	answer(ok);
}

static void __attribute__((noreturn)) h_main(void)
{
	struct self s;
	pid_t i;

	if (self_remember(&s, "H"))
		_exit(1);
	i = fork();
	if (i < 0)
		_exit(1);
	if (i == 0)
		i_main();
	ready();
	wait_word();
	answer(!self_check(&s) & !check_for_children("H", -1));
}

static void __attribute__((noreturn)) j_main(void)
{
	struct self s;

	if (self_remember(&s, "J"))
		_exit(1);
	ready();
	wait_word();
	answer(!self_check(&s) & !check_for_children("J", -1));
}

static void __attribute__((noreturn)) g_main(void)
{
	struct pfd j, h, i;
	struct self s;
	pid_t jp, hp;
	int ok;

	if (self_remember(&s, "G"))
		_exit(1);
	jp = fork();
	if (jp == 0)
		j_main();
	if (jp < 0 || unshare(CLONE_NEWPID))
		_exit(1);
	hp = fork();
	if (hp == 0)
		h_main();
	if (hp < 0 || pfd_open(&j, jp, 0, "G: pidfd of J") || pfd_open(&h, hp, 0, "G: pidfd of H"))
		_exit(1);
	/* I, H's first child, takes the next pid of N1 (nothing else forks there): wait for it */
	for (int k = 0; k < 1000; k++) {
		struct pidfd_info info = { .mask = 1 };
		int fd = sys_pidfd_open(hp + 1, 0);
		int found = fd >= 0 && !ioctl(fd, PIDFD_GET_INFO, &info) && (pid_t)info.ppid == hp;

		if (fd >= 0)
			close(fd);
		if (found)
			break;
		usleep(10000);
	}
	if (pfd_open(&i, hp + 1, 0, "G: pidfd of I"))
		_exit(1);
	ready();
	wait_word();
	ok = !self_check(&s) & !pfd_check(&j) & !pfd_check(&h) & !pfd_check(&i) & !check_for_children("G", h.fd);
	errno = 0;
	if (getpid() != 1 || getppid() != 0) {
		fail("G: pid %d ppid %d, expected 1 0 (init of N1)", getpid(), getppid());
		ok = 0;
	}
	answer(ok);
}

static void __attribute__((noreturn)) c_main(void)
{
	struct self s;
	struct pfd g;
	pid_t gp;

	if (self_remember(&s, "C") || unshare(CLONE_NEWPID))
		_exit(1);
	gp = fork();
	if (gp == 0)
		g_main();
	if (gp < 0 || pfd_open(&g, gp, 0, "C: pidfd of G"))
		_exit(1);
	ready();
	wait_word();
	answer(!self_check(&s) & !pfd_check(&g) & !check_for_children("C", g.fd));
}

/* The only child of a task, as R's /proc shows it. */
static pid_t child_of(pid_t pid)
{
	char path[64], buf[64];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atoi(buf);
}

/* A thread of pid other than pid itself, as R's /proc shows it. */
static pid_t other_thread(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	pid_t tid = -1;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (atoi(de->d_name) > 0 && atoi(de->d_name) != pid)
			tid = atoi(de->d_name);
	closedir(d);
	return tid;
}

int main(int argc, char **argv)
{
	struct pfd p[NR_MEMBERS];
	pid_t c, g, h, i, j, t;
	char buf[NR_ANSWER];
	int ok = 1;

	test_init(argc, argv);
	if (pipe(cmd_pipe) || pipe(res_pipe)) {
		fail("pipe");
		return 1;
	}
	c = fork();
	if (c < 0) {
		fail("fork");
		return 1;
	}
	if (c == 0)
		c_main();
	for (int k = 0; k < NR_ANSWER; k++)
		if (read(res_pipe[0], &buf[k], 1) != 1 || buf[k] != 'r') {
			fail("a member did not get ready");
			kill(c, SIGKILL);
			return 1;
		}
	g = child_of(c);
	/* G's children: J and H, in this order of pids */
	{
		char path[64], text[64];
		int fd, n;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", g, g);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
		if (fd >= 0)
			close(fd);
		if (n <= 0 || sscanf((text[n] = '\0', text), "%d %d", &j, &h) != 2) {
			fail("G's children");
			return 1;
		}
	}
	i = child_of(h);
	t = other_thread(i);
	test_msg("R's view: C %d G %d J %d H %d I %d (thread %d)\n", c, g, j, h, i, t);
	if (g <= 0 || i <= 0 || t <= 0 || pfd_open(&p[0], c, 0, "R: pidfd of C") || pfd_open(&p[1], g, 0, "R: pidfd of G") ||
	    pfd_open(&p[2], j, 0, "R: pidfd of J") || pfd_open(&p[3], h, 0, "R: pidfd of H") ||
	    pfd_open(&p[4], i, 0, "R: pidfd of I") || pfd_open(&p[5], t, PIDFD_THREAD, "R: thread pidfd of I's thread")) {
		fail("R's pidfds");
		kill(c, SIGKILL);
		return 1;
	}

	test_daemon();
	test_waitsig();

	for (int k = 0; k < NR_MEMBERS; k++)
		if (pfd_check(&p[k]))
			ok = 0;
	if (write(cmd_pipe[1], "ccccc", NR_ANSWER) != NR_ANSWER)
		ok = 0;
	if (sys_pidfd_send_signal(p[4].fd, SIGUSR1, NULL, 0)) {
		fail("R: pidfd_send_signal(SIGUSR1) to I");
		ok = 0;
	}
	for (int k = 0; k < NR_ANSWER; k++)
		if (read(res_pipe[0], &buf[k], 1) != 1 || buf[k] != 'y') {
			errno = 0;
			fail("a member answered '%c'", buf[k]);
			ok = 0;
		}
	/* G, the init of N1: N1 and N2 go with it; then C, once they are gone */
	sys_pidfd_send_signal(p[1].fd, SIGKILL, NULL, 0);
	for (int k = 1; k < NR_MEMBERS; k++) {
		struct pollfd pfd = { .fd = p[k].fd, .events = POLLIN };

		poll(&pfd, 1, 5000);
	}
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	if (ok && !test_failed())
		pass();
	return 0;
}
