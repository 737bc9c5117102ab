// SPDX-License-Identifier: GPL-2.0
/*
 * task_attrs00: scheduling and memory attributes survive restore, each set to a
 * value other than the default, differently in the main thread, in a second thread
 * and in a child process:
 *  - per thread: timer slack and its default (what PR_SET_TIMERSLACK(0) gives: the
 *    creator's slack when the thread was created), CPU affinity (one CPU each, with
 *    two or more CPUs), I/O priority, NUMA memory policy (node 0), PR_SET_TSC (second
 *    thread only: a thread that may not read the TSC can't use the vdso clocks),
 *    PR_MCE_KILL;
 *  - per process: coredump_filter and PR_SET_MDWE (and that mprotect() can't make a
 *    page executable).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#endif
#define MDWE_REFUSE_EXEC_GAIN 1
#define MDWE_NO_INHERIT 2
#define IOPRIO(cls, lvl) (((cls) << 13) | (lvl))
#define MPOL_PREFERRED 1
#define MPOL_BIND 2
#define MPOL_INTERLEAVE 3
#define MPOL_F_STATIC_NODES (1 << 15)

struct attrs {
	long slack, slack_def;
	cpu_set_t cpus;
	long ioprio;
	int mpol;
	unsigned long nodes[16];
	int tsc;
	int mce;
};

struct want {
	const char *who;
	long slack;
	int cpu;		/* -1: keep */
	long ioprio;
	int mpol;
	int tsc;		/* 0: keep */
	int mce;		/* PR_MCE_KILL_EARLY/LATE */
};

static int ncpus, cpu_list[2];
static bool numa = true;

static long slack_default(void)
{
	long cur = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), def;

	prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0);
	def = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	prctl(PR_SET_TIMERSLACK, cur, 0, 0, 0);
	return def;
}

static void read_attrs(struct attrs *a)
{
	memset(a, 0, sizeof(*a));
	a->slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	a->slack_def = slack_default();
	sched_getaffinity(0, sizeof(a->cpus), &a->cpus);
	a->ioprio = syscall(SYS_ioprio_get, 1, 0);
	if (numa && syscall(SYS_get_mempolicy, &a->mpol, a->nodes, 1025, 0, 0))
		a->mpol = -errno;
	prctl(PR_GET_TSC, &a->tsc, 0, 0, 0);
	a->mce = prctl(PR_MCE_KILL_GET, 0, 0, 0, 0);
}

/* Set what w asks in the calling thread; 0 or -1 (fail() called). */
static int set_attrs(const struct want *w)
{
	unsigned long node0 = 1;

	if (prctl(PR_SET_TIMERSLACK, w->slack, 0, 0, 0)) {
		fail("%s: PR_SET_TIMERSLACK", w->who);
		return -1;
	}
	if (w->cpu >= 0) {
		cpu_set_t s;

		CPU_ZERO(&s);
		CPU_SET(w->cpu, &s);
		if (sched_setaffinity(0, sizeof(s), &s)) {
			fail("%s: sched_setaffinity(%d)", w->who, w->cpu);
			return -1;
		}
	}
	if (syscall(SYS_ioprio_set, 1, 0, w->ioprio)) {
		fail("%s: ioprio_set(%#lx)", w->who, w->ioprio);
		return -1;
	}
	if (numa && syscall(SYS_set_mempolicy, w->mpol, &node0, 65)) {
		fail("%s: set_mempolicy(%#x)", w->who, w->mpol);
		return -1;
	}
	if (w->tsc && prctl(PR_SET_TSC, w->tsc, 0, 0, 0)) {
		fail("%s: PR_SET_TSC", w->who);
		return -1;
	}
	if (prctl(PR_MCE_KILL, PR_MCE_KILL_SET, w->mce, 0, 0)) {
		fail("%s: PR_MCE_KILL", w->who);
		return -1;
	}
	return 0;
}

static void compare(const char *who, const struct attrs *b, const struct attrs *a)
{
	errno = 0;
	if (a->slack != b->slack)
		fail("%s: timer slack %ld, was %ld", who, a->slack, b->slack);
	if (a->slack_def != b->slack_def)
		fail("%s: default timer slack %ld, was %ld", who, a->slack_def, b->slack_def);
	if (!CPU_EQUAL(&a->cpus, &b->cpus))
		fail("%s: CPU affinity changed (%d CPUs, was %d)", who, CPU_COUNT(&a->cpus), CPU_COUNT(&b->cpus));
	if (a->ioprio != b->ioprio)
		fail("%s: ioprio %#lx, was %#lx", who, a->ioprio, b->ioprio);
	if (a->mpol != b->mpol || memcmp(a->nodes, b->nodes, sizeof(a->nodes)))
		fail("%s: mempolicy %#x nodes %#lx, was %#x nodes %#lx", who, a->mpol, a->nodes[0], b->mpol,
		     b->nodes[0]);
	if (a->tsc != b->tsc)
		fail("%s: PR_GET_TSC %d, was %d", who, a->tsc, b->tsc);
	if (a->mce != b->mce)
		fail("%s: PR_MCE_KILL_GET %d, was %d", who, a->mce, b->mce);
}

/* Values the whole process shares. */
struct proc_attrs {
	char filter[32];
	long mdwe;
	int exec_gain;		/* errno of mprotect(RWX) on a RW page, 0 when allowed */
};

static void read_proc_attrs(struct proc_attrs *p)
{
	int fd = open("/proc/self/coredump_filter", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, p->filter, sizeof(p->filter) - 1) : -1;
	void *m;

	p->filter[n > 0 ? n : 0] = 0;
	p->filter[strcspn(p->filter, "\n")] = 0;
	if (fd >= 0)
		close(fd);
	p->mdwe = prctl(PR_GET_MDWE, 0, 0, 0, 0);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p->exec_gain = mprotect(m, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) ? errno : 0;
	munmap(m, 4096);
}

static int set_proc_attrs(const char *who, const char *filter, long mdwe)
{
	int fd = open("/proc/self/coredump_filter", O_WRONLY);

	if (fd < 0 || write(fd, filter, strlen(filter)) != (ssize_t)strlen(filter)) {
		fail("%s: write coredump_filter", who);
		return -1;
	}
	close(fd);
	if (prctl(PR_SET_MDWE, mdwe, 0, 0, 0)) {
		fail("%s: PR_SET_MDWE(%ld)", who, mdwe);
		return -1;
	}
	return 0;
}

static void compare_proc(const char *who, const struct proc_attrs *b, const struct proc_attrs *a)
{
	errno = 0;
	if (strcmp(a->filter, b->filter))
		fail("%s: coredump_filter %s, was %s", who, a->filter, b->filter);
	if (a->mdwe != b->mdwe)
		fail("%s: MDWE flags %ld, was %ld", who, a->mdwe, b->mdwe);
	if (a->exec_gain != b->exec_gain)
		fail("%s: mprotect(RWX) errno %d, was %d", who, a->exec_gain, b->exec_gain);
}

/* ------------------------------------------------------------ second thread */

static struct attrs th_before, th_after;
static volatile int th_ready, th_go, th_done;

static void *thread_fn(void *arg)
{
	const struct want w = { "thread", 250000, ncpus > 1 ? cpu_list[0] : -1, IOPRIO(3, 0), MPOL_PREFERRED,
				PR_TSC_SIGSEGV, PR_MCE_KILL_LATE };

	(void)arg;
	if (set_attrs(&w) == 0)
		read_attrs(&th_before);
	th_ready = 1;
	while (!th_go)
		usleep(1000);	/* nanosleep: no vdso clock, which may need the TSC */
	read_attrs(&th_after);
	th_done = 1;
	return NULL;
}

/* ------------------------------------------------------------ child */

static int child_main(int ready_fd)
{
	const struct want w = { "child", 350000, ncpus > 1 ? cpu_list[0] : -1, IOPRIO(2, 6),
				MPOL_BIND | MPOL_F_STATIC_NODES, 0, PR_MCE_KILL_EARLY };
	struct attrs before, after;
	struct proc_attrs pbefore, pafter;
	sigset_t set;
	int sig;

	if (set_attrs(&w) || set_proc_attrs("child", "0x13", MDWE_REFUSE_EXEC_GAIN))
		_exit(1);
	read_attrs(&before);
	read_proc_attrs(&pbefore);
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	close(ready_fd);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigwait(&set, &sig);
	read_attrs(&after);
	read_proc_attrs(&pafter);
	compare("child", &before, &after);
	compare_proc("child", &pbefore, &pafter);
	_exit(test_failed() ? 1 : 0);
}

static void pick_cpus(void)
{
	cpu_set_t s;

	sched_getaffinity(0, sizeof(s), &s);
	for (int c = 0; c < CPU_SETSIZE && ncpus < 2; c++)
		if (CPU_ISSET(c, &s))
			cpu_list[ncpus++] = c;
	if (ncpus < 2)
		test_msg("one CPU: affinity not checked\n");
}

int main(int argc, char **argv)
{
	const struct want w = { "main", 150000, -1, IOPRIO(2, 3), MPOL_INTERLEAVE, 0, PR_MCE_KILL_EARLY };
	struct attrs before, after;
	struct proc_attrs pbefore, pafter;
	pthread_t th;
	int pfd[2], status;
	pid_t child;
	char c;

	test_init(argc, argv);
	pick_cpus();
	if (syscall(SYS_get_mempolicy, NULL, NULL, 0, 0, 0) && errno == ENOSYS) {
		numa = false;
		test_msg("no NUMA in this kernel: memory policy not checked\n");
	}
	/* the thread and the child are created with slack 150000: their default */
	if (set_attrs(&w))
		return 1;
	if (pthread_create(&th, NULL, thread_fn, NULL)) {
		fail("pthread_create");
		return 1;
	}
	while (!th_ready)
		usleep(1000);
	if (pipe(pfd)) {
		fail("pipe");
		return 1;
	}
	child = fork();
	if (child < 0) {
		fail("fork");
		return 1;
	}
	if (child == 0) {
		close(pfd[0]);
		child_main(pfd[1]);
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		fail("the child did not get ready");
		return 1;
	}
	close(pfd[0]);
	/* now a slack other than the children's default, one CPU, no MDWE for a later child */
	if (prctl(PR_SET_TIMERSLACK, 120000, 0, 0, 0)) {
		fail("PR_SET_TIMERSLACK");
		return 1;
	}
	if (ncpus > 1) {
		cpu_set_t s;

		CPU_ZERO(&s);
		CPU_SET(cpu_list[1], &s);
		sched_setaffinity(0, sizeof(s), &s);
	}
	if (set_proc_attrs("main", "0x3f", MDWE_REFUSE_EXEC_GAIN | MDWE_NO_INHERIT))
		return 1;
	read_attrs(&before);
	read_proc_attrs(&pbefore);

	test_daemon();
	test_waitsig();

	read_attrs(&after);
	read_proc_attrs(&pafter);
	th_go = 1;
	pthread_join(th, NULL);
	kill(child, SIGTERM);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) {
		errno = 0;
		fail("the child failed (status %#x)", status);
	}
	compare("main", &before, &after);
	compare("thread", &th_before, &th_after);
	compare_proc("main", &pbefore, &pafter);
	errno = 0;
	if (before.slack != 120000 || th_before.slack != 250000 || th_before.slack_def != 150000)
		fail("the test did not set its timer slacks (%ld %ld %ld)", before.slack, th_before.slack,
		     th_before.slack_def);
	if (pbefore.mdwe != (MDWE_REFUSE_EXEC_GAIN | MDWE_NO_INHERIT) || pbefore.exec_gain != EACCES)
		fail("the test did not set MDWE (%ld, mprotect errno %d)", pbefore.mdwe, pbefore.exec_gain);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
